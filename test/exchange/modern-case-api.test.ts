/**
 * The modern-case-api mapping (mappings/modern-case-api): every sample becomes a SIP that passes the
 * rules, a Bundle that passes the SIP profiles, and comes back to the same document — directly and
 * through FHIR — up to the normalisation the mapping declares (roundTrip.notCarried). Two samples are
 * held to SIPs written by hand in test/fixtures/mappings/modern-case-api.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decideSend, loadMapping, translateInbound, translateOutbound, type Mapping, type OutboundResult } from '../../src/exchange/index.js';
import { DEFAULT_MAPPING_OPTIONS, PROTECTED_LOCATION_TEXT, planToBundle, readCheckedPlan } from '../../src/fhir/index.js';
import { checkPlan, parsePlan, type SipPlan } from '../../src/sip/index.js';
import { createValidator, hasErrors } from '../../src/validation/index.js';

/** The plan written back as it would be sent when its version was recorded (an outbound translation always names the moment it sends). */
function outboundWhenRecorded(mapping: Mapping, plan: SipPlan): OutboundResult {
  return translateOutbound(mapping, plan, { at: new Date(plan.updatedAt) });
}


const FOLDER = 'mappings/modern-case-api';
const SAMPLES = join(FOLDER, 'samples');
const EXPECTED = 'test/fixtures/mappings/modern-case-api';
const samples = readdirSync(SAMPLES).filter((name) => name.endsWith('.json')).sort();

/** A fixed moment of sending, inside every sample's consent period. */
const SENT = new Date('2026-04-15T09:00:00+02:00');

let mapping: Mapping;
beforeAll(async () => {
  mapping = await loadMapping(FOLDER);
});

const read = (name: string): string => readFileSync(join(SAMPLES, name), 'utf8');

/** The sample as it should come back: without what the mapping declares the SIP cannot carry. */
function normalised(document: unknown, patterns: readonly string[]): unknown {
  const strip = (value: unknown, pointer: string): unknown => {
    if (patterns.some((pattern) => matches(pattern, pointer))) return undefined;
    if (Array.isArray(value)) return value.map((item, index) => strip(item, `${pointer}/${String(index)}`));
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(
      Object.entries(value)
        .map(([key, item]) => [key, strip(item, `${pointer}/${key}`)] as const)
        .filter(([, item]) => item !== undefined),
    );
  };
  return strip(document, '');
}

function matches(pattern: string, pointer: string): boolean {
  const want = pattern.split('/');
  const have = pointer.split('/');
  return want.length === have.length && want.every((segment, index) => segment === '*' || segment === have[index]);
}

function inbound(name: string): SipPlan {
  const result = translateInbound(mapping, read(name));
  expect(result.issues.filter((issue) => issue.severity === 'error')).toEqual([]);
  if (result.plan === undefined) throw new Error(`${name}: no plan`);
  return result.plan;
}

function expectedPlan(name: string): SipPlan {
  const parsed = parsePlan(JSON.parse(readFileSync(join(EXPECTED, name.replace('.json', '.sip.json')), 'utf8')) as unknown);
  if (!parsed.ok) throw new Error(`${name}: the hand-written SIP does not parse: ${JSON.stringify(parsed.problems)}`);
  return parsed.plan;
}

describe('modern-case-api samples', () => {
  const validator = createValidator();
  const patterns = (): string[] => (mapping.document.roundTrip?.notCarried ?? []).map((entry) => entry.pointer);

  it('has at least three samples', () => {
    expect(samples.length).toBeGreaterThanOrEqual(3);
  });

  it.each(samples)('%s → SIP that passes check → Bundle that passes validate → back to the same document', (name) => {
    const plan = inbound(name);
    expect(checkPlan(plan).filter((problem) => problem.severity === 'error')).toEqual([]);
    const bundle = planToBundle(plan, DEFAULT_MAPPING_OPTIONS, SENT);
    const outcome = validator.validate(bundle);
    expect(hasErrors(outcome), JSON.stringify(outcome.issue.filter((issue) => issue.severity === 'error'))).toBe(false);
    const back = translateOutbound(mapping, plan, { at: SENT });
    expect(back.issues.filter((issue) => issue.severity !== 'warning' || issue.code === 'mapping.not-carried')).toEqual([]);
    expect(JSON.parse(back.text ?? '')).toEqual(normalised(JSON.parse(read(name)), patterns()));
  });

  it.each(samples)('%s → SIP → FHIR → SIP → municipal gives the same document up to roundTrip.notCarried', (name) => {
    const bundle = planToBundle(inbound(name), DEFAULT_MAPPING_OPTIONS, SENT);
    const fromFhir = readCheckedPlan(JSON.parse(JSON.stringify(bundle)) as unknown);
    if (!fromFhir.ok) throw new Error(JSON.stringify(fromFhir.outcome));
    const back = translateOutbound(mapping, fromFhir.plan, { at: SENT });
    expect(back.issues.filter((issue) => issue.code === 'mapping.not-carried')).toEqual([]);
    const expected = normalised(JSON.parse(read(name)), patterns()) as { client: { protectedIdentity: boolean }; sipMeeting?: { location?: string } };
    // FHIR never carries where a person with protected identity meets (src/fhir/write/appointment.ts).
    if (expected.client.protectedIdentity && expected.sipMeeting?.location !== undefined) expected.sipMeeting.location = PROTECTED_LOCATION_TEXT;
    expect(JSON.parse(back.text ?? '')).toEqual(expected);
  });

  it.each(['elderly-home-help.json', 'lss-contact-person.json'])('%s gives the SIP written by hand', (name) => {
    expect(inbound(name)).toEqual(expectedPlan(name));
  });

  it('reports each declared field the SIP cannot carry, with its reason and source place, and nothing of a decision', () => {
    const result = translateInbound(mapping, read('elderly-home-help.json'));
    const notCarried = result.issues.filter((issue) => issue.code === 'mapping.not-carried');
    expect(notCarried).toHaveLength(1);
    expect(notCarried[0]?.rule).toBe('roundTrip.notCarried /exportedAt');
    expect(notCarried[0]?.severity).toBe('warning');
    expect(notCarried[0]?.message).toContain('1 value at /exportedAt not carried');
    expect(notCarried[0]?.source?.pointer).toBe('/exportedAt');
  });

  it('carries a decision made under the former act with its statute in both numberings, and the granted hours', () => {
    const plan = inbound('elderly-home-help.json');
    const respite = plan.interventions.find((intervention) => intervention.id === 'B-2025-1187');
    expect(respite?.decision?.statute).toEqual({ act: '2001:453', chapter: 4, section: 1 });
    const written = JSON.parse(translateOutbound(mapping, plan, { at: SENT }).text ?? '') as { decisions: { decisionId: string; statute: unknown; scopeHours?: number }[] };
    expect(written.decisions.find((decision) => decision.decisionId === 'B-2025-1187')?.statute).toEqual({
      asDecided: '4 kap. 1 § socialtjänstlagen (2001:453)',
      current: '11 kap. 1 § socialtjänstlagen (2025:400)',
    });
    expect(written.decisions.find((decision) => decision.decisionId === 'B-2026-0311')?.scopeHours).toBe(30);
  });

  it('reports a source field the mapping neither maps nor declares, never dropping it silently', () => {
    const document = JSON.parse(read('elderly-home-help.json')) as { client: Record<string, unknown> };
    document.client.nickname = 'Gunne';
    const result = translateInbound(mapping, JSON.stringify(document, null, 2));
    expect(result.plan).toBeDefined();
    expect(result.issues).toContainEqual(expect.objectContaining({ severity: 'warning', code: 'mapping.not-carried', source: { pointer: '/client/nickname' } }));
  });

  it('reports a plan field the format has no place for when writing out', () => {
    const plan = { ...inbound('elderly-home-help.json'), ownAccount: { experience: 'Det är svårt att komma ihåg tiderna.' } };
    const result = translateOutbound(mapping, plan, { at: SENT });
    expect(result.text).toBeDefined();
    expect(result.issues).toContainEqual(expect.objectContaining({ severity: 'warning', code: 'mapping.not-carried', planPointer: '/ownAccount' }));
  });

  it('writes a municipal intervention whose description names no type as a decision without a code, and reads it back unchanged', () => {
    const plan = inbound('elderly-home-help.json');
    const freeText = { ...plan, interventions: plan.interventions.map((intervention) => {
      if (intervention.id !== 'B-2026-0311') return intervention;
      // A plan from elsewhere: an intervention with no type in its words and no decision of this system.
      const { decision: _decision, ...undecided } = intervention;
      return { ...undecided, description: 'Trygghetslarm och tillsyn nattetid' };
    }) };
    const written = translateOutbound(mapping, freeText, { at: SENT });
    expect(written.issues.filter((issue) => issue.code === 'mapping.not-carried')).toEqual([]);
    const document = JSON.parse(written.text ?? '') as { decisions: Record<string, unknown>[] };
    expect(document.decisions[0]).not.toHaveProperty('interventionCode');
    expect(document.decisions[0]?.concerns).toBe('Trygghetslarm och tillsyn nattetid');
    expect(translateInbound(mapping, written.text ?? '').plan?.interventions[0]?.description).toBe('Trygghetslarm och tillsyn nattetid');
  });

  it('judges consent at the moment of sending: refused after the consent expired, with the rule and the rule path', () => {
    const plan = inbound('elderly-home-help.json');
    const late = new Date('2027-03-01T09:00:00+01:00');
    const outbound = translateOutbound(mapping, plan, { at: late });
    expect(outbound.text).toBeUndefined();
    expect(outbound.issues).toContainEqual(expect.objectContaining({ severity: 'error', code: 'consent.expired', planPointer: '/consents/0/validUntil' }));
    const inboundLate = translateInbound(mapping, read('elderly-home-help.json'), { at: late });
    expect(inboundLate.plan).toBeUndefined();
    const expired = inboundLate.issues.find((issue) => issue.code === 'consent.expired');
    expect(expired?.rule).toBe('inbound.consents[0].validUntil');
    expect(expired?.source?.pointer).toBe('/consent/validUntil');
    expect(expired?.source?.line).toBe(read('elderly-home-help.json').split('\n').findIndex((text) => text.includes('"validUntil"')) + 1);
  });

  it('converts local Stockholm times with the offset in force: winter +01:00, summer +02:00, and back', () => {
    const document = JSON.parse(read('elderly-home-help.json')) as { sipCase: Record<string, unknown> };
    document.sipCase.lastModified = '2026-07-01 08:05';
    const result = translateInbound(mapping, JSON.stringify(document));
    expect(result.plan?.updatedAt).toBe('2026-07-01T08:05:00+02:00');
    expect(inbound('elderly-home-help.json').updatedAt).toBe('2026-03-11T15:20:00+01:00');
    const plan = { ...inbound('elderly-home-help.json'), updatedAt: '2026-07-01T06:05:00Z' };
    const written = JSON.parse(outboundWhenRecorded(mapping, plan).text ?? '') as { sipCase: { lastModified: string } };
    expect(written.sipCase.lastModified).toBe('2026-07-01 08:05');
  });

  it('carries the protected identity flag and kind, and a refused and a pending decision, as the SIP has them', () => {
    const protectedPlan = inbound('protected-identity-housing-support.json');
    expect(protectedPlan.individual.protectedIdentity).toBe('protectedRegistration');
    expect(protectedPlan.individual.contact).toBeUndefined();
    const lss = inbound('lss-contact-person.json');
    expect(lss.interventions.find((intervention) => intervention.id === 'B-2026-0089')?.status).toBe('cancelled');
    expect(lss.interventions.find((intervention) => intervention.id === 'B-2026-0102')?.status).toBe('awaitingDecision');
  });

  it('carries informationClasses of goals, decisions, actions and deviations both ways, in the system’s own categories', () => {
    const lss = inbound('lss-contact-person.json');
    // Read from the sample's text: m-1 OVRIGT, B-2026-0089 FAMILJ, A-31-2 EKONOMI, avv-31-1 EKONOMI.
    expect(lss.goals.map((goal) => [goal.id, goal.informationClasses])).toEqual([
      ['m-1', ['other']],
      ['m-2', []],
    ]);
    expect(lss.interventions.filter((intervention) => intervention.informationClasses.length > 0).map((intervention) => [intervention.id, intervention.informationClasses])).toEqual([
      ['B-2026-0089', ['familySituation']],
      ['A-31-2', ['financialSituation']],
    ]);
    expect(lss.deviations.map((deviation) => [deviation.id, deviation.informationClasses])).toEqual([['avv-31-1', ['financialSituation']]]);
    // Written out from a plan made elsewhere: several classes on one item, each in its category.
    const tagged: SipPlan = {
      ...lss,
      goals: lss.goals.map((goal) => (goal.id === 'm-2' ? { ...goal, informationClasses: ['mentalHealth', 'substanceUse'] } : goal)),
    };
    const out = JSON.parse(translateOutbound(mapping, tagged, { at: SENT }).text ?? '{}') as {
      goals: { goalId: string; informationClasses?: string[] }[];
      decisions: { decisionId: string; informationClasses?: string[] }[];
      plannedActions: { actionId: string; informationClasses?: string[] }[];
      deviations: { deviationId: string; informationClasses?: string[] }[];
    };
    expect(out.goals.map((goal) => [goal.goalId, goal.informationClasses])).toEqual([
      ['m-1', ['OVRIGT']],
      ['m-2', ['PSYKISK_HALSA', 'MISSBRUK']],
    ]);
    expect(out.decisions.map((decision) => [decision.decisionId, decision.informationClasses])).toEqual([
      ['B-2026-0088', undefined],
      ['B-2026-0089', ['FAMILJ']],
      ['B-2026-0102', undefined],
    ]);
    expect(out.plannedActions.map((action) => [action.actionId, action.informationClasses])).toEqual([
      ['A-31-1', undefined],
      ['A-31-2', ['EKONOMI']],
    ]);
    expect(out.deviations.map((deviation) => [deviation.deviationId, deviation.informationClasses])).toEqual([['avv-31-1', ['EKONOMI']]]);
    // …and read back the same.
    const back = translateInbound(mapping, JSON.stringify(out));
    expect(back.plan?.goals.map((goal) => goal.informationClasses)).toEqual([['other'], ['mentalHealth', 'substanceUse']]);
  });

  it('an export’s class the consent excludes is removed before the plan is sent to a receiver (the sample’s consent excludes EKONOMI)', () => {
    const lss = inbound('lss-contact-person.json');
    const region = { id: 'region-orebro-ehr', organization: 'SE2321000164-1000' };
    const decision = decideSend(lss, region, SENT);
    if (!decision.send) throw new Error(decision.detail);
    expect(decision.removed).toEqual(['financialSituation']);
    expect(decision.plan.interventions.map((intervention) => intervention.id)).not.toContain('A-31-2');
    expect(decision.plan.deviations).toEqual([]);
    // What goes on the wire, as the municipal JSON and as FHIR: the tagged action and deviation are in no byte.
    const control = translateOutbound(mapping, lss, { at: SENT }).text ?? '';
    expect(control).toContain('Försäkringskassan utreder aktivitetsersättning.');
    expect(control).toContain('avv-31-1');
    for (const text of [translateOutbound(mapping, decision.plan, { at: SENT }).text ?? '', JSON.stringify(planToBundle(decision.plan, DEFAULT_MAPPING_OPTIONS, SENT))]) {
      expect(text).not.toContain('aktivitetsersättning');
      expect(text).not.toContain('avv-31-1');
      expect(text).not.toContain('Jonatans ekonomi');
      // The rest of the plan is there, the FAMILJ-tagged decision included (the consent does not exclude it).
      expect(text).toContain('korttidsvistelse två helger per månad');
    }
  });
});
