/**
 * The SIP JSON API end to end: the real server (`startServer`) on a loopback port, once on the
 * embedded store (PGlite in a fresh folder) and once on the machine's PostgreSQL (a scratch
 * database), with bearer tokens signed by the server's own key and a fixed clock. Create, read,
 * search, update with a right and a stale If-Match, approvals turning the light, consent withdrawal
 * closing the plan, 401 and 403 (audited), and errors as problem+json, never a 500.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/http/server.js';
import { readExample } from '../support/examples.js';
import { startTestServer, type TestServer } from '../support/http-server.js';

/** A moment while the adult example's consent is in force (2026-02-12 – 2027-02-11). */
const NOW = new Date('2026-04-01T10:00:00+02:00');
/** Region Dalarna, a principal of the adult example. */
const REGION = 'SE2321000180-1000';

interface PlanAnswer {
  version: number;
  status: string;
  trafficLight: string;
  plan: { id: string; notes?: string; updatedAt: string };
}
interface ProblemAnswer {
  status: number;
  title: string;
  detail: string;
  problems?: { code: string; pointer: string }[];
}

const adult = readExample('adult-psychiatry-addiction.json');
/** The adult example as a new plan, version 1, not yet approved. */
const fresh = {
  ...adult,
  id: 'sip-api-test-1',
  version: 1,
  approvals: [],
  consents: adult.consents.map((consent) => ({ ...consent, planId: 'sip-api-test-1' })),
};

describe.each([
  ['the embedded store (PGlite)', 'pglite'],
  ['PostgreSQL', 'postgres'],
] as const)('the SIP JSON API on %s', (_name, driver) => {
  let test: TestServer;
  let server: RunningServer;
  let token: string;

  const bearer = (organization: string, scope?: string): Promise<string> => test.bearer(organization, scope);

  beforeAll(async () => {
    test = await startTestServer(driver, { settings: { loadExamples: false, maxBodyBytes: 256 * 1024 } });
    server = test.server;
    token = await bearer(REGION, 'system/*.*');
  }, 60_000);

  afterAll(() => test.close());

  const api = () => request(server.url);
  const auth = (value = token) => ({ Authorization: `Bearer ${value}` });

  it('creates a plan: 201, Location, ETag, the plan with its light and status', async () => {
    const response = await api().post('/sip/plans').set(auth()).send(fresh).expect(201);
    expect(response.headers.location).toBe('/sip/plans/sip-api-test-1');
    expect(response.headers.etag).toBe('W/"1"');
    expect(response.body as PlanAnswer).toMatchObject({ version: 1, status: 'draft', trafficLight: 'red' });
  });

  it('refuses the same id again with 409, as problem+json', async () => {
    const response = await api().post('/sip/plans').set(auth()).send(fresh).expect(409);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.body as ProblemAnswer).toMatchObject({ status: 409, title: 'Conflict' });
  });

  it('reads it back with its ETag', async () => {
    const response = await api().get('/sip/plans/sip-api-test-1').set(auth()).expect(200);
    expect(response.headers.etag).toBe('W/"1"');
    expect((response.body as PlanAnswer).plan).toEqual(JSON.parse(JSON.stringify(fresh)) as unknown);
  });

  it('refuses an update without If-Match (428) and with a stale one (412), and takes the right one', async () => {
    const edited = { ...fresh, notes: 'Anteckning efter samtal.' };
    await api().put('/sip/plans/sip-api-test-1').set(auth()).send(edited).expect(428);
    const stale = await api().put('/sip/plans/sip-api-test-1').set(auth()).set('If-Match', 'W/"7"').send(edited).expect(412);
    expect(stale.headers.etag).toBe('W/"1"');
    const ok = await api().put('/sip/plans/sip-api-test-1').set(auth()).set('If-Match', 'W/"1"').send(edited).expect(200);
    expect(ok.headers.etag).toBe('W/"2"');
    expect(ok.body as PlanAnswer).toMatchObject({ version: 2, plan: { notes: 'Anteckning efter samtal.', updatedAt: NOW.toISOString() } });
    const history = await api().get('/sip/plans/sip-api-test-1/_history').set(auth()).expect(200);
    expect((history.body as { versions: PlanAnswer[] }).versions.map((version) => version.version)).toEqual([1, 2]);
  });

  it('answers a rule broken by an edit with 422, naming the rule and its pointer, and stores nothing', async () => {
    const broken = { ...fresh, overallResponsiblePrincipal: 'unit-psyk-falun' };
    const response = await api().put('/sip/plans/sip-api-test-1').set(auth()).set('If-Match', 'W/"2"').send(broken).expect(422);
    expect((response.body as ProblemAnswer).problems).toContainEqual(expect.objectContaining({ code: 'plan.unresolved-reference', pointer: '/overallResponsiblePrincipal' }));
    await api().get('/sip/plans/sip-api-test-1').set(auth()).expect(200).expect('ETag', 'W/"2"');
  });

  it('approves per principal: yellow after one, green after both', async () => {
    const first = await api().post('/sip/plans/sip-api-test-1/approvals').set(auth()).send({ principal: 'region-dalarna', approvedBy: 'prof-erik-berg' }).expect(201);
    expect(first.body as PlanAnswer).toMatchObject({ version: 3, trafficLight: 'yellow', status: 'draft' });
    const second = await api().post('/sip/plans/sip-api-test-1/approvals').set(auth()).send({ principal: 'falu-kommun', approvedBy: 'prof-lars-nyman' }).expect(201);
    expect(second.body as PlanAnswer).toMatchObject({ version: 4, trafficLight: 'green', status: 'active' });
  });

  it('searches by person and status', async () => {
    const found = await api().get('/sip/plans').set(auth()).query({ person: fresh.individual.identifier.value, status: 'active' }).expect(200);
    expect((found.body as { plans: PlanAnswer[] }).plans.map((plan) => plan.plan.id)).toEqual(['sip-api-test-1']);
    await api().get('/sip/plans').set(auth()).query({ status: 'almost' }).expect(400);
  });

  it('withdraws the consent: the plan closes (revoked)', async () => {
    const response = await api().post('/sip/plans/sip-api-test-1/consents/consent-1/withdrawal').set(auth()).send({ withdrawnBy: 'individual', recordedBy: 'prof-anna-lind' }).expect(201);
    expect(response.body as PlanAnswer).toMatchObject({ version: 5, status: 'revoked' });
    // The answer tells what was recorded but no longer carries the plan: nothing is sent without consent.
    expect(response.body).not.toHaveProperty('plan');
  });

  it('sends the plan no more once its consent is withdrawn: read, history and search refuse it, naming the rule', async () => {
    const read = await api().get('/sip/plans/sip-api-test-1').set(auth()).expect(403);
    expect((read.body as ProblemAnswer).problems?.map((problem) => problem.code)).toContain('consent.withdrawn');
    await api().get('/sip/plans/sip-api-test-1/_history').set(auth()).expect(403);
    await api().get('/sip/plans/sip-api-test-1/_history/1').set(auth()).expect(403);
    const found = await api().get('/sip/plans').set(auth()).query({ person: fresh.individual.identifier.value }).expect(200);
    expect((found.body as { plans: PlanAnswer[] }).plans).toEqual([]);
  });

  it('refuses a call without a token (401), with a missing scope (403) and from an organisation not in the plan (403), and audits each', async () => {
    const anonymous = await api().get('/sip/plans/sip-api-test-1').expect(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
    await api().get('/sip/plans/sip-api-test-1').set(auth('not.a.token')).expect(401);
    await api().get('/sip/plans/sip-api-test-1').set(auth(await bearer(REGION, 'system/Patient.read'))).expect(403);
    await api().get('/sip/plans/sip-api-test-1').set(auth(await bearer('SE2321000180-9999', 'system/*.*'))).expect(403);
    const refused = await server.store.auditLog({ limit: 10 });
    expect(refused.filter((entry) => entry.outcome === 'refused').map((entry) => entry.detail)).toEqual(expect.arrayContaining(['401', '403']));
    expect(refused.some((entry) => entry.organization === 'SE2321000180-9999' && entry.outcome === 'refused' && entry.planId === 'sip-api-test-1')).toBe(true);
  });

  it('answers bad input with a 4xx problem document, never a 500', async () => {
    const malformed = await api().post('/sip/plans').set(auth()).set('Content-Type', 'application/json').send('{"id": ').expect(400);
    expect((malformed.body as ProblemAnswer).detail).toMatch(/line 1, column \d+/);
    await api().post('/sip/plans').set(auth()).set('Content-Type', 'text/plain').send('hello').expect(415);
    await api().post('/sip/plans').set(auth()).send({ ...fresh, id: 'sip-api-test-2', colour: 'red' }).expect(422);
    await api().post('/sip/plans').set(auth()).set('Content-Type', 'application/json').send(JSON.stringify({ notes: 'x'.repeat(300 * 1024) })).expect(413);
    await api().get('/sip/plans/no-such-plan').set(auth()).expect(404);
    await api().get('/nowhere').expect(404);
    await api().get('/health').expect(200);
  });
});
