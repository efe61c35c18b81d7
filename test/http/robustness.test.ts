/**
 * Bad input never makes a 500: the real server on a loopback port (PGlite and PostgreSQL) is sent
 * arbitrary JSON bodies, arbitrary text and bytes as JSON, random content types, If-Match headers,
 * paths under `/sip` and outside, and search query strings (fast-check, bounded runs). Every answer
 * is a 2xx where the input happens to be valid, or a 4xx problem document (RFC 9457), and the server
 * still answers `/health` afterwards. The cases found this way while writing it are kept as examples.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAPPING_OPTIONS, planToBundle } from '../../src/fhir/index.js';
import { DRIVERS, NOW, freshPlan, startTestServer, type TestServer } from '../support/http-server.js';
import { jsonPaths, replacedAt } from '../support/json-paths.js';

const RUNS = 100;
const PLAN = 'sip-fuzz-1';
const WRITE_PATHS = [
  '/sip/plans',
  `/sip/plans/${PLAN}`,
  `/sip/plans/${PLAN}/approvals`,
  `/sip/plans/${PLAN}/consents`,
  `/sip/plans/${PLAN}/consents/consent-1/withdrawal`,
  `/sip/plans/${PLAN}/meetings`,
  `/sip/plans/${PLAN}/meetings/meeting-1/summons`,
  `/sip/plans/${PLAN}/meetings/meeting-1/invitees/individual/response`,
  `/sip/plans/${PLAN}/meetings/meeting-1/status`,
  `/sip/plans/${PLAN}/closure`,
  '/fhir',
  '/fhir/$validate',
  '/fhir/CarePlan/$validate',
];
/** The write endpoints taking PUT; the others take POST. */
const PUT_PATHS = new Set([`/sip/plans/${PLAN}`, `/sip/plans/${PLAN}/meetings/meeting-1/invitees/individual/response`, `/sip/plans/${PLAN}/meetings/meeting-1/status`]);
const SEARCH_KEYS = ['person', 'status', 'principal', 'followUpDueBy', 'consentEndsBy', 'overdue', 'limit', 'offset'];

interface Sent {
  method: string;
  path: string;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
}

/** Any text, lone surrogates and U+0000 included. */
const anyText = fc.string({ unit: 'binary', maxLength: 40 });
/** Text that may stand in a header: printable ASCII. */
const headerText = fc.string({ maxLength: 60 });

describe.each(DRIVERS)('bad input on %s', (_name, driver) => {
  let test: TestServer;
  let created = 0;

  beforeAll(async () => {
    test = await startTestServer(driver);
    const response = await fetch(`${test.url}/sip/plans`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${test.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(freshPlan(PLAN)),
    });
    expect(response.status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await test.close();
  });

  /** Sends one request and checks the answer is a success or a well-formed 4xx problem document; returns the status. */
  async function check({ method, path, body, headers = {} }: Sent): Promise<number> {
    const response = await fetch(`${test.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${test.token}`, ...headers },
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    const what = `${method} ${path} ${JSON.stringify(headers)} → ${String(response.status)} ${text.slice(0, 300)}`;
    expect(response.status < 500, what).toBe(true);
    if (method === 'HEAD') return response.status;
    const type = response.headers.get('content-type') ?? '';
    if (response.status >= 400) {
      if (new URL(response.url).pathname.startsWith('/fhir')) {
        expect(type, what).toMatch(/^application\/fhir\+json/);
        expect((JSON.parse(text) as { resourceType: unknown }).resourceType, what).toBe('OperationOutcome');
      } else {
        expect(type, what).toMatch(/^application\/problem\+json/);
        const problem = JSON.parse(text) as Record<string, unknown>;
        expect(problem, what).toMatchObject({ type: 'about:blank', status: response.status, title: expect.any(String) as unknown, detail: expect.any(String) as unknown });
      }
    } else {
      expect(response.status >= 200 && response.status < 300, what).toBe(true);
      if (method !== 'OPTIONS') expect(type, what).toMatch(new URL(response.url).pathname.startsWith('/fhir') ? /^application\/fhir\+json/ : /^application\/json/);
    }
    return response.status;
  }

  const property = <T>(arbitrary: fc.Arbitrary<T>, toRequest: (value: T) => Sent): Promise<void> =>
    fc.assert(
      fc.asyncProperty(arbitrary, async (value) => {
        await check(toRequest(value));
      }),
      { numRuns: RUNS },
    );

  const json = { 'Content-Type': 'application/json' };

  it('answers the cases found while writing this test with 4xx, not 500', async () => {
    const plan = (id: string, notes: string): string => JSON.stringify({ ...freshPlan(id), notes });
    const cases: Sent[] = [
      { method: 'GET', path: '/sip/plans/%E0' },
      { method: 'GET', path: `/sip/plans/${PLAN}/_history/%E0` },
      { method: 'GET', path: '/sip/plans/%00' },
      { method: 'PUT', path: '/sip/plans/%00', body: '{}', headers: { ...json, 'If-Match': '1' } },
      { method: 'GET', path: '/sip/plans?person=%00' },
      { method: 'GET', path: '/sip/plans?principal=%00' },
      { method: 'POST', path: '/sip/plans', body: plan('sip-fuzz-nul', 'a\u0000b'), headers: json },
      { method: 'POST', path: '/sip/plans', body: plan('sip-fuzz-surrogate', 'a\ud800b'), headers: json },
      { method: 'POST', path: '/sip/plans', body: '{"a":1}', headers: { ...json, 'Content-Encoding': 'gzip' } },
      { method: 'POST', path: '/sip/plans', body: '{"a":1}', headers: { ...json, 'Content-Encoding': 'br' } },
      { method: 'POST', path: '/fhir/$validate', body: 'null', headers: json },
      { method: 'POST', path: '/fhir/Bundle/$validate', body: '[1]', headers: json },
      { method: 'POST', path: '/fhir/$validate', body: '{"resourceType":"Parameters","parameter":[{"name":"resource","resource":null}]}', headers: json },
      { method: 'POST', path: '/fhir/$validate', body: '{"resourceType":"Parameters","parameter":"resource"}', headers: json },
      { method: 'POST', path: '/fhir/$validate', body: '{"resourceType":"Parameters","parameter":[null]}', headers: json },
      { method: 'POST', path: '/fhir/$validate', body: '{"resourceType":"Parameters","parameter":[{"name":"profile","valueUri":7},{"name":"resource","resource":{"resourceType":"Patient"}}]}', headers: json },
    ];
    for (const sent of cases) expect(await check(sent)).toBe(400);
  });

  it('arbitrary JSON bodies on every write endpoint', async () => {
    await property(fc.tuple(fc.constantFrom(...WRITE_PATHS), fc.json({ maxDepth: 4 })), ([path, body]) => ({
      method: PUT_PATHS.has(path) ? 'PUT' : 'POST',
      path,
      body,
      headers: { ...json, 'If-Match': 'W/"1"' },
    }));
  }, 60_000);

  it('a valid plan with one member replaced by arbitrary JSON, or its notes by arbitrary text', async () => {
    const keys = Object.keys(freshPlan('x'));
    await property(fc.tuple(fc.constantFrom(...keys, 'notes', 'colour'), fc.oneof(fc.jsonValue({ maxDepth: 3 }), anyText)), ([key, value]) => {
      created++;
      return { method: 'POST', path: '/sip/plans', body: JSON.stringify({ ...freshPlan(`sip-fuzz-new-${String(created)}`), [key]: value }), headers: json };
    });
  }, 60_000);

  it('a SIP transaction Bundle with one value anywhere replaced by arbitrary JSON, posted to /fhir and to $validate', async () => {
    const bundle = planToBundle(freshPlan('sip-fuzz-fhir'), DEFAULT_MAPPING_OPTIONS, NOW);
    const places = jsonPaths(bundle);
    await property(
      fc.tuple(fc.constantFrom('/fhir', '/fhir/$validate', '/fhir/Bundle/$validate'), fc.integer({ min: 0, max: places.length - 1 }), fc.jsonValue({ maxDepth: 3 })),
      ([path, index, value]) => ({
        method: 'POST',
        path,
        body: JSON.stringify(replacedAt(bundle, places[index] ?? [], value)),
        headers: { 'Content-Type': 'application/fhir+json' },
      }),
    );
  }, 120_000);

  it('a transaction whose entry has a fullUrl or request.url of the wrong type is refused with 422, not 500 (found by the property above on a clean-clone CI run)', async () => {
    const bundle = planToBundle(freshPlan('sip-fuzz-fhir-shape'), DEFAULT_MAPPING_OPTIONS, NOW);
    const wrong: [(string | number)[], unknown][] = [
      [['entry', 0, 'fullUrl'], {}],
      [['entry', 0, 'request', 'url'], 7],
      [['entry', 1, 'request', 'ifNoneExist'], []],
    ];
    for (const [place, value] of wrong) {
      expect(await check({ method: 'POST', path: '/fhir', body: JSON.stringify(replacedAt(bundle, place, value)), headers: { 'Content-Type': 'application/fhir+json' } })).toBe(422);
    }
  });

  it('a property given twice in one object is refused with 400, its line, column and pointer, and nothing is recorded', async () => {
    const id = 'sip-fuzz-twice';
    const text = JSON.stringify(planToBundle(freshPlan(id), DEFAULT_MAPPING_OPTIONS, NOW));
    const carePlanAt = text.indexOf('"resourceType":"CarePlan"');
    expect(carePlanAt).toBeGreaterThan(0);
    // The CarePlan's status given twice: JSON.parse would keep the second silently.
    const twice = `${text.slice(0, carePlanAt)}"status":"revoked",${text.slice(carePlanAt)}`;
    for (const path of ['/fhir', '/fhir/$validate']) {
      const response = await fetch(`${test.url}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${test.token}`, 'Content-Type': 'application/fhir+json' }, body: twice });
      expect(response.status, path).toBe(400);
      const diagnostics = ((await response.json()) as { issue: { diagnostics?: string }[] }).issue[0]?.diagnostics;
      expect(diagnostics, path).toMatch(/at line 1, column \d+: the property "status" is given twice in one object \(at \/entry\/\d+\/resource\/status\)/);
    }
    const plan = { ...freshPlan(id), notes: 'en' };
    const sip = JSON.stringify(plan).replace('"notes":"en"', '"notes":"en","notes":"två"');
    const problem = await fetch(`${test.url}/sip/plans`, { method: 'POST', headers: { Authorization: `Bearer ${test.token}`, 'Content-Type': 'application/json' }, body: sip });
    expect(problem.status).toBe(400);
    expect(await problem.json()).toMatchObject({ problems: [{ code: 'json.malformed', pointer: '/notes' }] });
    const stored = await fetch(`${test.url}/sip/plans/${id}`, { headers: { Authorization: `Bearer ${test.token}` } });
    expect(stored.status).toBe(404);
  });

  it('arbitrary text and bytes sent as application/json', async () => {
    await property(fc.tuple(fc.constantFrom(...WRITE_PATHS), fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.uint8Array({ maxLength: 200 }))), ([path, body]) => ({
      method: PUT_PATHS.has(path) ? 'PUT' : 'POST',
      path,
      body,
      headers: { ...json, 'If-Match': 'W/"1"' },
    }));
  }, 60_000);

  it('random content types and content encodings', async () => {
    const contentType = fc.oneof(
      headerText,
      fc.constantFrom('application/json; charset=latin1', 'application/json; charset=utf-16', 'application/json;;', 'application/fhir+json', 'text/plain', 'multipart/form-data', '*/*'),
    );
    await property(fc.tuple(fc.constantFrom(...WRITE_PATHS), contentType, fc.option(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'zstd', 'x'))), ([path, type, encoding]) => ({
      method: PUT_PATHS.has(path) ? 'PUT' : 'POST',
      path,
      body: JSON.stringify(freshPlan(PLAN)),
      headers: { 'Content-Type': type, 'If-Match': 'W/"1"', ...(encoding === null ? {} : { 'Content-Encoding': encoding }) },
    }));
  }, 60_000);

  const versions = async (): Promise<number[]> => {
    const response = await fetch(`${test.url}/sip/plans/${PLAN}/_history`, { headers: { Authorization: `Bearer ${test.token}` } });
    expect(response.status).toBe(200);
    return ((await response.json()) as { versions: { version: number }[] }).versions.map((stored) => stored.version);
  };

  it('random If-Match headers on an update', async () => {
    // Earlier properties may have updated the plan with a valid body.
    let version = (await versions()).length;
    await fc.assert(
      fc.asyncProperty(fc.oneof(headerText, fc.nat().map((n) => `W/"${String(n)}"`)), async (ifMatch) => {
        const status = await check({ method: 'PUT', path: `/sip/plans/${PLAN}`, body: JSON.stringify({ ...freshPlan(PLAN), notes: ifMatch }), headers: { ...json, 'If-Match': ifMatch } });
        if (status === 200) version++;
      }),
      { numRuns: RUNS },
    );
    // Every update that succeeded is one version more, with no gap.
    expect(await versions()).toEqual(Array.from({ length: version }, (_, index) => index + 1));
  }, 60_000);

  it('random methods and paths under /sip and outside', async () => {
    const segment = fc.oneof(fc.webSegment(), anyText.map(encodeURIComponent), headerText.map((text) => text.replace(/[?#]/g, '')), fc.constantFrom('%', '%E0', '%00', '..', '_history', PLAN));
    await property(
      fc.tuple(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'), fc.constantFrom('/sip/plans/', '/sip/', '/', `/sip/plans/${PLAN}/`, '/fhir/'), fc.array(segment, { maxLength: 4 })),
      ([method, prefix, segments]) => ({
        method,
        path: `${prefix}${segments.join('/')}`,
        ...(method === 'POST' || method === 'PUT' || method === 'PATCH' ? { body: '{}', headers: json } : {}),
      }),
    );
  }, 60_000);

  it('random query strings on the search', async () => {
    const known = fc.dictionary(fc.constantFrom(...SEARCH_KEYS), fc.oneof(anyText, fc.constantFrom('true', '2026-04-01', '0', '-1', '201', '1e3', 'active')), { maxKeys: 4 });
    await property(fc.oneof(known.map((query) => new URLSearchParams(query).toString()), fc.webQueryParameters(), headerText.map((text) => text.replace(/#/g, ''))), (query) => ({ method: 'GET', path: `/sip/plans?${query}` }));
  }, 60_000);

  it('still answers /health afterwards', async () => {
    const response = await fetch(`${test.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });
});
