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

export interface SqlClient extends SqlQueryable {
  readonly driver: 'pglite' | 'pg';
  /**
   * Runs `work` in one transaction (READ COMMITTED): committed when it resolves, rolled back when it
   * throws, and the error passed on unchanged.
   */
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
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
    transaction: (work) => db.transaction((tx) => work(queryable(tx))),
    close: () => db.close(),
  };
}

/** A pool of connections to the PostgreSQL server at `databaseUrl`. */
export function openPg(databaseUrl: string, options: { maxConnections?: number } = {}): SqlClient {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.maxConnections ?? 10, connectionTimeoutMillis: 10_000 });
  // An idle connection the server drops is removed from the pool, which reports it here; without a
  // listener Node would end the process. The next query opens a new connection.
  pool.on('error', () => undefined);
  const queryable = (runner: pg.Pool | pg.PoolClient): SqlQueryable => ({
    async query<Row extends object>(sql: string, params: readonly unknown[] = []) {
      return (await runner.query<Row & pg.QueryResultRow>(sql, [...params])).rows;
    },
  });
  return {
    driver: 'pg',
    ...queryable(pool),
    async transaction(work) {
      const connection = await pool.connect();
      try {
        await connection.query('BEGIN');
        const result = await work(queryable(connection));
        await connection.query('COMMIT');
        connection.release();
        return result;
      } catch (error) {
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
    close: () => pool.end(),
  };
}
