/**
 * A crash in the middle of a burst of writes loses nothing that was acknowledged and half-writes
 * nothing. The server runs as a real child process (`sip-fhir serve`, on PGlite in a folder and on a
 * PostgreSQL scratch database) with a token from `sip-fhir token`; writers create plans and update
 * them until the process is killed with SIGKILL; a second process on the same store must then hold
 * every write that was answered 2xx, and every plan's history must be 1..n, each version readable.
 *
 * The server runs on the real clock (a child process cannot be given ours), and every write is judged
 * when it is recorded, so the plans' consent runs from today for a year: the test passes on any day.
 * The caller is a principal of the plans (Region Dalarna), whose access does not hang on the consent.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDate, stockholmDate } from '../../src/sip/index.js';
import { DRIVERS, freshPlan, REGION } from '../support/http-server.js';
import { createScratchDatabase, type ScratchDatabase } from '../store/postgres-scratch.js';

const CLI = ['--import', 'tsx', 'src/cli/bin.ts'];

/** A new plan recorded now, whose consent is in force on the real date, from today for 300 days. */
function planOfToday(id: string): ReturnType<typeof freshPlan> {
  const plan = freshPlan(id);
  const today = new Date();
  const givenAt = formatDate(stockholmDate(today));
  const validUntil = formatDate(stockholmDate(new Date(today.getTime() + 300 * 86_400_000)));
  return { ...plan, updatedAt: today.toISOString(), consents: plan.consents.map((consent) => ({ ...consent, givenAt, validUntil })) };
}
const WRITERS = 6;
/** The process is killed once this many writes were acknowledged (or after KILL_AFTER_MS). */
const ACKNOWLEDGED_BEFORE_KILL = 40;
const KILL_AFTER_MS = 8_000;

interface Child {
  readonly process: ChildProcess;
  readonly url: string;
  readonly exited: Promise<void>;
}

/** Starts `sip-fhir serve` on a free loopback port and resolves with its URL once it listens. */
function serve(env: Record<string, string>): Promise<Child> {
  const child = spawn(process.execPath, [...CLI, 'serve', '--port', '0', '--host', '127.0.0.1'], {
    env: { ...process.env, SIP_LOAD_EXAMPLES: 'false', SIP_RATE_LIMIT: '1000000', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }));
  return new Promise<Child>((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sip-fhir serve did not start within 30 s:\n${stderr}`));
    }, 30_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve({ process: child, url: match[1], exited });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`sip-fhir serve ended (${String(code ?? signal)}) before listening:\n${stderr}`));
    });
  });
}

describe.each(DRIVERS)('a crash during writes on %s', (_name, driver) => {
  const children: ChildProcess[] = [];
  const folder = mkdtempSync(join(tmpdir(), 'sip-crash-'));
  let scratch: ScratchDatabase | undefined;

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await scratch?.drop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('keeps every acknowledged write and half-writes nothing', async () => {
    scratch = driver === 'postgres' ? await createScratchDatabase() : undefined;
    const env = { SIP_DATA_DIR: folder, ...(scratch === undefined ? {} : { DATABASE_URL: scratch.url }) };
    const first = await serve(env);
    children.push(first.process);
    const { stdout } = await promisify(execFile)(process.execPath, [...CLI, 'token', '--data-dir', folder, '--org', REGION, '--scope', 'system/*.*']);
    const headers = { Authorization: `Bearer ${stdout.trim()}`, 'Content-Type': 'application/json' };

    /** The notes of every version acknowledged with a 2xx, by plan id and version. */
    const acknowledged = new Map<string, Map<number, string>>();
    let count = 0;
    /** Set when the process is killed (an object, so the writers' loops see it change). */
    const state = { killed: false };
    const running = (): boolean => !state.killed;
    let finish: () => void = () => undefined;
    const enough = new Promise<void>((resolve) => {
      finish = resolve;
    });

    const writer = async (index: number): Promise<void> => {
      try {
        for (let round = 0; running(); round++) {
          const id = `sip-crash-${String(index)}-${String(round)}`;
          const plan = planOfToday(id);
          const versions = new Map<number, string>();
          const created = await fetch(`${first.url}/sip/plans`, { method: 'POST', headers, body: JSON.stringify({ ...plan, notes: 'version 1' }) });
          if (created.status !== 201) throw new Error(`create answered ${String(created.status)}: ${await created.text()}`);
          await created.arrayBuffer();
          versions.set(1, 'version 1');
          acknowledged.set(id, versions);
          if (++count >= ACKNOWLEDGED_BEFORE_KILL) finish();
          for (let version = 2; version <= 4 && running(); version++) {
            const notes = `version ${String(version)}`;
            const updated = await fetch(`${first.url}/sip/plans/${id}`, { method: 'PUT', headers: { ...headers, 'If-Match': `W/"${String(version - 1)}"` }, body: JSON.stringify({ ...plan, notes }) });
            if (updated.status !== 200) throw new Error(`update answered ${String(updated.status)}: ${await updated.text()}`);
            await updated.arrayBuffer();
            versions.set(version, notes);
            if (++count >= ACKNOWLEDGED_BEFORE_KILL) finish();
          }
        }
      } catch (error) {
        // After the kill a request fails at the socket; before it, any failure is the test's.
        if (running()) throw error;
      }
    };

    const writers = Array.from({ length: WRITERS }, (_, index) => writer(index));
    await Promise.race([enough, new Promise((resolve) => setTimeout(resolve, KILL_AFTER_MS)), Promise.all(writers)]);
    state.killed = true;
    first.process.kill('SIGKILL');
    await first.exited;
    await Promise.all(writers);
    expect(count).toBeGreaterThanOrEqual(ACKNOWLEDGED_BEFORE_KILL);

    const second = await serve(env);
    children.push(second.process);
    const get = async (path: string): Promise<{ status: number; body: unknown }> => {
      const response = await fetch(`${second.url}${path}`, { headers });
      return { status: response.status, body: await response.json() };
    };

    for (const [id, versions] of acknowledged) {
      for (const [version, notes] of versions) {
        const stored = await get(`/sip/plans/${id}/_history/${String(version)}`);
        expect(stored.status, `${id} version ${String(version)}`).toBe(200);
        expect(stored.body).toMatchObject({ version, plan: { id, version, notes } });
      }
    }
    const listed = await get('/sip/plans?limit=200');
    expect(listed.status).toBe(200);
    const plans = (listed.body as { plans: { version: number; plan: { id: string } }[] }).plans;
    // Every plan acknowledged is listed; a plan whose create was cut off may be there too, whole.
    expect(plans.length).toBeGreaterThanOrEqual(acknowledged.size);
    for (const { version: current, plan } of plans) {
      const history = await get(`/sip/plans/${plan.id}/_history`);
      expect(history.status, plan.id).toBe(200);
      const versions = (history.body as { versions: { version: number; plan: { version: number; notes: string } }[] }).versions;
      expect(versions.map((stored) => stored.version), plan.id).toEqual(Array.from({ length: current }, (_, index) => index + 1));
      for (const stored of versions) expect(stored.plan).toMatchObject({ version: stored.version, notes: `version ${String(stored.version)}` });
      expect(current).toBeGreaterThanOrEqual(acknowledged.get(plan.id)?.size ?? 1);
    }
    second.process.kill('SIGTERM');
    await second.exited;
  }, 90_000);
});
