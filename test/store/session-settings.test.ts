/**
 * `SqlClient.session` on PostgreSQL (src/store/sql-client.ts): settings for one piece of work outside
 * a transaction, as a `VACUUM` needs them, that no later user of the pooled connection sees; and the
 * check that keeps a setting's name and value from carrying SQL.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openPg, setLocal } from '../../src/store/sql-client.js';
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
