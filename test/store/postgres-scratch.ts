/**
 * Scratch databases on the machine's PostgreSQL for the store tests: one per store a test opens, named
 * `sip_test_<random>`, dropped afterwards. The server is read from SIP_TEST_DATABASE_URL (default: the
 * local server with trust auth). When it cannot be reached the tests fail with a message that says so.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_DATABASE_URL = process.env.SIP_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** `url` with its database replaced. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Runs one statement on the server's `postgres` database, failing clearly when the server is not there. */
export async function onServer(sql: string, url: string = TEST_DATABASE_URL): Promise<void> {
  const client = new pg.Client({ connectionString: withDatabase(url, 'postgres'), connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    const address = new URL(url);
    address.password = '';
    throw new Error(
      `PostgreSQL at ${address.toString()} cannot be reached (${error instanceof Error ? error.message : String(error)}): ` +
        'the store tests need a running server; start it or set SIP_TEST_DATABASE_URL',
      { cause: error },
    );
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface ScratchDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

export async function createScratchDatabase(): Promise<ScratchDatabase> {
  const name = `sip_test_${randomBytes(6).toString('hex')}`;
  await onServer(`CREATE DATABASE ${name}`);
  return {
    url: withDatabase(TEST_DATABASE_URL, name),
    drop: () => onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
