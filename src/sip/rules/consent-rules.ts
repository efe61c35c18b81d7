/** Samtycke: the consent rules of seed 001 §4.2 (and §4.7 for withdrawal). */
import { consentStateAt, consentsInForce, type ConsentState } from '../consent-status.js';
import { addYears, AGE_OF_MAJORITY, ageOn, compareDates, formatDate, parseDate, stockholmDate } from '../dates.js';
import { isClosed } from '../lifecycle.js';
import { CONSENTING_REPRESENTATIVE_KINDS, type Consent, type SipPlan } from '../model/index.js';
import { SIP_LAW_CITATION } from '../law.js';
import { principalOf } from '../plan-index.js';
import { toPointer } from '../problem.js';
import { defineRule, type RuleContext } from './rule.js';

const SECTION_CONSENT = '§4.2 Samtycke';

/** Whether the person was a child on the given date; undefined when the birth date is unknown. */
export function isChildOn(context: RuleContext, date: string): boolean | undefined {
  if (context.birthDate === undefined) return undefined;
  return ageOn(context.birthDate, parseDate(date)) < AGE_OF_MAJORITY;
}

function planSpecific(plan: SipPlan): [Consent, number][] {
  return plan.consents.flatMap((consent, i): [Consent, number][] => (consent.planId === plan.id ? [[consent, i]] : []));
}

/**
 * Why no consent is in force at `at`: `none` when the plan has no consent for this SIP, else the state
 * of its latest one (by the day it was given). Undefined when a consent is in force, or when a closed
 * plan is judged as a record: closing is what a lapsed consent calls for. A plan being sent is judged
 * whatever its state, since nothing leaves without a consent in force. Shared by the three rules below.
 */
function consentLapse({ plan, at, sending }: RuleContext): 'none' | { consent: Consent; index: number; state: ConsentState } | undefined {
  if ((isClosed(plan) && !sending) || consentsInForce(plan, at).length > 0) return undefined;
  const latest = planSpecific(plan).reduce<[Consent, number] | undefined>(
    (found, entry) => (found === undefined || entry[0].givenAt >= found[0].givenAt ? entry : found),
    undefined,
  );
  return latest === undefined ? 'none' : { consent: latest[0], index: latest[1], state: consentStateAt(latest[0], at) };
}

/** How a finding ends: what a lapsed consent stops, as a record or as a send. */
function stops(context: RuleContext): string {
  return context.sending ? `nothing of the plan may be sent on ${formatDate(context.today)}` : 'nothing may be summoned or exchanged';
}

export const consentMissing = defineRule({
  code: 'consent.missing',
  kind: 'integrity',
  title: 'A plan has a consent for this SIP in force while it is open and whenever it is sent; without it nothing is summoned or exchanged.',
  source: { document: 'seed-001', section: `${SECTION_CONSENT}; §4 (the process needs the person's consent); ${SIP_LAW_CITATION} ("om den enskilde samtycker")` },
  *check(context) {
    const lapse = consentLapse(context);
    if (lapse === 'none') {
      yield {
        pointer: '/consents',
        message: `The plan has no consent for this SIP; a SIP needs the consent of the person (or their guardians or representative), and ${stops(context)}`,
      };
    } else if (lapse?.state === 'notYetValid') {
      yield {
        pointer: toPointer(['consents', lapse.index, 'givenAt']),
        message: `No consent is in force on ${formatDate(context.today)}: consent "${lapse.consent.id}" is given only from ${lapse.consent.givenAt}; ${stops(context)}`,
      };
    }
  },
});

export const consentExpired = defineRule({
  code: 'consent.expired',
  kind: 'integrity',
  title: 'A consent that has expired, with no other in force, stops the plan: renew the consent or close the plan; nothing is sent.',
  source: { document: 'seed-001', section: `${SECTION_CONSENT} ("gäller i max ett år"); §4.7 Avslutning` },
  *check(context) {
    const lapse = consentLapse(context);
    if (lapse !== 'none' && lapse?.state === 'expired') {
      yield {
        pointer: toPointer(['consents', lapse.index, 'validUntil']),
        message: context.sending
          ? `Consent "${lapse.consent.id}" expired after ${lapse.consent.validUntil} and no other consent is in force on ${formatDate(context.today)}; ${stops(context)} until the consent is renewed`
          : `Consent "${lapse.consent.id}" expired after ${lapse.consent.validUntil} and no other consent is in force on ${formatDate(context.today)}; nothing may be exchanged until it is renewed, or the plan is closed`,
      };
    }
  },
});

export const consentWithdrawn = defineRule({
  code: 'consent.withdrawn',
  kind: 'integrity',
  title: 'When the consent is withdrawn and no other is in force, nothing more is exchanged and the plan is closed with reason consentWithdrawn.',
  source: { document: 'seed-001', section: `${SECTION_CONSENT} ("när som helst rätt att dra tillbaka"); §4.7 Avslutning` },
  *check(context) {
    const lapse = consentLapse(context);
    if (lapse !== 'none' && lapse?.state === 'withdrawn') {
      yield {
        pointer: toPointer(['consents', lapse.index, 'withdrawal']),
        message: context.sending
          ? `Consent "${lapse.consent.id}" was withdrawn and no other consent is in force; ${stops(context)}`
          : `Consent "${lapse.consent.id}" was withdrawn and no other consent is in force; all exchange stops and the plan must be closed with reason "consentWithdrawn"`,
      };
    }
  },
});

export const consentPrincipalNotCovered = defineRule({
  code: 'consent.principal-not-covered',
  kind: 'integrity',
  title:
    "The consents in force cover both principals (each, or a unit or professional of it) and exclude neither: a person who consents to only one side's interventions gets no SIP.",
  source: { document: 'seed-001', section: '§3.6.2 När SIP inte ska genomföras ("endast samtycker till socialtjänstens insatser … eller vice versa"); §4.2' },
  *check({ plan, index, at }) {
    // Consents naming no actor at all are consent.no-covered-actors' to report; with none in force,
    // the consent rules above say why.
    const inForce = plan.consents.flatMap((consent, i): [Consent, number][] =>
      consent.planId === plan.id && consent.coveredActors.length > 0 && consentStateAt(consent, at) === 'inForce' ? [[consent, i]] : [],
    );
    const latest = inForce.at(-1);
    if (latest === undefined) return;
    for (const principal of plan.principals) {
      const excluding = inForce.find(([consent]) => consent.excludedParties.includes(principal.id));
      if (excluding !== undefined) {
        const [consent, i] = excluding;
        yield {
          pointer: toPointer(['consents', i, 'excludedParties', consent.excludedParties.indexOf(principal.id)]),
          message: `Consent "${consent.id}" excludes principal "${principal.id}" (${principal.name}); a SIP needs the consent to both principals' interventions`,
        };
      } else if (!inForce.some(([consent]) => consent.coveredActors.some((actor) => principalOf(index, actor) === principal.id))) {
        yield {
          pointer: toPointer(['consents', latest[1], 'coveredActors']),
          message: `No consent in force covers principal "${principal.id}" (${principal.name}) or any of its units or professionals; a SIP needs the consent to both principals' interventions`,
        };
      }
    }
  },
});

export const consentPeriodTooLong = defineRule({
  code: 'consent.period-too-long',
  kind: 'integrity',
  title: 'A consent lasts at most one year from the day it was given (calendar in Europe/Stockholm).',
  source: { document: 'seed-001', section: `${SECTION_CONSENT} ("tidsbegränsat (gäller i max ett år)")` },
  *check({ plan }) {
    for (const [i, consent] of plan.consents.entries()) {
      const latestAllowed = addYears(parseDate(consent.givenAt), 1);
      if (compareDates(parseDate(consent.validUntil), latestAllowed) > 0) {
        yield {
          pointer: toPointer(['consents', i, 'validUntil']),
          message: `Consent is valid until ${consent.validUntil}, more than one year after it was given on ${consent.givenAt}; the latest allowed is ${formatDate(latestAllowed)}`,
        };
      }
    }
  },
});

export const consentPeriodInvalid = defineRule({
  code: 'consent.period-invalid',
  kind: 'integrity',
  title: "A consent's period ends on or after the day it was given, and it is not withdrawn before it was given.",
  source: { document: 'seed-001', section: SECTION_CONSENT },
  *check({ plan }) {
    for (const [i, consent] of plan.consents.entries()) {
      if (consent.validUntil < consent.givenAt) {
        yield {
          pointer: toPointer(['consents', i, 'validUntil']),
          message: `Consent ends on ${consent.validUntil}, before it was given on ${consent.givenAt}`,
        };
      }
      if (consent.withdrawal) {
        const withdrawn = formatDate(stockholmDate(new Date(consent.withdrawal.withdrawnAt)));
        if (withdrawn < consent.givenAt) {
          yield {
            pointer: toPointer(['consents', i, 'withdrawal', 'withdrawnAt']),
            message: `Consent is withdrawn on ${withdrawn}, before it was given on ${consent.givenAt}`,
          };
        }
      }
    }
  },
});

export const consentNotPlanSpecific = defineRule({
  code: 'consent.not-plan-specific',
  kind: 'integrity',
  title: 'A consent is never general: it names the SIP it is for.',
  source: { document: 'seed-001', section: `${SECTION_CONSENT} ("kan aldrig vara generellt formulerat", "begränsat till arbetet med SIP")` },
  *check({ plan }) {
    for (const [i, consent] of plan.consents.entries()) {
      if (consent.planId !== plan.id) {
        yield {
          pointer: toPointer(['consents', i, 'planId']),
          message: `Consent names plan "${consent.planId}", not this plan "${plan.id}"; a consent only covers the SIP it names`,
        };
      }
    }
  },
});

export const consentNoCoveredActors = defineRule({
  code: 'consent.no-covered-actors',
  kind: 'integrity',
  title: 'A consent names the actors that may exchange information within the SIP.',
  source: { document: 'seed-001', section: `${SECTION_CONSENT} ("vilken typ av uppgifter … och till vem")` },
  *check({ plan }) {
    for (const [i, consent] of plan.consents.entries()) {
      if (consent.coveredActors.length === 0) {
        yield { pointer: toPointer(['consents', i, 'coveredActors']), message: 'Consent names no actor it covers; a consent is never general' };
      }
    }
  },
});

export const consentGuardianMissing = defineRule({
  code: 'consent.guardian-missing',
  kind: 'integrity',
  title: "For a child, every custodial guardian gives consent (both, when two share custody).",
  source: { document: 'seed-001', section: `${SECTION_CONSENT} ("Finns två vårdnadshavare måste båda ge sitt samtycke")` },
  *check(context) {
    const { plan } = context;
    const guardians = plan.relatedPersons.filter((person) => person.kind === 'guardian');
    for (const [i, consent] of plan.consents.entries()) {
      if (isChildOn(context, consent.givenAt) !== true) continue;
      if (guardians.length === 0) {
        yield {
          pointer: toPointer(['consents', i, 'givers']),
          message: `The person was a child when consent was given on ${consent.givenAt}; custodial guardians consent for a child, and the plan records none`,
        };
      }
      for (const guardian of guardians) {
        if (!consent.givers.includes(guardian.id)) {
          yield {
            pointer: toPointer(['consents', i, 'givers']),
            message: `Custodial guardian "${guardian.id}" (${guardian.name.given} ${guardian.name.family}) has not given this consent; every guardian with custody must consent for a child`,
          };
        }
      }
    }
  },
});

export const consentGiverNotEntitled = defineRule({
  code: 'consent.giver-not-entitled',
  kind: 'integrity',
  title:
    'Consent is given by the person, by custodial guardians for a child, or by a legal representative (god man, förvaltare, framtidsfullmakt) for a person who cannot consent.',
  source: { document: 'seed-001', section: `${SECTION_CONSENT} (last two paragraphs)` },
  *check(context) {
    const { plan, index } = context;
    for (const [i, consent] of plan.consents.entries()) {
      const child = isChildOn(context, consent.givenAt);
      if (child === false && plan.individual.canConsent && !consent.givers.includes('individual')) {
        yield {
          pointer: toPointer(['consents', i, 'givers']),
          message: 'The person is an adult able to consent, and has not given this consent; no one else can give it for them',
        };
      }
      for (const [j, giver] of consent.givers.entries()) {
        const pointer = toPointer(['consents', i, 'givers', j]);
        if (giver === 'individual') {
          if (!plan.individual.canConsent) {
            yield { pointer, message: 'The person is recorded as unable to consent (individual.canConsent is false); a legal representative consents for them' };
          }
          continue;
        }
        if (index.entities.get(giver)?.kind !== 'relatedPerson') continue; // reported by plan.unresolved-reference
        const person = plan.relatedPersons.find((candidate) => candidate.id === giver);
        if (person?.kind === 'relative') {
          yield { pointer, message: `"${giver}" is a relative (${person.relationship}); a relative cannot consent on the person's behalf` };
        } else if (person?.kind === 'representative' && !CONSENTING_REPRESENTATIVE_KINDS.includes(person.representativeKind)) {
          yield { pointer, message: `"${giver}" is a ${person.representativeKind}; only a god man, förvaltare or holder of a framtidsfullmakt may consent for the person` };
        } else if (person?.kind === 'guardian' && child === false) {
          yield { pointer, message: `"${giver}" is a custodial guardian, but the person was an adult when consent was given on ${consent.givenAt}` };
        }
      }
    }
  },
});

export const consentUndocumented = defineRule({
  code: 'consent.undocumented',
  kind: 'integrity',
  title: 'An oral consent, or one shown in another way, names the professional who documented it.',
  source: { document: 'seed-001', section: `${SECTION_CONSENT} ("Ett muntligt samtycke ska … dokumenteras")` },
  *check({ plan }) {
    for (const [i, consent] of plan.consents.entries()) {
      if (consent.form !== 'written' && consent.documentedBy === undefined) {
        yield {
          pointer: toPointer(['consents', i, 'documentedBy']),
          message: `The consent was given ${consent.form === 'oral' ? 'orally' : 'in another way'}; name the professional who documented it`,
        };
      }
    }
  },
});

export const consentChildViewMissing = defineRule({
  code: 'consent.child-view-missing',
  kind: 'history',
  title: "When guardians consent for a child, the child's own view is recorded, or why the child was not asked given age and maturity.",
  source: { document: 'seed-001', section: `${SECTION_CONSENT} ("I beaktande av barnets ålder och mognad bör hen tillfrågas och delta i beslutet")` },
  *check(context) {
    for (const [i, consent] of context.plan.consents.entries()) {
      if (isChildOn(context, consent.givenAt) === true && consent.childView === undefined) {
        yield {
          pointer: toPointer(['consents', i]),
          message: `The person was a child when consent "${consent.id}" was given on ${consent.givenAt}; record the child's own view (childView.view), or why the child was not asked (childView.notAskedReason)`,
        };
      }
    }
  },
});
