/**
 * The query planner's statistics of the store's tables, kept current where nothing else keeps them.
 *
 * PostgreSQL's planner chooses how to run a statement from the statistics `ANALYZE` gathers. Its
 * autovacuum daemon runs `ANALYZE` on a table once enough of its rows changed
 * (https://www.postgresql.org/docs/15/routine-vacuuming.html#VACUUM-FOR-STATISTICS). Two kinds of
 * database this service runs on never do:
 *
 * - a PostgreSQL server with `autovacuum = off` (the machines this project is built on run so);
 * - PGlite, the embedded default store: one standalone backend, with no autovacuum daemon at all.
 *
 * Without statistics the planner guesses, and one of its guesses grows with the store: a person's
 * search (`plans.person_identifier = $1`, src/store/sql-plan-store.ts `searchStatement`) was run as a
 * hash join over a sequential scan of every plan version, so each search cost more PostgreSQL CPU
 * than the last as plans were added (0.92, 1.23, 1.72 ms a search over three bench rounds, against
 * 0.22–0.23 ms once the tables were analyzed; docs/performance.md, "The planner without statistics").
 *
 * There, {@link analyzeDue} does what autovacuum would: it analyzes each of the store's tables whose
 * rows changed since its last `ANALYZE` by more than autovacuum's own threshold, read from the
 * server's settings (`autovacuum_analyze_threshold` + `autovacuum_analyze_scale_factor` × rows), or
 * from the table's own storage parameters where it sets them ({@link tableSettings}; a table whose
 * `autovacuum_enabled` is off is left alone, as autovacuum leaves it).
 * And {@link vacuumDue} does autovacuum's other part: it vacuums each table past one of autovacuum's
 * three triggers — dead rows, rows inserted since its last `VACUUM`, or the age of its oldest unfrozen
 * transaction id. Without it an embedded store never reclaimed the rows its updates and deletes left
 * (a plan's row at each version, the outbox's at each attempt), and never froze old rows, which
 * PostgreSQL needs before its transaction ids wrap around
 * (https://www.postgresql.org/docs/15/routine-vacuuming.html#VACUUM-FOR-WRAPAROUND). A PostgreSQL
 * server with autovacuum off still starts autovacuum against wraparound itself; PGlite has nothing
 * that would.
 *
 * Autovacuum visits a database once every `autovacuum_naptime` (one minute by default,
 * https://www.postgresql.org/docs/15/runtime-config-autovacuum.html#GUC-AUTOVACUUM-NAPTIME), so it
 * analyzes or vacuums a table at most that often, however fast the table grows. So does this: a table
 * analyzed (vacuumed) less than a naptime ago waits ({@link UpkeepOptions}), while one never analyzed
 * (vacuumed) is taken at the first look, and wraparound never waits. Without the pause a table that
 * grows by a tenth every few seconds — the audit log under 2,000 reads a second — was analyzed at every
 * look of the keeper, and each `ANALYZE` took PostgreSQL 70–420 ms of a core the server's requests
 * were waiting for (docs/performance.md, "The keeper's pause").
 *
 * On a PostgreSQL server the keeper's `VACUUM` and `ANALYZE` also run at autovacuum's pace: with its
 * cost-based delay ({@link costDelayOf}), they sleep a moment each time they have done a share of work,
 * so that a large table's upkeep is spread over time instead of taking a core from the server's requests
 * all at once. On PGlite they run unthrottled: its one backend would hold every query of the server
 * while they slept.
 */
import { sqlState, type SqlClient, type SqlQueryable } from './sql-client.js';

/** What autovacuum's analyze decision reads of a table. */
export interface TableActivity {
  readonly table: string;
  /** `pg_class.reltuples`: the rows the last `ANALYZE` or `VACUUM` counted; -1 when neither ever ran. */
  readonly rows: number;
  /** `pg_stat_user_tables.n_mod_since_analyze`: rows inserted, updated or deleted since the last `ANALYZE`. */
  readonly modifiedSinceAnalyze: number;
  /** Seconds since the table's last `ANALYZE`, by hand or by autovacuum; undefined when it was never analyzed. */
  readonly secondsSinceAnalyze?: number;
}

/**
 * `autovacuum_analyze_threshold` and `autovacuum_analyze_scale_factor` (defaults 50 and 0.1), the
 * server's or the table's own ({@link tableSettings}); `enabled: false` when the table's
 * `autovacuum_enabled` is off.
 */
export interface AnalyzeThreshold {
  readonly base: number;
  readonly scaleFactor: number;
  readonly enabled?: boolean;
  /** Seconds a table analyzed before waits after its last `ANALYZE` (autovacuum's naptime); 0 when absent. */
  readonly pauseSeconds?: number;
}

/** The server's pause, as a member to spread into a table's threshold (none when the server's has none). */
function serverPause(server: { readonly pauseSeconds?: number }): { readonly pauseSeconds?: number } {
  return server.pauseSeconds === undefined ? {} : { pauseSeconds: server.pauseSeconds };
}

/** Whether a table last done `secondsSince` ago (undefined: never) has waited `pauseSeconds` (none when absent). */
function rested(secondsSince: number | undefined, pauseSeconds: number | undefined): boolean {
  return secondsSince === undefined || !(secondsSince < (pauseSeconds ?? 0));
}

/**
 * Whether autovacuum would analyze the table now: more rows changed since its last `ANALYZE` than
 * `base + scaleFactor × rows`, a table never counted taken as empty
 * (https://www.postgresql.org/docs/15/routine-vacuuming.html#AUTOVACUUM: "analyze threshold = analyze
 * base threshold + analyze scale factor * number of tuples"); never a table whose autovacuum is off,
 * nor one analyzed less than `pauseSeconds` ago (a table never analyzed does not wait).
 */
export function dueForAnalyze(activity: TableActivity, threshold: AnalyzeThreshold): boolean {
  if (threshold.enabled === false) return false;
  if (!rested(activity.secondsSinceAnalyze, threshold.pauseSeconds)) return false;
  return activity.modifiedSinceAnalyze > threshold.base + threshold.scaleFactor * Math.max(activity.rows, 0);
}

/**
 * The autovacuum storage parameters a table may set for itself (`CREATE TABLE … WITH (…)`, `ALTER
 * TABLE … SET (…)`; https://www.postgresql.org/docs/15/sql-createtable.html#SQL-CREATETABLE-STORAGE-PARAMETERS),
 * each absent when the table does not set it.
 */
export interface TableAutovacuumParameters {
  /** `autovacuum_enabled`: off, autovacuum neither vacuums nor analyzes the table, "except to prevent transaction ID wraparound". */
  readonly enabled?: boolean;
  readonly analyzeBase?: number;
  readonly analyzeScaleFactor?: number;
  readonly vacuumBase?: number;
  readonly vacuumScaleFactor?: number;
  readonly insertBase?: number;
  readonly insertScaleFactor?: number;
  /** `autovacuum_freeze_max_age`: taken only below the server's ("larger values are ignored"). */
  readonly freezeMaxAge?: number;
  /** `autovacuum_vacuum_cost_delay`, in milliseconds; -1 takes the server's. */
  readonly costDelayMs?: number;
  /** `autovacuum_vacuum_cost_limit`; -1 takes the server's. */
  readonly costLimit?: number;
}

const NUMERIC_PARAMETERS: Readonly<Record<string, Exclude<keyof TableAutovacuumParameters, 'enabled'>>> = {
  autovacuum_analyze_threshold: 'analyzeBase',
  autovacuum_analyze_scale_factor: 'analyzeScaleFactor',
  autovacuum_vacuum_threshold: 'vacuumBase',
  autovacuum_vacuum_scale_factor: 'vacuumScaleFactor',
  autovacuum_vacuum_insert_threshold: 'insertBase',
  autovacuum_vacuum_insert_scale_factor: 'insertScaleFactor',
  autovacuum_freeze_max_age: 'freezeMaxAge',
  autovacuum_vacuum_cost_delay: 'costDelayMs',
  autovacuum_vacuum_cost_limit: 'costLimit',
};

/**
 * A boolean as PostgreSQL reads one (`parse_bool`, https://www.postgresql.org/docs/15/datatype-boolean.html):
 * any case, `true`/`false`, `yes`/`no` and a unique prefix of them, `on`/`off`, `1`/`0`. `pg_class.reloptions`
 * keeps the value as it was given (`autovacuum_enabled=off`). Undefined for anything else.
 */
export function postgresBoolean(text: string): boolean | undefined {
  const value = text.trim().toLowerCase();
  if (value === '') return undefined;
  if ('true'.startsWith(value) || 'yes'.startsWith(value) || value === 'on' || value === '1') return true;
  // "o" alone is neither on nor off.
  if ('false'.startsWith(value) || 'no'.startsWith(value) || (value.length >= 2 && 'off'.startsWith(value)) || value === '0') return false;
  return undefined;
}

/**
 * The autovacuum parameters in a table's `pg_class.reloptions` (`{name=value,…}`, null when it sets
 * none); other storage parameters (`fillfactor`, `toast.*`) and values PostgreSQL would not have
 * taken are left out.
 */
export function tableSettings(reloptions: readonly string[] | null | undefined): TableAutovacuumParameters {
  const settings: { -readonly [K in keyof TableAutovacuumParameters]: TableAutovacuumParameters[K] } = {};
  for (const option of reloptions ?? []) {
    const at = option.indexOf('=');
    if (at < 0) continue;
    const name = option.slice(0, at);
    const value = option.slice(at + 1);
    if (name === 'autovacuum_enabled') {
      const enabled = postgresBoolean(value);
      if (enabled !== undefined) settings.enabled = enabled;
      continue;
    }
    const key = NUMERIC_PARAMETERS[name];
    const number = Number(value);
    if (key !== undefined && value.trim() !== '' && Number.isFinite(number)) settings[key] = number;
  }
  return settings;
}

/** The analyze threshold of a table: its own parameters where it sets them, else the server's. */
export function analyzeThresholdOf(server: AnalyzeThreshold, table: TableAutovacuumParameters): AnalyzeThreshold {
  return { base: table.analyzeBase ?? server.base, scaleFactor: table.analyzeScaleFactor ?? server.scaleFactor, enabled: table.enabled ?? true, ...serverPause(server) };
}

/** Who keeps the planner's statistics of the store's tables. */
export type StatisticsKeeping =
  | { readonly by: 'autovacuum' }
  /** Nobody but this service: `why` says why autovacuum does not. */
  | { readonly by: 'store'; readonly why: 'autovacuum-off' | 'embedded' }
  /** Nobody: with `track_counts` off PostgreSQL counts no changed rows, so neither autovacuum nor this service can tell when to analyze. */
  | { readonly by: 'nobody'; readonly why: 'track-counts-off' };

/** Whether the database's autovacuum analyzes the store's tables, and when not, why. */
export async function statisticsKeeping(client: SqlClient): Promise<StatisticsKeeping> {
  if (client.driver === 'pglite') return { by: 'store', why: 'embedded' };
  const [settings] = await client.query<{ autovacuum: string; track_counts: string }>(`SELECT current_setting('autovacuum') AS autovacuum, current_setting('track_counts') AS track_counts`);
  if (settings?.track_counts !== 'on') return { by: 'nobody', why: 'track-counts-off' };
  return settings.autovacuum === 'on' ? { by: 'autovacuum' } : { by: 'store', why: 'autovacuum-off' };
}

/**
 * autovacuum's vacuum settings (https://www.postgresql.org/docs/15/runtime-config-autovacuum.html):
 * `autovacuum_vacuum_threshold` and `_scale_factor` (dead rows; defaults 50 and 0.2),
 * `autovacuum_vacuum_insert_threshold` and `_scale_factor` (inserted rows; 1,000 and 0.2, a threshold
 * of -1 turning that trigger off) and `autovacuum_freeze_max_age` (200,000,000 transactions).
 */
export interface VacuumThreshold {
  readonly base: number;
  readonly scaleFactor: number;
  readonly insertBase: number;
  readonly insertScaleFactor: number;
  readonly freezeMaxAge: number;
  /** False when the table's `autovacuum_enabled` is off: then only the wraparound trigger holds. */
  readonly enabled?: boolean;
  /** Seconds a table vacuumed before waits after its last `VACUUM` (autovacuum's naptime), but against wraparound; 0 when absent. */
  readonly pauseSeconds?: number;
}

/**
 * The vacuum threshold of a table: its own parameters where it sets them, else the server's; its
 * `autovacuum_freeze_max_age` only when below the server's, as autovacuum takes it
 * (https://www.postgresql.org/docs/15/runtime-config-autovacuum.html#GUC-AUTOVACUUM-FREEZE-MAX-AGE).
 */
export function vacuumThresholdOf(server: VacuumThreshold, table: TableAutovacuumParameters): VacuumThreshold {
  return {
    base: table.vacuumBase ?? server.base,
    scaleFactor: table.vacuumScaleFactor ?? server.scaleFactor,
    insertBase: table.insertBase ?? server.insertBase,
    insertScaleFactor: table.insertScaleFactor ?? server.insertScaleFactor,
    freezeMaxAge: Math.min(table.freezeMaxAge ?? server.freezeMaxAge, server.freezeMaxAge),
    enabled: table.enabled ?? true,
    ...serverPause(server),
  };
}

/** What autovacuum's vacuum decision reads of a table. */
export interface VacuumActivity {
  readonly table: string;
  /** As {@link TableActivity.rows}. */
  readonly rows: number;
  /** `pg_stat_user_tables.n_dead_tup`. */
  readonly deadRows: number;
  /** `pg_stat_user_tables.n_ins_since_vacuum`. */
  readonly insertedSinceVacuum: number;
  /** `age(pg_class.relfrozenxid)`: transactions since the table's oldest unfrozen row id. */
  readonly frozenXidAge: number;
  /** Seconds since the table's last `VACUUM`, by hand or by autovacuum; undefined when it was never vacuumed. */
  readonly secondsSinceVacuum?: number;
}

/** Why a table is due for `VACUUM`: the first of autovacuum's triggers it passed. */
export type VacuumReason = 'dead-rows' | 'inserted-rows' | 'wraparound';

/**
 * Whether autovacuum would vacuum the table now, and why (https://www.postgresql.org/docs/15/routine-vacuuming.html#AUTOVACUUM:
 * "vacuum threshold = vacuum base threshold + vacuum scale factor * number of tuples", the insert
 * threshold likewise over the rows inserted since the last vacuum, and a table whose `relfrozenxid`
 * is older than `autovacuum_freeze_max_age` transactions "always"); a table never counted taken as empty.
 * A table vacuumed less than `pauseSeconds` ago waits, but against wraparound.
 */
export function dueForVacuum(activity: VacuumActivity, threshold: VacuumThreshold): VacuumReason | undefined {
  const rows = Math.max(activity.rows, 0);
  if (activity.frozenXidAge > threshold.freezeMaxAge) return 'wraparound';
  if (threshold.enabled === false) return undefined;
  if (!rested(activity.secondsSinceVacuum, threshold.pauseSeconds)) return undefined;
  if (activity.deadRows > threshold.base + threshold.scaleFactor * rows) return 'dead-rows';
  if (threshold.insertBase >= 0 && activity.insertedSinceVacuum > threshold.insertBase + threshold.insertScaleFactor * rows) return 'inserted-rows';
  return undefined;
}

/** A table vacuumed, and which trigger it passed. */
export interface Vacuumed {
  readonly table: string;
  readonly reason: VacuumReason;
}

/** What a round of {@link vacuumDue} or {@link analyzeDue} is run with: how long a table waits after its last `VACUUM` or `ANALYZE`, and when to give up. */
export interface UpkeepOptions {
  /**
   * Seconds; by default the server's `autovacuum_naptime` (60 unless set otherwise), the least time
   * between two of autovacuum's rounds on a database. 0 takes every table past its threshold.
   */
  readonly pauseSeconds?: number;
  /**
   * Gives the round up when it aborts (the keeper stopping): no further table is begun, and on
   * PostgreSQL the `VACUUM` or `ANALYZE` under way is cancelled, as PostgreSQL cancels an autovacuum
   * worker's at shutdown; it resolves with the tables done before. A throttled `VACUUM` of a large table
   * may take minutes, which a server stopping should not wait out.
   */
  readonly signal?: AbortSignal;
}

/** Whether `error` is the cancel of a round given up by `signal` (SQLSTATE 57014, query_canceled). */
function givenUp(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && sqlState(error) === '57014';
}

/**
 * The server's cost-based delay settings (https://www.postgresql.org/docs/15/runtime-config-resource.html#RUNTIME-CONFIG-RESOURCE-VACUUM-COST),
 * as `pg_settings` keeps them: delays in milliseconds.
 */
export interface CostSettings {
  /** `autovacuum_vacuum_cost_delay` (default 2 ms); -1 takes {@link vacuumDelayMs}. */
  readonly autovacuumDelayMs: number;
  /** `vacuum_cost_delay`, a `VACUUM` by hand's (default 0: no delay). */
  readonly vacuumDelayMs: number;
  /** `autovacuum_vacuum_cost_limit` (default -1, which takes {@link vacuumLimit}). */
  readonly autovacuumLimit: number;
  /** `vacuum_cost_limit` (default 200). */
  readonly vacuumLimit: number;
}

/**
 * A cost-based delay: a `VACUUM` or `ANALYZE` that has spent `limit` units of cost (a page found in
 * the shared buffers 1, one read 2, one dirtied 20) sleeps `delayMs` before it goes on.
 */
export interface CostDelay {
  readonly delayMs: number;
  readonly limit: number;
}

/**
 * The delay autovacuum would run a table's `VACUUM` and `ANALYZE` with: the table's own
 * `autovacuum_vacuum_cost_delay` when it sets one of 0 or more, else the server's, else (-1) the
 * server's `vacuum_cost_delay`; the limit likewise, where only a value above 0 counts
 * (https://www.postgresql.org/docs/15/runtime-config-autovacuum.html#GUC-AUTOVACUUM-VACUUM-COST-DELAY).
 * Undefined when that delay is 0: no throttle.
 */
export function costDelayOf(server: CostSettings, table: TableAutovacuumParameters = {}): CostDelay | undefined {
  const delayMs = table.costDelayMs !== undefined && table.costDelayMs >= 0 ? table.costDelayMs : server.autovacuumDelayMs >= 0 ? server.autovacuumDelayMs : server.vacuumDelayMs;
  const limit = table.costLimit !== undefined && table.costLimit > 0 ? table.costLimit : server.autovacuumLimit > 0 ? server.autovacuumLimit : server.vacuumLimit;
  return delayMs > 0 && limit > 0 ? { delayMs, limit } : undefined;
}

/** The session settings that give a `VACUUM` or `ANALYZE` the delay (none when there is none). */
export function costDelaySettings(delay: CostDelay | undefined): Readonly<Record<string, string>> {
  return delay === undefined ? {} : { vacuum_cost_delay: String(delay.delayMs), vacuum_cost_limit: String(Math.round(delay.limit)) };
}

/** A server setting as a number, in the unit `pg_settings` keeps it in (null when the server has no such setting). */
function settingSql(name: string): string {
  return `(SELECT setting::float8 FROM pg_settings WHERE name = '${name}')`;
}

/** The four cost settings, each a column named as the setting. */
const COST_SQL = ['autovacuum_vacuum_cost_delay', 'vacuum_cost_delay', 'autovacuum_vacuum_cost_limit', 'vacuum_cost_limit'].map((name) => `${settingSql(name)} AS ${name}`).join(', ');

/** The columns {@link COST_SQL} reads. */
type CostSettingsRow = Partial<Record<'autovacuum_vacuum_cost_delay' | 'vacuum_cost_delay' | 'autovacuum_vacuum_cost_limit' | 'vacuum_cost_limit', number | null>>;

/** The cost settings as {@link COST_SQL} read them; PostgreSQL's defaults where one is missing. */
function costSettingsOf(row: CostSettingsRow | undefined): CostSettings {
  return {
    autovacuumDelayMs: row?.autovacuum_vacuum_cost_delay ?? 2,
    vacuumDelayMs: row?.vacuum_cost_delay ?? 0,
    autovacuumLimit: row?.autovacuum_vacuum_cost_limit ?? -1,
    vacuumLimit: row?.vacuum_cost_limit ?? 200,
  };
}

/**
 * The delay the keeper runs a table's `VACUUM` or `ANALYZE` with on this database: autovacuum's
 * ({@link costDelayOf}) on a PostgreSQL server, none on PGlite, whose one backend would hold every
 * query while it slept.
 */
function keeperDelay(client: SqlClient, cost: CostSettings, table: TableAutovacuumParameters): CostDelay | undefined {
  return client.driver === 'pg' ? costDelayOf(cost, table) : undefined;
}

/** The server's `autovacuum_naptime` in seconds. */
const PAUSE_SQL = settingSql('autovacuum_naptime');

/** The pause to use: the caller's, else the server's naptime, else autovacuum's default of a minute. */
function pauseFor(options: UpkeepOptions, naptime: string | number | null | undefined): number {
  if (options.pauseSeconds !== undefined) {
    if (!(options.pauseSeconds >= 0)) throw new RangeError(`pauseSeconds must be 0 or more, not ${String(options.pauseSeconds)}`);
    return options.pauseSeconds;
  }
  const server = Number(naptime);
  return naptime === null || naptime === undefined || !Number.isFinite(server) ? 60 : server;
}

/** A table's seconds since its last `VACUUM` (`ANALYZE`) as the statement measured them; undefined when it has none (never). */
function secondsSince(value: string | number | null): number | undefined {
  return value === null ? undefined : Number(value);
}

/**
 * Vacuums each of the store's tables (those of the current schema) that {@link dueForVacuum} finds
 * due at the table's own threshold ({@link vacuumThresholdOf}), one `VACUUM (SKIP_LOCKED)` each, outside a transaction as `VACUUM` must run, and returns them.
 * {@link KEYED_ONLY_TABLES} are vacuumed only for dead rows or age: their ≈ 30 rows inserted a plan
 * version would call for a `VACUUM` that serves no read. A table another instance is vacuuming at that
 * moment is skipped by PostgreSQL itself (`SKIP_LOCKED`), not waited for. On a PostgreSQL server each
 * `VACUUM` runs with autovacuum's cost-based delay ({@link costDelayOf}). On PGlite the backend's
 * pending counts are flushed first.
 */
export async function vacuumDue(client: SqlClient, options: UpkeepOptions = {}): Promise<Vacuumed[]> {
  if (client.driver === 'pglite') await client.query('SELECT pg_stat_force_next_flush()');
  const [settings] = await client.query<Record<'base' | 'scale_factor' | 'insert_base' | 'insert_scale_factor' | 'freeze_max_age', string> & { naptime: number | null } & CostSettingsRow>(
    `SELECT current_setting('autovacuum_vacuum_threshold') AS base, current_setting('autovacuum_vacuum_scale_factor') AS scale_factor,
            current_setting('autovacuum_vacuum_insert_threshold') AS insert_base, current_setting('autovacuum_vacuum_insert_scale_factor') AS insert_scale_factor,
            current_setting('autovacuum_freeze_max_age') AS freeze_max_age, ${PAUSE_SQL} AS naptime, ${COST_SQL}`,
  );
  const cost = costSettingsOf(settings);
  const threshold: VacuumThreshold = {
    base: Number(settings?.base ?? 50),
    scaleFactor: Number(settings?.scale_factor ?? 0.2),
    insertBase: Number(settings?.insert_base ?? 1000),
    insertScaleFactor: Number(settings?.insert_scale_factor ?? 0.2),
    freezeMaxAge: Number(settings?.freeze_max_age ?? 200_000_000),
    pauseSeconds: pauseFor(options, settings?.naptime),
  };
  const activity = await client.query<{ table: string; rows: number; dead: string; inserted: string; frozen_age: string; reloptions: string[] | null; since_vacuum: number | null }>(
    `SELECT s.relname AS table, c.reltuples::float8 AS rows, s.n_dead_tup::text AS dead, s.n_ins_since_vacuum::text AS inserted, age(c.relfrozenxid)::text AS frozen_age, c.reloptions,
            EXTRACT(EPOCH FROM clock_timestamp() - GREATEST(s.last_vacuum, s.last_autovacuum))::float8 AS since_vacuum
       FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
      WHERE s.schemaname = current_schema() ORDER BY s.relname`,
  );
  const vacuumed: Vacuumed[] = [];
  for (const row of activity) {
    // A keyed-only table's inserts alone call for no VACUUM: nothing reads it by an index alone, which
    // is what marking its new pages all-visible would serve; its dead rows and its age still do.
    const insertedSinceVacuum = KEYED_ONLY_TABLES.includes(row.table) ? 0 : Number(row.inserted);
    const own = tableSettings(row.reloptions);
    const reason = dueForVacuum(
      { table: row.table, rows: row.rows, deadRows: Number(row.dead), insertedSinceVacuum, frozenXidAge: Number(row.frozen_age), secondsSinceVacuum: secondsSince(row.since_vacuum) },
      vacuumThresholdOf(threshold, own),
    );
    if (reason === undefined) continue;
    if (options.signal?.aborted === true) break;
    const vacuum = `VACUUM (SKIP_LOCKED) ${quoteIdentifier(row.table)}`;
    const delay = keeperDelay(client, cost, own);
    try {
      // VACUUM cannot run in a transaction block, where SET LOCAL would end with it: its delay is set for
      // its connection's session, and reset after; the signal cancels it there.
      if (client.session !== undefined) await client.session((connection) => connection.query(vacuum), { settings: costDelaySettings(delay), ...signalOf(options) });
      else await client.query(vacuum);
    } catch (error) {
      if (givenUp(error, options.signal)) break;
      throw error;
    }
    vacuumed.push({ table: row.table, reason });
  }
  return vacuumed;
}

/**
 * An advisory lock's key, so that of several instances on one database one analyzes a table at a
 * time and the others skip it (`pg_try_advisory_xact_lock`). The text is hashed by PostgreSQL.
 */
const ANALYZE_LOCK = 'sip-fhir-adapter:analyze';

/**
 * Tables left out: read only by their primary key (a version's kept texts), so their statistics
 * change no plan, while theirs were the dearest to take — `ANALYZE plan_version_texts` cost
 * PostgreSQL 234 ms at 1,000 plans and 380 ms at 5,000, against 3–74 ms for each other table
 * (docs/performance.md, "The planner without statistics").
 */
export const KEYED_ONLY_TABLES: readonly string[] = ['plan_version_texts'];

/**
 * Analyzes each of the store's tables (those of the current schema but {@link KEYED_ONLY_TABLES}) that
 * {@link dueForAnalyze} finds due at the table's own threshold ({@link analyzeThresholdOf}), one `ANALYZE` each, and returns their names. A table another instance is analyzing at that
 * moment is left to it. On a PostgreSQL server each `ANALYZE` runs with autovacuum's cost-based delay
 * ({@link costDelayOf}). On PGlite its one backend's pending counts are flushed first, so they are
 * read as they stand.
 */
export async function analyzeDue(client: SqlClient, options: UpkeepOptions = {}): Promise<string[]> {
  if (client.driver === 'pglite') await client.query('SELECT pg_stat_force_next_flush()');
  const [threshold] = await client.query<{ base: string; scale_factor: string; naptime: number | null } & CostSettingsRow>(
    `SELECT current_setting('autovacuum_analyze_threshold') AS base, current_setting('autovacuum_analyze_scale_factor') AS scale_factor, ${PAUSE_SQL} AS naptime, ${COST_SQL}`,
  );
  const cost = costSettingsOf(threshold);
  const settings: AnalyzeThreshold = { base: Number(threshold?.base ?? 50), scaleFactor: Number(threshold?.scale_factor ?? 0.1), pauseSeconds: pauseFor(options, threshold?.naptime) };
  const activity = await client.query<{ table: string; rows: number; modified: string; reloptions: string[] | null; since_analyze: number | null }>(
    `SELECT s.relname AS table, c.reltuples::float8 AS rows, s.n_mod_since_analyze::text AS modified, c.reloptions,
            EXTRACT(EPOCH FROM clock_timestamp() - GREATEST(s.last_analyze, s.last_autoanalyze))::float8 AS since_analyze
       FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
      WHERE s.schemaname = current_schema() AND s.relname <> ALL($1::text[]) ORDER BY s.relname`,
    [KEYED_ONLY_TABLES],
  );
  const analyzed: string[] = [];
  for (const row of activity) {
    const activityOf: TableActivity = { table: row.table, rows: row.rows, modifiedSinceAnalyze: Number(row.modified), secondsSinceAnalyze: secondsSince(row.since_analyze) };
    const own = tableSettings(row.reloptions);
    if (!dueForAnalyze(activityOf, analyzeThresholdOf(settings, own))) continue;
    if (options.signal?.aborted === true) break;
    try {
      if (await analyzeUnlessBusy(client, row.table, keeperDelay(client, cost, own), options)) analyzed.push(row.table);
    } catch (error) {
      if (givenUp(error, options.signal)) break;
      throw error;
    }
  }
  return analyzed;
}

/**
 * `ANALYZE` of one table in a transaction holding the table's advisory lock, with the cost-based
 * `delay` set for that transaction alone and cancelled when `options.signal` aborts; false when
 * another instance holds the lock.
 */
async function analyzeUnlessBusy(client: SqlClient, table: string, delay: CostDelay | undefined, options: UpkeepOptions): Promise<boolean> {
  return client.transaction(
    async (tx: SqlQueryable) => {
      const [lock] = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked', [`${ANALYZE_LOCK}:${table}`]);
      if (lock?.locked !== true) return false;
      await tx.query(`ANALYZE ${quoteIdentifier(table)}`);
      return true;
    },
    { settings: costDelaySettings(delay), ...signalOf(options) },
  );
}

/** The options' signal, as a member to spread into a statement's options (none when there is none). */
function signalOf(options: UpkeepOptions): { readonly signal?: AbortSignal } {
  return options.signal === undefined ? {} : { signal: options.signal };
}

/** A name as a PostgreSQL identifier, quoted (https://www.postgresql.org/docs/15/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS). */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** What {@link StatisticsKeeper} runs, and whom it tells. */
export interface StatisticsKeeperOptions {
  /** One round's analyzing: the tables analyzed (`PlanStore.statistics.analyzeDue`), given up when `signal` aborts ({@link UpkeepOptions.signal}). */
  readonly analyzeDue: (signal: AbortSignal) => Promise<readonly string[]>;
  /** One round's vacuuming, before its analyzing: the tables vacuumed (`PlanStore.statistics.vacuumDue`); none when absent. */
  readonly vacuumDue?: (signal: AbortSignal) => Promise<readonly Vacuumed[]>;
  /** The pause between the end of one round and the start of the next. */
  readonly intervalMs: number;
  /** Told the tables of each round that analyzed some, and how long the analyzing took. */
  readonly onAnalyzed?: (tables: readonly string[], millis: number) => void;
  /** Told the tables of each round that vacuumed some, and how long the vacuuming took. */
  readonly onVacuumed?: (tables: readonly Vacuumed[], millis: number) => void;
  /** Told a round's failure; the next round runs as planned. */
  readonly onError?: (error: unknown) => void;
}

/**
 * Runs {@link vacuumDue} and {@link analyzeDue} every `intervalMs` until stopped: the first round one
 * interval after `start()`, a round never beside another. The timer does not hold the process open.
 */
export class StatisticsKeeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  /** Aborted by {@link stop}, so that a round under way gives up its table rather than finish it. */
  private abort = new AbortController();

  constructor(private readonly options: StatisticsKeeperOptions) {
    if (!(options.intervalMs > 0)) throw new RangeError(`intervalMs must be above 0, not ${String(options.intervalMs)}`);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.abort = new AbortController();
    this.schedule();
  }

  /** Stops the rounds; a round under way gives up the table it is at (its statement cancelled on PostgreSQL), and this resolves once it has. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.abort.abort();
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async round(): Promise<void> {
    try {
      // Vacuumed first, as autovacuum does: a VACUUM also counts the table's rows, which the analyze threshold reads.
      const vacuumStarted = performance.now();
      const { signal } = this.abort;
      const vacuumed = (await this.options.vacuumDue?.(signal)) ?? [];
      if (vacuumed.length > 0) this.options.onVacuumed?.(vacuumed, Math.round(performance.now() - vacuumStarted));
      if (signal.aborted) return;
      const analyzeStarted = performance.now();
      const tables = await this.options.analyzeDue(signal);
      if (tables.length > 0) this.options.onAnalyzed?.(tables, Math.round(performance.now() - analyzeStarted));
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}
