/**
 * How fast the FHIR facade takes a plan's transaction Bundle (`POST /fhir`), beside the same plan
 * through the SIP JSON API and `GET /health` measured in the same run (ratios travel better than
 * figures on a shared machine). `sip-fhir serve` runs as a child process on a scratch database of the
 * machine's PostgreSQL (SIP_TEST_DATABASE_URL), on loopback; autocannon drives it from this process:
 *  (a) `POST /fhir` of new plans, each a Bundle `planToBundle` wrote for a plan never seen before,
 *  (b) `POST /fhir` replaying a Bundle already recorded (the answer records nothing),
 *  (c) `POST /sip/plans` of new plans, the same plans as SIP JSON,
 *  (d) `GET /health`, the baseline,
 * after a warm-up of each (bench/support.ts `warmUp`: until it answered BENCH_WARMUP_REQUESTS, default
 * 1,500, or BENCH_WARMUP_MAX_SECONDS, default 20, passed), in interleaved rounds (BENCH_ROUNDS, default 3; BENCH_SECONDS each,
 * default 5; BENCH_CONNECTIONS, default 10). Then, in this process, where one transaction's time goes:
 * the profile validation, reading the plan and its rules, the rules of the version to record, and
 * matching the entries to the plan's resources. Issue #11 aims at ≥ 100 SIP transactions/s; the
 * verdict is printed, nothing is asserted. Run with `npm run bench:fhir-write`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type { Bundle } from 'fhir/r4.js';
import { DEFAULT_MAPPING_OPTIONS, PROFILE, planEntries, planToBundle, readCheckedPlan, resourceIdsOf } from '../src/fhir/index.js';
import { issueLocalToken, loadOrCreateLocalKey } from '../src/http/auth/index.js';
import { asFirstVersion, matchEntries, transactionResponse, withBundleReferences } from '../src/http/fhir-transaction.js';
import { checkPlan, parsePlan } from '../src/sip/index.js';
import { createValidator } from '../src/validation/index.js';
import { createScratchDatabase } from '../test/store/postgres-scratch.js';
import { median, newPlan, personnummer, startServe, warmUp, write } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '3');
const SECONDS = Number(process.env.BENCH_SECONDS ?? '5');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? '10');
/** New plans made ready before the run: more than the creates the rounds can reach at the aim. */
const PREPARED = 2_000;
const ORG = 'SE2321000180-1000';
const WORKERS = process.env.SIP_VALIDATION_WORKERS ?? '0';
interface Figures {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Server CPU ms per request: the whole process (every thread), and its main thread (the event loop) alone. */
  cpu: number | undefined;
  loopCpu: number | undefined;
}

/** CPU ms used so far by a process or one of its threads: utime + stime of /proc/<pid>[/task/<tid>]/stat, in ticks of 10 ms. */
function cpuMillis(path: string): number | undefined {
  try {
    const fields = readFileSync(path, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** CPU time of this process in ms (user + system): unlike the wall clock, not stretched when other processes take the cores. */
function cpuNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Where one transaction's time goes, in this process: medians of N, each step as the route takes it
 * (the store's own zod parse of the plan included, its SQL not): what validation costs against the
 * rest. Timed in CPU time, since on a shared machine the wall clock also counts the waits for a core.
 */
function inProcess(): void {
  const N = 100;
  const validator = createValidator();
  const steps = ['parse', 'references', 'validate', 'read', 'rules', 'match', 'store parse', 'answer'] as const;
  const times = Object.fromEntries(steps.map((step) => [step, [] as number[]])) as Record<(typeof steps)[number], number[]>;
  const totals = { validate: [] as number[], rest: [] as number[] };
  for (let index = 0; index < N; index++) {
    const text = JSON.stringify(planToBundle(newPlan(`sip-bench-fhir-inproc-${String(index)}`, personnummer(900_000 + index)), undefined, new Date()));
    const took: Partial<Record<(typeof steps)[number], number>> = {};
    const step = <T>(name: (typeof steps)[number], run: () => T): T => {
      const start = cpuNow();
      const result = run();
      took[name] = cpuNow() - start;
      return result;
    };
    const body = step('parse', () => JSON.parse(text) as Bundle);
    const bundle = step('references', () => withBundleReferences(body));
    step('validate', () => validator.validate(bundle, { profiles: [PROFILE.bundle] }));
    const read = step('read', () => readCheckedPlan(bundle));
    if (!read.ok) throw new Error(`the bench Bundle does not read: ${JSON.stringify(read.outcome)}`);
    const first = asFirstVersion(read.plan, new Date());
    if (first === undefined) throw new Error('the bench plan has no approvals');
    step('rules', () => checkPlan(first));
    const matched = step('match', () => {
      const view = planEntries(first, DEFAULT_MAPPING_OPTIONS);
      resourceIdsOf(view);
      return matchEntries(body.entry ?? [], first, view);
    });
    step('store parse', () => parsePlan(first));
    if (!matched.ok) throw new Error('the bench Bundle does not match its plan');
    step('answer', () => JSON.stringify(transactionResponse(matched.ids.map((id) => ({ ...id, created: true })), 1, new Date().toISOString(), undefined)));
    for (const name of steps) times[name].push(took[name] ?? 0);
    totals.validate.push(took.validate ?? 0);
    totals.rest.push(steps.filter((name) => name !== 'validate').reduce((sum, name) => sum + (took[name] ?? 0), 0));
  }
  write();
  write(
    `one transaction, in process (CPU ms, median of ${String(N)}): ` +
      steps.map((name) => `${name} ${median(times[name]).toFixed(2)} ms`).join(', ') +
      `; validation ${median(totals.validate).toFixed(2)} ms against ${median(totals.rest).toFixed(2)} ms for the rest (HTTP, auth, audit and SQL not included)`,
  );
}

const scratch = await createScratchDatabase();
const dataDir = mkdtempSync(join(tmpdir(), 'sip-bench-fhir-'));
try {
  const server = await startServe(scratch.url, dataDir);
  const token = await issueLocalToken({ org: ORG, scopes: 'system/*.*', ttlSeconds: 3600 }, await loadOrCreateLocalKey(dataDir), new Date());
  try {
    const fhirHeaders = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json' };
    const prepared = Array.from({ length: PREPARED }, (_, index) => JSON.stringify(planToBundle(newPlan(`sip-bench-fhir-${String(index)}`, personnummer(index)), undefined, new Date())));
    const sipTemplate = JSON.stringify(newPlan('PLAN-ID', 'PERSON-ID'));
    const replayed = JSON.stringify(planToBundle(newPlan('sip-bench-fhir-replayed', personnummer(500_000)), undefined, new Date()));
    const first = await fetch(`${server.url}/fhir`, { method: 'POST', headers: fhirHeaders, body: replayed });
    if (first.status !== 200) throw new Error(`recording the replayed plan answered ${String(first.status)}: ${await first.text()}`);

    let created = 0;
    let sipCreated = 0;
    const scenarios: Record<string, autocannon.Request[]> = {
      health: [{ method: 'GET', path: '/health' }],
      'fhir-new': [
        {
          method: 'POST',
          path: '/fhir',
          setupRequest: (request) => {
            const body = prepared[created++];
            if (body === undefined) throw new Error(`more than ${String(PREPARED)} creates: raise PREPARED`);
            return { ...request, body };
          },
        },
      ],
      'fhir-replay': [{ method: 'POST', path: '/fhir', body: replayed }],
      'sip-new': [
        {
          method: 'POST',
          path: '/sip/plans',
          headers: { 'Content-Type': 'application/json' },
          setupRequest: (request) => {
            sipCreated++;
            return { ...request, body: sipTemplate.replaceAll('PLAN-ID', `sip-bench-sip-${String(sipCreated)}`).replaceAll('PERSON-ID', personnummer(600_000 + sipCreated)) };
          },
        },
      ],
    };

    const results: Record<string, Figures[]> = Object.fromEntries(Object.keys(scenarios).map((name) => [name, []]));
    write(
      `bench:fhir-write — sip-fhir serve on PostgreSQL (scratch database), SIP_VALIDATION_WORKERS=${WORKERS}, ${String(CONNECTIONS)} connections, ${String(ROUNDS)} rounds × ${String(SECONDS)} s per scenario, Node ${process.version}, load average ${loadavg().map((load) => load.toFixed(1)).join(' ')}`,
    );
    // Each scenario warmed up, not counted, until it answered BENCH_WARMUP_REQUESTS (support.ts `warmUp`).
    const warmedUp: string[] = [];
    for (const [name, requests] of Object.entries(scenarios)) {
      const { answered, seconds } = await warmUp(async () => (await autocannon({ url: server.url, connections: CONNECTIONS, duration: 2, headers: fhirHeaders, requests })).requests.total);
      warmedUp.push(`${name} ${String(answered)} in ${seconds.toFixed(0)} s`);
    }
    write(`warm-up (not counted): ${warmedUp.join(', ')}`);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, requests] of Object.entries(scenarios)) {
        const processStat = `/proc/${String(server.pid)}/stat`;
        const loopStat = `/proc/${String(server.pid)}/task/${String(server.pid)}/stat`;
        const before = { cpu: cpuMillis(processStat), loop: cpuMillis(loopStat) };
        const result = await autocannon({ url: server.url, connections: CONNECTIONS, duration: SECONDS, headers: fhirHeaders, requests });
        const after = { cpu: cpuMillis(processStat), loop: cpuMillis(loopStat) };
        const perRequest = (from: number | undefined, to: number | undefined): number | undefined => (from === undefined || to === undefined || result.requests.total === 0 ? undefined : (to - from) / result.requests.total);
        const figures: Figures = {
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
          cpu: perRequest(before.cpu, after.cpu),
          loopCpu: perRequest(before.loop, after.loop),
        };
        results[name]?.push(figures);
        write(`  round ${String(round)} ${name.padEnd(11)} ${figures.rps.toFixed(0).padStart(6)} req/s  p50 ${String(figures.p50).padStart(4)} ms  p99 ${String(figures.p99).padStart(4)} ms  CPU ${figures.cpu?.toFixed(2) ?? '?'} ms (event loop ${figures.loopCpu?.toFixed(2) ?? '?'})${figures.non2xx + figures.errors > 0 ? `  (${String(figures.non2xx)} non-2xx, ${String(figures.errors)} errors)` : ''}`);
      }
    }

    write();
    write('scenario     req/s (median, min–max)    p99 ms (median, max)   req/s ÷ health   server CPU ms/req (median): process, event loop');
    const baseline = median((results.health ?? []).map((figures) => figures.rps));
    for (const [name, figures] of Object.entries(results)) {
      const rps = figures.map((figure) => figure.rps);
      const p99 = figures.map((figure) => figure.p99);
      const cpu = (pick: (figure: Figures) => number | undefined): string => {
        const known = figures.flatMap((figure) => pick(figure) ?? []);
        return known.length === 0 ? '?' : median(known).toFixed(3);
      };
      write(
        `${name.padEnd(11)}  ${median(rps).toFixed(0).padStart(6)} (${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)})`.padEnd(39) +
          `${String(median(p99)).padStart(5)} (${String(Math.max(...p99))})`.padEnd(23) +
          (median(rps) / baseline).toFixed(3).padEnd(17) +
          `${cpu((figure) => figure.cpu)}, ${cpu((figure) => figure.loopCpu)}`,
      );
    }
    const rpsOf = (name: string): number => median((results[name] ?? []).map((figures) => figures.rps));
    write();
    write(`aim ≥ 100 SIP transactions/s: ${rpsOf('fhir-new') >= 100 ? 'met' : 'NOT met'} (${rpsOf('fhir-new').toFixed(0)}/s new plans, ${rpsOf('fhir-replay').toFixed(0)}/s replays; the SIP API ${rpsOf('sip-new').toFixed(0)}/s)`);
    const stored = await fetch(`${server.url}/sip/plans/sip-bench-fhir-replayed/_history`, { headers: { Authorization: `Bearer ${token}` } });
    const { versions } = (await stored.json()) as { versions: unknown[] };
    write(`the replayed plan has ${String(versions.length)} version${versions.length === 1 ? '' : 's'} after every replay (1 expected)`);
  } finally {
    await server.stop();
  }
  inProcess();
} finally {
  await scratch.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
