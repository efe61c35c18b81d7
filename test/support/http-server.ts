/**
 * The real server (`startServer`) on a loopback port for the HTTP tests, on the embedded store
 * (PGlite in a fresh folder) or on a scratch database of the machine's PostgreSQL, with a fixed clock
 * and bearer tokens signed by the server's own key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
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
  close(): Promise<void>;
}

/**
 * Starts the server; the rate limit is lifted so that many requests from loopback are not refused with
 * 429. Its clock is {@link NOW} unless a test brings its own (to read a plan at a moment its consent
 * is in force, say).
 */
export async function startTestServer(driver: Driver, clock: () => Date = () => NOW): Promise<TestServer> {
  const folder = mkdtempSync(join(tmpdir(), 'sip-http-'));
  let scratch: ScratchDatabase | undefined;
  try {
    scratch = driver === 'postgres' ? await createScratchDatabase() : undefined;
    const config = serverConfigSchema.parse({
      port: 0,
      dataDir: folder,
      loadExamples: false,
      rateLimitPerMinute: 1_000_000,
      maxBodyBytes: 256 * 1024,
      ...(scratch === undefined ? {} : { databaseUrl: scratch.url }),
    });
    const server = await startServer(config, { clock, logger: pino({ level: 'silent' }) });
    if (server.authenticator.mode !== 'local') throw new Error('the test server signs its own tokens');
    const token = await issueLocalToken({ org: REGION, scopes: 'system/*.*', ttlSeconds: 3600 }, server.authenticator.localKey, NOW);
    const database = scratch;
    return {
      server,
      url: server.url,
      token,
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
