/**
 * `GET /fhir/CarePlan/_history` (src/http/fhir-type-history.ts), end to end on the real server with
 * the example plans, on PGlite and on the machine's PostgreSQL: the versions of every plan the caller
 * may be sent, newest first, each its CarePlan; paging that neither skips nor repeats; `_since`;
 * consent judged now; a page's reading bounded; bad parameters answered 400, other types 404.
 */
import type { Bundle, CapabilityStatement, CarePlan } from 'fhir/r4.js';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planResourceIds } from '../../src/fhir/index.js';
import { issueLocalToken } from '../../src/http/auth/index.js';
import { TYPE_HISTORY_SCAN } from '../../src/http/fhir-type-history.js';
import type { RunningServer } from '../../src/http/server.js';
import { createValidator, hasErrors } from '../../src/validation/index.js';
import { DRIVERS, freshPlan } from '../support/http-server.js';
import { readExample } from '../support/examples.js';
import { startTestServer, type TestServer } from '../support/http-server.js';

/** While the adult example's consent is in force. */
const NOW = new Date('2026-04-01T10:00:00+02:00');
/** Region Dalarna: a principal of the adult example, and of the plans this test records. */
const REGION = 'SE2321000180-1000';
/** Region Skåne: a principal of the Malmö plan only, closed after the person withdrew their consent. */
const SKANE = 'SE2321000255-1000';
/** An organisation of no plan. */
const STRANGER = 'SE2321000180-9999';

const validator = createValidator();

describe.each(DRIVERS)('the history of every CarePlan on %s', (_name, driver) => {
  let test: TestServer;
  let server: RunningServer;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    test = await startTestServer(driver, { settings: { loadExamples: true, rateLimitPerMinute: 1_000_000 } });
    server = test.server;
    if (server.authenticator.mode !== 'local') throw new Error('the test server signs its own tokens');
    for (const organization of [REGION, SKANE, STRANGER]) tokens.set(organization, await issueLocalToken({ org: organization, scopes: 'system/*.*', ttlSeconds: 3600 }, server.authenticator.localKey, NOW));
    // Two plans of the region's, the first edited once: versions a1, b1, a2 in that order.
    const as = { Authorization: `Bearer ${tokens.get(REGION) ?? ''}` };
    await request(server.url).post('/sip/plans').set(as).send(freshPlan('sip-th-a')).expect(201);
    await request(server.url).post('/sip/plans').set(as).send(freshPlan('sip-th-b')).expect(201);
    await request(server.url).put('/sip/plans/sip-th-a').set(as).set('If-Match', 'W/"1"').send({ ...freshPlan('sip-th-a'), notes: 'Andra versionen.' }).expect(200);
  }, 120_000);

  afterAll(() => test.close());

  const api = () => request(server.url);
  const as = (organization: string) => ({ Authorization: `Bearer ${tokens.get(organization) ?? ''}` });
  const carePlanOf = async (planId: string): Promise<string> => {
    const stored = await server.store.get(planId);
    const found = stored === undefined ? undefined : planResourceIds(stored.plan).find((resource) => resource.resourceType === 'CarePlan');
    if (found === undefined) throw new Error(`no CarePlan in ${planId}`);
    return found.id;
  };
  const historyOf = async (organization: string, query = ''): Promise<Bundle> => {
    const response = await api().get(`/fhir/CarePlan/_history${query}`).set(as(organization)).expect(200);
    expect(response.headers['content-type']).toContain('application/fhir+json');
    return response.body as Bundle;
  };
  const summary = (bundle: Bundle) => (bundle.entry ?? []).map((entry) => [entry.fullUrl?.split('/').at(-1), entry.request?.method, entry.response?.etag]);
  const nextOf = (bundle: Bundle): string | undefined => bundle.link?.find((link) => link.relation === 'next')?.url.slice(server.url.length);

  it('lists the versions of the plans the caller may see, newest first, each its CarePlan as that version maps it', async () => {
    const [a, b, adult] = [await carePlanOf('sip-th-a'), await carePlanOf('sip-th-b'), await carePlanOf('sip-falun-2026-0142')];
    const bundle = await historyOf(REGION);
    expect(bundle.type).toBe('history');
    expect(bundle.total).toBeUndefined();
    expect(hasErrors(validator.validate(bundle))).toBe(false);
    // Recorded last, listed first; the adult example was loaded before the test's plans.
    expect(summary(bundle).slice(0, 3)).toEqual([
      [a, 'PUT', 'W/"2"'],
      [b, 'POST', 'W/"1"'],
      [a, 'POST', 'W/"1"'],
    ]);
    const ids = new Set(summary(bundle).map(([id]) => id));
    // Region Dalarna is a principal of the adult example and of the two plans recorded here, and of no other example.
    expect([...ids].sort()).toEqual([a, b, adult].sort());
    const newest = bundle.entry?.[0];
    const carePlan = newest?.resource as CarePlan;
    expect(carePlan.resourceType).toBe('CarePlan');
    expect(carePlan.meta?.versionId).toBe('2');
    expect(carePlan.note?.some((note) => note.text.includes('Andra versionen.'))).toBe(true);
    expect(newest?.request?.url).toBe(`CarePlan/${a}`);
    expect(bundle.entry?.[1]?.request?.url).toBe('CarePlan');
    expect(newest?.response?.lastModified).toBe((await server.store.get('sip-th-a'))?.recordedAt);
  });

  it('pages with _count and a next link that neither skips nor repeats a version', async () => {
    const whole = summary(await historyOf(REGION));
    const paged: unknown[] = [];
    let next: string | undefined = '/fhir/CarePlan/_history?_count=1';
    for (let pages = 0; next !== undefined; pages++) {
      if (pages > whole.length + 1) throw new Error('the pages do not end');
      const response = await api().get(next).set(as(REGION)).expect(200);
      const page = response.body as Bundle;
      expect(page.entry?.length ?? 0).toBeLessThanOrEqual(1);
      paged.push(...summary(page));
      next = nextOf(page);
    }
    expect(paged).toEqual(whole);
  });

  it('keeps the versions recorded at or after _since', async () => {
    const [first] = await server.store.history('sip-th-b');
    const since = new Date(Date.parse(first?.recordedAt ?? '')).toISOString();
    const b = await carePlanOf('sip-th-b');
    const a = await carePlanOf('sip-th-a');
    expect(summary(await historyOf(REGION, `?_since=${since}`))).toEqual([
      [a, 'PUT', 'W/"2"'],
      [b, 'POST', 'W/"1"'],
    ]);
  });

  it('leaves out a plan whose current version may not be sent now, and gives an organisation of no plan nothing, both audited', async () => {
    expect((await historyOf(SKANE)).entry ?? []).toEqual([]);
    expect((await historyOf(STRANGER)).entry ?? []).toEqual([]);
    const audited = await server.store.auditLog({ organization: STRANGER });
    expect(audited).toContainEqual(expect.objectContaining({ action: 'search', what: 'GET /fhir/CarePlan/_history', outcome: 'success' }));
  });

  it('answers a bad parameter with 400 naming it, and a whole type other than CarePlan with 404', async () => {
    for (const [query, named] of [
      ['?_at=2026', '_at'],
      ['?_count=999', '_count=999'],
      ['?_cursor=!!', '_cursor=!!'],
      [`?_cursor=${Buffer.from('["x"]').toString('base64url')}`, '_cursor='],
      ['?_since=2026-04-01', '_since=2026-04-01'],
    ] as const) {
      const response = await api().get(`/fhir/CarePlan/_history${query}`).set(as(REGION)).expect(400);
      expect(JSON.stringify(response.body)).toContain(named);
    }
    const goal = await api().get('/fhir/Goal/_history').set(as(REGION)).expect(404);
    expect(JSON.stringify(goal.body)).toContain('CarePlan only');
    const system = await api().get('/fhir/_history').set(as(REGION)).expect(404);
    expect(JSON.stringify(system.body)).toContain('whole system is not served');
  });

  it('says so in the CapabilityStatement: history-type on CarePlan alone', async () => {
    const statement = (await api().get('/fhir/metadata').expect(200)).body as CapabilityStatement;
    const resources = statement.rest?.[0]?.resource ?? [];
    const withTypeHistory = resources.filter((resource) => resource.interaction?.some((interaction) => interaction.code === 'history-type')).map((resource) => resource.type);
    expect(withTypeHistory).toEqual(['CarePlan']);
  });

  it(`reads at most ${String(TYPE_HISTORY_SCAN)} versions a page: a caller that may see none of many gets empty pages with next links, then the end`, async () => {
    // Versions of plans Region Dalarna is not a party to, recorded straight into the store.
    const umea = readExample('follow-up-revised-goals.json');
    for (let index = 0; index < TYPE_HISTORY_SCAN + 10; index++) {
      const plan = { ...umea, id: `sip-th-many-${String(index)}`, version: 1, approvals: [], consents: umea.consents.map((consent) => ({ ...consent, planId: `sip-th-many-${String(index)}` })) };
      await server.store.create(plan, 'SE2321000222-1000', planResourceIds(plan));
    }
    const first = await historyOf(STRANGER);
    expect(first.entry ?? []).toEqual([]);
    const next = nextOf(first);
    expect(next).toBeDefined();
    const second = (await api().get(next ?? '').set(as(STRANGER)).expect(200)).body as Bundle;
    expect(second.entry ?? []).toEqual([]);
    expect(nextOf(second)).toBeUndefined();
    // The region's own versions, recorded before them, are on the page that follows.
    const regionFirst = await historyOf(REGION, '?_count=200');
    expect(regionFirst.entry ?? []).toEqual([]);
    const regionSecond = (await api().get(nextOf(regionFirst) ?? '').set(as(REGION)).expect(200)).body as Bundle;
    const a = await carePlanOf('sip-th-a');
    expect(summary(regionSecond).slice(0, 3)).toEqual([
      [a, 'PUT', 'W/"2"'],
      [await carePlanOf('sip-th-b'), 'POST', 'W/"1"'],
      [a, 'POST', 'W/"1"'],
    ]);
  }, 120_000);
});
