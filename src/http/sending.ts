/**
 * Consent is judged at the moment data leaves the adapter (issue #9, seed 001 §4.2): every answer of
 * the service that carries a plan, on `/sip` and `/fhir` alike, asks this first.
 */
import type { Problem, SipPlan } from '../sip/index.js';
import { judgeSend } from '../sip/index.js';
import { HttpError } from './problem.js';

/** Why the plan may not be sent at `at` (a 403 naming the rules), or undefined when it may. */
export function sendRefusal(plan: SipPlan, at: Date): HttpError | undefined {
  return refusalOf(plan, judgeSend(plan, at));
}

/** The 403 for what `judgeSend` found in the plan, or undefined when it found no error. */
export function refusalOf(plan: SipPlan, judged: readonly Problem[]): HttpError | undefined {
  const errors = judged.filter((problem) => problem.severity === 'error');
  if (errors.length === 0) return undefined;
  return new HttpError(403, 'Forbidden', `Plan "${plan.id}" may not be sent now: ${[...new Set(errors.map((problem) => problem.code))].join(', ')}`, errors);
}
