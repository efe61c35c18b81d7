/**
 * The planner's statistics kept where the database's autovacuum does not (src/store/statistics.ts):
 * autovacuum's threshold, the ANALYZE of the tables past it on both stores, the person search's plan
 * once they are analyzed, and the keeper's rounds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newStoredPlan, personnummer } from '../../bench/support.js';
import { planResourceIds } from '../../src/fhir/index.js';
import { currentDeriver, derivedVersion } from '../../src/http/derived-view.js';
import { openPg, openPglite, type SqlClient } from '../../src/store/sql-client.js';
import { SqlPlanStore } from '../../src/store/sql-plan-store.js';
import { analyzeThresholdOf, costDelayOf, costDelaySettings, dueForAnalyze, dueForVacuum, postgresBoolean, StatisticsKeeper, tableSettings, vacuumThresholdOf, type CostSettings, type Vacuumed } from '../../src/store/statistics.js';
import { createScratchDatabase, type ScratchDatabase } from './postgres-scratch.js';

const DEFAULTS = { base: 50, scaleFactor: 0.1 };

describe('dueForAnalyze: autovacuum\'s analyze threshold', () => {
  it('takes a table never counted as empty: due past 50 changed rows, not at 50', () => {
    expect(dueForAnalyze({ table: 'plans', rows: -1, modifiedSinceAnalyze: 51 }, DEFAULTS)).toBe(true);
    expect(dueForAnalyze({ table: 'plans', rows: -1, modifiedSinceAnalyze: 50 }, DEFAULTS)).toBe(false);
    expect(dueForAnalyze({ table: 'plans', rows: 0, modifiedSinceAnalyze: 51 }, DEFAULTS)).toBe(true);
  });

  it('adds a tenth of the rows last counted: 1,000 rows are due past 150 changes', () => {
    expect(dueForAnalyze({ table: 'plans', rows: 1_000, modifiedSinceAnalyze: 150 }, DEFAULTS)).toBe(false);
    expect(dueForAnalyze({ table: 'plans', rows: 1_000, modifiedSinceAnalyze: 151 }, DEFAULTS)).toBe(true);
  });

  it('reads the server\'s own threshold and scale factor', () => {
    const activity = { table: 'plans', rows: 1_000, modifiedSinceAnalyze: 300 };
    expect(dueForAnalyze(activity, { base: 0, scaleFactor: 0.5 })).toBe(false);
    expect(dueForAnalyze(activity, { base: 0, scaleFactor: 0.2 })).toBe(true);
    expect(dueForAnalyze(activity, { base: 400, scaleFactor: 0 })).toBe(false);
  });
});

const VACUUM_DEFAULTS = { base: 50, scaleFactor: 0.2, insertBase: 1_000, insertScaleFactor: 0.2, freezeMaxAge: 200_000_000 };
const QUIET = { table: 'plans', rows: 1_000, deadRows: 0, insertedSinceVacuum: 0, frozenXidAge: 1_000 };

describe('the pause between two rounds on a table (autovacuum_naptime)', () => {
  const changed = { table: 'audit_log', rows: 100_000, modifiedSinceAnalyze: 20_000 };
  it('analyzes a table past its threshold only once the pause has passed since its last ANALYZE', () => {
    expect(dueForAnalyze({ ...changed, secondsSinceAnalyze: 59.9 }, { ...DEFAULTS, pauseSeconds: 60 })).toBe(false);
    expect(dueForAnalyze({ ...changed, secondsSinceAnalyze: 60 }, { ...DEFAULTS, pauseSeconds: 60 })).toBe(true);
    expect(dueForAnalyze({ ...changed, secondsSinceAnalyze: 1 }, DEFAULTS)).toBe(true);
    expect(dueForAnalyze({ ...changed, secondsSinceAnalyze: 1 }, { ...DEFAULTS, pauseSeconds: 0 })).toBe(true);
  });

  it('takes a table never analyzed at once, and one under its threshold never, whatever the pause', () => {
    expect(dueForAnalyze(changed, { ...DEFAULTS, pauseSeconds: 3_600 })).toBe(true);
    expect(dueForAnalyze({ ...changed, modifiedSinceAnalyze: 100, secondsSinceAnalyze: 7_200 }, { ...DEFAULTS, pauseSeconds: 60 })).toBe(false);
  });

  it('keeps the server\'s pause for a table with parameters of its own', () => {
    expect(analyzeThresholdOf({ ...DEFAULTS, pauseSeconds: 60 }, { analyzeBase: 10 })).toEqual({ base: 10, scaleFactor: 0.1, enabled: true, pauseSeconds: 60 });
    expect(vacuumThresholdOf({ ...VACUUM_DEFAULTS, pauseSeconds: 60 }, { vacuumBase: 10 }).pauseSeconds).toBe(60);
  });

  it('vacuums a table past a trigger only once the pause has passed since its last VACUUM, but against wraparound at once', () => {
    const dead = { ...QUIET, deadRows: 10_000 };
    expect(dueForVacuum({ ...dead, secondsSinceVacuum: 30 }, { ...VACUUM_DEFAULTS, pauseSeconds: 60 })).toBeUndefined();
    expect(dueForVacuum({ ...dead, secondsSinceVacuum: 60 }, { ...VACUUM_DEFAULTS, pauseSeconds: 60 })).toBe('dead-rows');
    expect(dueForVacuum(dead, { ...VACUUM_DEFAULTS, pauseSeconds: 60 })).toBe('dead-rows');
    expect(dueForVacuum({ ...QUIET, frozenXidAge: 200_000_001, secondsSinceVacuum: 1 }, { ...VACUUM_DEFAULTS, pauseSeconds: 60 })).toBe('wraparound');
  });
});

describe('dueForVacuum: autovacuum\'s three triggers', () => {
  it('dead rows past 50 + a fifth of the rows: 1,000 rows are due past 250, not at it', () => {
    expect(dueForVacuum({ ...QUIET, deadRows: 250 }, VACUUM_DEFAULTS)).toBeUndefined();
    expect(dueForVacuum({ ...QUIET, deadRows: 251 }, VACUUM_DEFAULTS)).toBe('dead-rows');
    // A table never counted is taken as empty.
    expect(dueForVacuum({ ...QUIET, rows: -1, deadRows: 51 }, VACUUM_DEFAULTS)).toBe('dead-rows');
  });

  it('rows inserted since the last VACUUM past 1,000 + a fifth of the rows; a threshold of -1 turns that off', () => {
    expect(dueForVacuum({ ...QUIET, insertedSinceVacuum: 1_200 }, VACUUM_DEFAULTS)).toBeUndefined();
    expect(dueForVacuum({ ...QUIET, insertedSinceVacuum: 1_201 }, VACUUM_DEFAULTS)).toBe('inserted-rows');
    expect(dueForVacuum({ ...QUIET, insertedSinceVacuum: 1_000_000 }, { ...VACUUM_DEFAULTS, insertBase: -1 })).toBeUndefined();
  });

  it('an oldest unfrozen transaction id older than autovacuum_freeze_max_age, whatever the rows', () => {
    expect(dueForVacuum({ ...QUIET, frozenXidAge: 200_000_000 }, VACUUM_DEFAULTS)).toBeUndefined();
    expect(dueForVacuum({ ...QUIET, frozenXidAge: 200_000_001 }, VACUUM_DEFAULTS)).toBe('wraparound');
    expect(dueForVacuum({ ...QUIET, frozenXidAge: 200_000_001, deadRows: 10_000 }, VACUUM_DEFAULTS)).toBe('wraparound');
  });
});

describe('a table\'s own autovacuum parameters (pg_class.reloptions)', () => {
  it('reads booleans as PostgreSQL does: any case, a unique prefix of true/false/yes/no, on/off, 1/0', () => {
    for (const text of ['true', 'TRUE', 't', 'tr', 'yes', 'Y', 'on', 'ON', '1', ' true ']) expect(postgresBoolean(text), text).toBe(true);
    for (const text of ['false', 'f', 'fal', 'no', 'N', 'off', 'of', 'OFF', '0']) expect(postgresBoolean(text), text).toBe(false);
    for (const text of ['', 'o', 'onn', 'offf', 'truth', '2', 'maybe']) expect(postgresBoolean(text), text).toBeUndefined();
  });

  it('takes the autovacuum parameters of reloptions as PostgreSQL keeps them, and nothing else', () => {
    expect(tableSettings(null)).toEqual({});
    expect(tableSettings(undefined)).toEqual({});
    expect(
      tableSettings([
        'fillfactor=70',
        'autovacuum_enabled=off',
        'autovacuum_analyze_threshold=1000',
        'autovacuum_analyze_scale_factor=0.01',
        'autovacuum_vacuum_threshold=10',
        'autovacuum_vacuum_scale_factor=0',
        'autovacuum_vacuum_insert_threshold=-1',
        'autovacuum_vacuum_insert_scale_factor=0.5',
        'autovacuum_freeze_max_age=100000',
        'toast.autovacuum_enabled=false',
        'autovacuum_vacuum_cost_delay=2.5',
        'autovacuum_vacuum_cost_limit=1000',
        'log_autovacuum_min_duration=0',
      ]),
    ).toEqual({ enabled: false, analyzeBase: 1_000, analyzeScaleFactor: 0.01, vacuumBase: 10, vacuumScaleFactor: 0, insertBase: -1, insertScaleFactor: 0.5, freezeMaxAge: 100_000, costDelayMs: 2.5, costLimit: 1_000 });
    expect(tableSettings(['autovacuum_enabled=1'])).toEqual({ enabled: true });
    // What PostgreSQL would not have taken is not taken here either.
    expect(tableSettings(['autovacuum_enabled=perhaps', 'autovacuum_vacuum_threshold=', 'autovacuum_analyze_threshold=many', 'noequals'])).toEqual({});
  });

  it('puts a table\'s own analyze threshold and scale factor over the server\'s, each alone', () => {
    expect(analyzeThresholdOf(DEFAULTS, {})).toEqual({ ...DEFAULTS, enabled: true });
    expect(analyzeThresholdOf(DEFAULTS, { analyzeBase: 1_000 })).toEqual({ base: 1_000, scaleFactor: 0.1, enabled: true });
    expect(analyzeThresholdOf(DEFAULTS, { analyzeScaleFactor: 0 })).toEqual({ base: 50, scaleFactor: 0, enabled: true });
    const activity = { table: 'plans', rows: 1_000, modifiedSinceAnalyze: 151 };
    expect(dueForAnalyze(activity, analyzeThresholdOf(DEFAULTS, {}))).toBe(true);
    expect(dueForAnalyze(activity, analyzeThresholdOf(DEFAULTS, { analyzeBase: 1_000 }))).toBe(false);
  });

  it('never analyzes a table whose autovacuum is off, however much changed', () => {
    expect(dueForAnalyze({ table: 'plans', rows: 0, modifiedSinceAnalyze: 1_000_000 }, analyzeThresholdOf(DEFAULTS, { enabled: false }))).toBe(false);
  });

  it('puts a table\'s own vacuum parameters over the server\'s, its freeze age only below the server\'s', () => {
    expect(vacuumThresholdOf(VACUUM_DEFAULTS, {})).toEqual({ ...VACUUM_DEFAULTS, enabled: true });
    expect(vacuumThresholdOf(VACUUM_DEFAULTS, { vacuumBase: 10, vacuumScaleFactor: 0, insertBase: -1, insertScaleFactor: 0.5 })).toEqual({
      base: 10,
      scaleFactor: 0,
      insertBase: -1,
      insertScaleFactor: 0.5,
      freezeMaxAge: 200_000_000,
      enabled: true,
    });
    // "autovacuum will ignore per-table autovacuum_freeze_max_age parameters that are larger than the system-wide setting".
    expect(vacuumThresholdOf(VACUUM_DEFAULTS, { freezeMaxAge: 100_000 }).freezeMaxAge).toBe(100_000);
    expect(vacuumThresholdOf(VACUUM_DEFAULTS, { freezeMaxAge: 1_000_000_000 }).freezeMaxAge).toBe(200_000_000);
    expect(dueForVacuum({ ...QUIET, deadRows: 30 }, vacuumThresholdOf(VACUUM_DEFAULTS, { vacuumBase: 10, vacuumScaleFactor: 0 }))).toBe('dead-rows');
    expect(dueForVacuum({ ...QUIET, deadRows: 300 }, vacuumThresholdOf(VACUUM_DEFAULTS, { vacuumBase: 1_000 }))).toBeUndefined();
  });

  it('vacuums a table whose autovacuum is off only against wraparound', () => {
    const off = vacuumThresholdOf(VACUUM_DEFAULTS, { enabled: false });
    expect(dueForVacuum({ ...QUIET, deadRows: 100_000, insertedSinceVacuum: 100_000 }, off)).toBeUndefined();
    expect(dueForVacuum({ ...QUIET, frozenXidAge: 200_000_001 }, off)).toBe('wraparound');
  });
});

/** PostgreSQL 15's defaults: autovacuum's delay 2 ms, its limit -1 (the manual 200), a manual VACUUM's delay 0. */
const COST_DEFAULTS: CostSettings = { autovacuumDelayMs: 2, vacuumDelayMs: 0, autovacuumLimit: -1, vacuumLimit: 200 };

describe('costDelayOf: autovacuum\'s cost-based delay', () => {
  it('takes autovacuum\'s delay, and the manual limit where autovacuum\'s is -1', () => {
    expect(costDelayOf(COST_DEFAULTS)).toEqual({ delayMs: 2, limit: 200 });
    expect(costDelayOf({ ...COST_DEFAULTS, autovacuumLimit: 1_000 })).toEqual({ delayMs: 2, limit: 1_000 });
  });

  it('takes the manual delay where autovacuum\'s is -1, and none where the delay is 0', () => {
    expect(costDelayOf({ ...COST_DEFAULTS, autovacuumDelayMs: -1 })).toBeUndefined();
    expect(costDelayOf({ ...COST_DEFAULTS, autovacuumDelayMs: -1, vacuumDelayMs: 5 })).toEqual({ delayMs: 5, limit: 200 });
    expect(costDelayOf({ ...COST_DEFAULTS, autovacuumDelayMs: 0, vacuumDelayMs: 5 })).toBeUndefined();
  });

  it('puts a table\'s own delay (0 or more) and limit (above 0) over the server\'s', () => {
    expect(costDelayOf(COST_DEFAULTS, { costDelayMs: 20, costLimit: 1 })).toEqual({ delayMs: 20, limit: 1 });
    expect(costDelayOf(COST_DEFAULTS, { costDelayMs: 0 })).toBeUndefined();
    expect(costDelayOf(COST_DEFAULTS, { costDelayMs: -1, costLimit: -1 })).toEqual({ delayMs: 2, limit: 200 });
    expect(costDelayOf({ ...COST_DEFAULTS, autovacuumDelayMs: 0 }, { costDelayMs: 10 })).toEqual({ delayMs: 10, limit: 200 });
  });

  it('gives the session settings of a delay, none without one', () => {
    expect(costDelaySettings({ delayMs: 2.5, limit: 200 })).toEqual({ vacuum_cost_delay: '2.5', vacuum_cost_limit: '200' });
    expect(costDelaySettings(undefined)).toEqual({});
  });
});

const folders: string[] = [];
const databases: ScratchDatabase[] = [];
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
  for (const database of databases) await database.drop();
});

interface Fresh {
  readonly store: SqlPlanStore;
  readonly sql: SqlClient;
  /**
   * Records `count` plans, each its own person, as the service does (with their FHIR resources). On
   * PostgreSQL through a pool of its own that is closed after: a backend reports its counts of changed
   * rows as it ends, where an idle one may wait up to 10 s.
   */
  readonly record: (count: number, from?: number) => Promise<void>;
  readonly close: () => Promise<void>;
}

/** A migrated store on a fresh database of the driver, and a client of its own on the same database. */
async function freshStore(driver: 'PGlite' | 'PostgreSQL'): Promise<Fresh> {
  if (driver === 'PGlite') {
    const folder = await mkdtemp(join(tmpdir(), 'sip-statistics-'));
    folders.push(folder);
    const client = await openPglite(join(folder, 'data'));
    const store = new SqlPlanStore(client);
    await store.migrate();
    // One process, one backend: the store's client is the only one there is.
    return { store, sql: client, record: (count, from) => recordPlans(store, count, from), close: () => store.close() };
  }
  const database = await createScratchDatabase();
  databases.push(database);
  const store = new SqlPlanStore(openPg(database.url));
  await store.migrate();
  const sql = openPg(database.url, { maxConnections: 1 });
  return {
    store,
    sql,
    record: async (count, from) => {
      const writer = new SqlPlanStore(openPg(database.url));
      try {
        await recordPlans(writer, count, from);
      } finally {
        await writer.close();
      }
    },
    close: async () => {
      await store.close();
      await sql.close();
    },
  };
}

/** Records `count` plans, each its own person, ten at a time. */
async function recordPlans(store: SqlPlanStore, count: number, from = 0): Promise<void> {
  for (let start = from; start < from + count; start += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, from + count - start) }, (_, index) => {
        const plan = newStoredPlan(`statistics-${String(start + index)}`, personnummer(start + index));
        return store.create(plan, 'system', planResourceIds(plan), { derived: derivedVersion(plan) });
      }),
    );
  }
}

interface TableCounts {
  readonly table: string;
  readonly rows: number;
  readonly modified: number;
  readonly analyzed: boolean;
}

/** Each table's rows (counted), changes since its last ANALYZE and whether one ran, as PostgreSQL's statistics say. */
async function tableCounts(sql: SqlClient, tables: readonly string[]): Promise<TableCounts[]> {
  if (sql.driver === 'pglite') await sql.query('SELECT pg_stat_force_next_flush()');
  const counts: TableCounts[] = [];
  for (const table of tables) {
    const [row] = await sql.query<{ rows: string; modified: string; analyzed: boolean }>(
      `SELECT (SELECT count(*) FROM ${table})::text AS rows, n_mod_since_analyze::text AS modified, last_analyze IS NOT NULL AS analyzed FROM pg_stat_user_tables WHERE relname = $1`,
      [table],
    );
    if (row === undefined) throw new Error(`no table ${table}`);
    counts.push({ table, rows: Number(row.rows), modified: Number(row.modified), analyzed: row.analyzed });
  }
  return counts;
}

/**
 * Waits until PostgreSQL's counts of changed rows hold every row of `tables` recorded since they were
 * last analyzed, `since` the rows then (a server's backends report theirs about once a second), so that
 * what is due does not change under the test.
 */
async function countsSettled(sql: SqlClient, tables: readonly string[], since: Readonly<Record<string, number>> = {}): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const counts = await tableCounts(sql, tables);
    if (counts.every((count) => count.modified === count.rows - (since[count.table] ?? 0))) return;
    if (Date.now() > deadline) throw new Error(`the counts of changed rows did not settle: ${JSON.stringify(counts)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const WRITTEN = ['plans', 'plan_versions', 'plan_resources', 'plan_version_derived'] as const;

describe.each(['PGlite', 'PostgreSQL'] as const)('the statistics on %s', (driver) => {
  it('analyzes each table whose rows changed past the threshold, and only those; then none until more change', { timeout: 120_000 }, async () => {
    const { store, sql, record, close } = await freshStore(driver);
    try {
      await record(60);
      await countsSettled(sql, ['plans', 'plan_versions', 'plan_resources', 'audit_log']);
      const before = await tableCounts(sql, ['plans', 'plan_resources', 'audit_log', 'outbox']);
      expect(before.map(({ table, rows, analyzed }) => ({ table, rows, analyzed }))).toEqual([
        { table: 'plans', rows: 60, analyzed: false },
        { table: 'plan_resources', rows: expect.any(Number) as number, analyzed: false },
        { table: 'audit_log', rows: 0, analyzed: false },
        { table: 'outbox', rows: 0, analyzed: false },
      ]);

      const analyzed = await store.statistics.analyzeDue();
      // 60 plans: 60 rows in each of the version's tables, more in the resources'; none in the audit log or the outbox.
      expect(analyzed).toEqual(expect.arrayContaining(['plans', 'plan_versions', 'plan_resources']));
      expect(analyzed).not.toContain('audit_log');
      // Read by its key alone, and the dearest to analyze: left out, though 1,800 of its rows are new.
      expect(analyzed).not.toContain('plan_version_texts');
      expect(analyzed).not.toContain('outbox');
      const after = await tableCounts(sql, ['plans', 'audit_log']);
      expect(after).toEqual([
        { table: 'plans', rows: 60, modified: 0, analyzed: true },
        { table: 'audit_log', rows: 0, modified: 0, analyzed: false },
      ]);
      // The planner's count of the table is the one ANALYZE took.
      const [planRows] = await sql.query<{ reltuples: number }>(`SELECT reltuples::float8 AS reltuples FROM pg_class WHERE relname = 'plans'`);
      expect(planRows?.reltuples).toBe(60);

      expect(await store.statistics.analyzeDue()).toEqual([]);

      // 60 rows now: due again past 50 + 6 changed rows, not before (no pause, so the threshold alone decides).
      await record(56, 60);
      await countsSettled(sql, ['plans'], { plans: 60 });
      expect(await store.statistics.analyzeDue({ pauseSeconds: 0 })).not.toContain('plans');
      await record(1, 116);
      await countsSettled(sql, ['plans'], { plans: 60 });
      // Past the threshold, but analyzed seconds ago: it waits out the pause, by default the server's
      // autovacuum_naptime (a minute unless set otherwise), as between two of autovacuum's rounds.
      const [naptime] = await sql.query<{ seconds: number }>(`SELECT setting::float8 AS seconds FROM pg_settings WHERE name = 'autovacuum_naptime'`);
      expect(naptime?.seconds).toBeGreaterThanOrEqual(10);
      expect(await store.statistics.analyzeDue()).not.toContain('plans');
      expect(await store.statistics.analyzeDue({ pauseSeconds: 3_600 })).not.toContain('plans');
      expect(await store.statistics.analyzeDue({ pauseSeconds: 0 })).toContain('plans');
      await expect(store.statistics.analyzeDue({ pauseSeconds: -1 })).rejects.toThrow(/pauseSeconds must be 0 or more, not -1/);
      await expect(store.statistics.vacuumDue({ pauseSeconds: Number.NaN })).rejects.toThrow(/pauseSeconds must be 0 or more, not NaN/);
    } finally {
      await close();
    }
  });
});

describe.each(['PGlite', 'PostgreSQL'] as const)('the upkeep on %s', (driver) => {
  it('vacuums each table past one of autovacuum\'s triggers, and only those; then none until more change', { timeout: 120_000 }, async () => {
    const { store, sql, record, close } = await freshStore(driver);
    try {
      if (await daemonRuns(sql)) {
        // A server whose own autovacuum runs would vacuum these tables under the test. The one switch
        // that keeps it off them keeps the keeper off them too, which honors it as autovacuum does: that
        // is what is held on such a server. The triggers are held on PGlite, and on a server without the
        // daemon (the machines this is built on), below.
        for (const table of ALL_TABLES) await sql.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
        await record(60);
        await vacuumCountsSettled(sql, (counts) => counts.plan_resources?.inserted === 1_860);
        expect(await store.statistics.vacuumDue()).toEqual([]);
        return;
      }
      await record(60);
      // 60 plans of 31 resources: 1,860 rows inserted, past 1,000; the other tables 60 or none (a kept
      // text row a plan, its CarePlan's: the others are packed on its derived row, migration 12).
      await vacuumCountsSettled(sql, (counts) => counts.plan_resources?.inserted === 1_860 && counts.plan_version_texts?.inserted === 60 && counts.plans?.inserted === 60);
      const first = await store.statistics.vacuumDue();
      expect(sortedByTable(first)).toEqual([{ table: 'plan_resources', reason: 'inserted-rows' }]);
      const afterFirst = await vacuumCounts(sql);
      expect(afterFirst.plan_resources).toMatchObject({ inserted: 0, vacuumed: true });
      expect(afterFirst.plans).toMatchObject({ vacuumed: false });
      expect(await store.statistics.vacuumDue()).toEqual([]);

      // Dead rows: 100 rows inserted and deleted at once in a table of the store's schema. Nothing reads
      // the page after the delete, so no page pruning takes them from the count, as it does with a plan's
      // row updated at each version.
      await sql.query('CREATE TABLE upkeep_scratch (n integer)');
      await sql.query('INSERT INTO upkeep_scratch SELECT generate_series(1, 100)');
      await sql.query('DELETE FROM upkeep_scratch');
      await vacuumCountsSettled(sql, (counts) => counts.upkeep_scratch?.dead === 100);
      expect(await store.statistics.vacuumDue()).toEqual([{ table: 'upkeep_scratch', reason: 'dead-rows' }]);
      expect((await vacuumCounts(sql)).upkeep_scratch).toMatchObject({ dead: 0, vacuumed: true });
      expect(await store.statistics.vacuumDue()).toEqual([]);

      // 100 dead rows again, seconds after its VACUUM: the table waits out the pause (by default the
      // server's autovacuum_naptime), then is vacuumed as soon as none is asked.
      await sql.query('INSERT INTO upkeep_scratch SELECT generate_series(1, 100)');
      await sql.query('DELETE FROM upkeep_scratch');
      await vacuumCountsSettled(sql, (counts) => counts.upkeep_scratch?.dead === 100);
      expect(await store.statistics.vacuumDue()).toEqual([]);
      expect(await store.statistics.vacuumDue({ pauseSeconds: 3_600 })).toEqual([]);
      expect(await store.statistics.vacuumDue({ pauseSeconds: 0 })).toEqual([{ table: 'upkeep_scratch', reason: 'dead-rows' }]);
    } finally {
      await close();
    }
  });
});

describe.each(['PGlite', 'PostgreSQL'] as const)('a table\'s own autovacuum parameters on %s', (driver) => {
  it('are honored: a lower or higher threshold of its own, and autovacuum_enabled off, each for that table alone', { timeout: 120_000 }, async () => {
    const { store, sql, close } = await freshStore(driver);
    try {
      const daemon = await daemonRuns(sql);
      // Each table: its parameters, then 100 rows (30 for own_low) inserted and deleted: dead rows, and twice as many changed since an ANALYZE.
      const tables: Readonly<Record<string, { readonly parameters?: string; readonly rows: number }>> = daemon
        ? // A server's own autovacuum would take the others first (above): only the switch that keeps it off is held there.
          { own_off: { parameters: 'autovacuum_enabled = off', rows: 100 } }
        : {
            own_default: { rows: 100 },
            // 30 dead rows: under the server's 50, past the table's own 10.
            own_low: { parameters: 'autovacuum_vacuum_threshold = 10, autovacuum_analyze_threshold = 10', rows: 30 },
            own_high: { parameters: 'autovacuum_vacuum_threshold = 1000, autovacuum_analyze_threshold = 1000', rows: 100 },
            own_off: { parameters: 'autovacuum_enabled = off', rows: 100 },
          };
      for (const [table, { parameters, rows }] of Object.entries(tables)) {
        await sql.query(`CREATE TABLE ${table} (n integer)${parameters === undefined ? '' : ` WITH (${parameters})`}`);
        await sql.query(`INSERT INTO ${table} SELECT generate_series(1, ${String(rows)})`);
        await sql.query(`DELETE FROM ${table}`);
      }
      await vacuumCountsSettled(sql, (counts) => Object.entries(tables).every(([table, { rows }]) => counts[table]?.dead === rows));
      const own = (table: string): boolean => table.startsWith('own_');
      const vacuumed = sortedByTable((await store.statistics.vacuumDue()).filter((entry) => own(entry.table)));
      const analyzed = (await store.statistics.analyzeDue()).filter(own).sort();
      if (daemon) {
        expect({ vacuumed, analyzed }).toEqual({ vacuumed: [], analyzed: [] });
        return;
      }
      expect(vacuumed).toEqual([
        { table: 'own_default', reason: 'dead-rows' },
        { table: 'own_low', reason: 'dead-rows' },
      ]);
      // 200 and 60 rows changed: past the server's 50 and the table's own 10; not past the table's own 1,000.
      expect(analyzed).toEqual(['own_default', 'own_low']);
      const counts = await vacuumCounts(sql);
      expect(counts.own_high).toMatchObject({ dead: 100, vacuumed: false });
      expect(counts.own_off).toMatchObject({ dead: 100, vacuumed: false });
    } finally {
      await close();
    }
  });
});

describe.each(['PGlite', 'PostgreSQL'] as const)('the keeper\'s pace on %s', (driver) => {
  it('vacuums and analyzes with autovacuum\'s cost-based delay on PostgreSQL, without it on PGlite', { timeout: 120_000 }, async () => {
    const { store, sql, close } = await freshStore(driver);
    try {
      if (await daemonRuns(sql)) {
        // Such a server's own autovacuum keeps the tables, at its own pace; the server starts no keeper (src/http/server.ts).
        expect(await store.statistics.keeping()).toEqual({ by: 'autovacuum' });
        return;
      }
      // Each table sleeps 10 ms each time it has spent 1 unit of cost: at least once a page it reads.
      // 600 rows of ≈ 530 bytes, ≈ 40 pages: deleted in paced_vacuum (dead rows), kept in paced_analyze.
      const pacing = 'autovacuum_vacuum_cost_delay = 10, autovacuum_vacuum_cost_limit = 1';
      for (const table of ['paced_vacuum', 'paced_analyze']) {
        await sql.query(`CREATE TABLE ${table} (n integer, filler text) WITH (${pacing})`);
        await sql.query(`INSERT INTO ${table} SELECT g, repeat('x', 500) FROM generate_series(1, 600) g`);
      }
      await sql.query('DELETE FROM paced_vacuum');
      const [size] = await sql.query<{ pages: number }>(`SELECT (pg_relation_size('paced_analyze') / current_setting('block_size')::int)::integer AS pages`);
      const pages = size?.pages ?? 0;
      expect(pages).toBeGreaterThanOrEqual(30);
      // With the delay, each pass sleeps at least 10 ms between one page and the next.
      const floorMs = (pages - 1) * 10;
      await vacuumCountsSettled(sql, (counts) => counts.paced_vacuum?.dead === 600 && counts.paced_analyze?.inserted === 600);

      const vacuumStarted = performance.now();
      const vacuumed = (await store.statistics.vacuumDue()).filter(({ table }) => table.startsWith('paced_'));
      const vacuumMs = performance.now() - vacuumStarted;
      expect(vacuumed).toEqual([{ table: 'paced_vacuum', reason: 'dead-rows' }]);
      const analyzeStarted = performance.now();
      const analyzed = (await store.statistics.analyzeDue()).filter((table) => table.startsWith('paced_')).sort();
      const analyzeMs = performance.now() - analyzeStarted;
      expect(analyzed).toEqual(['paced_analyze', 'paced_vacuum']);

      if (driver === 'PostgreSQL') {
        expect(vacuumMs).toBeGreaterThanOrEqual(floorMs);
        expect(analyzeMs).toBeGreaterThanOrEqual(floorMs);
        // The delay was the keeper's own: its connections are back at the server's settings.
        const [own] = await sql.query<{ delay: string }>(`SELECT current_setting('vacuum_cost_delay') AS delay`);
        expect(own?.delay).toBe('0');
      } else {
        // One backend serves every query of the process: a sleeping VACUUM would hold them all.
        expect(vacuumMs).toBeLessThan(floorMs);
        expect(analyzeMs).toBeLessThan(floorMs);
      }
    } finally {
      await close();
    }
  });
});

describe('the keeper stopping on PostgreSQL', () => {
  it('gives up a slow VACUUM and ANALYZE when its signal aborts: cancelled, not counted, and taken at the next round', { timeout: 120_000 }, async () => {
    const { store, sql, close } = await freshStore('PostgreSQL');
    try {
      if (await daemonRuns(sql)) {
        expect(await store.statistics.keeping()).toEqual({ by: 'autovacuum' });
        return;
      }
      // 100 ms a page read: ≈ 40 pages would take the VACUUM and the ANALYZE four seconds or more each.
      await sql.query(`CREATE TABLE slow (n integer, filler text) WITH (autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1)`);
      await sql.query(`INSERT INTO slow SELECT g, repeat('x', 500) FROM generate_series(1, 600) g`);
      await sql.query('DELETE FROM slow WHERE n % 2 = 0');
      await vacuumCountsSettled(sql, (counts) => counts.slow?.dead === 300);

      for (const upkeep of ['vacuum', 'analyze'] as const) {
        const stop = new AbortController();
        setTimeout(() => {
          stop.abort();
        }, 300);
        const started = performance.now();
        const done = upkeep === 'vacuum' ? (await store.statistics.vacuumDue({ signal: stop.signal })).map(({ table }) => table) : await store.statistics.analyzeDue({ signal: stop.signal });
        expect(done, upkeep).not.toContain('slow');
        expect(performance.now() - started, upkeep).toBeLessThan(3_000);
      }
      const [counts] = await sql.query<{ vacuumed: boolean; analyzed: boolean }>(`SELECT last_vacuum IS NOT NULL AS vacuumed, last_analyze IS NOT NULL AS analyzed FROM pg_stat_user_tables WHERE relname = 'slow'`);
      expect(counts).toEqual({ vacuumed: false, analyzed: false });
      // No statement of the keeper is left running.
      const running = await sql.query<{ query: string }>(`SELECT query FROM pg_stat_activity WHERE datname = current_database() AND (query LIKE 'VACUUM%' OR query LIKE 'ANALYZE%')`);
      expect(running).toEqual([]);
      // Given up, not lost: the next round takes the table.
      await sql.query('ALTER TABLE slow SET (autovacuum_vacuum_cost_delay = 0)');
      expect(await store.statistics.vacuumDue()).toContainEqual({ table: 'slow', reason: 'dead-rows' });
      expect(await store.statistics.analyzeDue()).toContain('slow');
    } finally {
      await close();
    }
  });
});

describe('the statistics on PostgreSQL', () => {
  it('says who keeps them as the server\'s settings say', async () => {
    const { store, sql, close } = await freshStore('PostgreSQL');
    try {
      const [settings] = await sql.query<{ autovacuum: string; track_counts: string }>(`SELECT current_setting('autovacuum') AS autovacuum, current_setting('track_counts') AS track_counts`);
      const expected = settings?.track_counts !== 'on' ? { by: 'nobody', why: 'track-counts-off' } : settings.autovacuum === 'on' ? { by: 'autovacuum' } : { by: 'store', why: 'autovacuum-off' };
      expect(await store.statistics.keeping()).toEqual(expected);
    } finally {
      await close();
    }
  });

  it('once analyzed, a person\'s search reads the plan versions by index, not all of them', { timeout: 120_000 }, async () => {
    const { store, sql, record, close } = await freshStore('PostgreSQL');
    try {
      await record(2_000);
      await countsSettled(sql, WRITTEN);
      // Without this the planner, guessing, reads every plan version (a sequential scan) at 2,000 plans.
      await store.statistics.analyzeDue();
      // The statement the store runs for a person's search, as it runs it: caught on its way to the server.
      const statements: { sql: string; params: readonly unknown[] }[] = [];
      const catching: SqlClient = {
        ...sql,
        query: (text, params = []) => {
          statements.push({ sql: text, params });
          return sql.query(text, params);
        },
      };
      const searched = await new SqlPlanStore(catching).searchHeads({ personIdentifier: personnummer(7).replace('-', ''), total: false, derived: { deriver: currentDeriver(), resourceType: 'CarePlan' } });
      expect(searched.plans.map((plan) => plan.planId)).toEqual(['statistics-7']);
      const [statement] = statements;
      if (statement === undefined) throw new Error('the search ran no statement');
      const scans = JSON.stringify(await sql.query(`EXPLAIN (FORMAT JSON) ${statement.sql}`, statement.params));
      expect(scans).toContain('plans_person_identifier');
      expect(scans).not.toMatch(/"Node Type":\s*"Seq Scan",[^}]*"Relation Name":\s*"plan_versions"/);
    } finally {
      await close();
    }
  });
});

describe('StatisticsKeeper', () => {
  it('runs a round every interval, never two at once, tells what it analyzed and what failed, and stops after the round under way', async () => {
    let rounds = 0;
    let inFlight = 0;
    let mostAtOnce = 0;
    const analyzed: (readonly string[])[] = [];
    const errors: unknown[] = [];
    let endRound: (() => void) | undefined;
    const keeper = new StatisticsKeeper({
      intervalMs: 5,
      analyzeDue: async () => {
        rounds += 1;
        inFlight += 1;
        mostAtOnce = Math.max(mostAtOnce, inFlight);
        try {
          if (rounds === 2) throw new Error('the database went away');
          if (rounds === 4) await new Promise<void>((resolve) => (endRound = resolve));
          return rounds === 1 ? ['plans'] : [];
        } finally {
          inFlight -= 1;
        }
      },
      onAnalyzed: (tables, millis) => {
        expect(millis).toBeGreaterThanOrEqual(0);
        analyzed.push(tables);
      },
      onError: (error) => errors.push(error),
    });
    keeper.start();
    keeper.start();
    while (rounds < 4) await new Promise((resolve) => setTimeout(resolve, 5));
    let stopped = false;
    const stopping = keeper.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stopped).toBe(false);
    endRound?.();
    await stopping;
    const roundsWhenStopped = rounds;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(rounds).toBe(roundsWhenStopped);
    expect(mostAtOnce).toBe(1);
    expect(analyzed).toEqual([['plans']]);
    expect(errors.map((error) => (error as Error).message)).toEqual(['the database went away']);
  });

  it('vacuums before it analyzes in each round, and tells what it vacuumed and why', async () => {
    const calls: string[] = [];
    const told: { vacuumed: (readonly Vacuumed[])[]; analyzed: (readonly string[])[] } = { vacuumed: [], analyzed: [] };
    const keeper = new StatisticsKeeper({
      intervalMs: 5,
      vacuumDue: () => {
        calls.push('vacuum');
        return Promise.resolve(calls.length === 1 ? [{ table: 'plans', reason: 'dead-rows' as const }] : []);
      },
      analyzeDue: () => {
        calls.push('analyze');
        return Promise.resolve(calls.length === 2 ? ['plans'] : []);
      },
      onVacuumed: (tables) => told.vacuumed.push(tables),
      onAnalyzed: (tables) => told.analyzed.push(tables),
    });
    keeper.start();
    while (calls.length < 4) await new Promise((resolve) => setTimeout(resolve, 5));
    await keeper.stop();
    expect(calls.slice(0, 4)).toEqual(['vacuum', 'analyze', 'vacuum', 'analyze']);
    // Told only of rounds that did something.
    expect(told).toEqual({ vacuumed: [[{ table: 'plans', reason: 'dead-rows' }]], analyzed: [['plans']] });
  });

  it('aborts the signal of the round under way when stopped, and begins no analyzing after a vacuuming given up', async () => {
    const calls: string[] = [];
    let vacuumStarted: (() => void) | undefined;
    const started = new Promise<void>((resolve) => (vacuumStarted = resolve));
    const keeper = new StatisticsKeeper({
      intervalMs: 5,
      vacuumDue: (signal) => {
        calls.push('vacuum');
        if (calls.length > 1) return Promise.resolve([]);
        vacuumStarted?.();
        // The first vacuuming lasts until it is given up.
        return new Promise((resolve) => {
          signal.addEventListener(
            'abort',
            () => {
              resolve([]);
            },
            { once: true },
          );
        });
      },
      analyzeDue: () => {
        calls.push('analyze');
        return Promise.resolve([]);
      },
    });
    keeper.start();
    await started;
    await keeper.stop();
    expect(calls).toEqual(['vacuum']);
    // Started again, it runs rounds with a signal not aborted.
    keeper.start();
    while (calls.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    await keeper.stop();
    expect(calls.slice(0, 3)).toEqual(['vacuum', 'vacuum', 'analyze']);
  });

  it('refuses an interval that is not above 0', () => {
    expect(() => new StatisticsKeeper({ intervalMs: 0, analyzeDue: () => Promise.resolve([]) })).toThrow(/intervalMs must be above 0/);
  });
});

/** Whether a PostgreSQL server's own autovacuum runs: then it may vacuum and analyze a test's tables before the keeper does. PGlite has none. */
async function daemonRuns(sql: SqlClient): Promise<boolean> {
  if (sql.driver === 'pglite') return false;
  const [row] = await sql.query<{ autovacuum: string }>(`SELECT current_setting('autovacuum') AS autovacuum`);
  return row?.autovacuum === 'on';
}

/** The store's tables. */
const ALL_TABLES = ['plans', 'plan_versions', 'plan_resources', 'plan_version_derived', 'plan_version_texts', 'audit_log', 'outbox'] as const;

function sortedByTable(vacuumed: readonly Vacuumed[]): Vacuumed[] {
  return [...vacuumed].sort((a, b) => a.table.localeCompare(b.table));
}

interface VacuumCounts {
  readonly dead: number;
  readonly inserted: number;
  readonly vacuumed: boolean;
}

/** Each table's dead rows, rows inserted since its last VACUUM, and whether one ran, as PostgreSQL's statistics say. */
async function vacuumCounts(sql: SqlClient): Promise<Partial<Record<string, VacuumCounts>>> {
  if (sql.driver === 'pglite') await sql.query('SELECT pg_stat_force_next_flush()');
  const rows = await sql.query<{ table: string; dead: string; inserted: string; vacuumed: boolean }>(
    'SELECT relname AS table, n_dead_tup::text AS dead, n_ins_since_vacuum::text AS inserted, vacuum_count > 0 AS vacuumed FROM pg_stat_user_tables WHERE schemaname = current_schema()',
  );
  return Object.fromEntries(rows.map((row) => [row.table, { dead: Number(row.dead), inserted: Number(row.inserted), vacuumed: row.vacuumed }]));
}

/** Waits until PostgreSQL's counts hold what `settled` looks for (a server's backends report theirs about once a second). */
async function vacuumCountsSettled(sql: SqlClient, settled: (counts: Partial<Record<string, VacuumCounts>>) => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const counts = await vacuumCounts(sql);
    if (settled(counts)) return;
    if (Date.now() > deadline) throw new Error(`the counts did not settle: ${JSON.stringify(counts)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
