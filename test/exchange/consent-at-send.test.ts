/**
 * Consent on every send, judged at the moment of sending (issue #14 point 3; seed 001 §4.2):
 * decideSend gives each withhold reason, and withholds when a consent expired or was withdrawn
 * between recording and sending; an excluded unit below a principal gets nothing; and an excluded
 * information class is on no byte of what would go on the wire — the SIP Bundle, the municipal JSON
 * and the municipal XML.
 *
 * The plan is the adult example (examples/adult-psychiatry-addiction.json): version 3 recorded
 * 2026-03-12, one written consent 2026-02-12 – 2027-02-11 covering Region Dalarna, Falu kommun and
 * Försäkringskassan, excluding the information class familySituation and the unit Britsarvets
 * vårdcentral (SE2321000180-7VCB) of Region Dalarna. Falu kommun is given its organisationsnummer;
 * goal-2 and int-4 (with its decision) are tagged familySituation and carry a sentinel text, and the
 * consent's own description of what the person excludes carries another: the class code travels,
 * the person's words do not.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decideSend, loadMapping, translateOutbound, type Mapping, type ReceiverParty } from '../../src/exchange/index.js';
import { planToBundle } from '../../src/fhir/index.js';
import { approvalDigest, judgeSend, sendBasisOf, withoutExclusionDescriptions, withoutInformation, type Consent, type SipPlan } from '../../src/sip/index.js';
import { readExample } from '../support/examples.js';

const ADULT = readExample('adult-psychiatry-addiction.json');

/** A text that is nowhere unless it is put there: in an intervention tagged familySituation. */
const SENTINEL = 'VÅRDNADSTVIST-SENTINEL-4b1e9c';
/** The person's own words about what they exclude, in the consent: nowhere on the wire either. */
const DESCRIPTION = 'Min tidigare relation och vårdnadstvisten om min son (BESKRIVNING-SENTINEL-77ad02)';
const DESCRIPTION_MARK = 'BESKRIVNING-SENTINEL-77ad02';

/** The plan with each digest-bound approval given the digest of its part as it now stands. */
function approvedAsIs(plan: SipPlan): SipPlan {
  return { ...plan, approvals: plan.approvals.map((approval) => (approval.digest === undefined ? approval : { ...approval, digest: approvalDigest(plan, approval.principal) })) };
}

const PLAN: SipPlan = approvedAsIs({
  ...ADULT,
  consents: ADULT.consents.map((consent) => ({ ...consent, excludedInformation: consent.excludedInformation.map((excluded) => ({ ...excluded, description: DESCRIPTION })) })),
  principals: ADULT.principals.map((principal) => (principal.id === 'falu-kommun' ? { ...principal, organisationsnummer: '212000-2106' } : principal)),
  otherActors: [...ADULT.otherActors, { id: 'skolan', kind: 'school', name: 'Skolan', hsaId: 'SE2120002106-SK01' }],
  goals: ADULT.goals.map((goal) =>
    goal.id === 'goal-2' ? { ...goal, description: `${goal.description} (${SENTINEL}-mål)`, informationClasses: ['familySituation' as const] } : goal,
  ),
  interventions: ADULT.interventions.map((intervention) =>
    intervention.id === 'int-4' && intervention.decision !== undefined
      ? {
          ...intervention,
          // "Code: words", as the modern-case-api mapping writes a municipal intervention's code.
          description: `Boendestöd: två gånger i veckan, med hänsyn till ${SENTINEL}.`,
          informationClasses: ['familySituation' as const],
          decision: { ...intervention.decision, reasoning: `Motivering med ${SENTINEL}.` },
        }
      : intervention,
  ),
});

const receiver = (id: string, organization: string): ReceiverParty => ({ id, organization });
const REGION = receiver('region-ehr', 'SE2321000180-1000');
const PSYCHIATRY = receiver('psyk-ehr', 'SE2321000180-4PSY');
const BRITSARVET = receiver('vc-britsarvet', 'SE2321000180-7VCB');
const MUNICIPALITY = receiver('kommun-case', '2120002106');
const FK = receiver('fk', '202100-5521');
const SCHOOL = receiver('skolan', 'SE2120002106-SK01');
const STRANGER = receiver('elsewhere', 'SE2321000016-ABC1');

/** Inside the consent period, after the version was recorded. */
const AT = new Date('2026-04-15T09:00:00+02:00');

function withConsent(edit: (consent: Consent) => Consent): SipPlan {
  return { ...PLAN, consents: PLAN.consents.map(edit) };
}

describe('decideSend: each reason to withhold, and its passing case', () => {
  it('sends to a principal, its unit, the municipality (organisationsnummer in any form) and a covered other actor', () => {
    for (const party of [REGION, PSYCHIATRY, MUNICIPALITY, FK]) {
      const decision = decideSend(PLAN, party, AT);
      expect(decision).toMatchObject({ send: true, consentId: 'consent-1', removed: ['familySituation'] });
    }
  });

  it('notAParty: an organisation that is no principal, unit or other actor of the plan', () => {
    expect(decideSend(PLAN, STRANGER, AT)).toEqual({
      send: false,
      reason: 'notAParty',
      detail: 'plan sip-falun-2026-0142 v3: receiver "elsewhere" (SE2321000016-ABC1) is not a principal, unit or other actor of the plan',
    });
  });

  it('notCovered: an other actor of the plan that the consent does not cover; covered, it is sent to', () => {
    expect(decideSend(PLAN, SCHOOL, AT)).toMatchObject({ send: false, reason: 'notCovered' });
    const covered = withConsent((consent) => ({ ...consent, coveredActors: [...consent.coveredActors, 'skolan'] }));
    expect(decideSend(covered, SCHOOL, AT)).toMatchObject({ send: true });
  });

  it('excluded: an excluded unit below a principal gets nothing, though its principal is covered', () => {
    const decision = decideSend(PLAN, BRITSARVET, AT);
    expect(decision).toEqual({
      send: false,
      reason: 'excluded',
      detail: 'plan sip-falun-2026-0142 v3: receiver "vc-britsarvet" (party "unit-vc-britsarvet"): the person’s consent excludes it (or an organisation above it) on 2026-04-15T07:00:00.000Z',
    });
    const notExcluded = withConsent((consent) => ({ ...consent, excludedParties: [] }));
    expect(decideSend(notExcluded, BRITSARVET, AT)).toMatchObject({ send: true });
  });

  it('excluded: a unit whose principal the person excluded gets nothing', () => {
    const plan = withConsent((consent) => ({ ...consent, excludedParties: ['region-dalarna'] }));
    expect(decideSend(plan, PSYCHIATRY, AT)).toMatchObject({ send: false, reason: 'excluded' });
    expect(decideSend(plan, REGION, AT)).toMatchObject({ send: false, reason: 'excluded' });
  });

  it('noConsentInForce: a plan without a consent', () => {
    expect(decideSend({ ...PLAN, consents: [] }, REGION, AT)).toMatchObject({ send: false, reason: 'noConsentInForce' });
  });

  it('planRefused: another rule finds an error (named in detail); the same plan without it is sent', () => {
    const broken: SipPlan = {
      ...PLAN,
      interventions: PLAN.interventions.map((intervention) => (intervention.id === 'int-1' ? { ...intervention, performer: 'nobody' } : intervention)),
    };
    expect(decideSend(broken, REGION, AT)).toEqual({
      send: false,
      reason: 'planRefused',
      detail: 'plan sip-falun-2026-0142 v3: may not be sent on 2026-04-15T07:00:00.000Z: plan.unresolved-reference',
    });
    expect(decideSend(PLAN, REGION, AT)).toMatchObject({ send: true });
  });

  it('planRefused: what is left once the excluded information is removed may not be sent (no municipal intervention left)', () => {
    const allMunicipal = approvedAsIs({
      ...PLAN,
      interventions: PLAN.interventions.map((intervention) => (intervention.id === 'int-3' ? { ...intervention, informationClasses: ['familySituation' as const] } : intervention)),
    });
    expect(decideSend(allMunicipal, REGION, AT)).toEqual({
      send: false,
      reason: 'planRefused',
      detail: 'plan sip-falun-2026-0142 v3: may not be sent on 2026-04-15T07:00:00.000Z once the excluded information (familySituation) is removed: plan.single-principal',
    });
  });
});

describe('the judgement a decision carries (what the connector checks instead of judging again)', () => {
  const instants = [AT, new Date('2026-02-01T12:00:00Z'), new Date('2027-03-01T12:00:00Z'), new Date(PLAN.updatedAt)];
  const receivers = [REGION, PSYCHIATRY, BRITSARVET, MUNICIPALITY, FK, SCHOOL, STRANGER];

  it('is judgeSend of the very plan it sends, at the instant decided for; with the version’s send basis the decision is the same', () => {
    let sent = 0;
    for (const plan of [PLAN, ADULT, readExample('closed-consent-withdrawn.json'), readExample('elderly-discharge-multimorbidity.json')]) {
      const basis = sendBasisOf(plan);
      for (const at of instants) {
        for (const party of receivers) {
          const decision = decideSend(plan, party, at);
          expect(decideSend(plan, party, at, { basis })).toEqual(decision);
          if (!decision.send) continue;
          sent++;
          expect(decision.judgement).toEqual(judgeSend(decision.plan, at));
        }
      }
    }
    expect(sent).toBeGreaterThan(5);
  });

  it('is of the reduced plan when consent removed information', () => {
    const decision = decideSend(PLAN, MUNICIPALITY, AT, { basis: sendBasisOf(PLAN) });
    expect(decision.send && decision.removed).toEqual(['familySituation']);
    if (!decision.send) return;
    // The classes removed, and the person's own words about them too (withoutExclusionDescriptions).
    expect(decision.plan).toEqual(withoutExclusionDescriptions(withoutInformation(PLAN, ['familySituation'])));
    expect(decision.judgement).toEqual(judgeSend(decision.plan, AT));
  });
});

describe('keptTextsHold: whether the plan sent is the plan decided on in every resource but the Consents', () => {
  const instants = [AT, new Date('2026-02-01T12:00:00Z'), new Date('2027-03-01T12:00:00Z'), new Date(PLAN.updatedAt)];
  const receivers = [REGION, PSYCHIATRY, BRITSARVET, MUNICIPALITY, FK, SCHOOL, STRANGER];

  it('is true exactly when no goal, intervention or deviation was removed: the plan sent is then the plan given or it without the exclusion descriptions', () => {
    const seen = new Set<boolean>();
    for (const plan of [PLAN, ADULT, readExample('closed-consent-withdrawn.json'), readExample('elderly-discharge-multimorbidity.json')]) {
      for (const at of instants) {
        for (const party of receivers) {
          const decision = decideSend(plan, party, at);
          if (!decision.send) continue;
          const holds = withoutInformation(plan, decision.removed) === plan;
          expect(decision.keptTextsHold).toBe(holds);
          if (holds) expect(decision.plan).toEqual(withoutExclusionDescriptions(plan));
          seen.add(holds);
        }
      }
    }
    // Both cases occur: the municipality loses a tagged goal; the region gets all but the descriptions.
    expect([...seen].sort()).toEqual([false, true]);
    const municipality = decideSend(PLAN, MUNICIPALITY, AT);
    expect(municipality.send && municipality.keptTextsHold).toBe(false);
  });
});

describe('decideSend is judged at the moment of sending, not when the version was recorded', () => {
  it('a consent that expired after the version was recorded withholds', () => {
    // Valid through 2027-02-11 (Stockholm dates, both inclusive).
    expect(decideSend(PLAN, REGION, new Date('2027-02-11T22:30:00+01:00'))).toMatchObject({ send: true });
    expect(decideSend(PLAN, REGION, new Date('2027-02-12T00:30:00+01:00'))).toMatchObject({ send: false, reason: 'noConsentInForce' });
  });

  it('a consent withdrawn after the version was recorded withholds from the instant of withdrawal', () => {
    const withdrawn = withConsent((consent) => ({ ...consent, withdrawal: { withdrawnAt: '2026-04-15T10:00:00+02:00', withdrawnBy: 'individual' } }));
    expect(decideSend(withdrawn, REGION, new Date('2026-04-15T09:59:59+02:00'))).toMatchObject({ send: true });
    const after = decideSend(withdrawn, REGION, new Date('2026-04-15T10:00:00+02:00'));
    expect(after).toMatchObject({ send: false, reason: 'noConsentInForce' });
    expect(after.send ? '' : after.detail).toContain('no consent of the plan is in force on 2026-04-15T08:00:00.000Z');
  });

  it('a renewal that excludes a class only from its start removes that class from then on', () => {
    const plan: SipPlan = {
      ...PLAN,
      consents: [
        { ...(PLAN.consents[0] as Consent), validUntil: '2026-06-30', excludedInformation: [] },
        { ...(PLAN.consents[0] as Consent), id: 'consent-2', givenAt: '2026-07-01', validUntil: '2027-06-30' },
      ],
    };
    expect(decideSend(plan, REGION, new Date('2026-06-30T12:00:00+02:00'))).toMatchObject({ send: true, consentId: 'consent-1', removed: [] });
    expect(decideSend(plan, REGION, new Date('2026-07-01T12:00:00+02:00'))).toMatchObject({ send: true, consentId: 'consent-2', removed: ['familySituation'] });
  });
});

describe('an excluded information class, and the person’s description of what they exclude, are on no byte of what is sent', () => {
  const decision = decideSend(PLAN, MUNICIPALITY, AT);
  if (!decision.send) throw new Error(`expected to send: ${decision.detail}`);
  const sent = decision.plan;

  let modern: Mapping;
  let legacy: Mapping;
  beforeAll(async () => {
    modern = await loadMapping('mappings/modern-case-api');
    legacy = await loadMapping('mappings/legacy-xml-export');
  });

  it('the decided plan lacks the tagged goal, interventions and decision; the rest is there', () => {
    expect(sent.goals.map((goal) => goal.id)).toEqual(['goal-1', 'goal-3']);
    expect(sent.interventions.map((intervention) => [intervention.id, intervention.goals])).toEqual([
      ['int-1', ['goal-1']],
      ['int-2', ['goal-1']],
      ['int-3', ['goal-1']],
      ['int-5', ['goal-3']],
      ['int-6', ['goal-1']],
    ]);
    expect(JSON.stringify(sent)).not.toContain(SENTINEL);
    expect(JSON.stringify(PLAN)).toContain(SENTINEL);
  });

  it('the decided plan keeps each consent’s excluded classes without the person’s description; the plan given is not changed', () => {
    expect(sent.consents.map((consent) => consent.excludedInformation)).toEqual([[{ class: 'familySituation' }]]);
    expect(JSON.stringify(sent)).not.toContain(DESCRIPTION_MARK);
    expect(PLAN.consents[0]?.excludedInformation).toEqual([{ class: 'familySituation', description: DESCRIPTION }]);
    const described = { ...PLAN, consents: [...PLAN.consents, { ...PLAN.consents[0], id: 'old-consent', givenAt: '2025-01-01', validUntil: '2025-12-31', excludedInformation: [{ class: 'other', description: DESCRIPTION }] }] } as SipPlan;
    const decided = decideSend(described, MUNICIPALITY, AT);
    if (!decided.send) throw new Error(decided.detail);
    // A consent no longer in force excludes nothing now, but its description is the person's words all the same.
    expect(decided.plan.consents.map((consent) => consent.excludedInformation)).toEqual([[{ class: 'familySituation' }], [{ class: 'other' }]]);
  });

  it('the SIP transaction Bundle', () => {
    // Control: the whole plan's Bundle would carry it, in the activity and in the decision's ServiceRequest.
    expect(JSON.stringify(planToBundle(PLAN, undefined, AT))).toContain(SENTINEL);
    expect(JSON.stringify(planToBundle(PLAN, undefined, AT))).toContain(DESCRIPTION_MARK);
    const bundle = JSON.stringify(planToBundle(sent, undefined, AT));
    expect(bundle).not.toContain(SENTINEL);
    expect(bundle).not.toContain(DESCRIPTION_MARK);
    // The class is there, in the Consent's deny provision, so the receiver knows something was left out.
    expect(bundle).toContain('"code":"familySituation"');
    expect(bundle).toContain('Undantagen information:');
    expect(bundle).toContain('Samtalsbehandling (återfallsprevention) med kurator');
  });

  it('the modern-case-api JSON', () => {
    const whole = translateOutbound(modern, PLAN, { at: AT, reportLoss: false });
    expect(whole.text).toContain(SENTINEL);
    expect(whole.text).toContain(DESCRIPTION_MARK);
    const result = translateOutbound(modern, sent, { at: AT, reportLoss: false });
    expect(result.issues.filter((issue) => issue.severity === 'error')).toEqual([]);
    expect(result.text).toBeDefined();
    expect(result.text).not.toContain(SENTINEL);
    expect(result.text).not.toContain(DESCRIPTION_MARK);
    expect((JSON.parse(result.text ?? '{}') as { consent: { excludedInformation: unknown } }).consent.excludedInformation).toEqual([{ category: 'FAMILJ' }]);
    expect(result.text).toContain('Samtalsbehandling (återfallsprevention) med kurator');
  });

  it('the legacy-xml-export XML', () => {
    const whole = translateOutbound(legacy, PLAN, { at: AT, reportLoss: false });
    expect(whole.text).toContain(SENTINEL);
    expect(whole.text).toContain(DESCRIPTION_MARK);
    const result = translateOutbound(legacy, sent, { at: AT, reportLoss: false });
    expect(result.issues.filter((issue) => issue.severity === 'error')).toEqual([]);
    expect(result.text).toBeDefined();
    expect(result.text).not.toContain(SENTINEL);
    expect(result.text).not.toContain(DESCRIPTION_MARK);
    expect(result.text).toMatch(/<UndantagUppgift klass="FAM"\s*\/>/);
    expect(result.text).toContain('Samtalsbehandling (återfallsprevention) med kurator');
  });
});
