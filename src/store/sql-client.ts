/**
 * The one small SQL interface the store is written against: PostgreSQL statements with `$1` parameters,
 * and transactions. Two drivers implement it — PGlite (PostgreSQL compiled to WebAssembly, in this
 * process, persisted under a folder) and `pg` (a real PostgreSQL server) — so the store's SQL is the
 * same for both.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/** Runs one statement (no `;`-separated lists: PGlite's extended protocol takes one at a time). */
export interface SqlQueryable {
  query<Row extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

/** What a transaction is run with. */
export interface TransactionOptions {
  /**
   * Settings for this transaction only (`SET LOCAL name = value`, sent with `BEGIN` on PostgreSQL: no
   * round trip of their own): the planner's, or the cost-based delay of an `ANALYZE`. Names and values
   * are the code's own constants or numbers read from the server's settings, checked against
   * {@link SETTING_NAME} and {@link SETTING_VALUE}; they end with the transaction and never reach
   * another user of the connection.
   */
  readonly settings?: Readonly<Record<string, string>>;
  /**
   * For work that may run long and can be given up, as the keeper's throttled `VACUUM`. On PostgreSQL,
   * when it aborts, the statement the work is running is cancelled (`pg_cancel_backend`), so it
   * rejects with SQLSTATE `57014`, and the connection is closed rather than returned to the pool: a
   * cancel that arrived after its statement ended must not reach the next user's. Work not yet begun
   * is not begun. PGlite cannot cancel a statement; it ignores the signal.
   */
  readonly signal?: AbortSignal;
}

/** A setting's name as {@link TransactionOptions.settings} takes it: no quoting needed. */
const SETTING_NAME = /^[a-z_][a-z0-9_.]*$/;

/** A setting's value as {@link TransactionOptions.settings} takes it: a plain word or a number, no quoting needed. */
const SETTING_VALUE = /^(?:[a-z_][a-z0-9_.]*|-?[0-9]+(?:\.[0-9]+)?(?:e-?[0-9]+)?)$/;

/** The settings as name and value, each checked against {@link SETTING_NAME} and {@link SETTING_VALUE}. */
function checkedSettings(settings: Readonly<Record<string, string>> = {}): [string, string][] {
  return Object.entries(settings).map(([name, value]) => {
    if (!SETTING_NAME.test(name) || !SETTING_VALUE.test(value)) throw new RangeError(`a setting must be a plain name and a plain word or number, not ${name} = ${value}`);
    return [name, value];
  });
}

/** A connection watched for an abort ({@link TransactionOptions.signal}): `end()` stops watching and tells whether it cancelled, once the cancel has been sent. */
interface AbortWatch {
  end(): Promise<boolean>;
}

/** `SET LOCAL` statements for the settings, checked. */
export function setLocal(settings: Readonly<Record<string, string>> = {}): string[] {
  return checkedSettings(settings).map(([name, value]) => `SET LOCAL ${name} = ${value}`);
}

export interface SqlClient extends SqlQueryable {
  readonly driver: 'pglite' | 'pg';
  /**
   * Runs `work` in one transaction (READ COMMITTED): committed when it resolves, rolled back when it
   * throws, and the error passed on unchanged.
   */
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * PostgreSQL only: runs `work` on one connection of the pool outside a transaction, with `settings`
   * set for the connection's session (`SET name = value`) until `work` ends, then reset, so no other
   * user of the connection sees them. For a statement that cannot run in a transaction block, as
   * `VACUUM` cannot, which `SET LOCAL` ({@link transaction}'s settings) cannot reach.
   */
  session?<T>(work: (connection: SqlQueryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * PostgreSQL only: calls `onNotify` for every `NOTIFY` on `channel` (a plain name), over a connection
   * of its own outside the pool, until the returned function is called. A listener whose connection
   * breaks stops calling (it is not reopened): a caller keeps polling as well.
   */
  listen?(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** The SQLSTATE of an error raised by either driver (`23505` unique violation …), if it carries one. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = error.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** PGlite in `dataDir` (created when missing). One process owns the folder at a time. */
export async function openPglite(dataDir: string): Promise<SqlClient> {
  mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  const queryable = (runner: Pick<PGlite, 'query'>): SqlQueryable => ({
    async query<Row extends object>(sql: string, params: readonly unknown[] = []) {
      return (await runner.query<Row>(sql, [...params])).rows;
    },
  });
  return {
    driver: 'pglite',
    ...queryable(db),
    // PGlite runs one statement at a time; its transaction holds the instance until it ends, so other
    // queries of this process wait for it as they would for a row lock on a server.
    transaction: (work, options) =>
      db.transaction(async (tx) => {
        for (const statement of setLocal(options?.settings)) await tx.query(statement);
        return work(queryable(tx));
      }),
    close: () => db.close(),
  };
}

/** Most statement texts {@link openPg} prepares by name; texts seen after these are sent unnamed, as before. */
export const MAX_PREPARED_STATEMENTS = 256;

/**
 * Names for statement texts, so that each connection parses and plans a statement once and then only
 * binds and executes it (PostgreSQL's named prepared statements; `pg` prepares a name on a connection
 * the first time it is used there). Sent unnamed, every statement was parsed, analysed and planned on
 * every call: for a FHIR read's five-table join, planning took 0.6–0.9 ms of PostgreSQL's CPU against
 * 0.1–0.3 ms to execute it (EXPLAIN ANALYZE, docs/performance.md "Seventh run"). Only the plan is kept,
 * never a result: each call still reads the rows as they are when it runs. PostgreSQL re-plans a
 * prepared statement when a table it reads changes, and after five calls may keep a generic plan
 * (`plan_cache_mode`), which for the store's key lookups is the same plan.
 *
 * Only statements with parameters are named (those without go by the simple protocol, migrations'
 * DDL among them); the store builds its SQL from fixed pieces, so the texts are few, and past
 * {@link MAX_PREPARED_STATEMENTS} a new text is sent unnamed rather than prepared on every connection.
 */
export class StatementNames {
  private readonly names = new Map<string, string>();
  private told = false;

  /**
   * @param onFull - called once, with the limit, when the first text past it is sent unnamed: from
   * then on such texts are planned at every call (a create ≈ 1.9 ms more of PostgreSQL's CPU,
   * bench/pg-plan-cache.ts), which an operator should hear of.
   */
  constructor(
    private readonly max = MAX_PREPARED_STATEMENTS,
    private readonly onFull?: (max: number) => void,
  ) {}

  /** The name to prepare `sql` under, or undefined to send it unnamed. */
  nameOf(sql: string): string | undefined {
    const known = this.names.get(sql);
    if (known !== undefined) return known;
    if (this.names.size >= this.max) {
      if (!this.told) {
        this.told = true;
        this.onFull?.(this.max);
      }
      return undefined;
    }
    const name = `sip_${String(this.names.size + 1)}`;
    this.names.set(sql, name);
    return name;
  }
}

/**
 * How long a connection of {@link openPg}'s pool may stay idle before the pool closes it: 5 minutes,
 * not pg-pool's default of 10 seconds. A connection is dear to open and dearer to warm: on the
 * machine's PostgreSQL 15 a new backend cost 11 ms of its CPU to start, and its first `POST /fhir`
 * (the plan's read and the version's statement) 24 ms, the next four 4–6 ms each while PostgreSQL
 * plans each statement anew before it keeps a generic plan — about 50 ms more than eight transactions
 * on a warm connection (1.4 ms each; bench/pg-tx-split.ts, docs/performance.md branch `i11-pgtx`).
 * The pool hands out its most recently used connection first, so at a moderate rate only a few are
 * busy and the others went idle and were closed after 10 s, to be opened again by the next burst.
 * Open connections are bounded by the pool's `max` either way.
 */
export const POOL_IDLE_MILLIS = 300_000;

/**
 * A pool of connections to the PostgreSQL server at `databaseUrl`. Statements with parameters are
 * prepared by name on each connection ({@link StatementNames}) unless `prepare` is false — as it must
 * be behind a connection pooler that does not keep a session's prepared statements (PgBouncer in
 * transaction mode before 1.21). An idle connection is closed after `idleMillis` ({@link POOL_IDLE_MILLIS}).
 */
export function openPg(databaseUrl: string, options: { maxConnections?: number; prepare?: boolean; idleMillis?: number; onStatementNamesFull?: (max: number) => void } = {}): SqlClient {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: options.idleMillis ?? POOL_IDLE_MILLIS,
  });
  // An idle connection the server drops is removed from the pool, which reports it here; without a
  // listener Node would end the process. The next query opens a new connection.
  pool.on('error', () => undefined);
  const statements = options.prepare === false ? undefined : new StatementNames(MAX_PREPARED_STATEMENTS, options.onStatementNamesFull);
  /** Cancels the connection's running statement from another connection when `signal` aborts ({@link TransactionOptions.signal}). */
  const cancelOnAbort = async (connection: pg.PoolClient, signal: AbortSignal): Promise<AbortWatch> => {
    const { rows } = await connection.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const pid = rows[0]?.pid;
    let cancelled: Promise<unknown> | undefined;
    const cancel = (): void => {
      cancelled = pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
    };
    if (signal.aborted) cancel();
    else signal.addEventListener('abort', cancel, { once: true });
    return {
      end: async () => {
        signal.removeEventListener('abort', cancel);
        if (cancelled === undefined) return false;
        await cancelled;
        return true;
      },
    };
  };
  const queryable = (runner: pg.Pool | pg.PoolClient): SqlQueryable => ({
    async query<Row extends object>(sql: string, params: readonly unknown[] = []) {
      const name = params.length === 0 ? undefined : statements?.nameOf(sql);
      const values = [...params];
      const result = name === undefined ? await runner.query<Row & pg.QueryResultRow>(sql, values) : await runner.query<Row & pg.QueryResultRow>({ name, text: sql, values });
      return result.rows;
    },
  });
  return {
    driver: 'pg',
    ...queryable(pool),
    async transaction(work, options) {
      const begin = ['BEGIN', ...setLocal(options?.settings)].join('; ');
      options?.signal?.throwIfAborted();
      const connection = await pool.connect();
      let watch: AbortWatch | undefined;
      try {
        if (options?.signal !== undefined) watch = await cancelOnAbort(connection, options.signal);
        await connection.query(begin);
        const result = await work(queryable(connection));
        await connection.query('COMMIT');
        // A transaction without a signal (every request's) takes no extra turn here.
        connection.release(watch !== undefined && (await watch.end()) ? true : undefined);
        return result;
      } catch (error) {
        if (watch !== undefined && (await watch.end())) {
          // Cancelled: the server rolls the transaction back as the connection closes.
          connection.release(true);
          throw error;
        }
        // A connection whose ROLLBACK fails is broken: destroy it rather than return it to the pool.
        await connection.query('ROLLBACK').then(
          () => {
            connection.release();
          },
          (rollbackError: unknown) => {
            connection.release(rollbackError instanceof Error ? rollbackError : true);
          },
        );
        throw error;
      }
    },
    async session(work, options) {
      const settings = checkedSettings(options?.settings);
      options?.signal?.throwIfAborted();
      const connection = await pool.connect();
      let watch: AbortWatch | undefined;
      // A connection cancelled, or whose settings could not be reset, is destroyed rather than returned to the pool.
      let broken: Error | true | undefined;
      try {
        if (options?.signal !== undefined) watch = await cancelOnAbort(connection, options.signal);
        if (settings.length > 0) await connection.query(settings.map(([name, value]) => `SET ${name} = ${value}`).join('; '));
        return await work(queryable(connection));
      } finally {
        if (watch !== undefined && (await watch.end())) broken = true;
        else if (settings.length > 0) {
          await connection.query(settings.map(([name]) => `RESET ${name}`).join('; ')).catch((resetError: unknown) => {
            broken = resetError instanceof Error ? resetError : true;
          });
        }
        connection.release(broken);
      }
    },
    async listen(channel, onNotify) {
      if (!SETTING_NAME.test(channel)) throw new RangeError(`a channel must be a plain name, not ${channel}`);
      const listener = new pg.Client({ connectionString: databaseUrl });
      // A broken listener only stops waking; the caller's polling goes on. Without a listener Node would end the process.
      listener.on('error', () => undefined);
      listener.on('notification', (message) => {
        if (message.channel === channel) onNotify();
      });
      await listener.connect();
      await listener.query(`LISTEN ${channel}`);
      return () => listener.end().catch(() => undefined);
    },
    close: () => pool.end(),
  };
}
