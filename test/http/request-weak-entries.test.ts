/**
 * No `WeakMap` entry is keyed by a request or its response while the whole server (auth, request log,
 * helmet, rate limit, routes, store) answers reads.
 *
 * V8's scavenger keeps the value of an entry whose key was alive at one scavenge until the scavenge
 * after the key died, so a per-request entry promotes what it holds to the old space, where only a
 * mark-compact frees it (docs/performance.md, "Memos on their objects"). test/source-memos.test.ts
 * keeps src/ free of module-level `WeakMap`s; this test watches every `WeakMap.prototype.set` at run
 * time, the libraries' included, so one added by a dependency or a later change is caught too.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { planResourceIds } from '../../src/fhir/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPlan, startTestServer, type TestServer } from '../support/http-server.js';

/** Runs `work` and returns where `WeakMap.prototype.set` was called with a request or a response of node:http as the key. */
async function weakEntriesOfRequests(work: () => Promise<void>): Promise<{ keyed: string[] }> {
  const keyed: string[] = [];
  // eslint-disable-next-line @typescript-eslint/unbound-method -- restored as it was below
  const original = WeakMap.prototype.set;
  WeakMap.prototype.set = function set(this: WeakMap<WeakKey, unknown>, key: WeakKey, value: unknown) {
    if (key instanceof IncomingMessage || key instanceof ServerResponse) keyed.push(`${key.constructor.name}: ${new Error().stack?.split('\n').slice(2, 5).join(' | ') ?? ''}`);
    return original.call(this, key, value);
  };
  try {
    await work();
  } finally {
    WeakMap.prototype.set = original;
  }
  return { keyed };
}

describe('reads through the whole server make no WeakMap entry keyed by their request or response', () => {
  let server: TestServer;
  let carePlanId: string;
  const planId = 'sip-weak-entries-1';
  const plan = freshPlan(planId);

  beforeAll(async () => {
    server = await startTestServer('pglite');
    const created = await fetch(`${server.url}/sip/plans`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(plan),
    });
    expect(created.status).toBe(201);
    carePlanId = planResourceIds(plan).find((id) => id.resourceType === 'CarePlan')?.id ?? '';
    expect(carePlanId).not.toBe('');
  }, 60_000);

  afterAll(async () => {
    await server.close();
  });

  it('watches what it is meant to: an entry keyed by a request is seen', async () => {
    const request = new IncomingMessage(new Socket());
    const { keyed } = await weakEntriesOfRequests(() => {
      new WeakMap<IncomingMessage, number>().set(request, 1);
      return Promise.resolve();
    });
    expect(keyed).toHaveLength(1);
  });

  it('FHIR reads, SIP reads and searches: none', async () => {
    const statuses: number[] = [];
    const get = async (path: string): Promise<void> => {
      const response = await fetch(`${server.url}${path}`, { headers: { Authorization: `Bearer ${server.token}` } });
      await response.arrayBuffer();
      statuses.push(response.status);
    };
    const { keyed } = await weakEntriesOfRequests(async () => {
      for (let read = 0; read < 20; read++) await get(`/fhir/CarePlan/${carePlanId}`);
      for (let read = 0; read < 5; read++) await get(`/sip/plans/${planId}`);
      for (let read = 0; read < 5; read++) await get(`/fhir/CarePlan?_id=${carePlanId}`);
    });
    expect(statuses).toEqual(Array<number>(30).fill(200));
    expect(keyed).toEqual([]);
  }, 60_000);
});

