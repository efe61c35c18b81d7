/**
 * Native checks for the two base R4 constraints met most often in a SIP Bundle — ref-1 on every
 * Reference and ext-1 on every Extension — each evaluated on the JSON directly instead of through
 * fhirpath.js, which costs 20–50 µs a call (issue #13, "speed on fresh data").
 *
 * A native check is looked up by the exact text of the expression it replaces, so a profile that
 * words a constraint differently is evaluated as written. It answers only for the JSON shapes whose
 * FHIRPath meaning is plain (strings where strings belong, arrays of objects); for anything else
 * (`_reference`, `_valueString` without a value, nulls, a non-array `extension` …) it answers
 * `undefined` and the expression is evaluated through FHIRPath. test/validation/native.test.ts
 * compares every answer with fhirpath.js's on the example Bundles, the invalid examples, the profile
 * breakers, the mutated official examples and generated plans.
 */
import r4 from 'fhirpath/fhir-context/r4/index.js';

/** The pass (true) or failure (false) of a constraint, or undefined when the JSON is not a shape the check decides. */
export type NativeCheck = (node: unknown, env: { readonly resource: unknown; readonly rootResource: unknown }) => boolean | undefined;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * ref-1, https://hl7.org/fhir/R4/references.html#Reference (R4 4.0.1 wording): a `#id` reference
 * must name a resource contained in the root resource.
 * `reference.startsWith('#').not()` is true for any string not starting with `#` (and empty with no
 * reference, which passes); otherwise `reference.substring(1) in %rootResource.contained.id` is
 * string equality with the ids of the contained resources.
 */
const ref1: NativeCheck = (node, env) => {
  if (!isPlainObject(node) || node._reference !== undefined) return undefined;
  const { reference } = node;
  if (reference === undefined) return true;
  if (typeof reference !== 'string') return undefined;
  if (!reference.startsWith('#')) return true;
  const root = env.rootResource;
  if (!isPlainObject(root)) return undefined;
  const { contained } = root;
  if (contained === undefined) return false;
  if (!Array.isArray(contained)) return undefined;
  const ids: string[] = [];
  for (const resource of contained) {
    if (!isPlainObject(resource) || resource._id !== undefined) return undefined;
    if (resource.id === undefined) continue;
    if (typeof resource.id !== 'string') return undefined;
    ids.push(resource.id);
  }
  return ids.includes(reference.slice(1));
};

/** The JSON names of Extension.value[x] in the R4 model fhirpath.js uses (`valueString`, `valueCoding` …). */
const EXTENSION_VALUE_NAMES: ReadonlySet<string> = new Set((r4.choiceTypePaths['Extension.value'] ?? []).map((type) => `value${type}`));

/**
 * ext-1, https://hl7.org/fhir/R4/extensibility.html#Extension: an extension has either a value or
 * nested extensions, not both and not neither.
 */
const ext1: NativeCheck = (node) => {
  if (!isPlainObject(node)) return undefined;
  let hasExtension = false;
  let hasValue = false;
  for (const [name, value] of Object.entries(node)) {
    if (name === 'extension') {
      if (!Array.isArray(value) || !value.every(isPlainObject)) return undefined;
      hasExtension = value.length > 0;
    } else if (name.startsWith('_value')) {
      return undefined;
    } else if (EXTENSION_VALUE_NAMES.has(name)) {
      if (value === null || Array.isArray(value)) return undefined;
      hasValue = true;
    }
  }
  return hasExtension !== hasValue;
};

/** Native checks by the exact expression they replace (as the R4 StructureDefinitions write them). */
export const NATIVE_CHECKS: ReadonlyMap<string, NativeCheck> = new Map([
  ["reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))", ref1],
  ['extension.exists() != value.exists()', ext1],
]);
