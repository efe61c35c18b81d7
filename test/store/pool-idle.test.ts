/**
 * How long `openPg`'s pool keeps an idle connection (POOL_IDLE_MILLIS): past pg-pool's default of 10 s,
 * since a new connection and its first statements cost PostgreSQL ≈ 50 ms of CPU more than warm ones
 * (docs/performance.md, branch `i11-pgtx`); and `idleMillis` is what the pool obeys.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { openPg, POOL_IDLE_MILLIS } from '../../src/store/sql-client.js';
import { createScratchDatabase, type ScratchDatabase } from './postgres-scratch.js';

const scratch: ScratchDatabase[] = [];
afterAll(async () => {
  for (const database of scratch) await database.drop();
});
afterEach(() => {
  vi.useRealTimers();
});

/** The client backends connected to `url`'s database, counted from a connection of its own (not counted). */
async function backendsOf(url: string): Promise<number> {
  const observer = new pg.Client({ connectionString: url });
  await observer.connect();
  try {
    const { rows } = await observer.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
    );
    return rows[0]?.n ?? Number.NaN;
  } finally {
    await observer.end();
  }
}

/** Waits until `count()` gives `expected`, or gives up after `millis` of real time; returns the last count. Waits by `setImmediate`, which the test's fake timers leave alone. */
async function settle(count: () => Promise<number>, expected: number, millis = 3_000): Promise<number> {
  const until = Date.now() + millis;
  let last = await count();
  while (last !== expected && Date.now() < until) {
    await new Promise((resolve) => setImmediate(resolve));
    last = await count();
  }
  return last;
}

describe('openPg: idle connections', () => {
  it('keeps an idle connection for POOL_IDLE_MILLIS, past pg-pool\'s default 10 s, and closes it after', async () => {
    expect(POOL_IDLE_MILLIS).toBeGreaterThan(10_000);
    const database = await createScratchDatabase();
    scratch.push(database);
    // Only the pool's timers are faked (its idle timer is set when a query's connection comes back); sockets stay real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const sql = openPg(database.url, { maxConnections: 2 });
    try {
      await sql.query('SELECT $1::integer AS one', [1]);
      expect(await backendsOf(database.url)).toBe(1);
      // pg-pool's default would have closed it by now.
      vi.advanceTimersByTime(60_000);
      expect(await settle(() => backendsOf(database.url), 0, 500)).toBe(1);
      vi.advanceTimersByTime(POOL_IDLE_MILLIS);
      expect(await settle(() => backendsOf(database.url), 0)).toBe(0);
    } finally {
      vi.useRealTimers();
      await sql.close();
    }
  });

  it('closes an idle connection after the idleMillis it is given', async () => {
    const database = await createScratchDatabase();
    scratch.push(database);
    const sql = openPg(database.url, { maxConnections: 2, idleMillis: 200 });
    try {
      await sql.query('SELECT $1::integer AS one', [1]);
      expect(await backendsOf(database.url)).toBe(1);
      expect(await settle(() => backendsOf(database.url), 0)).toBe(0);
    } finally {
      await sql.close();
    }
  });
});
