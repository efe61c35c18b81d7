/**
 * The parties of a generated plan given HSA-ids, for the tests that judge who may see a plan: the
 * judging summary's differentials (test/sip/plan-summary*.test.ts) vary which parties carry an
 * HSA-id and whether the first principal is known by its organisationsnummer instead.
 */
import type { SipPlan } from '../../src/sip/index.js';

export interface PlanParties {
  readonly principals: SipPlan['principals'];
  readonly otherActors: SipPlan['otherActors'];
  /** The ids of every principal, unit and other actor, in that order: what a consent may cover or exclude. */
  readonly parties: readonly string[];
}

/**
 * `plan`'s principals, units and other actors, the n-th of them (counted from 1) with the HSA-id
 * `SE2321000016-U<n>` when `hsa[n % hsa.length]` is true; with `principalByNumber` the first principal
 * gets the organisationsnummer 232100-0016 in place of an HSA-id.
 */
export function withPartyHsaIds(plan: SipPlan, hsa: readonly boolean[], principalByNumber: boolean): PlanParties {
  let n = 0;
  const hsaId = (): { hsaId?: string } => {
    n += 1;
    return hsa[n % hsa.length] === true ? { hsaId: `SE2321000016-U${String(n)}` } : {};
  };
  const principals = plan.principals.map((principal, i) => ({
    ...principal,
    ...(principalByNumber && i === 0 ? { organisationsnummer: '232100-0016' } : hsaId()),
    units: principal.units.map((unit) => ({ ...unit, ...hsaId() })),
  }));
  const otherActors = plan.otherActors.map((actor) => ({ ...actor, ...hsaId() }));
  const parties = [...principals.flatMap((principal) => [principal.id, ...principal.units.map((unit) => unit.id)]), ...otherActors.map((actor) => actor.id)];
  return { principals, otherActors, parties };
}

/**
 * Every HSA-id a caller might bring for `plan`: its organisations' and professionals', one issued
 * under each organisationsnummer, and a stranger's.
 */
export function callersOf(plan: SipPlan): string[] {
  const organizations = [...plan.principals, ...plan.principals.flatMap((principal) => principal.units), ...plan.otherActors, ...plan.professionals];
  const hsaIds = organizations.flatMap((organization) => (organization.hsaId === undefined ? [] : [organization.hsaId]));
  const numbers = [...plan.principals, ...plan.otherActors].flatMap((organization) =>
    organization.organisationsnummer === undefined ? [] : [`SE${organization.organisationsnummer.replace('-', '')}-X9`],
  );
  return [...new Set([...hsaIds, ...numbers, 'SE2321000099-NONE'])];
}
