/**
 * On PGlite the worker's slots claim deliveries in memory (src/store/outbox.ts): slots asking at the
 * same moment must not be handed the same row. (They were: each read the due rows before any had
 * marked its row as taken, so a server starting with a backlog sent its first delivery once per slot —
 * found by test/exchange/exchange-crash.test.ts, four identical requests after a restart.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ClaimedDelivery, Settlement } from '../../src/store/index.js';
import { openStore, writeVersions, type OpenedStore } from '../exchange/outbox-support.js';

describe('claiming deliveries on PGlite', () => {
  let opened: OpenedStore | undefined;
  afterEach(async () => {
    await opened?.dispose();
    opened = undefined;
  }, 60_000);

  it('hands each due delivery to one of several slots asking at once', async () => {
    opened = await openStore('pglite');
    const { store } = opened;
    await writeVersions(store, 'sip-claim-a', 1, ['kommun-falun']);
    await writeVersions(store, 'sip-claim-b', 1, ['kommun-falun']);
    const claimed: string[] = [];
    const attempt = async (claim: ClaimedDelivery): Promise<Settlement> => {
      claimed.push(`${claim.delivery.planId}/${String(claim.delivery.version)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { kind: 'delivered', status: 200 };
    };
    const at = new Date('2030-01-01T00:00:00Z');
    const found = await Promise.all(Array.from({ length: 4 }, () => store.outbox.deliverNext(at, attempt)));
    expect(claimed.sort()).toEqual(['sip-claim-a/1', 'sip-claim-b/1']);
    expect(found.filter(Boolean)).toHaveLength(2);
    expect((await store.outbox.list()).map((delivery) => [delivery.planId, delivery.state, delivery.attempts])).toEqual([
      ['sip-claim-a', 'delivered', 1],
      ['sip-claim-b', 'delivered', 1],
    ]);
  }, 60_000);
});
