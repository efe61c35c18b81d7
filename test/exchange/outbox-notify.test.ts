/**
 * On PostgreSQL a worker wakes when any instance queues a delivery (LISTEN/NOTIFY, src/store/outbox.ts
 * `OUTBOX_CHANNEL`), not at its next poll. The worker here polls every ten minutes: a delivery written
 * through another connection (as another instance writes it) arrives within seconds only if the
 * notification woke it. An operator's retry wakes it too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { OutboxWorker } from '../../src/exchange/index.js';
import { createPlanStore, type PlanStore } from '../../src/store/index.js';
import { consentDecision, httpConnector, openStore, startReceiver, writeVersions, type OpenedStore, type TestReceiver } from './outbox-support.js';
import { NOW } from '../support/http-server.js';

async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

describe('the outbox worker on PostgreSQL', () => {
  let opened: OpenedStore | undefined;
  let receiver: TestReceiver | undefined;
  let instance: PlanStore | undefined;
  let worker: OutboxWorker | undefined;
  afterEach(async () => {
    await worker?.stop();
    await instance?.close();
    await receiver?.close();
    await opened?.dispose();
  }, 60_000);

  it('wakes when another instance queues a delivery or an operator retries one, not at its next poll', async () => {
    opened = await openStore('postgres');
    const { databaseUrl } = opened;
    if (databaseUrl === undefined) throw new Error('a PostgreSQL store');
    receiver = await startReceiver((key, nth) => ({ status: key === 'sip-notify-2/1/kommun-falun' && nth === 0 ? 422 : 200 }));
    const decide = consentDecision();
    // The worker's instance: a store of its own on the same database.
    instance = await createPlanStore({ databaseUrl });
    worker = new OutboxWorker({
      outbox: instance.outbox,
      audit: (entry) => (instance as PlanStore).audit(entry),
      receivers: [{ id: 'kommun-falun', organization: '212000-2080' }],
      connectorFor: () => httpConnector((receiver as TestReceiver).url),
      decide: (plan, receiverId) => decide(plan, receiverId, NOW),
      pollIntervalMs: 600_000,
    });
    worker.start();
    await worker.listening();
    // Every slot has looked once and found nothing: they sleep for ten minutes unless woken.
    await new Promise((resolve) => setTimeout(resolve, 300));

    await writeVersions(opened.store, 'sip-notify-1', 1, ['kommun-falun']);
    expect(await until(() => receiver?.accepted.includes('sip-notify-1/1/kommun-falun') === true, 10_000)).toBe(true);

    // A dead letter (422), then the operator's retry on the other connection: woken again.
    await writeVersions(opened.store, 'sip-notify-2', 1, ['kommun-falun']);
    const store = opened.store;
    expect(await until(async () => (await store.outbox.list({ planId: 'sip-notify-2', state: 'dead' })).length === 1, 10_000)).toBe(true);
    const [dead] = await store.outbox.list({ planId: 'sip-notify-2' });
    await store.outbox.retry(dead?.id ?? '');
    expect(await until(() => receiver?.accepted.includes('sip-notify-2/1/kommun-falun') === true, 10_000)).toBe(true);
  }, 120_000);
});
