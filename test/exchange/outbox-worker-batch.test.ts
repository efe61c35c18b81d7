/**
 * The worker on a queue that claims in batches (src/exchange/outbox-worker.ts `claimLoop`), with the
 * queue played in memory: never more than `concurrency` attempts in flight, each claim asking for at
 * most half of them, and a backlog that trickles in one delivery at a time still filling every
 * attempt (a claim's unfilled attempts are given back at once, not held until its batch ends).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { OutboxWorker, batchLimit, type AttemptResult, type ClaimedAttempt, type OutboxQueue } from '../../src/exchange/index.js';
import { readExample } from '../support/examples.js';

const PLAN = readExample('adult-psychiatry-addiction.json');

/** A queue of `pending` deliveries claimed in batches, recording every limit asked for. */
function batchingQueue() {
  const pending: ClaimedAttempt[] = [];
  const limits: number[] = [];
  let next = 1;
  const queue: OutboxQueue & { deliverBatch: NonNullable<OutboxQueue['deliverBatch']> } = {
    deliverNext: () => Promise.reject(new Error('a batching queue is claimed with deliverBatch')),
    async deliverBatch(_at, limit, attempt, options) {
      limits.push(limit);
      const claimed = pending.splice(0, limit);
      options?.onClaimed?.(claimed.length);
      await Promise.all(claimed.map((claim) => attempt(claim)));
      return claimed.length;
    },
  };
  const add = (): void => {
    const id = String(next++);
    const stored = { plan: PLAN, version: PLAN.version, recordedAt: '2026-03-12T10:00:00.000Z' };
    pending.push({ delivery: { id, planId: `${PLAN.id}-${id}`, version: PLAN.version, receiverId: 'fk', attempts: 0 }, stored, current: stored });
  };
  return { queue, limits, add, pending };
}

describe('the worker on a queue that claims in batches', () => {
  let worker: OutboxWorker | undefined;
  const gates: (() => void)[] = [];
  afterEach(async () => {
    for (const open of gates.splice(0)) open();
    await worker?.stop();
    worker = undefined;
  });

  it('fills every attempt from a backlog that trickles in, never more, each claim asking for at most half', async () => {
    const { queue, limits, add } = batchingQueue();
    let inFlight = 0;
    let most = 0;
    worker = new OutboxWorker({
      outbox: queue,
      audit: () => Promise.resolve(),
      receivers: [{ id: 'fk', organization: '202100-5521' }],
      connectorFor: () => ({
        deliver: () => {
          inFlight++;
          most = Math.max(most, inFlight);
          return new Promise((resolve) => {
            gates.push(() => {
              inFlight--;
              resolve({ kind: 'delivered', status: 200 });
            });
          });
        },
      }),
      decide: (plan) => ({ send: true, plan, consentId: 'c1', removed: [] }),
      concurrency: 4,
      pollIntervalMs: 10,
    });
    worker.start();
    // One at a time, each found by a poll or a wake: the first claim takes one of its two.
    for (let n = 0; n < 10; n++) {
      add();
      worker.wake();
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    expect(inFlight).toBe(4);
    expect(most).toBe(4);
    expect(Math.max(...limits)).toBe(batchLimit(4));
    // The held attempts end: the rest are delivered, still never more than four at once.
    const results: AttemptResult[] = [];
    while (results.length < 10) {
      const open = gates.shift();
      if (open === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      open();
      results.push({ kind: 'delivered' });
    }
    expect(most).toBe(4);
  });

  it('claims half of the concurrency at most, rounded up, and at least one', () => {
    expect([1, 2, 3, 4, 5, 8].map(batchLimit)).toEqual([1, 1, 2, 2, 3, 4]);
  });
});
