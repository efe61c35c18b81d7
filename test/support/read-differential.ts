/**
 * What the differential tests of a read answered two ways share (test/http/kept-read.test.ts,
 * test/http/sip-read-text.test.ts): the instants, the callers, a plan an other actor reads narrowed,
 * generated plans whose parties can call, and the answer compared.
 */
import { parsePlan, type SipPlan } from '../../src/sip/index.js';
import type { AuditEntry } from '../../src/store/index.js';
import { readExample } from './examples.js';

export const INSTANTS = ['2025-06-01T10:00:00Z', '2026-04-01T10:00:00Z', '2027-03-01T10:00:00Z', '2028-09-01T10:00:00Z'].map((text) => new Date(text));
export const STRANGER = 'SE5560000000-X001';

/**
 * The adult example under its own id with a goal and an intervention tagged with the class its consent
 * excludes (as test/http/read-narrowing.test.ts records it): a covered other actor (Försäkringskassan)
 * reads it narrowed, so its CarePlan differs from the kept text and a removed Goal is a 404.
 */
export const NARROWED: SipPlan = (() => {
  const adult = readExample('adult-psychiatry-addiction.json');
  const id = 'sip-kept-narrowed';
  const plan: SipPlan = {
    ...adult,
    id,
    version: 1,
    approvals: [],
    consents: adult.consents.map((consent) => ({ ...consent, planId: id })),
    goals: adult.goals.map((goal) => (goal.id === 'goal-2' ? { ...goal, informationClasses: ['familySituation' as const] } : goal)),
    interventions: adult.interventions.map((intervention) => (intervention.id === 'int-4' ? { ...intervention, informationClasses: ['familySituation' as const] } : intervention)),
  };
  delete plan.closure;
  const parsed = parsePlan(plan);
  if (!parsed.ok) throw new Error(`the plan does not parse: ${JSON.stringify(parsed.problems)}`);
  return parsed.plan;
})();

/** Every HSA-id the plan names, one issued under each organisationsnummer it names, and a stranger's. */
export function callersOf(plan: SipPlan): string[] {
  const text = JSON.stringify(plan);
  const hsaIds = text.match(/SE\d{10}-[A-Za-z0-9]+/g) ?? [];
  const issued = (text.match(/"\d{6}-\d{4}"/g) ?? []).map((quoted) => `SE${quoted.slice(1, 7)}${quoted.slice(8, 12)}-T001`);
  return [...new Set([...hsaIds, ...issued, STRANGER])];
}

/** A generated plan with an HSA-id on every principal, unit and other actor (generated plans have none), so its parties can call, and its other actors covered by its consents. */
export function withHsaIds(plan: SipPlan): SipPlan {
  let n = 0;
  const hsaId = (): { hsaId: string } => ({ hsaId: `SE2321000016-U${String((n += 1))}` });
  const principals = plan.principals.map((principal) => ({ ...principal, ...hsaId(), units: principal.units.map((unit) => ({ ...unit, ...hsaId() })) }));
  const otherActors = plan.otherActors.map((actor) => ({ ...actor, ...hsaId() }));
  // The principals and every other actor covered by the consents, the first other actor excluded by the last consent: readers whole, narrowed and refused.
  const actors = otherActors.map((actor) => actor.id);
  const parties = [...principals.map((principal) => principal.id), ...actors];
  const last = plan.consents.length - 1;
  const consents = plan.consents.map((consent, i) => ({ ...consent, planId: plan.id, coveredActors: i === last ? parties.filter((party) => party !== actors[0]) : parties, excludedParties: i === last ? actors.slice(0, 1) : [] }));
  const changed = parsePlan({ ...plan, principals, otherActors, consents });
  if (!changed.ok) throw new Error(`plan with HSA-ids does not parse: ${JSON.stringify(changed.problems)}`);
  return changed.plan;
}

export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | null>;
  readonly audit: Omit<AuditEntry, 'at'> | undefined;
}
