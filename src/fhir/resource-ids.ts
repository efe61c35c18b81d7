/**
 * The FHIR resources of a plan version, as (type, id) pairs. The caller that writes a version hands
 * them to the store with it (`PlanStore.create` / `update`), so the FHIR facade can go from
 * `GET /fhir/{type}/{id}` to the plan; the store itself knows nothing of FHIR (DESIGN.md §2).
 *
 * The id of a resource is the UUID of its `urn:uuid` fullUrl, which the mapping derives from the
 * resource's business identifier (src/fhir/write/context.ts): the same resource has the same id in
 * every version of its plan. Shared master data (a Patient, an Organization, a Practitioner with a
 * national identifier) has the same id in every plan that names it, so one id may lead to several plans.
 */
import type { SipPlan } from '../sip/index.js';
import { DEFAULT_MAPPING_OPTIONS } from './options.js';
import { planEntries, type PlanEntry } from './write/plan-entries.js';

export interface ResourceId {
  readonly resourceType: string;
  readonly id: string;
}

const UUID_URN = /^urn:uuid:([0-9a-f-]{36})$/;

/** The id a resource gets on the FHIR facade: the UUID of its fullUrl. */
export function resourceIdOf(fullUrl: string | undefined): string | undefined {
  return fullUrl === undefined ? undefined : UUID_URN.exec(fullUrl)?.[1];
}

/**
 * Every resource of the plan's FHIR view. Which resources there are does not depend on the instant.
 * Give it the plan as `parsePlan` returns it (identifiers normalised), as the store keeps it.
 */
export function planResourceIds(plan: SipPlan): ResourceId[] {
  return resourceIdsOf(planEntries(plan, DEFAULT_MAPPING_OPTIONS));
}

/** The ids of {@link planResourceIds} from the plan's entries, for a caller that has them already. */
export function resourceIdsOf(entries: readonly PlanEntry[]): ResourceId[] {
  // The keys alone give the ids: no resource needs mapping (src/fhir/write/plan-entries.ts).
  return entries.flatMap(({ resourceType, key }) => {
    const id = resourceIdOf(key.fullUrl);
    return id === undefined ? [] : [{ resourceType, id }];
  });
}
