/**
 * `SqlClient.session` on PostgreSQL (src/store/sql-client.ts): settings for one piece of work outside
 * a transaction, as a `VACUUM` needs them, that no later user of the pooled connection sees; the
 * check that keeps a setting's name and value from carrying SQL; and the signal that cancels a
 * session's or a transaction's statement.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openPg, setLocal, sqlState } from '../../src/store/sql-client.js';
import { createScratchDatabase, type ScratchDatabase } from './postgres-scratch.js';

const scratch: ScratchDatabase[] = [];
afterAll(async () => {
  for (const database of scratch) await database.drop();
});

describe('SqlClient.session on PostgreSQL', () => {
  it('sets the settings for the work alone, outside a transaction, and resets them after, also when the work fails', async () => {
    const database = await createScratchDatabase();
    scratch.push(database);
    // One connection, so the statements after the session run on the connection the session used.
    const client = openPg(database.url, { maxConnections: 1 });
    try {
      if (client.session === undefined) throw new Error('openPg gives no session');
      const seen = await client.session(
        async (connection) => {
          const [row] = await connection.query<{ delay: string; limit: string; in_transaction: boolean }>(
            `SELECT current_setting('vacuum_cost_delay') AS delay, current_setting('vacuum_cost_limit') AS limit, now() <> statement_timestamp() AS in_transaction`,
          );
          // VACUUM refuses to run in a transaction block: here it runs.
          await connection.query('CREATE TABLE swept (n integer)');
          await connection.query('VACUUM swept');
          return row;
        },
        { settings: { vacuum_cost_delay: '7.5', vacuum_cost_limit: '50' } },
      );
      expect(seen).toEqual({ delay: '7500us', limit: '50', in_transaction: false });
      const [after] = await client.query<{ delay: string; limit: string }>(`SELECT current_setting('vacuum_cost_delay') AS delay, current_setting('vacuum_cost_limit') AS limit`);
      expect(after).toEqual({ delay: '0', limit: '200' });

      await expect(
        client.session(
          async (connection) => {
            await connection.query('SELECT no_such_column FROM swept');
          },
          { settings: { vacuum_cost_delay: '3' } },
        ),
      ).rejects.toThrow(/no_such_column/);
      const [afterFailure] = await client.query<{ delay: string }>(`SELECT current_setting('vacuum_cost_delay') AS delay`);
      expect(afterFailure?.delay).toBe('0');
    } finally {
      await client.close();
    }
  });

  it('refuses a setting whose name or value is not a plain word or number, before it connects', async () => {
    // A server nobody listens on: a refusal that waited for a connection would fail otherwise.
    const client = openPg('postgres://nobody@127.0.0.1:1/none');
    try {
      if (client.session === undefined) throw new Error('openPg gives no session');
      await expect(client.session(() => Promise.resolve(1), { settings: { vacuum_cost_delay: '1; DROP TABLE plans' } })).rejects.toThrow(/a setting must be a plain name and a plain word or number/);
      await expect(client.session(() => Promise.resolve(1), { settings: { 'vacuum cost delay': '1' } })).rejects.toThrow(RangeError);
    } finally {
      await client.close();
    }
  });

  it('takes numbers as values of SET LOCAL, and words, but nothing else', () => {
    expect(setLocal({ vacuum_cost_delay: '2.5', vacuum_cost_limit: '200', enable_seqscan: 'off', x: '-1', y: '1e-3' })).toEqual([
      'SET LOCAL vacuum_cost_delay = 2.5',
      'SET LOCAL vacuum_cost_limit = 200',
      'SET LOCAL enable_seqscan = off',
      'SET LOCAL x = -1',
      'SET LOCAL y = 1e-3',
    ]);
    for (const value of ['2ms', "'2'", '1.', '--1', '2 ', '']) expect(() => setLocal({ vacuum_cost_delay: value }), value).toThrow(RangeError);
  });
});

/** The database's client backends but the caller's own, and what each runs. */
async function backends(url: string): Promise<string[]> {
  const observer = openPg(url, { maxConnections: 1 });
  try {
    const rows = await observer.query<{ query: string }>(`SELECT query FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`);
    return rows.map((row) => row.query);
  } finally {
    await observer.close();
  }
}

describe('a signal on PostgreSQL', () => {
  it('cancels the statement a session or a transaction runs, rolls the transaction back, and closes the connection', { timeout: 30_000 }, async () => {
    const database = await createScratchDatabase();
    scratch.push(database);
    const client = openPg(database.url, { maxConnections: 2 });
    try {
      if (client.session === undefined) throw new Error('openPg gives no session');
      await client.query('CREATE TABLE kept (n integer)');

      const inSession = new AbortController();
      const started = performance.now();
      const sleeping = client.session((connection) => connection.query('SELECT pg_sleep(30)'), { settings: { vacuum_cost_delay: '2' }, signal: inSession.signal });
      setTimeout(() => {
        inSession.abort();
      }, 300);
      const sessionError: unknown = await sleeping.catch((error: unknown) => error);
      expect(sqlState(sessionError)).toBe('57014');
      expect(performance.now() - started).toBeLessThan(10_000);

      const inTransaction = new AbortController();
      const writing = client.transaction(
        async (tx) => {
          await tx.query('INSERT INTO kept VALUES (1)');
          await tx.query('SELECT pg_sleep(30)');
        },
        { signal: inTransaction.signal },
      );
      setTimeout(() => {
        inTransaction.abort();
      }, 300);
      const transactionError: unknown = await writing.catch((error: unknown) => error);
      expect(sqlState(transactionError)).toBe('57014');
      // Nothing of the cancelled transaction was kept.
      expect(await client.query('SELECT n FROM kept')).toEqual([]);
      // The cancelled connections were closed, not handed on: none sleeps, and none is left but the pool's one in use above.
      const left = await backends(database.url);
      expect(left.filter((query) => query.includes('pg_sleep'))).toEqual([]);
      expect(left.length).toBeLessThanOrEqual(1);
    } finally {
      await client.close();
    }
  });

  it('leaves a connection in the pool when the signal never aborts, and begins nothing when it already has', async () => {
    const database = await createScratchDatabase();
    scratch.push(database);
    const client = openPg(database.url, { maxConnections: 1 });
    try {
      if (client.session === undefined) throw new Error('openPg gives no session');
      const quiet = new AbortController();
      const [pid] = await client.session((connection) => connection.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'), { signal: quiet.signal });
      const [again] = await client.transaction((tx) => tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'), { signal: quiet.signal });
      const [after] = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // One connection throughout: neither was closed.
      expect(again?.pid).toBe(pid?.pid);
      expect(after?.pid).toBe(pid?.pid);
      // Aborting after the work ended cancels nothing that came later.
      quiet.abort();
      expect(await client.query<{ n: number }>('SELECT 1 AS n FROM pg_sleep(0.3)')).toEqual([{ n: 1 }]);

      const done = AbortSignal.abort();
      await expect(client.session(() => Promise.resolve(1), { signal: done })).rejects.toThrow(/aborted/i);
      await expect(client.transaction(() => Promise.resolve(1), { signal: done })).rejects.toThrow(/aborted/i);
    } finally {
      await client.close();
    }
  });
});
