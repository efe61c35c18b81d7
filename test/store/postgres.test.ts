/**
 * The store on the machine's PostgreSQL (SIP_TEST_DATABASE_URL, default the local server): the contract
 * in a scratch database per store, dropped afterwards, and what only a server shows — two processes
 * migrating at once. Without a server these tests fail, saying so; they never skip.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { planResourceIds } from '../../src/fhir/index.js';
import { derivedVersion } from '../../src/http/derived-view.js';
import { createPlanStore } from '../../src/store/index.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { MAX_PREPARED_STATEMENTS, openPg, StatementNames } from '../../src/store/sql-client.js';
import { readExample } from '../support/examples.js';
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

  it('compresses the large texts of a new version with lz4 (migration 10), not pglz', async () => {
    const database = await createScratchDatabase();
    scratch.push(database);
    const store = await createPlanStore({ databaseUrl: database.url });
    const sql = openPg(database.url, { maxConnections: 1 });
    try {
      await store.migrate();
      const plan = { ...readExample('adult-psychiatry-addiction.json'), version: 1 };
      await store.create(plan, 'system', planResourceIds(plan), { derived: derivedVersion(plan) });
      // Each value is over PostgreSQL's TOAST threshold (≈ 2 kB), so it is compressed, with the column's method.
      const methods = await sql.query<{ what: string; method: string | null }>(
        `SELECT 'document' AS what, pg_column_compression(document) AS method FROM plan_versions WHERE plan_id = $1
         UNION ALL SELECT 'CarePlan tail', pg_column_compression(tail) FROM plan_version_texts WHERE plan_id = $1 AND resource_type = 'CarePlan'
         ORDER BY what`,
        [plan.id],
      );
      expect(methods).toEqual([
        { what: 'CarePlan tail', method: 'lz4' },
        { what: 'document', method: 'lz4' },
      ]);
      // The judging summary (1.3–1.7 kB since it keeps only what the judgements read) and the send basis
      // stay under the threshold and are stored as they are; their columns still name lz4 for a larger one.
      const columns = await sql.query<{ name: string; compression: string }>(
        `SELECT attrelid::regclass::text || '.' || attname AS name, attcompression::text AS compression FROM pg_attribute
         WHERE (attrelid, attname) IN (('plan_versions'::regclass, 'document'), ('plan_versions'::regclass, 'plan'),
           ('plan_version_derived'::regclass, 'summary'), ('plan_version_derived'::regclass, 'basis'),
           ('plan_version_texts'::regclass, 'head'), ('plan_version_texts'::regclass, 'tail'))
         ORDER BY name`,
      );
      expect(columns).toEqual(
        ['plan_version_derived.basis', 'plan_version_derived.summary', 'plan_version_texts.head', 'plan_version_texts.tail', 'plan_versions.document', 'plan_versions.plan'].map(
          (name) => ({ name, compression: 'l' }),
        ),
      );
    } finally {
      await store.close();
      await sql.close();
    }
  });

  it('fails with a clear message when the server cannot be reached', async () => {
    await expect(onServer('SELECT 1', 'postgres://postgres@127.0.0.1:1/postgres')).rejects.toThrow(
      /PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/postgres cannot be reached .*start it or set SIP_TEST_DATABASE_URL/,
    );
  });

  it('prepares a statement with parameters once per connection, and each call still reads the rows as they are then', async () => {
    const database = await createScratchDatabase();
    scratch.push(database);
    const sql = openPg(database.url, { maxConnections: 1 });
    const unprepared = openPg(database.url, { maxConnections: 1, prepare: false });
    try {
      await sql.query('CREATE TABLE t (k integer PRIMARY KEY, v text NOT NULL)');
      const read = 'SELECT v FROM t WHERE k = $1';
      expect(await sql.query(read, [1])).toEqual([]);
      await sql.query('INSERT INTO t (k, v) VALUES ($1, $2)', [1, 'first']);
      expect(await sql.query(read, [1])).toEqual([{ v: 'first' }]);
      await unprepared.query('UPDATE t SET v = $2 WHERE k = $1', [1, 'second']);
      expect(await sql.query(read, [1])).toEqual([{ v: 'second' }]);
      // The one connection of each pool: the statements it prepared by name, and the other none.
      const prepared = await sql.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements ORDER BY statement');
      expect(prepared.map((row) => row.statement)).toEqual(['INSERT INTO t (k, v) VALUES ($1, $2)', read]);
      expect(await unprepared.query('SELECT name FROM pg_prepared_statements')).toEqual([]);
      // A statement without parameters is not prepared (migrations' DDL goes this way).
      expect(await sql.query<{ n: number }>('SELECT count(*)::integer AS n FROM pg_prepared_statements')).toEqual([{ n: 2 }]);
    } finally {
      await sql.close();
      await unprepared.close();
    }
  });
});

describe('StatementNames', () => {
  it('names each statement text once, the same text the same name, and none past its limit', () => {
    const names = new StatementNames(2);
    const first = names.nameOf('SELECT $1::integer');
    const second = names.nameOf('SELECT $1::text');
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(names.nameOf('SELECT $1::integer')).toBe(first);
    expect(names.nameOf('SELECT $1::date')).toBeUndefined();
    expect(names.nameOf('SELECT $1::text')).toBe(second);
    expect(MAX_PREPARED_STATEMENTS).toBeGreaterThanOrEqual(64);
  });

  it('tells once, with its limit, when the first text past the limit goes unnamed', () => {
    const told: number[] = [];
    const names = new StatementNames(1, (max) => told.push(max));
    names.nameOf('SELECT $1::integer');
    names.nameOf('SELECT $1::integer');
    expect(told).toEqual([]);
    expect(names.nameOf('SELECT $1::text')).toBeUndefined();
    expect(names.nameOf('SELECT $1::date')).toBeUndefined();
    expect(told).toEqual([1]);
  });
});
