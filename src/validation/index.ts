/**
 * TEMPORARY STAND-IN — replaced by the real validator when the `src/validation` branch is merged.
 *
 * It exists only so the `validate` command, its tests and the benchmark compile and run on this
 * branch. It keeps the real factory's signature and honours the contract in `api.ts` for the one
 * case it can decide without StructureDefinitions (a value that is not a JSON object with a
 * `resourceType` string is `not-a-resource`); everything else gets an empty outcome, and it knows
 * no profile. Do not build on its verdicts.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { OperationOutcome } from 'fhir/r4.js';
import { STRUCTURE_RULES, type Validator } from './api.js';

export * from './api.js';

/** Base of the core R4 StructureDefinition URLs, the source system of structure issues. */
const R4_BASE = 'http://hl7.org/fhir/StructureDefinition';

export interface CreateValidatorOptions {
  /** Folder with the project's profiles (StructureDefinitions etc.); defaults to `profiles/`. */
  readonly profileDirectory?: string;
}

/** TEMPORARY: see the module comment. */
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- the stand-in loads no profiles
export function createValidator(options: CreateValidatorOptions = {}): Validator {
  const examples = path.dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
  return {
    validate(resource: unknown): OperationOutcome {
      const isResource =
        resource !== null && typeof resource === 'object' && !Array.isArray(resource) && typeof (resource as { resourceType?: unknown }).resourceType === 'string';
      if (isResource) return { resourceType: 'OperationOutcome', issue: [] };
      return {
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'error',
            code: 'structure',
            details: {
              coding: [{ system: `${R4_BASE}/Resource`, code: STRUCTURE_RULES.notAResource }],
              text: 'Not a FHIR resource: expected a JSON object with a resourceType',
            },
          },
        ],
      };
    },
    /** Knows the base R4 StructureDefinitions (as the real one will), none of `profiles/`. */
    knowsProfile(canonical: string): boolean {
      const url = canonical.split('|')[0] ?? '';
      const name = url.startsWith(`${R4_BASE}/`) ? url.slice(R4_BASE.length + 1) : '';
      return /^[A-Za-z][A-Za-z0-9-]*$/.test(name) && existsSync(path.join(examples, `StructureDefinition-${name}.json`));
    },
  };
}
