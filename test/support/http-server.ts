/**
 * The real server (`startServer`) on a loopback port for the HTTP tests, on the embedded store
 * (PGlite in a fresh folder) or on a scratch database of the machine's PostgreSQL, with a fixed clock
 * and bearer tokens signed by the server's own key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { AppDependencies } from '../../src/http/app.js';
import { issueLocalToken } from '../../src/http/auth/index.js';
import { serverConfigSchema } from '../../src/http/config.js';
import { startServer, type RunningServer } from '../../src/http/server.js';
import type { SipPlan } from '../../src/sip/index.js';
import { createScratchDatabase, type ScratchDatabase } from '../store/postgres-scratch.js';
import { readExample } from './examples.js';

/** A moment while the adult example's consent is in force (2026-02-12 – 2027-02-11). */
export const NOW = new Date('2026-04-01T10:00:00+02:00');
/** Region Dalarna, a principal of the adult example. */
export const REGION = 'SE2321000180-1000';

export type Driver = 'pglite' | 'postgres';
export const DRIVERS = [
  ['the embedded store (PGlite)', 'pglite'],
  ['PostgreSQL', 'postgres'],
] as const;

/**
 * What an app built by a test itself (`createApp`, not the whole server) needs around its store: the
 * fixed clock ({@link NOW}), no log, a 1 MiB body limit, no rate limit to speak of, and every caller
 * Region Dalarna with every scope and every plan open to it — for tests about what the app does with
 * a request, not about who may make it. A test spreads its own members after these.
 */
export function openAppDependencies(store: AppDependencies['store']): AppDependencies {
  return {
    store,
    clock: () => NOW,
    logger: pino({ level: 'silent' }),
    maxBodyBytes: 1024 * 1024,
    rateLimitPerMinute: 1_000_000,
    authenticate: () => Promise.resolve({ organization: REGION, may: () => true }),
    mayAccess: () => ({ allowed: true }),
  };
}

/** The adult example as a new plan with id `id`: version 1, not yet approved. */
export function freshPlan(id: string): SipPlan {
  const adult = readExample('adult-psychiatry-addiction.json');
  return { ...adult, id, version: 1, approvals: [], consents: adult.consents.map((consent) => ({ ...consent, planId: id })) };
}

export interface TestServer {
  readonly server: RunningServer;
  readonly url: string;
  /** A token of Region Dalarna with every scope. */
  readonly token: string;
  /** A token signed by the server's key for `organization`, with `scope` (every scope unless given), issued at {@link NOW} for an hour. */
  bearer(organization: string, scope?: string): Promise<string>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** The server's clock: {@link NOW} unless a test brings its own (to read a plan at a moment its consent is in force, say). */
  readonly clock?: () => Date;
  /**
   * Settings (`serverConfigSchema`) over the tests' defaults: the examples not loaded, the rate limit
   * lifted so that many requests from loopback are not refused with 429, bodies up to 256 KiB.
   */
  readonly settings?: Readonly<Record<string, unknown>>;
}

/**
 * Starts the server on a loopback port, in a fresh data folder, on the driver's store (a scratch
 * database of the machine's PostgreSQL for `postgres`); `close` stops it and removes both.
 */
export async function startTestServer(driver: Driver, options: TestServerOptions = {}): Promise<TestServer> {
  const folder = mkdtempSync(join(tmpdir(), 'sip-http-'));
  let scratch: ScratchDatabase | undefined;
  try {
    scratch = driver === 'postgres' ? await createScratchDatabase() : undefined;
    const config = serverConfigSchema.parse({
      loadExamples: false,
      rateLimitPerMinute: 1_000_000,
      maxBodyBytes: 256 * 1024,
      ...options.settings,
      port: 0,
      dataDir: folder,
      ...(scratch === undefined ? {} : { databaseUrl: scratch.url }),
    });
    const server = await startServer(config, { clock: options.clock ?? (() => NOW), logger: pino({ level: 'silent' }) });
    const { authenticator } = server;
    if (authenticator.mode !== 'local') throw new Error('the test server signs its own tokens');
    const bearer = (organization: string, scope = 'system/*.*'): Promise<string> =>
      issueLocalToken({ org: organization, scopes: scope, ttlSeconds: 3600 }, authenticator.localKey, NOW);
    const token = await bearer(REGION);
    const database = scratch;
    return {
      server,
      url: server.url,
      token,
      bearer,
      close: async () => {
        await server.close();
        await database?.drop();
        rmSync(folder, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await scratch?.drop();
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
}
