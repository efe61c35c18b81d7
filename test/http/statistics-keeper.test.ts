/**
 * `sip-fhir serve` vacuums and analyzes its store's tables where the database's autovacuum does not
 * (src/store/statistics.ts, src/http/server.ts): on the embedded store always, on PostgreSQL when its
 * autovacuum is off, and says so in the log; SIP_ANALYZE_SECONDS sets how often, 0 never.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { newStoredPlan, personnummer } from '../../bench/support.js';
import { planResourceIds } from '../../src/fhir/index.js';
import { loadConfig, serverConfigSchema } from '../../src/http/config.js';
import { startServer, type RunningServer } from '../../src/http/server.js';
import { openPg } from '../../src/store/sql-client.js';
import { createScratchDatabase, type ScratchDatabase } from '../store/postgres-scratch.js';

const folders: string[] = [];
const databases: ScratchDatabase[] = [];
afterAll(async () => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  for (const database of databases) await database.drop();
});

interface LogLine {
  level: number;
  msg: string;
  tables?: string[];
  reasons?: string[];
  millis?: number;
  setting?: string;
}

/** A server on a fresh store analyzing every `seconds`, and the lines it logs. */
async function serverLogging(driver: 'PGlite' | 'PostgreSQL', seconds: number): Promise<{ server: RunningServer; lines: LogLine[]; databaseUrl?: string }> {
  const folder = mkdtempSync(join(tmpdir(), 'sip-keeper-'));
  folders.push(folder);
  const database = driver === 'PostgreSQL' ? await createScratchDatabase() : undefined;
  if (database !== undefined) databases.push(database);
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const config = serverConfigSchema.parse({ port: 0, dataDir: folder, loadExamples: false, analyzeSeconds: seconds, ...(database === undefined ? {} : { databaseUrl: database.url }) });
  const server = await startServer(config, { logger: pino({ level: 'info' }, sink) });
  return { server, lines, ...(database === undefined ? {} : { databaseUrl: database.url }) };
}

async function recordPlans(server: RunningServer, count: number): Promise<void> {
  for (let index = 0; index < count; index++) {
    const plan = newStoredPlan(`keeper-${String(index)}`, personnummer(index));
    await server.store.create(plan, 'system', planResourceIds(plan));
  }
}

async function waitFor(condition: () => boolean, what: string, millis = 15_000): Promise<void> {
  const deadline = Date.now() + millis;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited ${String(millis)} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const vacuumedResources = (line: LogLine): boolean => line.msg === "vacuumed tables past autovacuum's thresholds" && (line.tables ?? []).includes('plan_resources');
const analyzedPlans = (line: LogLine): boolean => line.msg === 'analyzed tables whose planner statistics were out of date' && (line.tables ?? []).includes('plans');

describe('the server keeps its store\'s planner statistics', () => {
  it('on the embedded store: vacuums and analyzes the tables once enough rows changed, and logs which', { timeout: 60_000 }, async () => {
    const { server, lines } = await serverLogging('PGlite', 1);
    try {
      await recordPlans(server, 60);
      await waitFor(() => lines.some(analyzedPlans), 'the plans table analyzed');
      expect(lines.find(analyzedPlans)?.millis).toEqual(expect.any(Number));
      // 60 plans of 31 resources each: 1,860 rows inserted, past autovacuum's 1,000.
      await waitFor(() => lines.some(vacuumedResources), 'the resources table vacuumed');
      const vacuumed = lines.find(vacuumedResources);
      expect(vacuumed?.reasons?.[vacuumed.tables?.indexOf('plan_resources') ?? -1]).toBe('inserted-rows');
      expect(vacuumed?.millis).toEqual(expect.any(Number));
      // Nothing to warn of: an embedded database has no autovacuum to turn on.
      expect(lines.filter((line) => line.setting !== undefined)).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('on the embedded store with SIP_ANALYZE_SECONDS=0: never analyzes', { timeout: 60_000 }, async () => {
    const { server, lines } = await serverLogging('PGlite', 0);
    try {
      await recordPlans(server, 60);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(lines.filter(analyzedPlans)).toEqual([]);
      expect(lines.filter(vacuumedResources)).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('on PostgreSQL: leaves it to autovacuum when on; when off, warns at start and analyzes', { timeout: 60_000 }, async () => {
    const { server, lines, databaseUrl } = await serverLogging('PostgreSQL', 1);
    const sql = openPg(databaseUrl ?? '', { maxConnections: 1 });
    try {
      const [settings] = await sql.query<{ autovacuum: string }>(`SELECT current_setting('autovacuum') AS autovacuum`);
      const warnings = lines.filter((line) => line.setting === 'autovacuum');
      await recordPlans(server, 60);
      if (settings?.autovacuum === 'on') {
        expect(warnings).toEqual([]);
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        expect(lines.filter(analyzedPlans)).toEqual([]);
      } else {
        expect(warnings).toHaveLength(1);
        expect(warnings[0]?.level).toBe(40);
        expect(warnings[0]?.msg).toMatch(/autovacuum is off: this server looks at the store's tables every 1 s \(SIP_ANALYZE_SECONDS\) and vacuums and analyzes those past autovacuum's thresholds, each at most once an autovacuum_naptime and at autovacuum's cost-based delay, and no other tables/);
        // The server's pool reports its counts of changed rows within about 10 s when idle.
        await waitFor(() => lines.some(analyzedPlans), 'the plans table analyzed', 30_000);
      }
    } finally {
      await sql.close();
      await server.close();
    }
  });
});

describe('SIP_ANALYZE_SECONDS', () => {
  it('is 10 by default; 0 to an hour in whole seconds, and anything else is named', () => {
    expect(loadConfig({})).toMatchObject({ ok: true, config: { analyzeSeconds: 10 } });
    expect(loadConfig({ SIP_ANALYZE_SECONDS: '0' })).toMatchObject({ ok: true, config: { analyzeSeconds: 0 } });
    for (const [value, message] of [
      ['-1', /SIP_ANALYZE_SECONDS \(analyzeSeconds\) must be 0 or more/],
      ['2.5', /SIP_ANALYZE_SECONDS \(analyzeSeconds\) must be a whole number of seconds/],
      ['7200', /SIP_ANALYZE_SECONDS \(analyzeSeconds\) must be at most 3600/],
    ] as const) {
      const result = loadConfig({ SIP_ANALYZE_SECONDS: value });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.problems.join('\n')).toMatch(message);
    }
  });
});
