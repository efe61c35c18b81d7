/**
 * One FHIRPath expression, two engines: the `fhirpath` package (what src/validation uses) and
 * `@medplum/core` (what Medplum's validator uses), each given `%resource` / `%rootResource` as its
 * validator would. A thrown error is returned as a string, so a test can show it.
 */
import type { Resource } from 'fhir/r4.js';
import { evalFhirPathTyped, toTypedValue } from '@medplum/core';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';

export type EngineResult = unknown[] | string;

export function evaluateWithFhirpath(expression: string, resource: Resource): EngineResult {
  try {
    // fhirpath may change the object it evaluates (ECOSYSTEM.md), so it gets a copy.
    const copy = structuredClone(resource);
    return fhirpath.evaluate(copy, expression, { resource: copy, rootResource: copy }, r4) as unknown[];
  } catch (error: unknown) {
    return `threw: ${error instanceof Error ? error.message : String(error)}`;
  }
}

export function evaluateWithMedplum(expression: string, resource: Resource): EngineResult {
  try {
    // @medplum/core is typed against @medplum/fhirtypes; the @types/fhir R4 resource fits it structurally.
    const typed = toTypedValue(resource);
    return evalFhirPathTyped(expression, [typed], { '%context': typed, '%resource': typed, '%rootResource': typed }).map((value) => value.value as unknown);
  } catch (error: unknown) {
    return `threw: ${error instanceof Error ? error.message : String(error)}`;
  }
}
