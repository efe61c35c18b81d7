/**
 * Which organisation may see and change which plan (DESIGN §7): the calling organisation, named by
 * its HSA-id, is matched against the HSA-ids written in the plan —
 *
 * - a **principal** (huvudman) or a **unit** of one has access: the plan is theirs by law, and they
 *   must be able to record a withdrawal and close the plan when consent ends;
 * - an **other actor** has access while a consent in force covers it and none excludes it
 *   (`decideExchange`, the same judgement as for sending the plan);
 * - a party a consent excludes has no access at all, principal's unit included — the person's
 *   explicit wish. Exclusions are read from the consents in force, or, when none is, from the
 *   consent given last (an expired or withdrawn consent still says whom the person kept out).
 *
 * A professional's HSA-id is a person's, not an organisation's, and is never matched: a caller acts
 * for an organisation. An HSA-id that names no organisation of the plan is matched by the
 * organisationsnummer it was issued under, against organisations recorded by that number alone (a
 * municipality often is); one that matches neither way has no access.
 */
import { consentsInForce, consentStateAt, decideExchange, isExcludedBy } from '../../sip/consent-status.js';
import type { Consent, SipPlan } from '../../sip/model/index.js';
import { planIndexOf, type PlanIndex } from '../../sip/plan-index.js';
import { organisationsnummerOf } from '../../sip/identifiers.js';

export type AccessRole = 'principal' | 'unit' | 'otherActor';

export type AccessRefusal = 'notAParty' | 'excluded' | 'noConsentInForce' | 'notCovered';

export type AccessDecision =
  | {
      readonly allowed: true;
      readonly role: AccessRole;
      readonly partyId: string;
      readonly consentId?: string;
      /**
       * The principals whose own acts the caller may record (src/http/reserved-acts.ts): each
       * principal of the plan it is, or is a unit of. None for an other actor.
       */
      readonly principals: readonly string[];
    }
  | {
      readonly allowed: false;
      readonly reason: AccessRefusal;
      readonly partyId?: string;
      /** For the audit log: the plan, the party and why; no personal data. */
      readonly message: string;
    };

interface Party {
  readonly id: string;
  readonly role: AccessRole;
}

/** Every organisation of the plan with this HSA-id. */
function partiesWithHsaId(plan: SipPlan, hsaId: string): Party[] {
  const parties: Party[] = [];
  for (const principal of plan.principals) {
    if (principal.hsaId === hsaId) parties.push({ id: principal.id, role: 'principal' });
    for (const unit of principal.units) if (unit.hsaId === hsaId) parties.push({ id: unit.id, role: 'unit' });
  }
  for (const actor of plan.otherActors) if (actor.hsaId === hsaId) parties.push({ id: actor.id, role: 'otherActor' });
  return parties;
}

/**
 * Every organisation of the plan the caller with this HSA-id acts for. An organisation recorded with
 * that HSA-id matches it exactly. When none does, an organisation recorded by organisationsnummer
 * alone (no HSA-id) matches an HSA-id issued under that number: a municipality is often recorded in a
 * plan, and in its own export, that way, while its callers carry HSA-ids issued under it. An
 * organisation recorded with an HSA-id is matched by that HSA-id only, so another unit of a region
 * does not see the region's plans. A unit has no organisationsnummer of its own, so it is matched
 * exactly or not at all: an excluded unit calling with its own HSA-id is always found as itself.
 */
function partiesWith(plan: SipPlan, hsaId: string): Party[] {
  const exact = partiesWithHsaId(plan, hsaId);
  if (exact.length > 0) return exact;
  // A person's HSA-id is issued under the same organisationsnummer; a person is never an organisation.
  if (plan.professionals.some((professional) => professional.hsaId === hsaId)) return [];
  const legalEntity = organisationsnummerOf(hsaId);
  if (legalEntity === undefined) return [];
  const byLegalEntityAlone = (organization: { readonly hsaId?: string | undefined; readonly organisationsnummer?: string | undefined }): boolean =>
    organization.hsaId === undefined && organization.organisationsnummer === legalEntity;
  return [
    ...plan.principals.filter(byLegalEntityAlone).map((principal): Party => ({ id: principal.id, role: 'principal' })),
    ...plan.otherActors.filter(byLegalEntityAlone).map((actor): Party => ({ id: actor.id, role: 'otherActor' })),
  ];
}

/** The consents whose exclusions hold at `at`: those in force, else the last one given for this plan. */
function consentsThatExclude(plan: SipPlan, at: Date): Consent[] {
  const inForce = consentsInForce(plan, at);
  if (inForce.length > 0) return inForce;
  const given = plan.consents.filter((consent) => consent.planId === plan.id && consentStateAt(consent, at) !== 'notYetValid');
  const last = given.reduce<Consent | undefined>((latest, consent) => (latest === undefined || consent.givenAt > latest.givenAt ? consent : latest), undefined);
  return last === undefined ? [] : [last];
}

const REFUSAL_TEXT: Readonly<Record<Exclude<AccessRefusal, 'notAParty'>, string>> = {
  excluded: 'is excluded by the person’s consent',
  noConsentInForce: 'is an other actor and no consent is in force',
  notCovered: 'is an other actor that no consent in force covers',
};

type Refused = Extract<AccessDecision, { readonly allowed: false }>;
/** One party's judgement: an access allowed before the principals the caller acts for are added, or refused. */
type Judged = Refused | (Omit<Extract<AccessDecision, { readonly allowed: true }>, 'principals'> & { readonly allowed: true });

/** The principal of each party that is a principal or a unit of one (units are matched by their own id). */
function principalsOf(plan: SipPlan, parties: readonly Party[]): string[] {
  const ids = new Set<string>();
  for (const party of parties) {
    if (party.role === 'principal') ids.add(party.id);
    else if (party.role === 'unit') {
      const principal = plan.principals.find((candidate) => candidate.units.some((unit) => unit.id === party.id));
      if (principal !== undefined) ids.add(principal.id);
    }
  }
  return [...ids];
}

function judge(plan: SipPlan, index: PlanIndex, party: Party, at: Date): Judged {
  const refuse = (reason: Exclude<AccessRefusal, 'notAParty'>): Judged => ({
    allowed: false,
    reason,
    partyId: party.id,
    message: `plan ${plan.id}: party "${party.id}" ${REFUSAL_TEXT[reason]} on ${at.toISOString()}`,
  });
  if (consentsThatExclude(plan, at).some((consent) => isExcludedBy(consent, index, party.id))) return refuse('excluded');
  if (party.role !== 'otherActor') return { allowed: true, role: party.role, partyId: party.id };
  const decision = decideExchange(plan, index, party.id, at);
  return decision.allowed ? { allowed: true, role: party.role, partyId: party.id, consentId: decision.consent.id } : refuse(decision.reason);
}

/**
 * May the organisation with this HSA-id see and change the plan at `at`? When it appears more than
 * once in the plan, an exclusion anywhere refuses it; otherwise the first party that is allowed
 * decides (principal before unit before other actor).
 */
export function mayAccess(plan: SipPlan, organizationHsaId: string, at: Date): AccessDecision {
  const parties = partiesWith(plan, organizationHsaId);
  if (parties.length === 0) {
    return { allowed: false, reason: 'notAParty', message: `plan ${plan.id}: the organisation is not a principal, unit or other actor of the plan` };
  }
  const index = planIndexOf(plan);
  const decisions = parties.map((party) => judge(plan, index, party, at));
  const refusals = decisions.filter((decision) => !decision.allowed);
  const excluded = refusals.find((decision) => decision.reason === 'excluded');
  if (excluded !== undefined) return excluded;
  const allowed = decisions.find((decision) => decision.allowed);
  if (allowed !== undefined) return { ...allowed, principals: principalsOf(plan, parties) };
  return refusals[0] ?? { allowed: false, reason: 'notAParty', message: `plan ${plan.id}: no party` };
}

/**
 * Whether any caller could be matched to the principal (see {@link mayAccess}): it carries an HSA-id
 * or an organisationsnummer, or one of its units an HSA-id. One that carries none (a municipality
 * recorded by name alone) has no caller of its own, and its acts are recorded by the plan's other
 * principal (src/http/reserved-acts.ts).
 */
export function isMatchable(principal: SipPlan['principals'][number]): boolean {
  return principal.hsaId !== undefined || principal.organisationsnummer !== undefined || principal.units.some((unit) => unit.hsaId !== undefined);
}
