/**
 * The app's per-request routing (branch `i11-http9`): the FHIR read side as one Router, the docs Router
 * after `/sip` and `/fhir`. Differential, on the machine's PostgreSQL: the app as it is and the app as it was
 * built at `aa11e79` (test/support/app-at-start.ts: the Routers as they were mounted), each over a store of its own holding the examples, asked the same requests in the same
 * order — every route of the SIP API, the FHIR facade, the docs, the exchange's operators and inbound
 * routes with GET, HEAD, OPTIONS, POST, PUT, DELETE and PATCH, answers and errors alike (401, 403, 404,
 * 405, 406, 413, 415, 400 for a malformed percent-encoding, 429 past the rate limit) — must answer the
 * same status, the same headers in the same order and the same body. Only what differs from request to
 * request or from store to store is set aside: `Date`, `X-Request-Id`, the seconds to the rate limit's
 * reset, UUIDs (request ids in a 500's text, the audit log's entries), the instants each store stamped
 * (`recordedAt`, `meta.lastUpdated`, `Last-Modified`'s value) and each lane's base URL (its port).
 */
import type { Server } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planResourceIds } from '../../src/fhir/index.js';
import { createApp, type AppDependencies, type Caller } from '../../src/http/app.js';
import { mayAccess } from '../../src/http/auth/access.js';
import { HttpError } from '../../src/http/problem.js';
import { loadExamples } from '../../src/http/server.js';
import { createPlanStore, type PlanStore } from '../../src/store/index.js';
import { createAppAtStart } from '../support/app-at-start.js';
import { exampleFiles, readExample } from '../support/examples.js';
import { createScratchDatabase, type ScratchDatabase } from '../store/postgres-scratch.js';
import { closeServer, listenOnLoopback } from '../support/loopback.js';

const NOW = new Date('2026-04-01T10:00:00Z');
const MAX_BODY = 64 * 1024;
const REGION = 'SE2321000180-1000';

interface Lane {
  readonly scratch: ScratchDatabase;
  readonly store: PlanStore;
  readonly url: string;
  readonly server: Server;
}

interface Asked {
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

interface Answered {
  readonly status: number;
  readonly headers: [string, string][];
  readonly body: string;
}

/** Who calls: the organisation the `Authorization` header names, or 401 without one. */
function authenticate(request: { headers: Record<string, unknown> }): Promise<Caller> {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return Promise.reject(new HttpError(401, 'Unauthorized', 'Send a bearer token', [], { 'WWW-Authenticate': 'Bearer' }));
  return Promise.resolve({ organization: header.slice('Bearer '.length), may: () => true });
}

function dependencies(store: PlanStore, rateLimitPerMinute: number): AppDependencies {
  return {
    store,
    clock: () => NOW,
    logger: pino({ level: 'silent' }),
    maxBodyBytes: MAX_BODY,
    rateLimitPerMinute,
    authenticate,
    mayAccess: (plan, asked, at) => {
      const decision = mayAccess(plan, asked.organization, at);
      return decision.allowed ? { allowed: true, role: decision.role, principals: decision.principals, partyId: decision.partyId } : { allowed: false, reason: decision.message };
    },
    operators: [REGION],
  };
}

async function lane(build: (dependencies: AppDependencies) => ReturnType<typeof createApp>, rateLimitPerMinute: number): Promise<Lane> {
  const scratch = await createScratchDatabase();
  const store = await createPlanStore({ databaseUrl: scratch.url });
  await store.migrate();
  await loadExamples(store);
  const { server, origin } = await listenOnLoopback(build(dependencies(store, rateLimitPerMinute)));
  return { scratch, store, server, url: origin };
}

async function close(lane: Lane): Promise<void> {
  await closeServer(lane.server, { dropConnections: true });
  await lane.store.close();
  await lane.scratch.drop();
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
/** An instant the database stamped (a version's `recordedAt`, `meta.lastUpdated`): each lane's store loaded the examples at its own. */
const STAMPED = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(?:Z|\+00:00)/g;

async function ask(url: string, asked: Asked): Promise<Answered> {
  const response = await fetch(`${url}${asked.path}`, { method: asked.method, headers: asked.headers, body: asked.body });
  const body = await response.text();
  const headers: [string, string][] = [];
  // Each lane listens on a port of its own, which the base URLs of its answers name.
  const own = (text: string): string => text.replaceAll(url, '<base>');
  response.headers.forEach((value, name) => {
    if (name === 'date' || name === 'x-request-id') return;
    headers.push([name, name === 'ratelimit' ? value.replace(/reset=\d+/, 'reset=*') : name === 'last-modified' ? '<stamped>' : own(value)]);
  });
  return { status: response.status, headers, body: own(body).replace(UUID, '<uuid>').replace(STAMPED, '<stamped>') };
}

const PLAN = readExample('adult-psychiatry-addiction.json');
const JSON_TYPE = { 'content-type': 'application/json' };
const FHIR_TYPE = { 'content-type': 'application/fhir+json' };
const FORM_TYPE = { 'content-type': 'application/x-www-form-urlencoded' };
const BIG = `{"x":"${'a'.repeat(MAX_BODY + 1024)}"}`;

/** Every route's paths: the SIP API, the FHIR facade's reads, histories, searches and writes, the docs, the exchange's, and paths no route takes. */
function paths(): string[] {
  const person = encodeURIComponent(`http://electronichealth.se/identifier/personnummer|${PLAN.individual.identifier.value}`);
  const resources = planResourceIds(PLAN).map(({ resourceType, id }) => `/fhir/${resourceType}/${id}`);
  return [
    '/health',
    '/docs',
    '/openapi.json',
    '/nowhere',
    '/',
    '/sip',
    '/sip/plans',
    `/sip/plans?personnummer=${PLAN.individual.identifier.value}`,
    ...exampleFiles.map((file) => `/sip/plans/${readExample(file).id}`),
    `/sip/plans/${PLAN.id}/_history`,
    `/sip/plans/${PLAN.id}/_history/1`,
    `/sip/plans/${PLAN.id}/approvals`,
    `/sip/plans/${PLAN.id}/closure`,
    `/sip/plans/${PLAN.id}/consents`,
    `/sip/plans/${PLAN.id}/meetings`,
    '/sip/plans/unknown',
    '/sip/plans/%E0',
    '/fhir',
    '/fhir/metadata',
    '/fhir/metadata?_format=xml',
    '/fhir/CarePlan',
    `/fhir/CarePlan?patient:identifier=${person}`,
    `/fhir/CarePlan?patient:identifier=${person}&_pretty=maybe`,
    '/fhir/CarePlan/_search',
    '/fhir/CarePlan/_history',
    `/fhir/CarePlan/${PLAN.id}`,
    `/fhir/CarePlan/${PLAN.id}?_format=json&_pretty=true`,
    `/fhir/CarePlan/${PLAN.id}/_history`,
    `/fhir/CarePlan/${PLAN.id}/_history/1`,
    '/fhir/CarePlan/unknown',
    '/fhir/CarePlan/%E0',
    ...resources.slice(1, 12),
    '/fhir/Patient',
    `/fhir/Patient?identifier=${person}`,
    '/fhir/Patient/unknown/$everything',
    '/fhir/Goal',
    '/fhir/Goal/_search',
    '/fhir/AuditEvent',
    '/fhir/AuditEvent/_search',
    '/fhir/AuditEvent/1',
    '/fhir/_history',
    '/fhir/$validate',
    '/fhir/CarePlan/$validate',
    '/fhir/Unknown/x/y/z',
    '/exchange/deliveries',
    '/exchange/deliveries/1',
    '/exchange/deliveries/1/retry',
    '/exchange/inbound/unknown',
  ];
}

/** The requests asked of each path: every method, with and without a caller, with bodies of each kind the routes take or refuse. */
function requests(): Asked[] {
  const asked: Asked[] = [];
  const region = { authorization: `Bearer ${REGION}` };
  for (const path of paths()) {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'DELETE', 'PATCH']) asked.push({ method, path, headers: region });
    asked.push({ method: 'GET', path });
    asked.push({ method: 'GET', path, headers: { ...region, accept: 'application/xml' } });
    asked.push({ method: 'GET', path, headers: { authorization: 'Bearer SE5560000000-X001' } });
    asked.push({ method: 'POST', path, headers: { ...region, ...JSON_TYPE }, body: '{' });
    asked.push({ method: 'POST', path, headers: { ...region, ...FHIR_TYPE }, body: '{}' });
    asked.push({ method: 'POST', path, headers: { ...region, ...FORM_TYPE }, body: '_count=1' });
    asked.push({ method: 'POST', path, headers: { ...region, 'content-type': 'text/plain' }, body: 'x' });
    asked.push({ method: 'POST', path, headers: { ...region, ...JSON_TYPE }, body: BIG });
    asked.push({ method: 'PUT', path, headers: { ...region, ...JSON_TYPE, 'if-match': 'W/"1"' }, body: '{}' });
  }
  // A plan written, read and its version asked for.
  const created = { ...PLAN, id: 'sip-stack-created', version: 1, approvals: [], consents: PLAN.consents.map((consent) => ({ ...consent, planId: 'sip-stack-created' })) };
  asked.push({ method: 'POST', path: '/sip/plans', headers: { authorization: `Bearer ${REGION}`, ...JSON_TYPE }, body: JSON.stringify(created) });
  asked.push({ method: 'GET', path: '/sip/plans/sip-stack-created', headers: { authorization: `Bearer ${REGION}` } });
  asked.push({ method: 'GET', path: '/fhir/CarePlan/sip-stack-created', headers: { authorization: `Bearer ${REGION}` } });
  return asked;
}

describe('the per-request routing: the FHIR read side as one Router, the docs Router last', () => {
  const lanes: Lane[] = [];
  let now: Lane;
  let before: Lane;

  beforeAll(async () => {
    now = await lane(createApp, 100_000_000);
    before = await lane(createAppAtStart, 100_000_000);
    lanes.push(now, before);
  }, 120_000);

  afterAll(async () => {
    for (const each of lanes) await close(each);
  });

  it("answers every route as the app at the start did: status, headers in order and body", async () => {
    const all = requests();
    const statuses = new Set<number>();
    for (const asked of all) {
      const mine = await ask(now.url, asked);
      const theirs = await ask(before.url, asked);
      expect(mine, `${asked.method} ${asked.path} ${JSON.stringify(asked.headers ?? {})}`).toEqual(theirs);
      statuses.add(mine.status);
    }
    expect(all.length).toBeGreaterThan(800);
    // Answers and errors of every kind were compared.
    expect([...statuses].sort()).toEqual(expect.arrayContaining([200, 201, 400, 401, 403, 404, 405, 406, 412, 413, 415, 422]));
  }, 300_000);

  it('answers past the rate limit as the app at the start did (429)', async () => {
    const limitedNow = await lane(createApp, 4);
    const limitedBefore = await lane(createAppAtStart, 4);
    lanes.push(limitedNow, limitedBefore);
    const statuses: number[] = [];
    for (const asked of [...requests().slice(0, 4), { method: 'GET', path: '/fhir/CarePlan' }, { method: 'GET', path: '/sip/plans' }, { method: 'OPTIONS', path: '/fhir/CarePlan' }]) {
      const mine = await ask(limitedNow.url, asked);
      expect(mine, `${asked.method} ${asked.path}`).toEqual(await ask(limitedBefore.url, asked));
      statuses.push(mine.status);
    }
    expect(statuses.filter((status) => status === 429)).toHaveLength(3);
  }, 120_000);
});
