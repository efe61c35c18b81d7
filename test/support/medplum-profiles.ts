/**
 * @medplum/core 4.5.2 with the SIP profiles loaded, as a second validator that shares no code with
 * src/validation: it reads the shipped StructureDefinitions in profiles/, with the snapshots SUSHI
 * built, so neither the rules nor their snapshots come from the project's own code.
 */
import { OperationOutcomeError, indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import type { OperationOutcome, OperationOutcomeIssue, Resource, StructureDefinition } from 'fhir/r4.js';
import { shippedStructureDefinitions } from './build-profiles.js';
import { loadMedplum } from './fhir-validators.js';

/**
 * The one change Medplum is given: slices inside a slice are left out of the snapshot. SUSHI
 * unfolds an extension slice whose url a profile fixes (`CarePlan.extension:discharge.url`) with the
 * extension's own definition, including its sub-extension slices
 * (`CarePlan.extension:discharge.extension:from`). @medplum/core 4.5.2's snapshot parser
 * (src/typeschema/types.ts, `parse`) takes every element with a `sliceName` as a slice of the
 * innermost slicing it is in, so `from` would become a required slice of `CarePlan.extension` itself.
 * What is left out is exactly the extension's own definition, which the extension's
 * StructureDefinition states to Medplum anyway; nothing of the profile's own rules is.
 */
function withoutNestedSlices(definition: StructureDefinition): StructureDefinition {
  const elements = definition.snapshot?.element ?? [];
  const nested = (id: string): boolean => /:[^.]+\..*:/.test(id);
  return { ...definition, snapshot: { element: elements.filter((element) => !nested(element.id ?? '')) } };
}

let byUrl: Map<string | undefined, StructureDefinition> | undefined;

/** Indexes the base R4 definitions, then the SIP profiles, as a server loading profiles/ would. Idempotent. */
export function loadMedplumWithProfiles(): void {
  if (byUrl !== undefined) return;
  loadMedplum();
  const definitions = shippedStructureDefinitions().map(withoutNestedSlices);
  indexStructureDefinitionBundle({ resourceType: 'Bundle', type: 'collection', entry: definitions.map((resource) => ({ resource })) } as Parameters<typeof indexStructureDefinitionBundle>[0]);
  byUrl = new Map(definitions.map((definition) => [definition.url, definition]));
}

/** Medplum's error messages for `resource` against one SIP profile. */
export function medplumProfileErrors(resource: Resource, profileUrl: string): string[] {
  loadMedplumWithProfiles();
  const profile = byUrl?.get(profileUrl);
  if (profile === undefined) throw new Error(`no profile ${profileUrl}`);
  try {
    // @medplum/fhirtypes' StructureDefinition differs in detail from @types/fhir's (see fhir-validators.ts).
    const options = { profile } as unknown as NonNullable<Parameters<typeof validateResource>[1]>;
    const issues: unknown = validateResource(resource as Parameters<typeof validateResource>[0], options);
    return (issues as OperationOutcomeIssue[]).filter((issue) => issue.severity === 'error').map((issue) => issue.diagnostics ?? issue.details?.text ?? '');
  } catch (error: unknown) {
    if (!(error instanceof OperationOutcomeError)) throw error;
    const outcome = error.outcome as OperationOutcome;
    return outcome.issue.filter((issue) => issue.severity === 'error').map((issue) => `${issue.details?.text ?? ''} ${issue.diagnostics ?? ''} ${(issue.expression ?? []).join(', ')}`);
  }
}
