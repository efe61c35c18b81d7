/**
 * What the `plans` row holds for searches, derived from a plan version when it is written. Only what
 * does not change with the clock is stored; a search that depends on the time (consent ending, overdue
 * follow-ups) compares these with a date it is given.
 */
import { isClosed, organisationsnummerSchema, planStatus, type PlanStatus, type SipPlan } from '../sip/index.js';

export interface SearchColumns {
  readonly personIdentifier: string;
  readonly status: PlanStatus;
  /** Each principal's local id, HSA-id, organisationsnummer, kommunkod and länskod, sorted, once each. */
  readonly principalKeys: string[];
  /** The earliest follow-up not yet held (YYYY-MM-DD): what `followUpDueBy` and `overdueAt` compare. */
  readonly nextFollowUp: string | null;
  /**
   * The latest `validUntil` of the plan's own consents that are not withdrawn: the day the last
   * consent that can be in force ends. A consent naming another plan never counts (consent-status.ts).
   */
  readonly consentEnds: string | null;
  readonly closed: boolean;
}

export function searchColumns(plan: SipPlan): SearchColumns {
  const principalKeys = new Set<string>();
  for (const principal of plan.principals) {
    for (const key of [principal.id, principal.hsaId, principal.organisationsnummer, principal.municipalityCode, principal.countyCode]) {
      if (key !== undefined) principalKeys.add(key);
    }
  }
  const unheld = plan.followUps.filter((followUp) => followUp.heldAt === undefined).map((followUp) => followUp.date);
  const consentEnds = plan.consents
    .filter((consent) => consent.planId === plan.id && consent.withdrawal === undefined)
    .map((consent) => consent.validUntil);
  return {
    personIdentifier: plan.individual.identifier.value,
    status: planStatus(plan),
    principalKeys: [...principalKeys].sort(),
    nextFollowUp: unheld.length === 0 ? null : unheld.reduce((a, b) => (b < a ? b : a)),
    consentEnds: consentEnds.length === 0 ? null : consentEnds.reduce((a, b) => (b > a ? b : a)),
    closed: isClosed(plan),
  };
}

/**
 * The keys a principal search term matches: the term itself and, when it is an organisationsnummer
 * written another way (`2120000142`, `16212000-0142`), the form the model stores (`212000-0142`).
 */
export function principalSearchKeys(term: string): string[] {
  const normalised = organisationsnummerSchema.safeParse(term);
  return normalised.success && normalised.data !== term ? [term, normalised.data] : [term];
}
