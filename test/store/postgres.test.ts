/**
 * The store on the machine's PostgreSQL (SIP_TEST_DATABASE_URL, default the local server): the contract
 * in a scratch database per store, dropped afterwards, and what only a server shows — two processes
 * migrating at once. Without a server these tests fail, saying so; they never skip.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createPlanStore } from '../../src/store/index.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { openPg } from '../../src/store/sql-client.js';
import { planStoreContract } from './contract.js';
import { createScratchDatabase, onServer, type ScratchDatabase } from './postgres-scratch.js';

const scratch: ScratchDatabase[] = [];
afterAll(async () => {
  for (const database of scratch) await database.drop();
});

planStoreContract('PostgreSQL', async () => {
  const database = await createScratchDatabase();
  scratch.push(database);
  const store = await createPlanStore({ databaseUrl: database.url });
  await store.migrate();
  const sql = openPg(database.url, { maxConnections: 1 });
  return {
    store,
    sql,
    dispose: async () => {
      await store.close();
      await sql.close();
      await database.drop();
    },
  };
});

describe('PlanStore on a shared PostgreSQL', () => {
  it('applies each migration once when two adapter processes start at once', async () => {
    const database = await createScratchDatabase();
    scratch.push(database);
    const stores = await Promise.all([createPlanStore({ databaseUrl: database.url }), createPlanStore({ databaseUrl: database.url })]);
    const sql = openPg(database.url, { maxConnections: 1 });
    try {
      await Promise.all(stores.map((store) => store.migrate()));
      const rows = await sql.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      expect(rows.map((row) => row.version)).toEqual(MIGRATIONS.map((migration) => migration.version));
    } finally {
      for (const store of stores) await store.close();
      await sql.close();
    }
  });

  it('fails with a clear message when the server cannot be reached', async () => {
    await expect(onServer('SELECT 1', 'postgres://postgres@127.0.0.1:1/postgres')).rejects.toThrow(
      /PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/postgres cannot be reached .*start it or set SIP_TEST_DATABASE_URL/,
    );
  });
});
