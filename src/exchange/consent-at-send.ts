/**
 * Consent on every send, judged at the moment of sending (issue #14 point 3; DESIGN.md §5; seed 001
 * §4.2): "Ett samtycke är tidsbegränsat … och den enskilde har när som helst rätt att dra tillbaka
 * sitt samtycke", and "Den enskilde ska erbjudas möjlighet att undanta uppgifter … [och] personer/
 * enheter som den enskilde inte samtycker till".
 *
 * The outbox worker calls {@link decideSend} at each attempt, with the instant the attempt starts —
 * never the instant the version was recorded — so a message queued before a consent expired or was
 * withdrawn is withheld. The decision is, in this order:
 *
 * 1. `notAParty`: the receiver's organisation is no principal, unit or other actor of the plan;
 * 2. `noConsentInForce` / `excluded` / `notCovered`: `decideExchange` at `at` for the party (an
 *    exclusion of an organisation above the party, a principal above its unit, counts);
 * 3. `planRefused`: `judgeSend(plan, at)` finds an error of another rule (its codes in `detail`);
 * 4. otherwise sent, with the information classes excluded by any consent in force removed
 *    (`withoutInformation`), before any mapping to FHIR or to a municipal format — unless what is
 *    left may not be sent (`judgeSend` of the reduced plan finds an error, e.g. every intervention
 *    of one principal was removed: `plan.single-principal`), which is `planRefused` too, so the
 *    receiver is told nothing rather than a plan a mapping would refuse.
 *
 * What is sent never carries the person's own words about what they exclude: every consent's
 * `excludedInformation[].description` is taken out (`withoutExclusionDescriptions`), the class codes
 * kept, so the receiver knows that information of a class was left out and nothing of what it is.
 *
 * The decision that sends carries `judgeSend` of the plan it sends, at `at` (`judgement`), so the
 * connector checks that and does not judge the same plan at the same instant again. Given the
 * version's send basis (kept when it was written, src/http/derived-view.ts), the plan as recorded is
 * judged from it (`judgeSendWith`: only the rules that read the instant run — equal to `judgeSend`,
 * test/sip/send-basis.test.ts); a plan reduced by an exclusion is judged in full. (Taking out the descriptions changes nothing any
 * rule reads, so the judgement of the reduced plan is that of the plan sent.)
 *
 * Consent comes before the other rules because `judgeSend` reports a consent that is not in force
 * as its own error (`CONSENT_IN_FORCE_CODES`): the reason a receiver is told nothing is then the
 * consent, not "the plan was refused". Details name ids and codes, never personal data, as they go
 * to the audit log.
 */
import {
  CONSENT_IN_FORCE_CODES,
  consentsInForce,
  decideExchange,
  judgeSend,
  judgeSendWith,
  planIndexOf,
  withoutExclusionDescriptions,
  withoutInformation,
  type InformationClass,
  type Problem,
  type SendBasis,
  type SipPlan,
} from '../sip/index.js';
import type { SendDecision, WithholdReason } from './delivery.js';
import { partiesOf, type ReceiverParty } from './routing.js';

const REASON_TEXT: Readonly<Record<Exclude<WithholdReason, 'notAParty' | 'planRefused'>, string>> = {
  noConsentInForce: 'no consent of the plan is in force',
  excluded: 'the person’s consent excludes it (or an organisation above it)',
  notCovered: 'no consent in force covers it',
};

/** The information classes excluded by any consent in force at `at`, each once, in the order first named. */
export function excludedClassesAt(plan: SipPlan, at: Date): InformationClass[] {
  return [...new Set(consentsInForce(plan, at).flatMap((consent) => consent.excludedInformation.map((excluded) => excluded.class)))];
}

/**
 * What consent allows `receiver` of this plan version at `at`, the moment of sending. See the
 * module's note for the order of the reasons.
 */
export function decideSend(plan: SipPlan, receiver: ReceiverParty, at: Date, options: { readonly basis?: SendBasis } = {}): SendDecision {
  const when = at.toISOString();
  const parties = partiesOf(plan, receiver.organization);
  if (parties.length === 0) {
    return {
      send: false,
      reason: 'notAParty',
      detail: `plan ${plan.id} v${String(plan.version)}: receiver "${receiver.id}" (${receiver.organization}) is not a principal, unit or other actor of the plan`,
    };
  }

  // An organisation that is several parties of the plan: an exclusion of any of them withholds
  // (the person's explicit wish, as for access); else the first party allowed decides. The index is
  // the plan's own (planIndexOf), which judgeSendWith below reads too: one index a delivery instead
  // of two (docs/performance.md, "The exchange, fifth round").
  const index = planIndexOf(plan);
  const decisions = parties.map((party) => ({ party, decision: decideExchange(plan, index, party.id, at) }));
  const excluded = decisions.find(({ decision }) => !decision.allowed && decision.reason === 'excluded');
  const allowed = decisions.find(({ decision }) => decision.allowed);
  const deciding = excluded ?? allowed ?? decisions[0];
  if (deciding === undefined || !deciding.decision.allowed) {
    const reason = deciding !== undefined && !deciding.decision.allowed ? deciding.decision.reason : 'notCovered';
    const party = deciding?.party.id ?? '?';
    return {
      send: false,
      reason,
      detail: `plan ${plan.id} v${String(plan.version)}: receiver "${receiver.id}" (party "${party}"): ${REASON_TEXT[reason]} on ${when}`,
    };
  }

  const judgement = options.basis === undefined ? judgeSend(plan, at) : judgeSendWith(plan, options.basis, at);
  const refusing = judgement.filter((problem) => problem.severity === 'error' && !CONSENT_IN_FORCE_CODES.has(problem.code));
  if (refusing.length > 0) {
    const codes = [...new Set(refusing.map((problem) => problem.code))];
    return {
      send: false,
      reason: 'planRefused',
      detail: `plan ${plan.id} v${String(plan.version)}: may not be sent on ${when}: ${codes.join(', ')}`,
    };
  }

  const removed = excludedClassesAt(plan, at);
  const reduced = withoutInformation(plan, removed);
  let reducedJudgement: Problem[] = judgement;
  if (reduced !== plan) {
    // What the receiver would get must itself be a plan that may be sent: removing every
    // intervention of one principal, say, leaves no SIP (plan.single-principal), which a mapping
    // would refuse at translation. Better withheld here, with the reason, than failed later.
    reducedJudgement = judgeSend(reduced, at);
    const refusingReduced = reducedJudgement.filter((problem) => problem.severity === 'error' && !CONSENT_IN_FORCE_CODES.has(problem.code));
    if (refusingReduced.length > 0) {
      const codes = [...new Set(refusingReduced.map((problem) => problem.code))];
      return {
        send: false,
        reason: 'planRefused',
        detail: `plan ${plan.id} v${String(plan.version)}: may not be sent on ${when} once the excluded information (${removed.join(', ')}) is removed: ${codes.join(', ')}`,
      };
    }
  }
  return { send: true, plan: withoutExclusionDescriptions(reduced), consentId: deciding.decision.consent.id, removed, judgement: reducedJudgement, keptTextsHold: reduced === plan };
}
