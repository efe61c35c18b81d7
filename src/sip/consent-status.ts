/**
 * What a consent allows at a given instant (seed 001 §4.2). Used by the plan rules and, at exchange
 * time, by routing: a party receives nothing unless a consent in force covers it and does not exclude
 * it.
 */
import { compareDates, parseDate, stockholmDate } from './dates.js';
import type { Consent, SipPlan } from './model/index.js';
import { lineage, type PlanIndex } from './plan-index.js';

export type ConsentState = 'notYetValid' | 'inForce' | 'expired' | 'withdrawn';

/** The state of one consent at `at`; its dates are calendar dates in Europe/Stockholm, both inclusive. */
export function consentStateAt(consent: Consent, at: Date): ConsentState {
  if (consent.withdrawal && Date.parse(consent.withdrawal.withdrawnAt) <= at.getTime()) return 'withdrawn';
  const today = stockholmDate(at);
  if (compareDates(today, parseDate(consent.givenAt)) < 0) return 'notYetValid';
  if (compareDates(today, parseDate(consent.validUntil)) > 0) return 'expired';
  return 'inForce';
}

/** Consents of this plan (a consent naming another plan is general and never counts) in force at `at`. */
export function consentsInForce(plan: SipPlan, at: Date): Consent[] {
  return plan.consents.filter((consent) => consent.planId === plan.id && consentStateAt(consent, at) === 'inForce');
}

/** Whether `partyId` (or an organisation above it) is excluded by the consent. */
export function isExcludedBy(consent: Consent, index: PlanIndex, partyId: string): boolean {
  return lineage(index, partyId).some((id) => consent.excludedParties.includes(id));
}

/** Whether the consent covers `partyId`: it, or an organisation above it, is a covered actor. */
export function isCoveredBy(consent: Consent, index: PlanIndex, partyId: string): boolean {
  return lineage(index, partyId).some((id) => consent.coveredActors.includes(id));
}

export type ExchangeDecision =
  | { allowed: true; consent: Consent }
  | { allowed: false; reason: 'noConsentInForce' | 'notCovered' | 'excluded' };

/**
 * May information of this plan be shared with `partyId` at `at`? Yes when some consent in force
 * covers the party and no consent in force excludes it.
 */
export function decideExchange(plan: SipPlan, index: PlanIndex, partyId: string, at: Date): ExchangeDecision {
  const inForce = consentsInForce(plan, at);
  if (inForce.length === 0) return { allowed: false, reason: 'noConsentInForce' };
  if (inForce.some((consent) => isExcludedBy(consent, index, partyId))) return { allowed: false, reason: 'excluded' };
  const covering = inForce.find((consent) => isCoveredBy(consent, index, partyId));
  return covering ? { allowed: true, consent: covering } : { allowed: false, reason: 'notCovered' };
}
