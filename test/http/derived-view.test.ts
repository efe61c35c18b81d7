/**
 * What a read derives from a plan version alone, kept with the version (src/http/derived-view.ts,
 * migration 6), against what the read computes without it:
 *
 * - in process, for every example and generated plans: each derived text, with the version's meta
 *   spliced in, is the very JSON text the facade writes for the mapped resource (string-equal), and
 *   only Consent (mapped at the instant of sending) is left out;
 * - over HTTP on the real server (PGlite, fixed clocks): a read answers the same body from the derived
 *   text as from the mapping; a consent expired or withdrawn after the version was written still
 *   refuses the read with 403 naming the rule; a version stored without derived data (as before
 *   migration 6) is read correctly and derived by that read; data kept under another deriver is not used.
 */
import type { Bundle, OperationOutcome } from 'fhir/r4.js';
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planResourceIds } from '../../src/fhir/index.js';
import { issueLocalToken } from '../../src/http/auth/index.js';
import { TIME_DEPENDENT_TYPES, currentDeriver, derivedResourceText, derivedVersion } from '../../src/http/derived-view.js';
import { viewOf } from '../../src/http/fhir-routes.js';
import type { RunningServer } from '../../src/http/server.js';
import { checkPlan, parsePlan, type SipPlan } from '../../src/sip/index.js';
import type { StoredPlan } from '../../src/store/index.js';
import { mappablePlanArbitrary, referenceLookAlikeJson } from '../support/arbitraries.js';
import { exampleFiles, readExample } from '../support/examples.js';
import { withReferencesRewritten } from '../support/former-reference-rewrite.js';
import { startTestServer, type TestServer } from '../support/http-server.js';

const DAY = 86_400_000;

/** Every resource of the version's view: the derived text (spliced) equals the mapped resource's JSON text. */
function expectDerivedAsMapped(plan: SipPlan, version: number, recordedAt: string): number {
  const stored: StoredPlan = { plan, version, recordedAt, recordedBy: 'system' };
  const derived = derivedVersion(plan);
  // Mapped as the read does without derived data, at an instant the plan may be sent or not: judgedView ignores consent here.
  const view = (() => {
    try {
      return viewOf(stored, new Date(plan.updatedAt));
    } catch {
      return undefined;
    }
  })();
  const ids = planResourceIds(plan);
  expect(derived.texts.map((text) => `${text.resourceType}/${text.id}`)).toEqual(
    ids.filter((id) => !TIME_DEPENDENT_TYPES.has(id.resourceType)).map((id) => `${id.resourceType}/${id.id}`),
  );
  if (view === undefined) return 0;
  for (const text of derived.texts) {
    const entry = view.entries.find((candidate) => candidate.type === text.resourceType && candidate.id === text.id);
    expect(entry, `${text.resourceType}/${text.id}`).toBeDefined();
    expect(derivedResourceText(stored, text)).toBe(JSON.stringify(entry?.resource));
  }
  return derived.texts.length;
}

describe('derived texts', () => {
  it('are, with the version meta spliced in, the JSON text the facade writes for every resource of every example but Consent', () => {
    let compared = 0;
    for (const file of exampleFiles) compared += expectDerivedAsMapped(readExample(file), 7, '2026-04-01T08:00:00.000Z');
    expect(compared).toBeGreaterThan(exampleFiles.length * 5);
  });

  it('are so for generated plans too', () => {
    let compared = 0;
    fc.assert(
      fc.property(mappablePlanArbitrary, fc.integer({ min: 1, max: 40 }), (json, version) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        compared += expectDerivedAsMapped(parsed.plan, version, '2026-05-06T07:08:09.000Z');
      }),
      { numRuns: 150 },
    );
    expect(compared).toBeGreaterThan(0);
  });
});

// The text rewrite is the former path of the kept texts, now the oracle of test/http/derived-facade-texts.test.ts.
describe('references rewritten in the text', () => {
  // Targets and look-alikes: what the escapes of JSON text could make a match of, or hide one in.
  const targets = new Map([
    ['urn:uuid:0b0e7f4e-1', 'Patient/p1'],
    ['urn:uuid:with"quote', 'Goal/g"1'],
    ['urn:uuid:back\\slash', 'Goal/g\\2'],
    ['ünïcode\u2028', 'CareTeam/ct'],
  ]);
  const json = referenceLookAlikeJson(targets.keys());
  const replacer = (name: string, value: unknown): unknown => (name === 'reference' && typeof value === 'string' ? (targets.get(value) ?? value) : value);

  it('are the text JSON.stringify writes with a replacer rewriting them, for generated JSON', () => {
    let rewritten = 0;
    fc.assert(
      fc.property(json, (value) => {
        const expected = JSON.stringify(value, replacer);
        const plain = JSON.stringify(value);
        expect(withReferencesRewritten(plain, targets)).toBe(expected);
        if (expected !== plain) rewritten += 1;
      }),
      { numRuns: 3000 },
    );
    expect(rewritten).toBeGreaterThan(10);
  });

  it('rewrites a reference beside a key ending in a quoted "reference", and only the reference', () => {
    const value = { 'x"reference': 'urn:uuid:0b0e7f4e-1', note: '"reference":"urn:uuid:0b0e7f4e-1"', reference: 'urn:uuid:with"quote', list: [{ reference: 'urn:uuid:back\\slash' }] };
    expect(JSON.parse(withReferencesRewritten(JSON.stringify(value), targets))).toEqual({ ...value, reference: 'Goal/g"1', list: [{ reference: 'Goal/g\\2' }] });
  });
});

/** Region Dalarna, a principal of the adult example's plan; its consent is in force 2026-02-12 – 2027-02-11. */
const REGION = 'SE2321000180-1000';
const PLAN = 'sip-falun-2026-0142';
const IN_FORCE = new Date('2026-04-01T10:00:00+02:00');

describe('reads from derived data on the real server (PGlite)', () => {
  let test: TestServer;
  let server: RunningServer;
  let now = IN_FORCE;

  beforeAll(async () => {
    test = await startTestServer('pglite', { clock: () => now, settings: { loadExamples: true } });
    server = test.server;
  }, 240_000);

  afterAll(() => test.close());

  const auth = async (): Promise<{ Authorization: string }> => {
    if (server.authenticator.mode !== 'local') throw new Error('the test server signs its own tokens');
    return { Authorization: `Bearer ${await issueLocalToken({ org: REGION, scopes: 'system/*.*', ttlSeconds: 3600 }, server.authenticator.localKey, now)}` };
  };
  /** A new plan of the adult example's person under its own id, its consent naming it (as bench/support.ts newPlan). */
  const newPlan = (id: string): SipPlan => {
    const adult = readExample('adult-psychiatry-addiction.json');
    const plan: SipPlan = { ...adult, id, version: 1, approvals: [], updatedAt: IN_FORCE.toISOString(), consents: adult.consents.map((consent) => ({ ...consent, planId: id })) };
    delete plan.closure;
    const parsed = parsePlan(plan);
    if (!parsed.ok) throw new Error(`the plan does not parse: ${JSON.stringify(parsed.problems)}`);
    return parsed.plan;
  };
  const idOf = (plan: SipPlan, resourceType: string): string => {
    const found = planResourceIds(plan).find((resource) => resource.resourceType === resourceType);
    if (found === undefined) throw new Error(`no ${resourceType} in ${plan.id}`);
    return found.id;
  };
  const current = async (planId: string, type: string, id: string): Promise<StoredPlan> => {
    const [found] = (await server.store.currentWithResource(type, id, { deriver: currentDeriver() })).filter((stored) => stored.plan.id === planId);
    if (found === undefined) throw new Error(`no ${planId}`);
    return found;
  };

  it('answers a read and a search from the text kept when the version was written, as the mapping would', async () => {
    now = IN_FORCE;
    const adult = readExample('adult-psychiatry-addiction.json');
    const carePlanId = idOf(adult, 'CarePlan');
    const stored = await current(PLAN, 'CarePlan', carePlanId);
    // The example loader derived it when it wrote the version: the read did not.
    expect(stored.derived?.texts.map((text) => text.resourceType)).toEqual(['CarePlan']);
    const response = await request(server.url).get(`/fhir/CarePlan/${carePlanId}`).set(await auth()).expect(200);
    const { derived: _derived, ...bare } = stored;
    const mapped = viewOf(bare, now).entries.find((entry) => entry.type === 'CarePlan');
    expect(response.text).toBe(JSON.stringify(mapped?.resource));
    // A Consent is never derived: mapped at the read, its status judged then.
    const consent = await request(server.url).get(`/fhir/Consent/${idOf(adult, 'Consent')}`).set(await auth()).expect(200);
    expect(consent.body).toMatchObject({ resourceType: 'Consent', status: 'active' });

    const search = await request(server.url).get(`/fhir/CarePlan?identifier=${PLAN}`).set(await auth()).expect(200);
    const byPerson = await request(server.url).get(`/fhir/CarePlan?patient:identifier=${encodeURIComponent(adult.individual.identifier.value)}`).set(await auth()).expect(200);
    const [fromGet] = (search.body as Bundle).entry ?? [];
    const [fromSearch] = (byPerson.body as Bundle).entry ?? [];
    // The identifier search maps (store.get brings no derived data), the person search splices: the same entry.
    expect(JSON.stringify(fromSearch)).toBe(JSON.stringify(fromGet));
    expect(fromSearch?.resource).toEqual(response.body);
  });

  it('still refuses a read with 403 once the consent has expired after the version was written', async () => {
    const adult = readExample('adult-psychiatry-addiction.json');
    const carePlanId = idOf(adult, 'CarePlan');
    now = new Date('2027-03-01T10:00:00+01:00');
    try {
      expect((await current(PLAN, 'CarePlan', carePlanId)).derived).toBeDefined();
      const response = await request(server.url).get(`/fhir/CarePlan/${carePlanId}`).set(await auth()).expect(403);
      expect(JSON.stringify(response.body as OperationOutcome)).toContain('consent.expired');
      const search = await request(server.url).get(`/fhir/CarePlan?patient:identifier=${encodeURIComponent(adult.individual.identifier.value)}`).set(await auth()).expect(403);
      expect(JSON.stringify(search.body)).toContain('consent.expired');
    } finally {
      now = IN_FORCE;
    }
  });

  it('refuses with 403 a read of a plan whose consent was withdrawn after its version was written', async () => {
    now = IN_FORCE;
    const plan = newPlan('sip-derived-withdrawn');
    const created = await request(server.url).post('/sip/plans').set(await auth()).send(plan).expect(201);
    expect(created.headers.etag).toBeDefined();
    const carePlanId = idOf(plan, 'CarePlan');
    await request(server.url).get(`/fhir/CarePlan/${carePlanId}`).set(await auth()).expect(200);
    now = new Date(IN_FORCE.getTime() + DAY);
    await request(server.url).post(`/sip/plans/${plan.id}/consents/consent-1/withdrawal`).set(await auth()).send({ withdrawnBy: 'individual', recordedBy: 'prof-anna-lind' }).expect(201);
    expect((await current(plan.id, 'CarePlan', carePlanId)).derived).toBeDefined();
    const refused = await request(server.url).get(`/fhir/CarePlan/${carePlanId}`).set(await auth()).expect(403);
    expect(JSON.stringify(refused.body)).toContain('consent.withdrawn');
    now = IN_FORCE;
  });

  it('reads a version stored without derived data (as before migration 6) as the mapping does, and keeps what it derived', async () => {
    now = IN_FORCE;
    const plan = newPlan('sip-derived-before');
    const parsed = { plan };
    // A writer that derives nothing, as every writer before migration 6.
    await server.store.create(parsed.plan, 'system', planResourceIds(parsed.plan));
    const carePlanId = idOf(parsed.plan, 'CarePlan');
    const before = await current(plan.id, 'CarePlan', carePlanId);
    expect(before.derived).toBeUndefined();
    const first = await request(server.url).get(`/fhir/CarePlan/${carePlanId}`).set(await auth()).expect(200);
    expect(first.text).toBe(JSON.stringify(viewOf(before, now).entries.find((entry) => entry.type === 'CarePlan')?.resource));
    // The read derived it and kept it: the next read answers from it, the same text.
    const after = await current(plan.id, 'CarePlan', carePlanId);
    expect(after.derived?.texts.map((text) => text.id)).toEqual([carePlanId]);
    const second = await request(server.url).get(`/fhir/CarePlan/${carePlanId}`).set(await auth()).expect(200);
    expect(second.text).toBe(first.text);
    // Two years on, the derived version is refused like any other.
    now = new Date(IN_FORCE.getTime() + 730 * DAY);
    await request(server.url).get(`/fhir/CarePlan/${carePlanId}`).set(await auth()).expect(403);
    now = IN_FORCE;
  });

  it('derives a version stored without derived data when a search pages it, answering it as the mapping does', async () => {
    now = IN_FORCE;
    const plan = newPlan('sip-derived-before-search');
    await server.store.create(plan, 'system', planResourceIds(plan));
    const carePlanId = idOf(plan, 'CarePlan');
    const before = await current(plan.id, 'CarePlan', carePlanId);
    expect(before.derived).toBeUndefined();
    const search = await request(server.url).get(`/fhir/CarePlan?patient:identifier=${encodeURIComponent(plan.individual.identifier.value)}`).set(await auth()).expect(200);
    const entry = ((search.body as Bundle).entry ?? []).find((candidate) => candidate.resource?.id === carePlanId);
    expect(entry?.resource).toEqual(viewOf(before, now).entries.find((candidate) => candidate.type === 'CarePlan')?.resource);
    expect((await current(plan.id, 'CarePlan', carePlanId)).derived?.texts.map((text) => text.id)).toEqual([carePlanId]);
    const again = await request(server.url).get(`/fhir/CarePlan?patient:identifier=${encodeURIComponent(plan.individual.identifier.value)}`).set(await auth()).expect(200);
    expect(again.text).toBe(search.text);
  });

  it('judges access and consent from the summary kept with the version, and from the whole plan for a version kept without one (before migration 8)', async () => {
    now = IN_FORCE;
    // Kept without a summary, as derived rows written before migration 8: answered, and refused two years on.
    const before = newPlan('sip-derived-no-summary');
    const { summary: _summary, ...withoutSummary } = derivedVersion(before);
    await server.store.create(before, 'system', planResourceIds(before), { derived: withoutSummary });
    const beforeId = idOf(before, 'CarePlan');
    expect((await current(before.id, 'CarePlan', beforeId)).derived).not.toHaveProperty('summary');
    const answered = await request(server.url).get(`/fhir/CarePlan/${beforeId}`).set(await auth()).expect(200);
    expect(answered.body).toMatchObject({ resourceType: 'CarePlan', id: beforeId });
    now = new Date(IN_FORCE.getTime() + 730 * DAY);
    await request(server.url).get(`/fhir/CarePlan/${beforeId}`).set(await auth()).expect(403);
    now = IN_FORCE;

    // A summary kept under the current deriver is what the read judges, not the plan document: one whose
    // consent is withdrawn refuses a plan whose document has it in force (a summary is never written so;
    // this shows the read does not parse the document to judge).
    const plan = newPlan('sip-derived-summary-judged');
    const derived = derivedVersion(plan);
    const withdrawn = { ...plan, consents: plan.consents.map((consent) => ({ ...consent, withdrawal: { withdrawnAt: '2026-01-01T00:00:00Z', withdrawnBy: 'individual', recordedBy: 'prof-anna-lind' } })) };
    await server.store.create(plan, 'system', planResourceIds(plan), { derived: { ...derived, summary: JSON.stringify(withdrawn) } });
    const refused = await request(server.url).get(`/fhir/CarePlan/${idOf(plan, 'CarePlan')}`).set(await auth()).expect(403);
    expect(JSON.stringify(refused.body)).toContain('consent.withdrawn');
    // And the region, a principal, found in the summary's parties: an organisation not in them is refused access.
    const strangers = { ...plan, principals: [], otherActors: [], professionals: [] };
    const hidden = newPlan('sip-derived-summary-parties');
    await server.store.create(hidden, 'system', planResourceIds(hidden), { derived: { ...derivedVersion(hidden), summary: JSON.stringify({ ...strangers, id: hidden.id }) } });
    const denied = await request(server.url).get(`/fhir/CarePlan/${idOf(hidden, 'CarePlan')}`).set(await auth()).expect(403);
    expect(JSON.stringify(denied.body)).toContain('may not see');
  });

  it('does not use what was kept under another deriver (another mapping or rule set)', async () => {
    now = IN_FORCE;
    const plan = newPlan('sip-derived-other');
    const parsed = { plan };
    const carePlanId = idOf(parsed.plan, 'CarePlan');
    await server.store.create(parsed.plan, 'system', planResourceIds(parsed.plan), {
      derived: {
      deriver: 'another-deriver',
      basis: JSON.stringify({ rules: [] }),
      texts: [{ resourceType: 'CarePlan', id: carePlanId, head: '{"resourceType":"CarePlan","stale":true,"meta":{', tail: '}}' }],
      },
    });
    const response = await request(server.url).get(`/fhir/CarePlan/${carePlanId}`).set(await auth()).expect(200);
    expect(response.body).not.toHaveProperty('stale');
    expect(response.body).toMatchObject({ resourceType: 'CarePlan', id: carePlanId });
    // A stale basis finding nothing would let an expired consent through; the current deriver's judges it.
    now = new Date(IN_FORCE.getTime() + 730 * DAY);
    await request(server.url).get(`/fhir/CarePlan/${carePlanId}`).set(await auth()).expect(403);
    now = IN_FORCE;
  });

  it('judges a SIP read and a SIP search from the version\'s send basis: warnings as recorded, refused once the consent has expired', async () => {
    now = IN_FORCE;
    const stored = await server.store.get(PLAN, undefined, { derived: { deriver: currentDeriver() } });
    // The SIP read is asked for the basis alone: no FHIR text comes with it.
    expect(stored?.derived).toMatchObject({ texts: [] });
    expect(JSON.parse(stored?.derived?.basis ?? '{}')).toHaveProperty('rules');
    const person = encodeURIComponent(readExample('adult-psychiatry-addiction.json').individual.identifier.value);
    const read = await request(server.url).get(`/sip/plans/${PLAN}`).set(await auth()).expect(200);
    const warnings = checkPlan((read.body as { plan: SipPlan }).plan).filter((problem) => problem.severity === 'warning');
    expect((read.body as { warnings?: unknown }).warnings ?? []).toEqual(warnings);
    const found = await request(server.url).get(`/sip/plans?person=${person}`).set(await auth()).expect(200);
    expect((found.body as { plans: { plan: SipPlan }[] }).plans.map((answer) => answer.plan.id)).toContain(PLAN);
    now = new Date('2027-03-01T10:00:00+01:00');
    try {
      const refused = await request(server.url).get(`/sip/plans/${PLAN}`).set(await auth()).expect(403);
      expect(JSON.stringify(refused.body)).toContain('consent.expired');
      const none = await request(server.url).get(`/sip/plans?person=${person}`).set(await auth()).expect(200);
      expect((none.body as { plans: { plan: SipPlan }[] }).plans.map((answer) => answer.plan.id)).not.toContain(PLAN);
    } finally {
      now = IN_FORCE;
    }
  });

  it('judges a SIP read of a version without derived data, or with another deriver\'s, by every rule', async () => {
    now = IN_FORCE;
    const bare = newPlan('sip-derived-sip-bare');
    await server.store.create(bare, 'system', planResourceIds(bare));
    const stale = newPlan('sip-derived-sip-stale');
    // A stale basis finding nothing would let an expired consent through.
    await server.store.create(stale, 'system', planResourceIds(stale), { derived: { deriver: 'another-deriver', basis: JSON.stringify({ rules: [] }), texts: [] } });
    for (const plan of [bare, stale]) {
      now = IN_FORCE;
      await request(server.url).get(`/sip/plans/${plan.id}`).set(await auth()).expect(200);
      now = new Date(IN_FORCE.getTime() + 730 * DAY);
      const refused = await request(server.url).get(`/sip/plans/${plan.id}`).set(await auth()).expect(403);
      expect(JSON.stringify(refused.body)).toContain('consent.expired');
    }
    now = IN_FORCE;
  });
});
