/**
 * Where the stalls that break a round's p99 at 2,000 reads/s come from. A p99 over a 5-second round at
 * 2,000/s is broken by a single stall of ≈ 50 ms (it delays 100 requests, 1 % of the round), and the
 * rounds that missed had a p90 of 3–5 ms (docs/performance.md, "The tails"). This runs the FHIR read
 * at a constant rate (bench/open-loop.ts) against `sip-fhir serve` on a scratch PostgreSQL database, as
 * bench:http does, and samples the scheduler's statistics every BENCH_SAMPLE_MS (default 5) while it
 * runs: the server's event loop (on a core, waiting for one), the server's other threads, the
 * PostgreSQL backends of the database, and this process's own thread (the load generator).
 *
 * After each run it finds the stalls — runs of 10 ms slots in which some request fell due that took
 * BENCH_STALL_MS (default 25) or more from its due time — and prints, for each, what every part did in
 * it: a server whose event loop ran most of the stall was busy (its own work, or a collection); one
 * that waited for a core was crowded out; one that did neither was waiting (for PostgreSQL, or for
 * requests the generator had not sent). The idle share of the machine's two cores is `/proc/stat`'s.
 *
 * The server runs as `npm start` runs it, its helper threads at `SIP_HELPER_NICE` (default 10, from
 * the environment). BENCH_RENICE=<n> sets them to n in every other run and to 0 in the others, for an
 * interleaved comparison (it found the helpers' nice: docs/performance.md, "The helpers' nice").
 *
 * BENCH_PIN=1 gives the server a core of its own in every other run: all its threads on CPU 0, the
 * database's PostgreSQL backends (those open after the warm-up, as sampled) and this process (the load
 * generator) on CPU 1 (`taskset`, from util-linux); the other runs leave every part free to run on
 * every CPU, as bench:http does. It tells how much of a tail is the event loop waiting for a core it
 * shares (docs/performance.md, "A core of its own"). It cannot be combined with BENCH_RENICE.
 *
 * BENCH_SCENARIOS (default `read`) is a comma list of `read` (`GET /fhir/CarePlan/{id}`) and `search`
 * (`GET /fhir/CarePlan?patient:identifier=…`, bench:http's `fhir-search`); the runs take them in turn,
 * so `read,search` interleaves the two on one server and database.
 *
 * BENCH_PLANS (default 500) plans, BENCH_RATE (default 2000), BENCH_SECONDS (default 10) a run,
 * BENCH_RUNS (default 3), after a warm-up of 4,000 requests of each scenario. Linux only (reads /proc).
 * Run with `npx tsx bench/stalls.ts`.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { availableParallelism, loadavg, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueLocalToken, loadOrCreateLocalKey } from '../src/http/auth/index.js';
import { createScratchDatabase } from '../test/store/postgres-scratch.js';
import { runOpenLoop } from './open-loop.js';
import { postgresBackendPids, seededRequests, seededScenarios, seedOverHttp, startServe, threadSchedstat, write } from './support.js';

const PLANS = Number(process.env.BENCH_PLANS ?? '500');
const RATE = Number(process.env.BENCH_RATE ?? '2000');
const SECONDS = Number(process.env.BENCH_SECONDS ?? '10');
const RUNS = Number(process.env.BENCH_RUNS ?? '3');
const SAMPLE_MS = Number(process.env.BENCH_SAMPLE_MS ?? '5');
const STALL_MS = Number(process.env.BENCH_STALL_MS ?? '25');
const SLOT_MS = 10;
/** With BENCH_RENICE=<n>, every other run has the server's threads but its event loop at that nice value (V8's helpers, libuv's pool). */
const RENICE = process.env.BENCH_RENICE === undefined ? undefined : Number(process.env.BENCH_RENICE);
/** With BENCH_PIN=1, every other run has the server alone on CPU 0, PostgreSQL's backends and the generator on CPU 1. */
const PIN = process.env.BENCH_PIN === '1';
if (PIN && RENICE !== undefined) throw new Error('BENCH_PIN and BENCH_RENICE each alternate the runs: give one of them');
if (PIN && availableParallelism() < 2) throw new Error('BENCH_PIN needs two CPUs');
/** Every CPU this process may run on at the start, as `taskset` names them: what an unpinned run gives each part. */
const ALL_CPUS = `0-${String(availableParallelism() - 1)}`;
const ORG = 'SE2321000180-1000';
const SCENARIOS = seededScenarios('read');

/** A thread's time on a core and waiting for one so far, ms ({@link threadSchedstat}), or zeros when it is gone. */
function schedstat(pid: number, tid: number = pid): { ran: number; waited: number } {
  const times = threadSchedstat(pid, String(tid));
  return times === undefined ? { ran: 0, waited: 0 } : { ran: times.ran / 1e6, waited: times.waited / 1e6 };
}

/**
 * Sets the CPUs a process may run on (`taskset -p -c`), with `allThreads` every thread of it. A thread
 * made later inherits its maker's set, so the server's threads are all set at once (`-a`).
 */
function pinTo(pid: number, cpus: string, allThreads = false): void {
  execFileSync('taskset', [...(allThreads ? ['-a'] : []), '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

/** The machine's idle time so far, ms over all cores (`/proc/stat`, in the kernel's ticks of 10 ms). */
function idleMillis(): number {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  return ((fields[3] ?? 0) + (fields[4] ?? 0)) * 10;
}

interface Sample {
  readonly at: number;
  readonly serverLoop: { ran: number; waited: number };
  readonly serverOthers: number;
  readonly postgres: number;
  readonly generator: { ran: number; waited: number };
  readonly idle: number;
}

function sample(serverPid: number, backends: readonly number[]): Sample {
  let serverOthers = 0;
  for (const tid of readdirSync(`/proc/${String(serverPid)}/task`)) if (tid !== String(serverPid)) serverOthers += schedstat(serverPid, Number(tid)).ran;
  let postgres = 0;
  for (const pid of backends) postgres += schedstat(pid).ran;
  return {
    at: performance.now(),
    serverLoop: schedstat(serverPid),
    serverOthers,
    postgres,
    // This process's main thread: the load generator's event loop.
    generator: schedstat(process.pid),
    idle: idleMillis(),
  };
}

/** What each part did between two samples, ms: on a core, and waiting for one for the event loops. */
interface Spent {
  readonly span: number;
  readonly serverRan: number;
  readonly serverWaited: number;
  readonly serverOthers: number;
  readonly postgres: number;
  readonly generatorRan: number;
  readonly generatorWaited: number;
  readonly idle: number;
}

/** What each part did between the samples that bracket [from, to]. */
function between(samples: readonly Sample[], from: number, to: number): Spent | undefined {
  const first = [...samples].reverse().find((s) => s.at <= from) ?? samples[0];
  const last = samples.find((s) => s.at >= to) ?? samples[samples.length - 1];
  if (first === undefined || last === undefined) return undefined;
  return {
    span: last.at - first.at,
    serverRan: last.serverLoop.ran - first.serverLoop.ran,
    serverWaited: last.serverLoop.waited - first.serverLoop.waited,
    serverOthers: last.serverOthers - first.serverOthers,
    postgres: last.postgres - first.postgres,
    generatorRan: last.generator.ran - first.generator.ran,
    generatorWaited: last.generator.waited - first.generator.waited,
    idle: last.idle - first.idle,
  };
}

/** {@link Spent} as a line, each figure divided by `per` (1 for ms, the seconds for ms a second). */
function described(spent: Spent | undefined, per = 1): string {
  if (spent === undefined) return 'no samples';
  const f = (ms: number): string => (ms / per).toFixed(1);
  return (
    `server event loop ran ${f(spent.serverRan)}, waited ${f(spent.serverWaited)}; its other threads ran ${f(spent.serverOthers)}; ` +
    `PostgreSQL ran ${f(spent.postgres)}; generator ran ${f(spent.generatorRan)}, waited ${f(spent.generatorWaited)}; idle (2 cores, 10 ms ticks) ${f(spent.idle)}`
  );
}

const scratch = await createScratchDatabase();
const database = new URL(scratch.url).pathname.slice(1);
const dataDir = mkdtempSync(join(tmpdir(), 'sip-stalls-'));
try {
  const server = await startServe(scratch.url, dataDir);
  try {
    if (server.pid === undefined) throw new Error('the server has no pid to sample');
    const token = await issueLocalToken({ org: ORG, scopes: 'system/*.*', ttlSeconds: 3600 }, await loadOrCreateLocalKey(dataDir), new Date());
    const requests = seededRequests(await seedOverHttp(server.url, token, PLANS, 'sip-stalls'));
    for (const scenario of new Set(SCENARIOS)) await runOpenLoop({ url: server.url, rate: RATE, seconds: 4000 / RATE, headers: { Authorization: `Bearer ${token}` }, request: requests[scenario] });
    const backends = postgresBackendPids(database) ?? [];
    write(`stalls: sip-fhir serve (pid ${String(server.pid)}), ${String(PLANS)} plans, ${String(backends.length)} PostgreSQL backends; FHIR ${SCENARIOS.join(', ')} in turn at ${String(RATE)}/s, ${String(RUNS)} runs of ${String(SECONDS)} s; a stall: ${String(SLOT_MS)} ms slots in which a request due took ≥ ${String(STALL_MS)} ms; sampled every ${String(SAMPLE_MS)} ms`);

    for (let run = 1; run <= RUNS; run++) {
      const reniced = RENICE !== undefined && run % 2 === 0;
      const scenario = SCENARIOS[(run - 1) % SCENARIOS.length] ?? 'read';
      const request = requests[scenario];
      // Linux's nice value is a thread's own: setpriority on a thread id changes that thread alone.
      for (const tid of readdirSync(`/proc/${String(server.pid)}/task`)) if (tid !== String(server.pid) && RENICE !== undefined) setPriority(Number(tid), reniced ? RENICE : 0);
      if (RENICE !== undefined) write(`run ${String(run)}: the server's other threads at nice ${String(reniced ? RENICE : 0)}`);
      if (PIN) {
        const pinned = run % 2 === 0;
        pinTo(server.pid, pinned ? '0' : ALL_CPUS, true);
        pinTo(process.pid, pinned ? '1' : ALL_CPUS, true);
        for (const backend of backends) pinTo(backend, pinned ? '1' : ALL_CPUS);
        write(`run ${String(run)}: ${pinned ? 'the server alone on CPU 0, PostgreSQL and the generator on CPU 1' : 'every part free to run on every CPU'}`);
      }
      const answers: { due: number; end: number }[] = [];
      const samples: Sample[] = [sample(server.pid, backends)];
      const pid = server.pid;
      const sampler = setInterval(() => samples.push(sample(pid, backends)), SAMPLE_MS);
      const result = await runOpenLoop({ url: server.url, rate: RATE, seconds: SECONDS, headers: { Authorization: `Bearer ${token}` }, request, onAnswer: ({ due, end }) => answers.push({ due, end }) });
      clearInterval(sampler);
      samples.push(sample(server.pid, backends));
      write(`run ${String(run)} (${scenario}): ${result.achieved.toFixed(0)}/s, p50 ${result.latency.p50.toFixed(1)} ms, p90 ${result.latency.p90.toFixed(1)}, p99 ${result.latency.p99.toFixed(1)}, max ${result.latency.max.toFixed(1)}; generator lag p99 ${result.lag.p99.toFixed(1)} ms; ${String(result.waitedForConnection)} waited for a connection; ${String(samples.length)} samples; load ${(loadavg()[0] ?? 0).toFixed(2)}`);
      write(`  the whole run, ms a second: ${described(between(samples, samples[0]?.at ?? 0, samples[samples.length - 1]?.at ?? 0), SECONDS)}`);
      // Slots by due time: the worst latency of a request due in each.
      const t0 = Math.min(...answers.map((answer) => answer.due));
      const worst = new Map<number, number>();
      const count = new Map<number, number>();
      for (const { due, end } of answers) {
        const slot = Math.floor((due - t0) / SLOT_MS);
        worst.set(slot, Math.max(worst.get(slot) ?? 0, end - due));
        if (end - due >= STALL_MS) count.set(slot, (count.get(slot) ?? 0) + 1);
      }
      const slow = [...worst.entries()].filter(([, latency]) => latency >= STALL_MS).map(([slot]) => slot).sort((a, b) => a - b);
      const stalls: { first: number; last: number }[] = [];
      for (const slot of slow) {
        const open = stalls[stalls.length - 1];
        if (open !== undefined && slot <= open.last + 1) open.last = slot;
        else stalls.push({ first: slot, last: slot });
      }
      const slowRequests = [...count.values()].reduce((sum, n) => sum + n, 0);
      write(`  ${String(stalls.length)} stalls, ${String(slowRequests)} requests ≥ ${String(STALL_MS)} ms (${((100 * slowRequests) / Math.max(1, answers.length)).toFixed(2)} %)`);
      for (const { first, last } of stalls.sort((a, b) => (worst.get(b.first) ?? 0) - (worst.get(a.first) ?? 0)).slice(0, 8)) {
        const from = t0 + first * SLOT_MS;
        let peak = 0;
        let requests = 0;
        for (let slot = first; slot <= last; slot++) {
          peak = Math.max(peak, worst.get(slot) ?? 0);
          requests += count.get(slot) ?? 0;
        }
        // The stall as the server lived it: from the first slow request's due time to its worst one's answer.
        const to = from + (last - first + 1) * SLOT_MS + peak;
        const spent = between(samples, from, to);
        write(`  at ${((from - t0) / 1000).toFixed(2)} s: ${String(requests)} requests ≥ ${String(STALL_MS)} ms, worst ${peak.toFixed(0)} ms; over the ${(spent?.span ?? 0).toFixed(0)} ms sampled around it: ${described(spent)}`);
      }
    }
  } finally {
    await server.stop();
  }
} finally {
  await scratch.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
