/**
 * What the HTTP benchmarks share: plans (the adult example as new plans, each with its own id and
 * person, recorded now with a consent from today, so a run on any day may send (read) them), the
 * server as a child process, and the median.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HeapProfiler } from 'node:inspector';
import type { Bundle, CarePlan } from 'fhir/r4.js';
import { personIdentifier } from '../src/fhir/write/patient.js';
import { createScratchDatabase, type ScratchDatabase } from '../test/store/postgres-scratch.js';
import { formatDate, parsePlan, parsePlanText, stockholmDate, type SipPlan } from '../src/sip/index.js';

/** A valid personnummer `YYYYMMDD-NNNC` for a serial number: born 1950–1999, Luhn check digit. */
export function personnummer(serial: number): string {
  const year = 1950 + (serial % 50);
  const month = 1 + (Math.floor(serial / 50) % 12);
  const day = 1 + (Math.floor(serial / 600) % 28);
  const birth = `${String(year)}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}`;
  const number = String(1 + (Math.floor(serial / 16_800) % 999)).padStart(3, '0');
  const digits = `${birth.slice(2)}${number}`;
  let sum = 0;
  for (let index = 0; index < digits.length; index++) {
    const product = Number(digits.charAt(index)) * (index % 2 === 0 ? 2 : 1);
    sum += product > 9 ? product - 9 : product;
  }
  return `${birth}-${number}${String((10 - (sum % 10)) % 10)}`;
}

const parsed = parsePlanText(readFileSync('examples/adult-psychiatry-addiction.json', 'utf8'));
if (!parsed.ok) throw new Error('examples/adult-psychiatry-addiction.json does not parse');
/** The adult example as the SIP model reads it (defaults filled in, which the mapping needs). */
const adult: SipPlan = parsed.plan;

/** Plan `id` of person `person`: the adult example as a new plan, version 1, not yet approved. */
export function newPlan(id: string, person: string, now: Date = new Date()): SipPlan {
  const today = formatDate(stockholmDate(now));
  const in300Days = formatDate(stockholmDate(new Date(now.getTime() + 300 * 86_400_000)));
  return {
    ...adult,
    id,
    version: 1,
    approvals: [],
    individual: { ...adult.individual, identifier: { ...adult.individual.identifier, value: person } },
    updatedAt: now.toISOString(),
    consents: adult.consents.map((consent) => ({ ...consent, planId: id, givenAt: today, validUntil: in300Days })),
  };
}

/**
 * {@link newPlan} as `parsePlan` returns it — the plan a server records and keeps its derived data of
 * (identifiers normalised: the personnummer without its dash). What a bench records with
 * `derivedVersion` must be this: the kept texts of the raw plan name the Patient by an id the stored
 * plan's mapping does not give, so every delivery mapped the Patient again and left the references to
 * it relative (docs/performance.md, "The exchange, seventh round").
 */
export function newStoredPlan(id: string, person: string, now: Date = new Date()): SipPlan {
  const parsed = parsePlan(newPlan(id, person, now));
  if (!parsed.ok) throw new Error(`the bench plan ${id} does not parse: ${JSON.stringify(parsed.problems)}`);
  return parsed.plan;
}

/** The value at `share` (0–1) of `values` sorted: the one below which that share of them lies (NaN for none). */
export function percentile(values: readonly number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

export const write = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

/** How long a scenario warms up: until it answered `requests` (BENCH_WARMUP_REQUESTS), `maxSeconds` at most (BENCH_WARMUP_MAX_SECONDS). */
export const WARMUP = { requests: Number(process.env.BENCH_WARMUP_REQUESTS ?? '1500'), maxSeconds: Number(process.env.BENCH_WARMUP_MAX_SECONDS ?? '20') } as const;

/**
 * A scenario's warm-up, not counted: `slice` (one run of the scenario, resolving to the requests it
 * answered) again and again until they add up to `requests` or `maxSeconds` passed, so that the rounds
 * after it measure a server whose JIT has settled. A fixed 2 s was ≈ 250 transactions on a slow host,
 * after which V8 still optimized some 340 functions in the first round, which cost 15–25 % more CPU a
 * transaction than the second (docs/performance.md, "The transaction's JIT warm-up").
 */
export async function warmUp(slice: () => Promise<number>, options: { readonly requests: number; readonly maxSeconds: number } = WARMUP): Promise<{ answered: number; seconds: number }> {
  const started = performance.now();
  let answered = 0;
  do answered += await slice();
  while (answered < options.requests && performance.now() - started < options.maxSeconds * 1000);
  return { answered, seconds: (performance.now() - started) / 1000 };
}

/** `sip-fhir serve` as a child process on loopback. */
export interface Served {
  readonly url: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * What the benches run as the server: `dist` (the default), the checkout's own build — `npm run build`
 * made anew before its first server, then `node <its npm start options> dist/cli/bin.js serve` as `npm start` runs it; or
 * `tsx` (`BENCH_SERVER=tsx`), the sources through tsx, as the benches did before. tsx's transform
 * keeps function names by a helper (`__name`) called each time a function or closure is made — ≈ 2.4 %
 * of the server's CPU under the transaction load — and the two reacted differently to the same change
 * (docs/performance.md, branch `i11-tx8`): a figure of the server is of what production runs.
 */
const SERVER_FROM = process.env.BENCH_SERVER === 'tsx' ? 'tsx' : 'dist';

/**
 * `BENCH_GC_TRACE=<dir>`: every server runs with `--trace-gc`, its standard output (V8's line for each
 * collection) written to `<dir>/<checkout folder>-<n>.log` (n counts the servers a bench started); `npx tsx bench/gc-trace-sum.ts <dir>`
 * sums them by file.
 */
const GC_TRACE = process.env.BENCH_GC_TRACE === undefined ? undefined : resolve(process.env.BENCH_GC_TRACE);
let gcTraces = 0;

/** A file for a server's `--trace-gc` lines, opened for writing: `<dir>/<checkout folder>-<n>.log`. */
function traceFile(dir: string, cwd: string): number {
  mkdirSync(dir, { recursive: true });
  gcTraces += 1;
  return openSync(join(dir, `${basename(resolve(cwd))}-${String(gcTraces)}.log`), 'w');
}

/** Each checkout's build, made once per bench process (it takes ≈ 25 s of tsc). */
const builds = new Map<string, Promise<void>>();

/** `npm run build` in `cwd`, once; fails with tsc's output. */
function buildOnce(cwd: string): Promise<void> {
  let build = builds.get(cwd);
  if (build === undefined) {
    build = new Promise<void>((resolveBuild, reject) => {
      process.stderr.write(`building ${cwd} (npm run build), to run the server as npm start does…\n`);
      const child = spawn('npm', ['run', 'build'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const gather = (chunk: Buffer): void => {
        output = (output + chunk.toString('utf8')).slice(-10_000);
      };
      child.stdout.on('data', gather);
      child.stderr.on('data', gather);
      child.once('error', reject);
      child.once('exit', (code) => {
        if (code === 0) resolveBuild();
        else reject(new Error(`npm run build in ${cwd} failed (${String(code)}):\n${output}`));
      });
    });
    builds.set(cwd, build);
  }
  return build;
}

/**
 * node's own options in the checkout's `npm start` (`node <options> dist/cli/bin.js serve`), so that its
 * server runs with them as `npm start` runs it (e.g. `--max-semi-space-size`, docs/performance.md, branch
 * `i11-read10`); each checkout its own, so a before/after compares them too.
 */
export function startOptions(cwd: string): string[] {
  const { scripts } = JSON.parse(readFileSync(resolve(cwd, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const start = scripts?.start ?? '';
  const match = /^node((?: --[\w-]+(?:=\S+)?)*) dist\/cli\/bin\.js serve$/.exec(start);
  if (match === null) throw new Error(`package.json's start script in ${cwd} is not "node [--option …] dist/cli/bin.js serve": ${start}`);
  return (match[1] ?? '').split(' ').filter((option) => option !== '');
}

/**
 * Starts `sip-fhir serve` as a child process — as it runs in production ({@link SERVER_FROM}), and so
 * that autocannon's own CPU is not counted in the server's event loop — on the database, without the
 * example plans and with the rate limit lifted; `env` adds settings, `nodeArgs` options of node
 * (`--cpu-prof`, say).
 */
export async function startServe(
  databaseUrl: string,
  dataDir: string,
  options: { env?: Readonly<Record<string, string>>; nodeArgs?: readonly string[]; /** Another checkout to run (its build, or its src/), for a before/after in the same rounds. */ cwd?: string } = {},
): Promise<Served> {
  const cwd = options.cwd ?? process.cwd();
  if (SERVER_FROM === 'dist') await buildOnce(resolve(cwd));
  const entry = SERVER_FROM === 'dist' ? ['dist/cli/bin.js'] : ['--import', 'tsx', 'src/cli/bin.ts'];
  const gcTrace = GC_TRACE === undefined ? [] : ['--trace-gc'];
  // With BENCH_GC_TRACE, the server's standard output (V8's line for each collection) goes to a file of its own: the checkout's folder name and a serial.
  const stdout = GC_TRACE === undefined ? 'ignore' : traceFile(GC_TRACE, cwd);
  const child = spawn(process.execPath, [...startOptions(resolve(cwd)), ...gcTrace, ...(options.nodeArgs ?? []), ...entry, 'serve', '--port', '0', '--host', '127.0.0.1', '--no-examples'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, SIP_DATA_DIR: dataDir, SIP_RATE_LIMIT: '100000000', ...options.env },
    stdio: ['ignore', stdout, 'pipe'],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  let stopping = false;
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }));
  // A server that ends before it is stopped says so, with the end of what it wrote: a bench waiting for
  // its deliveries would otherwise wait without a word.
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`sip-fhir serve (pid ${String(child.pid)}) ended by itself (${String(code ?? signal)}):\n${stderr.slice(-2_000)}\n`);
  });
  const errors = child.stderr;
  if (errors === null) throw new Error('sip-fhir serve was started without a pipe for its standard error');
  const url = await new Promise<string>((resolve, reject) => {
    errors.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once('exit', (code) => {
      reject(new Error(`sip-fhir serve ended (${String(code)}):\n${stderr}`));
    });
  });
  return {
    url,
    pid: child.pid,
    stop: async () => {
      stopping = true;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * CPU time (user + system, ms) a process has used so far, from /proc on Linux; undefined elsewhere.
 * (The same reading as bench/http.ts makes; kept here for the benches that came after it.)
 */
export function processCpuMillis(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised command name): utime and stime, in clock ticks (100 a second).
    const fields = readFileSync(`/proc/${String(pid)}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** The processes directly under a process (from /proc on Linux); none when it has ended or /proc is not there. */
function childPids(pid: number): number[] {
  const children: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${String(pid)}/task`)) {
      const listed = readFileSync(`/proc/${String(pid)}/task/${task}/children`, 'utf8').trim();
      for (const child of listed === '' ? [] : listed.split(' ')) children.push(Number(child));
    }
  } catch {
    // The process ended while being read.
  }
  return children;
}

/**
 * What `read` gives of a process and of every process under it (a server started with
 * `SIP_PROCESSES` > 1 is a primary with its server processes as children), summed figure by figure;
 * undefined when the process itself gives nothing (gone, or no /proc). A child that ended is counted
 * no more: read it around work during which none ends.
 */
function summedOverTree<T extends Record<keyof T, number>>(pid: number | undefined, read: (pid: number) => T | undefined): T | undefined {
  if (pid === undefined) return undefined;
  const own = read(pid);
  if (own === undefined) return undefined;
  const total: Record<keyof T, number> = { ...own };
  // Object.keys of a figure object `read` made: its own keys, each a number.
  const keys = Object.keys(total) as (keyof T)[];
  for (const child of childPids(pid)) {
    const theirs = summedOverTree(child, read);
    if (theirs !== undefined) for (const key of keys) total[key] += theirs[key];
  }
  return total as T;
}

/** CPU time (ms) used so far by a process and every process under it ({@link summedOverTree}), from /proc on Linux. */
export function processTreeCpuMillis(pid: number | undefined): number | undefined {
  return summedOverTree(pid, (one) => {
    const cpu = processCpuMillis(one);
    return cpu === undefined ? undefined : { cpu };
  })?.cpu;
}

/** A process's resident memory now and at its peak, in bytes. */
export interface ResidentMemory {
  readonly current: number;
  readonly peak: number;
}

/**
 * Resident memory of a process and every process under it (as {@link processTreeCpuMillis} counts
 * them), from `VmRSS` and `VmHWM` ("high water mark") of /proc/<pid>/status on Linux; undefined
 * elsewhere or when the process is gone. `peak` sums each process's own peak, so it is at least the
 * tree's peak and never below `current`. What the bench prints to show that the server's memory stays
 * bounded while the store grows (issue #11's lesson: "memory stays bounded at any size").
 */
export function processTreeResidentMemory(pid: number | undefined): ResidentMemory | undefined {
  return summedOverTree(pid, residentMemoryOf);
}

/** One process's {@link ResidentMemory}, from /proc/<pid>/status. */
function residentMemoryOf(pid: number): ResidentMemory | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kilobytes = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  const own = { current: kilobytes('VmRSS'), peak: kilobytes('VmHWM') };
  return Number.isNaN(own.current) || Number.isNaN(own.peak) ? undefined : own;
}

/**
 * Scheduler times (ms) of a process tree's threads so far, as {@link processTreeCpuMillis} counts its
 * processes: each process's main thread — a node process's event loop, the thread whose id is the
 * process's — on a core and waiting for one (runnable, but every core busy), and every other thread
 * (V8's garbage collector and compiler helpers, libuv's pool, worker threads) on a core.
 */
export interface ThreadTimes {
  readonly eventLoopRan: number;
  readonly eventLoopWaited: number;
  readonly othersRan: number;
}

/**
 * One thread's `/proc/<pid>/task/<tid>/schedstat`: time on a core and time waiting on a run queue, in
 * nanoseconds (https://docs.kernel.org/scheduler/sched-stats.html, "/proc/<pid>/schedstat").
 */
export function threadSchedstat(pid: number, tid: string): { ran: number; waited: number } | undefined {
  try {
    const [ran, waited] = readFileSync(`/proc/${String(pid)}/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return ran === undefined || waited === undefined || Number.isNaN(ran) || Number.isNaN(waited) ? undefined : { ran, waited };
  } catch {
    return undefined;
  }
}

/**
 * {@link ThreadTimes} of a process and every process under it, from /proc on Linux (a kernel with
 * scheduler statistics); undefined elsewhere or when the process is gone. A thread or child that ended
 * is counted no more: read it around work during which none ends. What bench:http prints to tell a
 * server short of a core (its event loop waiting while PostgreSQL, the load generator and V8's own
 * helpers have the machine's two) from one whose work itself takes the time.
 */
export function processTreeThreadTimes(pid: number | undefined): ThreadTimes | undefined {
  return summedOverTree(pid, threadTimesOf);
}

/** One process's {@link ThreadTimes}. */
function threadTimesOf(pid: number): ThreadTimes | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${String(pid)}/task`);
  } catch {
    return undefined;
  }
  const main = threadSchedstat(pid, String(pid));
  if (main === undefined) return undefined;
  let othersRan = 0;
  for (const tid of tasks) if (tid !== String(pid)) othersRan += threadSchedstat(pid, tid)?.ran ?? 0;
  return { eventLoopRan: main.ran / 1e6, eventLoopWaited: main.waited / 1e6, othersRan: othersRan / 1e6 };
}

/** The PostgreSQL backends serving `database` now (process title `postgres: <user> <database> …`); undefined without /proc. */
export function postgresBackendPids(database: string): number[] | undefined {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .filter((pid) => {
        try {
          const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
          return title.startsWith('postgres: ') && title.split(' ').includes(database);
        } catch {
          // The process ended while being read.
          return false;
        }
      })
      .map(Number);
  } catch {
    return undefined;
  }
}

/**
 * CPU time (ms) used so far by the PostgreSQL backends serving `database` ({@link postgresBackendPids}),
 * by pid: from `schedstat` (nanoseconds; a backend is one thread) where the kernel keeps it, else from
 * `stat`'s 10 ms ticks, which over a few backends moved a 2 ms create's figure by 0.1 ms.
 */
export function postgresCpuMillis(database: string): Map<number, number> | undefined {
  const pids = postgresBackendPids(database);
  if (pids === undefined) return undefined;
  const backends = new Map<number, number>();
  for (const pid of pids) {
    const ran = threadSchedstat(pid, String(pid))?.ran;
    const used = ran === undefined ? processCpuMillis(pid) : ran / 1e6;
    if (used !== undefined) backends.set(pid, used);
  }
  return backends;
}

/**
 * Of two readings of {@link postgresCpuMillis}, the backends that were not there at the first (the
 * connections opened meanwhile, whose whole CPU — their start, their first statements planned anew —
 * falls in between) and the autovacuum workers at the second (`postgres: … autovacuum worker <database>`,
 * which the sum counts too), each with their CPU between the readings.
 */
export function postgresCpuParts(database: string, before: Map<number, number> | undefined, after: Map<number, number> | undefined): { opened: number; openedMillis: number; autovacuumMillis: number } {
  let opened = 0;
  let openedMillis = 0;
  let autovacuumMillis = 0;
  for (const [pid, used] of after ?? []) {
    let title = '';
    try {
      title = readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8');
    } catch {
      // The process ended since.
    }
    if (title.includes('autovacuum worker') && title.split(/[\s\0]/).includes(database)) autovacuumMillis += used - (before?.get(pid) ?? 0);
    else if (before?.has(pid) === false) {
      opened += 1;
      openedMillis += used;
    }
  }
  return { opened, openedMillis, autovacuumMillis };
}

/** CPU time the backends used between two readings of {@link postgresCpuMillis}. */
export function postgresCpuBetween(before: Map<number, number> | undefined, after: Map<number, number> | undefined): number | undefined {
  if (before === undefined || after === undefined) return undefined;
  let total = 0;
  for (const [pid, used] of after) total += used - (before.get(pid) ?? 0);
  return total;
}

/** A command to the exchange benches' receiver process, for one lane's requests (bench/exchange-receiver.ts). */
export type ReceiverCommand = 'close' | 'open' | 'stats' | 'keys' | 'reset';

/** The exchange benches' local FHIR receiver, running in a child process. */
export interface ExchangeReceiver {
  readonly process: ChildProcess;
  /** The loopback port it listens on. */
  readonly port: number;
  /** Sends it a command for `lane` and resolves with its reply. */
  command<T extends Record<string, unknown>>(op: ReceiverCommand, lane: string): Promise<T>;
}

/**
 * The local FHIR receiver of the exchange's benches (bench/exchange-receiver.ts) in a child process of
 * its own, once it says which loopback port it listens on; rejects when it ends before.
 */
export async function startExchangeReceiver(): Promise<ExchangeReceiver> {
  const child = fork(new URL('./exchange-receiver.ts', import.meta.url), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolvePort, reject) => {
    child.once('message', (message: { port: number }) => {
      resolvePort(message.port);
    });
    child.once('exit', (code) => {
      reject(new Error(`the receiver ended (${String(code)})`));
    });
  });
  let commandId = 0;
  const pending = new Map<number, (reply: Record<string, unknown>) => void>();
  child.on('message', (message: { id?: number }) => {
    if (message.id === undefined) return;
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });
  return {
    process: child,
    port,
    command: <T extends Record<string, unknown>>(op: ReceiverCommand, lane: string) =>
      new Promise<T>((resolveReply) => {
        const id = ++commandId;
        pending.set(id, (reply) => {
          resolveReply(reply as T);
        });
        child.send({ id, op, lane });
      }),
  };
}

/** Imports a module of a checkout (this one, or BENCH_BEFORE_DIR's) by its path in that checkout: two checkouts, two copies of every module. */
export function checkoutImporter(dir: string): <T>(path: string) => Promise<T> {
  return async <T>(path: string): Promise<T> => (await import(pathToFileURL(join(resolve(dir), path)).href)) as T;
}

/**
 * A store of a checkout (made by that checkout's `createPlanStore`) on a scratch database of the
 * machine's PostgreSQL of its own, migrated by the checkout's own migrations, as its server would.
 */
export async function scratchStoreOf<S extends { migrate(): Promise<unknown> }>(createPlanStore: (options: { databaseUrl: string }) => Promise<S>): Promise<{ readonly store: S; readonly scratch: ScratchDatabase }> {
  const scratch = await createScratchDatabase();
  const store = await createPlanStore({ databaseUrl: scratch.url });
  await store.migrate();
  return { store, scratch };
}

/** What a round of an exchange A/B bench measured, per delivery: the adapter's CPU, PostgreSQL's, and the wall time, in ms. */
export interface DeliveryFigures {
  readonly cpu: number;
  readonly db: number;
  readonly wall: number;
}

/** The load average, as the benches print it. */
export function loadAverage(): string {
  return loadavg().map((value) => value.toFixed(2)).join(', ');
}

/**
 * The interleaved rounds of an exchange A/B bench (bench/exchange-claim-ab.ts, bench/exchange-worker-ab.ts):
 * round 0 a warm-up of both, then `rounds` rounds of `now` and `before` in turn, which goes first
 * alternating, each round's figures printed; then the medians, their ratios, the adapter's CPU ratio
 * per round, and the load average.
 */
export async function deliveryRounds<C extends { readonly name: string }>(now: C, before: C, rounds: number, round: (checkout: C, index: number) => Promise<DeliveryFigures>): Promise<void> {
  const results = new Map<string, DeliveryFigures[]>([
    [now.name, []],
    [before.name, []],
  ]);
  for (let index = 0; index <= rounds; index++) {
    for (const checkout of index % 2 === 0 ? [now, before] : [before, now]) {
      const figures = await round(checkout, index);
      if (index === 0) continue;
      results.get(checkout.name)?.push(figures);
      write(`  round ${String(index)} ${checkout.name.padEnd(7)} adapter ${figures.cpu.toFixed(3)} ms, PostgreSQL ${figures.db.toFixed(3)} ms, wall ${figures.wall.toFixed(3)} ms per delivery  (load ${loadAverage()})`);
    }
  }
  const of = (name: string, field: keyof DeliveryFigures): number => median((results.get(name) ?? []).map((figures) => figures[field]));
  const ratios = (results.get(now.name) ?? []).map((figures, index) => figures.cpu / (results.get(before.name)?.[index]?.cpu ?? Number.NaN));
  write();
  for (const field of ['cpu', 'db', 'wall'] as const) {
    write(`${{ cpu: 'adapter CPU', db: 'PostgreSQL CPU', wall: 'wall time' }[field].padEnd(15)} ms per delivery: ${now.name} ${of(now.name, field).toFixed(3)}, ${before.name} ${of(before.name, field).toFixed(3)} (${(of(now.name, field) / of(before.name, field)).toFixed(2)}×)`);
  }
  write(`adapter CPU ${now.name} ÷ ${before.name} per round: ${ratios.map((ratio) => ratio.toFixed(2)).join(', ')}`);
  write(`load average at the end: ${loadAverage()}`);
}

/** A closed-loop scenario's figures, as bench:http judges them against issue #11's aim of a rate with a p99. */
export interface ClosedLoopFigures {
  readonly name: string;
  /** What the scenario does, in the aim's words: 'transactions', 'creates', 'reads'. */
  readonly what: string;
  /** The median of its rounds' requests/s. */
  readonly rate: number;
  /** The worst of its rounds' p99, ms. */
  readonly worstP99: number;
  readonly connections: number;
  /** The aim's rate: 100 for the writes, 2,000 for the reads. */
  readonly aimRate: number;
  /** The constant-rate scenario that judges the aim's latency, when the run has one. */
  readonly judgedBy?: string;
}

/**
 * The verdict line of a closed-loop scenario. A closed loop runs the server at its top rate, so its
 * p99 is its connections' queue at that rate (Little's law: connections ÷ rate on average, whatever a
 * request costs), not what a request waits at the aim's rate. Below the aim's rate it is NOT met;
 * at it or above with p99 ≤ 50 ms, met; at it or above with a longer p99, the line gives the figures
 * and says what that p99 is, and which scenario judges the aim's latency (docs/performance.md, "The
 * verdicts as the aims ask").
 */
export function closedLoopVerdict(figures: ClosedLoopFigures): string {
  const { name, what, rate, worstP99, connections, aimRate, judgedBy } = figures;
  const head = `closed loop, ${String(connections)} connections (${name})`;
  const measured = `${rate.toFixed(0)}/s, worst p99 ${String(worstP99)} ms`;
  const aim = `${aimRate.toLocaleString('en')} ${what}/s`;
  if (rate < aimRate) return `${head}: NOT met, below the aim's ${aim} (${measured})`;
  if (worstP99 <= 50) return `${head}: met, ≥ ${aim} with p99 ≤ 50 ms (${measured})`;
  return (
    `${head}: ${measured} — the rate is ${(rate / aimRate).toFixed(1)}× the aim's; the p99 is ${String(connections)} connections queued at that rate ` +
    `(${((connections / rate) * 1000).toFixed(0)} ms on average by Little's law), not the latency at the aim's rate${judgedBy === undefined ? '' : `, which "${judgedBy}" judges`}`
  );
}

/** What {@link seedOverHttp} recorded: each plan's CarePlan id and its person as `system|value`. */
export interface SeededPlans {
  readonly carePlans: readonly string[];
  readonly people: readonly string[];
}

/**
 * Records `count` new plans, each of a person of its own (ids `<prefix>-<n>`), through the SIP API of
 * the server at `url`, ten at a time, and finds each one's CarePlan id through the FHIR facade: what a
 * bench's FHIR reads and person searches then ask for.
 */
export async function seedOverHttp(url: string, token: string, count: number, prefix: string): Promise<SeededPlans> {
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  const carePlans: string[] = [];
  const people: string[] = [];
  for (let from = 0; from < count; from += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, count - from) }, async (_, offset) => {
        const id = `${prefix}-${String(from + offset)}`;
        const plan = newPlan(id, personnummer(from + offset).replace('-', ''));
        const person = personIdentifier(plan.individual.identifier);
        people.push(`${person.system}|${person.value}`);
        const created = await fetch(`${url}/sip/plans`, { method: 'POST', headers, body: JSON.stringify(plan) });
        if (created.status !== 201) throw new Error(`seeding ${id} answered ${String(created.status)}: ${await created.text()}`);
        await created.arrayBuffer();
        const found = await fetch(`${url}/fhir/CarePlan?identifier=${encodeURIComponent(id)}`, { headers });
        const carePlan = ((await found.json()) as Bundle).entry?.[0]?.resource as CarePlan | undefined;
        if (carePlan?.id === undefined) throw new Error(`no CarePlan found for ${id}`);
        carePlans.push(carePlan.id);
      }),
    );
  }
  return { carePlans, people };
}

/** The FHIR requests a bench offers the plans {@link seedOverHttp} recorded: a CarePlan read, and a person search as bench:http's `fhir-search`. */
export type SeededScenario = 'read' | 'search';

/** The scenarios named in BENCH_SCENARIOS (a comma list of `read` and `search`), or `fallback`; another name is refused. */
export function seededScenarios(fallback: string): SeededScenario[] {
  return (process.env.BENCH_SCENARIOS ?? fallback).split(',').map((name) => {
    const scenario = name.trim();
    if (scenario !== 'read' && scenario !== 'search') throw new Error(`BENCH_SCENARIOS: ${scenario} is neither read nor search`);
    return scenario;
  });
}

/**
 * Each scenario's next request over the seeded plans: `GET /fhir/CarePlan/{id}` or
 * `GET /fhir/CarePlan?patient:identifier=…`, striding through them (by 7, one counter for both), so
 * that successive requests ask for different plans.
 */
export function seededRequests({ carePlans, people }: SeededPlans): Record<SeededScenario, () => { method: 'GET'; path: string }> {
  let next = 0;
  return {
    read: () => ({ method: 'GET', path: `/fhir/CarePlan/${carePlans[(next++ * 7) % carePlans.length] ?? ''}` }),
    search: () => ({ method: 'GET', path: `/fhir/CarePlan?patient:identifier=${encodeURIComponent(people[(next++ * 7) % people.length] ?? '')}` }),
  };
}

/**
 * Where a frame of V8's sampling heap profile that has a script allocates: its function, and its file
 * from the package on (`pg-protocol/dist/buffer-reader.js`) or from dist/ or src/ on, with the line —
 * none where V8 was handed the source as one line, as tsx hands it src/. A builtin has no script
 * (`url` empty); the benches name it by its caller (bench/tx-alloc.ts, bench/http-alloc.ts).
 */
export function scriptSite(frame: HeapProfiler.SamplingHeapProfileNode['callFrame']): string {
  const { functionName, url, lineNumber } = frame;
  const modules = url.lastIndexOf('/node_modules/');
  const file = modules >= 0 ? url.slice(modules + '/node_modules/'.length) : /\/((?:dist|src)\/.*)$/.exec(url)?.[1] ?? url.split('/').slice(-2).join('/');
  return `${functionName === '' ? '(anonymous)' : functionName}  ${file}${lineNumber > 0 ? `:${String(lineNumber + 1)}` : ''}`;
}
