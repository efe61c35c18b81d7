/**
 * Concurrent writes through the real server on a loopback port, on PGlite and on PostgreSQL: ten
 * creates of one plan id leave exactly one 201 and nine 409; ten updates naming the same If-Match
 * leave exactly one 200 and nine 412; the plan's history is 1..n without gaps or duplicates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS, freshPlan, startTestServer, type TestServer } from '../support/http-server.js';

const RACERS = 10;

interface PlanAnswer {
  version: number;
  plan: { id: string; version: number; notes?: string };
}

describe.each(DRIVERS)('concurrent writes on %s', (_name, driver) => {
  let test: TestServer;

  beforeAll(async () => {
    test = await startTestServer(driver);
  }, 60_000);

  afterAll(async () => {
    await test.close();
  });

  const send = (method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${test.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${test.token}`, 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  const statuses = async (responses: Promise<Response>[]): Promise<number[]> => {
    const answered = await Promise.all(responses);
    const codes = answered.map((response) => response.status);
    await Promise.all(answered.map((response) => response.arrayBuffer()));
    return codes.sort();
  };

  const history = async (id: string): Promise<number[]> => {
    const response = await fetch(`${test.url}/sip/plans/${id}/_history`, { headers: { Authorization: `Bearer ${test.token}` } });
    expect(response.status).toBe(200);
    const { versions } = (await response.json()) as { versions: PlanAnswer[] };
    for (const version of versions) expect(version.plan.version).toBe(version.version);
    return versions.map((version) => version.version);
  };

  it('ten creates of one plan: exactly one 201 and nine 409', async () => {
    const plan = freshPlan('sip-race-create');
    const codes = await statuses(Array.from({ length: RACERS }, () => send('POST', '/sip/plans', plan)));
    expect(codes).toEqual([201, ...Array<number>(RACERS - 1).fill(409)]);
    expect(await history('sip-race-create')).toEqual([1]);
  });

  it('ten updates with the same If-Match: exactly one 200 and nine 412, twice over, and the history has no gap or duplicate', async () => {
    const plan = freshPlan('sip-race-update');
    expect((await send('POST', '/sip/plans', plan)).status).toBe(201);
    for (const expected of [1, 2]) {
      const codes = await statuses(
        Array.from({ length: RACERS }, (_, racer) => send('PUT', '/sip/plans/sip-race-update', { ...plan, notes: `racer ${String(racer)} after version ${String(expected)}` }, { 'If-Match': `W/"${String(expected)}"` })),
      );
      expect(codes).toEqual([200, ...Array<number>(RACERS - 1).fill(412)]);
    }
    expect(await history('sip-race-update')).toEqual([1, 2, 3]);
    const current = await fetch(`${test.url}/sip/plans/sip-race-update`, { headers: { Authorization: `Bearer ${test.token}` } });
    expect(current.headers.get('etag')).toBe('W/"3"');
    expect(((await current.json()) as PlanAnswer).plan.notes).toMatch(/^racer \d after version 2$/);
  });
});
