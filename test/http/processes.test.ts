/**
 * `sip-fhir serve` as several processes on one port (`SIP_PROCESSES`, src/http/processes.ts), run as
 * a real child process on a PostgreSQL scratch database, called over loopback: both processes serve;
 * the rate limit counts an address's requests across them; a replayed transaction posted ten times at
 * once to both creates one plan version; a process killed with SIGKILL is replaced; SIGTERM ends them
 * all with exit 0. And the settings that cannot work are refused before anything starts.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planToBundle } from '../../src/fhir/index.js';
import { formatDate, stockholmDate, type SipPlan } from '../../src/sip/index.js';
import { freshPlan, REGION } from '../support/http-server.js';
import { createScratchDatabase, type ScratchDatabase } from '../store/postgres-scratch.js';

const CLI = ['--import', 'tsx', 'src/cli/bin.ts'];
const run = promisify(execFile);

interface Served {
  readonly child: ChildProcess;
  readonly url: string;
  /** What the primary printed on stderr (the banner) and what every process logged on stdout so far. */
  readonly stderr: () => string;
  readonly stdout: () => string;
  readonly exited: Promise<number | null>;
}

/** Starts `sip-fhir serve` with `env` on a free loopback port; resolves once the banner names the URL. */
function serve(env: Record<string, string>): Promise<Served> {
  const child = spawn(process.execPath, [...CLI, 'serve', '--port', '0', '--host', '127.0.0.1'], { env: { ...process.env, SIP_LOAD_EXAMPLES: 'false', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code); }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sip-fhir serve did not start within 60 s:\n${stderr}`));
    }, 60_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve({ child, url: match[1], stderr: () => stderr, stdout: () => stdout, exited });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sip-fhir serve ended (${String(code)}) before listening:\n${stderr}`));
    });
  });
}

/** A GET on a connection of its own (no keep-alive), so that successive calls are spread over the processes. */
function getOnNewConnection(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const call = request(url, { agent: false, headers }, (response) => {
      response.resume();
      response.once('end', () => { resolve(response.statusCode ?? 0); });
    });
    call.once('error', reject);
    call.end();
  });
}

/** The node processes whose parent is `pid` (the server processes of a primary), from /proc. */
function childPids(pid: number): number[] {
  const children = readFileSync(`/proc/${String(pid)}/task/${String(pid)}/children`, 'utf8').trim();
  return children === '' ? [] : children.split(' ').map(Number).filter((child) => readFileSync(`/proc/${String(child)}/cmdline`, 'utf8').includes('bin.ts'));
}

/** The pids of the request log's lines (pino JSON on stdout). */
function loggedPids(stdout: string): Set<number> {
  const pids = new Set<number>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { pid?: number; msg?: string };
    if (entry.msg === 'request completed' && entry.pid !== undefined) pids.add(entry.pid);
  }
  return pids;
}

/** A new plan whose consent is in force on the real date (the child process runs on the real clock). */
function planOfToday(id: string): SipPlan {
  const plan = freshPlan(id);
  const today = new Date();
  const givenAt = formatDate(stockholmDate(today));
  const validUntil = formatDate(stockholmDate(new Date(today.getTime() + 300 * 86_400_000)));
  return { ...plan, updatedAt: today.toISOString(), consents: plan.consents.map((consent) => ({ ...consent, givenAt, validUntil })) };
}

describe('sip-fhir serve with SIP_PROCESSES=2 on PostgreSQL', () => {
  const folder = mkdtempSync(join(tmpdir(), 'sip-processes-'));
  let scratch: ScratchDatabase;
  let served: Served;
  let token: string;
  const RATE_LIMIT = 8;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    served = await serve({ SIP_DATA_DIR: folder, DATABASE_URL: scratch.url, SIP_PROCESSES: '2', SIP_RATE_LIMIT: String(RATE_LIMIT) });
    token = (await run(process.execPath, [...CLI, 'token', '--data-dir', folder, '--org', REGION, '--scope', 'system/*.*'])).stdout.trim();
  }, 90_000);

  afterAll(async () => {
    if (served.child.exitCode === null) served.child.kill('SIGKILL');
    await scratch.drop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('prints one banner naming the processes, and runs two server processes under the primary', () => {
    expect(served.stderr().match(/listening on/g)).toHaveLength(1);
    expect(served.stderr()).toContain('processes:  2 sharing the port');
    expect(childPids(served.child.pid ?? 0)).toHaveLength(2);
  });

  it('counts an address against SIP_RATE_LIMIT across both processes', async () => {
    // Each call on a new connection: the primary hands connections to the processes in turn, so
    // limits counted per process would let 2 × RATE_LIMIT through.
    const statuses: number[] = [];
    for (let call = 0; call < 2 * RATE_LIMIT; call++) statuses.push(await getOnNewConnection(`${served.url}/health`));
    expect(statuses.filter((status) => status === 200)).toHaveLength(RATE_LIMIT);
    expect(statuses.filter((status) => status === 429)).toHaveLength(RATE_LIMIT);
  });

  it('records a transaction posted ten times at once once, whichever process takes each', async () => {
    // A server of its own, without a tight rate limit, on the same database.
    const other = await serve({ SIP_DATA_DIR: folder, DATABASE_URL: scratch.url, SIP_PROCESSES: '2', SIP_RATE_LIMIT: '100000' });
    try {
      const plan = planOfToday('sip-processes-replay');
      const body = JSON.stringify(planToBundle(plan));
      const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json' };
      const answers = await Promise.all(Array.from({ length: 10 }, () => fetch(`${other.url}/fhir`, { method: 'POST', headers, body }).then(async (response) => ({ status: response.status, text: await response.text() }))));
      for (const answer of answers) expect(answer.status, answer.text).toBe(200);
      const history = await fetch(`${other.url}/sip/plans/${plan.id}/_history`, { headers: { Authorization: `Bearer ${token}` } });
      expect(history.status).toBe(200);
      const versions = ((await history.json()) as { versions: { version: number }[] }).versions;
      expect(versions.map((version) => version.version)).toEqual([1]);
      other.child.kill('SIGTERM');
      expect(await other.exited).toBe(0);
      // Both processes took requests: the log's lines, flushed at the close, carry two pids.
      expect(loggedPids(other.stdout()).size).toBe(2);
    } finally {
      if (other.child.exitCode === null) other.child.kill('SIGKILL');
    }
  }, 90_000);

  it('replaces a process killed with SIGKILL, and ends every process with exit 0 at SIGTERM', async () => {
    const primary = served.child.pid ?? 0;
    const [victim] = childPids(primary);
    expect(victim).toBeDefined();
    process.kill(victim ?? 0, 'SIGKILL');
    const deadline = Date.now() + 30_000;
    let pids = childPids(primary);
    while ((pids.length < 2 || pids.includes(victim ?? 0)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      pids = childPids(primary);
    }
    expect(pids).toHaveLength(2);
    expect(pids).not.toContain(victim);
    while (!served.stdout().includes('a new server process listens') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    // The new process serves: calls on new connections reach both processes in turn (the rate limit,
    // spent by the test above, may answer 429: an answer all the same, and logged).
    for (let call = 0; call < 6; call++) expect([200, 429]).toContain(await getOnNewConnection(`${served.url}/health`));
    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);
    expect(served.stdout()).toContain('a server process ended; starting another');
    for (const pid of pids) expect(loggedPids(served.stdout())).toContain(pid);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  }, 60_000);
});

describe('SIP_PROCESSES refused where it cannot work', () => {
  it('refuses more than one process on the embedded store, naming the setting, before anything starts', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'sip-processes-pglite-'));
    try {
      const failure = await run(process.execPath, [...CLI, 'serve', '--port', '0'], { env: { ...process.env, SIP_DATA_DIR: folder, SIP_PROCESSES: '2', DATABASE_URL: '' } }).then(
        () => undefined,
        (error: unknown) => error as { code: number; stderr: string },
      );
      expect(failure?.code).toBe(2);
      expect(failure?.stderr).toContain('SIP_PROCESSES (processes) must be 1 on the embedded store');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 30_000);

  it.each([['1'], ['2']])('refuses a port in use with exit 2 and the port named (SIP_PROCESSES=%s)', async (processes) => {
    const scratch = await createScratchDatabase();
    const folder = mkdtempSync(join(tmpdir(), 'sip-processes-port-'));
    const blocker = await serve({ SIP_DATA_DIR: folder, DATABASE_URL: scratch.url });
    try {
      const port = new URL(blocker.url).port;
      const child = spawn(process.execPath, [...CLI, 'serve', '--port', port, '--host', '127.0.0.1'], { env: { ...process.env, SIP_DATA_DIR: folder, DATABASE_URL: scratch.url, SIP_PROCESSES: processes, SIP_LOAD_EXAMPLES: 'false' }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
      const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => { resolve(exitCode); }));
      expect(code, stderr).toBe(2);
      expect(stderr).toContain(`port ${port} on 127.0.0.1 is in use`);
    } finally {
      blocker.child.kill('SIGTERM');
      await blocker.exited;
      await scratch.drop();
      rmSync(folder, { recursive: true, force: true });
    }
  }, 90_000);
});
