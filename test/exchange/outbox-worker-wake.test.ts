/**
 * A wake that comes while no slot of the worker sleeps is not lost (src/exchange/outbox-worker.ts
 * `wake`): the notification of a version committed just after a claim's snapshot reaches the worker
 * while that claim is still ending with nothing found, before the slot sleeps. Before the wake was
 * kept, the slot then slept a whole poll interval with a delivery due (a clean-clone CI run of
 * test/exchange/outbox-notify.test.ts waited its 10 s for a dead letter that came only at the next
 * ten-minute poll). The queue is played in memory, and plays exactly that: the claim that finds
 * nothing queues a delivery and wakes the worker before it returns.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { OutboxWorker, type ClaimedAttempt, type OutboxQueue } from '../../src/exchange/index.js';
import { readExample } from '../support/examples.js';

const PLAN = readExample('adult-psychiatry-addiction.json');
/** Far longer than the test waits: a delivery made within it was woken, not polled. */
const POLL_MS = 600_000;

function claimed(id: string): ClaimedAttempt {
  const stored = { plan: PLAN, version: PLAN.version, recordedAt: '2026-03-12T10:00:00.000Z' };
  return { delivery: { id, planId: `${PLAN.id}-${id}`, version: PLAN.version, receiverId: 'fk', attempts: 0 }, stored, current: stored };
}

/** Resolves true once `condition` holds, false after `ms`. */
async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/**
 * A queue whose `claims`-th claim (from 1) finds nothing, and, before it returns, has a delivery
 * queued and the worker woken, as a notification would: the claims before it find what is pending.
 */
function racingQueue(raceAt: number, batches: boolean, wake: () => void) {
  const pending: ClaimedAttempt[] = [claimed('1')];
  let claims = 0;
  const race = (): void => {
    pending.push(claimed('2'));
    wake();
  };
  const deliverNext: OutboxQueue['deliverNext'] = async (_at, attempt) => {
    claims++;
    const next = claims === raceAt ? undefined : pending.shift();
    if (next === undefined) {
      if (claims === raceAt) race();
      return false;
    }
    await attempt(next);
    return true;
  };
  const queue: OutboxQueue = batches
    ? {
        deliverNext: () => Promise.reject(new Error('a batching queue is claimed with deliverBatch')),
        async deliverBatch(_at, limit, attempt, options) {
          claims++;
          const taken = claims === raceAt ? [] : pending.splice(0, limit);
          options?.onClaimed?.(taken.length);
          if (claims === raceAt) race();
          await Promise.all(taken.map((one) => attempt(one)));
          return taken.length;
        },
      }
    : { deliverNext };
  return { queue, claimsMade: () => claims };
}

describe.each([
  ['one delivery a claim (deliverNext)', false],
  ['claims in batches (deliverBatch)', true],
])('the outbox worker, %s', (_name, batches) => {
  let worker: OutboxWorker | undefined;
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
  });

  function startWorker(queue: OutboxQueue, delivered: string[]): OutboxWorker {
    const started = new OutboxWorker({
      outbox: queue,
      audit: () => Promise.resolve(),
      receivers: [{ id: 'fk', organization: '202100-5521' }],
      connectorFor: () => ({
        deliver: (message) => {
          // The claimed delivery's own id, which the queue put after the plan's.
          delivered.push(message.planId.slice(PLAN.id.length + 1));
          return Promise.resolve({ kind: 'delivered', status: 200 });
        },
      }),
      decide: (plan) => ({ send: true, plan, consentId: 'c1', removed: [] }),
      // One slot, so no other slot is asleep to take the wake.
      concurrency: 1,
      pollIntervalMs: POLL_MS,
    });
    started.start();
    return started;
  }

  it('delivers what a wake announced while the claim before its sleep was still finding nothing', async () => {
    const delivered: string[] = [];
    // Claim 1 delivers "1", claim 2 finds nothing and the notification of "2" arrives meanwhile.
    const { queue, claimsMade } = racingQueue(2, batches, () => worker?.wake());
    worker = startWorker(queue, delivered);
    expect(await until(() => delivered.includes('2'), 5_000)).toBe(true);
    expect(delivered).toEqual(['1', '2']);
    // Woken once: the claim after the race, and one more that found nothing before the worker slept.
    expect(claimsMade()).toBeGreaterThanOrEqual(3);
  });

  it('sleeps until the poll when nothing wakes it', async () => {
    const delivered: string[] = [];
    // The race never comes: after "1" the claims find nothing, and nothing wakes the worker.
    const { queue, claimsMade } = racingQueue(Number.MAX_SAFE_INTEGER, batches, () => undefined);
    worker = startWorker(queue, delivered);
    expect(await until(() => delivered.includes('1'), 5_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const settled = claimsMade();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Asleep: no claim in the last 300 ms.
    expect(claimsMade()).toBe(settled);
  });
});
