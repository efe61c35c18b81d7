/**
 * "Note that FHIR strings SHALL NOT exceed 1MB in size" (https://hl7.org/fhir/R4/datatypes.html#string,
 * the comment on the `string` StructureDefinition). R5 states the unit: 1,048,576 (1024*1024)
 * characters; the HL7 Java validator counts them as Java does, in UTF-16 code units, which is a
 * JavaScript string's `length` too. It applies to `string` and the types specialized from it
 * (`code`, `id`, `markdown`); a value of exactly 1,048,576 characters passes.
 */
import type { Findings } from './issues.js';

/** The most characters a string may have. */
export const MAX_STRING_LENGTH = 1024 * 1024;

/** Rule key of the check. */
export const STRING_TOO_LONG = 'string-too-long';

const STRING_TYPES: ReadonlySet<string> = new Set(['string', 'code', 'id', 'markdown']);

export function checkStringLength(type: string, value: unknown, expression: string, findings: Findings): void {
  if (!STRING_TYPES.has(type) || typeof value !== 'string' || value.length <= MAX_STRING_LENGTH) return;
  findings.add({
    severity: 'error',
    code: 'too-long',
    rule: STRING_TOO_LONG,
    source: 'http://hl7.org/fhir/StructureDefinition/string',
    expression,
    message: `a ${type} must not exceed 1 MB (${String(MAX_STRING_LENGTH)} characters), but has ${String(value.length)}`,
  });
}
