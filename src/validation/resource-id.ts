/**
 * A resource's id is of the `id` type (https://hl7.org/fhir/R4/datatypes.html#id): 1 to 64 of
 * `A-Z a-z 0-9 - .`, regex `[A-Za-z0-9\-\.]{1,64}`. The R4 snapshots type `Resource.id` as a FHIRPath
 * `System.String` (fhir-type `string`, https://hl7.org/fhir/R4/resource.html#id), so the walker's
 * primitive check sees only a string; this checks the id type itself, for every resource — a Bundle
 * entry and a contained resource included — as the HL7 Java validator does.
 */
import { STRUCTURE_RULES } from './api.js';
import type { Findings } from './issues.js';

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export function checkResourceId(resource: Readonly<Record<string, unknown>>, expression: string, findings: Findings): void {
  const { id } = resource;
  if (typeof id !== 'string' || ID.test(id)) return;
  const why = id.length > 64 ? `is ${String(id.length)} characters long (at most 64)` : id.length === 0 ? 'is empty' : 'has characters other than A-Z, a-z, 0-9, "-" and "."';
  findings.add({
    severity: 'error',
    code: 'value',
    rule: STRUCTURE_RULES.invalidValue,
    source: 'http://hl7.org/fhir/StructureDefinition/Resource',
    expression: `${expression}.id`,
    message: `${JSON.stringify(id.length > 80 ? `${id.slice(0, 77)}…` : id)} is not a valid resource id: it ${why} (https://hl7.org/fhir/R4/datatypes.html#id)`,
  });
}
