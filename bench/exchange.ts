/**
 * Deliveries per second from the outbox to a local receiver (issue #14, the last "Done when": one and
 * two adapter instances on PostgreSQL, aim ≥ 500 deliveries/s), against the wire alone measured in
 * the same run.
 *
 * - **The receiver** is a node:http server in a child process (bench/exchange-receiver.ts) that answers
 *   every transaction Bundle at once with a `transaction-response` of one `201 Created` per entry and
 *   counts Idempotency-Keys. It has one lane per configuration (its own path, counts and gate).
 * - **The adapter** is `sip-fhir serve` as child processes, as in production, with `SIP_RECEIVERS`
 *   naming one FHIR receiver (the plan's other actor Försäkringskassan, 202100-5521, whom the example's
 *   consent covers) at the lane's path, with a 10-minute `timeoutMs` (the requests held at the gate
 *   while a round's plans are written must not time out and be sent again), and
 *   `SIP_DELIVERY_CONCURRENCY` set. Lane `one-<c>` is one
 *   instance on a scratch database of the machine's PostgreSQL (SIP_TEST_DATABASE_URL, default
 *   postgres://postgres@127.0.0.1:5432/postgres; created and dropped); lane `two-<c>` is two instances
 *   sharing another scratch database.
 * - **A round of a lane**: its gate is closed; BENCH_DELIVERIES (default 1000) plans never seen before
 *   (the adult example under a new id and person each, as `parsePlan` returns it: bench/support.ts
 *   `newStoredPlan`) are written in this process
 *   with the store on the lane's database, each routed as the server routes it (the exchange's
 *   `route`, the organisation that wrote it the region) and with what a read derives from it — the
 *   same rows, outbox included, in the same transaction, that `POST /sip/plans` writes. The running
 *   instances claim the first ones and wait at the gate; once instances × c requests are held, the gate
 *   opens and the clock runs (in the receiver's process) until the last answer. The round ends when
 *   the receiver has every key and the outbox has no row left undelivered; it then checks that the keys
 *   are exactly the round's (plan/1/receiver) and that each arrived once (no retry, no duplicate).
 * - **The baseline**, lane `baseline-<k>`: the same kind of Bundles (new plans, consent applied by the
 *   exchange's own `decide`, `planToBundle`, serialised beforehand) POSTed straight to the receiver by a
 *   plain axios loop with k requests in flight (k = what the lane compared with has: c, or 2c), each
 *   answer parsed and its entries counted as the connector does. The wire alone, so a lane's figure
 *   reads as a ratio of it.
 *
 * - **Before and after**, with `BENCH_BEFORE_DIR=<another checkout>` (a worktree of main with its
 *   `npm ci`): lanes `one-<c>-before` and `two-<c>-before` run that checkout's `sip-fhir serve` the same
 *   way, each on a scratch database of its own, in the same interleaved rounds (the plans are written
 *   by this checkout's store, as that checkout's would write them), and the summary gives each lane's
 *   ratio to its `-before` twin — on a shared machine a before/after in separate runs compares loads.
 *
 * For each c of BENCH_CONCURRENCY (default `4,8`: SIP_DELIVERY_CONCURRENCY's default and maximum) the
 * three instances are started, each lane gets a warm-up round of 100 (not counted), then BENCH_ROUNDS
 * (default 3) rounds interleave `one-c`, `two-c`, `baseline-c`, `baseline-2c`. Printed: deliveries/s
 * (median, min–max), the ratio to the baseline with as many requests in flight, the CPU per delivery
 * of the adapter instances and of the PostgreSQL backends of the lane's database (from /proc), the load
 * average, and the verdict against the aim; nothing is asserted. Run with `npm run bench:exchange`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import axios from 'axios';
import { loadExchange, type Exchange } from '../src/exchange/index.js';
import { DEFAULT_MAPPING_OPTIONS, planResourceIds, planToBundle } from '../src/fhir/index.js';
import { derivedVersion } from '../src/http/derived-view.js';
import { createPlanStore, type PlanStore } from '../src/store/index.js';
import type { SipPlan } from '../src/sip/index.js';
import { openPg, type SqlClient } from '../src/store/sql-client.js';
import { createScratchDatabase } from '../test/store/postgres-scratch.js';
import { median, newStoredPlan, personnummer, postgresCpuBetween, postgresCpuMillis, processCpuMillis, startExchangeReceiver, startServe, write, type ReceiverCommand, type Served } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '3');
const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? '1000');
const WARM_UP = 100;
/** Profiles every instance (`node --cpu-prof`) into <dir>/<lane>/ (see bench/README.md for bench/profile-top.ts). */
const CPU_PROF = process.env.BENCH_CPU_PROF;
/** Another checkout (a worktree of main with its npm ci) measured beside this one in the same rounds. */
const BEFORE_DIR = process.env.BENCH_BEFORE_DIR;
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '4,8').split(',').map((value) => Number(value.trim()));
/** The organisation that writes the plans (the region, a principal of the example): it gets nothing back. */
const WRITER = 'SE2321000180-1000';
/** The receiver: the example's other actor Försäkringskassan, covered by its consent. */
const RECEIVER_ID = 'fk-bench';
const RECEIVER_ORG = '202100-5521';
/** The aim of issue #14. */
const AIM = 500;

// ——— the receiver, in a child process ———
const receiverHandle = await startExchangeReceiver();
const { process: receiverProcess, port: receiverPort } = receiverHandle;
const receiverBase = `http://127.0.0.1:${String(receiverPort)}`;
const receiver = <T extends Record<string, unknown>>(op: ReceiverCommand, lane: string): Promise<T> => receiverHandle.command<T>(op, lane);
interface LaneStats extends Record<string, unknown> {
  keys: number;
  requests: number;
  duplicates: number;
  held: number;
  elapsedMs: number;
}

/**
 * The store a lane's plans are recorded through, from the lane's own checkout: a `-before` lane's
 * server migrated its database to its own schema, which this checkout's store may write past (a
 * column a later migration added).
 */
async function laneWriter(cwd: string | undefined, databaseUrl: string): Promise<Pick<InstanceLane, 'store' | 'record'>> {
  if (cwd === undefined) {
    const store = await createPlanStore({ databaseUrl });
    return {
      store,
      record: async (plan, deliverTo) => {
        await store.create(plan, WRITER, planResourceIds(plan), { deliverTo: [...deliverTo], derived: derivedVersion(plan) });
      },
    };
  }
  const from = (path: string): string => pathToFileURL(join(resolve(cwd), path)).href;
  const storeModule = (await import(from('src/store/index.ts'))) as { createPlanStore: typeof createPlanStore };
  const fhirModule = (await import(from('src/fhir/index.ts'))) as { planResourceIds: typeof planResourceIds };
  const viewModule = (await import(from('src/http/derived-view.ts'))) as { derivedVersion: typeof derivedVersion };
  const store = await storeModule.createPlanStore({ databaseUrl });
  return {
    store,
    record: async (plan, deliverTo) => {
      await store.create(plan, WRITER, fhirModule.planResourceIds(plan), { deliverTo: [...deliverTo], derived: viewModule.derivedVersion(plan) });
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `work` over `items` with `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index] as T, index);
      }
    }),
  );
}

let serial = 0;
/** `count` new plans, each of a person never seen before in this run, as the server records them (`parsePlan`'s). */
function newPlans(prefix: string, count: number) {
  return Array.from({ length: count }, (_, index) => {
    serial++;
    return newStoredPlan(`${prefix}-${String(index)}`, personnummer(serial));
  });
}

interface Figures {
  perSecond: number;
  /** CPU ms per delivery of the adapter instances (all of them). */
  cpu: number;
  /** CPU ms per delivery of the PostgreSQL backends of the lane's database. */
  db: number;
}

/** A lane of adapter instances on one database. */
interface InstanceLane {
  readonly name: string;
  readonly concurrency: number;
  readonly servers: Served[];
  readonly store: PlanStore;
  /** Records a plan with its deliveries as the lane's own checkout does (its store, its derived data, its migrations). */
  readonly record: (plan: SipPlan, deliverTo: readonly string[]) => Promise<void>;
  readonly sql: SqlClient;
  readonly database: string;
  readonly exchange: Exchange;
  delivered: number;
}

async function instanceRound(lane: InstanceLane, round: string, count: number): Promise<Figures> {
  await receiver('reset', lane.name);
  await receiver('close', lane.name);
  const plans = newPlans(`bx-${lane.name}-${round}`, count);
  await inParallel(plans, 8, async (plan) => {
    const deliverTo = lane.exchange.route(plan, WRITER);
    if (deliverTo.length !== 1 || deliverTo[0] !== RECEIVER_ID) throw new Error(`plan ${plan.id} is routed to [${deliverTo.join(', ')}], not [${RECEIVER_ID}]`);
    await lane.record(plan, deliverTo);
  });
  // Every slot of every instance has claimed a delivery and waits at the gate: the workers are running.
  const inFlight = lane.servers.length * lane.concurrency;
  let stats = await receiver<LaneStats>('stats', lane.name);
  for (const until = Date.now() + 30_000; stats.held < Math.min(inFlight, count) && Date.now() < until; ) {
    await sleep(20);
    stats = await receiver<LaneStats>('stats', lane.name);
  }
  if (stats.held !== Math.min(inFlight, count)) write(`  (${lane.name} ${round}: ${String(stats.held)} requests held at the gate, not the ${String(inFlight)} expected)`);
  const cpuBefore = lane.servers.map((server) => processCpuMillis(server.pid));
  const dbBefore = postgresCpuMillis(lane.database);
  await receiver('open', lane.name);
  for (const until = Date.now() + 600_000; stats.keys < count && Date.now() < until; ) {
    await sleep(20);
    stats = await receiver<LaneStats>('stats', lane.name);
  }
  // The last answers' settlements are committed just after: wait for the outbox to say so.
  lane.delivered += count;
  let left = Number.POSITIVE_INFINITY;
  for (const until = Date.now() + 60_000; left > 0 && Date.now() < until; ) {
    const [row] = await lane.sql.query<{ delivered: string; other: string }>(
      `SELECT count(*) FILTER (WHERE state = 'delivered') AS delivered, count(*) FILTER (WHERE state <> 'delivered') AS other FROM outbox`,
    );
    left = Number(row?.other ?? 0) + lane.delivered - Number(row?.delivered ?? 0);
    if (left > 0) await sleep(20);
  }
  const cpuAfter = lane.servers.map((server) => processCpuMillis(server.pid));
  const dbAfter = postgresCpuMillis(lane.database);
  stats = await receiver<LaneStats>('stats', lane.name);
  // Exactly the round's keys, each once.
  const { keys } = await receiver<{ keys: string[] }>('keys', lane.name);
  const expected = new Set(plans.map((plan) => `${plan.id}/1/${RECEIVER_ID}`));
  const wrong = keys.filter((key) => !expected.has(key));
  if (stats.keys !== count || stats.requests !== count || stats.duplicates !== 0 || wrong.length > 0 || left !== 0) {
    throw new Error(
      `${lane.name} ${round}: ${String(stats.keys)} keys of ${String(count)}, ${String(stats.requests)} requests, ${String(stats.duplicates)} keys more than once, ${String(wrong.length)} keys not of the round (${wrong.slice(0, 3).join(', ')}), ${String(left)} outbox rows not delivered`,
    );
  }
  const cpu = cpuBefore.reduce<number>((total, before, index) => total + (cpuAfter[index] ?? Number.NaN) - (before ?? Number.NaN), 0);
  return { perSecond: count / (stats.elapsedMs / 1000), cpu: cpu / count, db: (postgresCpuBetween(dbBefore, dbAfter) ?? Number.NaN) / count };
}

async function baselineRound(exchange: Exchange, inFlight: number, round: string, count: number): Promise<Figures> {
  const lane = `baseline-${String(inFlight)}`;
  await receiver('reset', lane);
  const at = new Date();
  const bodies = newPlans(`bx-${lane}-${round}`, count).map((plan) => {
    const decision = exchange.decide(plan, RECEIVER_ID, at);
    if (!decision.send) throw new Error(`the baseline's plan ${plan.id} may not be sent: ${decision.detail}`);
    const bundle = planToBundle(decision.plan, DEFAULT_MAPPING_OPTIONS, at);
    return { key: `${plan.id}/1/${RECEIVER_ID}`, body: JSON.stringify(bundle), entries: bundle.entry?.length ?? 0 };
  });
  const http = axios.create({ httpAgent: new Agent({ keepAlive: true, maxSockets: inFlight }), timeout: 10_000, responseType: 'text', validateStatus: () => true });
  const started = performance.now();
  await inParallel(bodies, inFlight, async ({ key, body, entries }) => {
    const answer = await http.post<string>(`${receiverBase}/${lane}`, body, { headers: { 'Content-Type': 'application/fhir+json; charset=utf-8', Accept: 'application/fhir+json', 'Idempotency-Key': key } });
    const json = JSON.parse(answer.data) as { type?: string; entry?: unknown[] };
    if (answer.status !== 200 || json.type !== 'transaction-response' || json.entry?.length !== entries) throw new Error(`the receiver answered ${String(answer.status)} to ${key}`);
  });
  const elapsed = performance.now() - started;
  const stats = await receiver<LaneStats>('stats', lane);
  if (stats.keys !== count || stats.duplicates !== 0) throw new Error(`${lane} ${round}: ${String(stats.keys)} keys of ${String(count)}, ${String(stats.duplicates)} more than once`);
  return { perSecond: count / (elapsed / 1000), cpu: Number.NaN, db: Number.NaN };
}

const folder = mkdtempSync(join(tmpdir(), 'sip-bench-exchange-'));
const results = new Map<string, Figures[]>();
const load = (): string => loadavg().map((value) => value.toFixed(2)).join(', ');
try {
  write(
    `bench:exchange — sip-fhir serve (child processes) on PostgreSQL (scratch databases) delivering to a local FHIR receiver (child process); ` +
      `${String(DELIVERIES)} deliveries of new plans per round, ${String(ROUNDS)} rounds, SIP_DELIVERY_CONCURRENCY ${CONCURRENCIES.join(' and ')}; Node ${process.version}; load average ${load()}`,
  );
  for (const concurrency of CONCURRENCIES) {
    const lanes: InstanceLane[] = [];
    const scratches: { drop(): Promise<void> }[] = [];
    try {
      const configurations: [string, number, string | undefined][] = [
        [`one-${String(concurrency)}`, 1, undefined],
        [`two-${String(concurrency)}`, 2, undefined],
        ...(BEFORE_DIR === undefined
          ? []
          : ([
              [`one-${String(concurrency)}-before`, 1, resolve(BEFORE_DIR)],
              [`two-${String(concurrency)}-before`, 2, resolve(BEFORE_DIR)],
            ] as [string, number, string][])),
      ];
      for (const [name, instances, cwd] of configurations) {
        const scratch = await createScratchDatabase();
        scratches.push(scratch);
        const receiversFile = join(folder, `${name}.json`);
        writeFileSync(receiversFile, JSON.stringify({ receivers: [{ id: RECEIVER_ID, organization: RECEIVER_ORG, kind: 'fhir', base: `${receiverBase}/${name}`, auth: { type: 'none' }, timeoutMs: 600_000 }] }));
        const dataDir = mkdtempSync(join(folder, `${name}-`));
        const servers: Served[] = [];
        for (let index = 0; index < instances; index++) {
          servers.push(
            await startServe(scratch.url, dataDir, {
              env: { SIP_RECEIVERS: receiversFile, SIP_DELIVERY_CONCURRENCY: String(concurrency) },
              ...(cwd === undefined ? {} : { cwd }),
              ...(CPU_PROF === undefined ? {} : { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', resolve(CPU_PROF, name)] }),
            }),
          );
        }
        const writer = await laneWriter(cwd, scratch.url);
        lanes.push({
          name,
          concurrency,
          servers,
          ...writer,
          sql: openPg(scratch.url, { maxConnections: 1 }),
          database: new URL(scratch.url).pathname.slice(1),
          exchange: await loadExchange(receiversFile),
          delivered: 0,
        });
      }
      const exchange = lanes[0]?.exchange;
      if (exchange === undefined) throw new Error('no lane');
      const baselines = [...new Set([concurrency, 2 * concurrency])];
      // Warm-up, not counted: the JIT of every process, the pools' connections.
      for (const lane of lanes) await instanceRound(lane, 'warm', WARM_UP);
      for (const inFlight of baselines) await baselineRound(exchange, inFlight, 'warm', WARM_UP);
      for (let round = 1; round <= ROUNDS; round++) {
        const measured: [string, () => Promise<Figures>][] = [
          ...lanes.map((lane) => [lane.name, () => instanceRound(lane, `r${String(round)}`, DELIVERIES)] as [string, () => Promise<Figures>]),
          ...baselines.map((inFlight) => [`baseline-${String(inFlight)}`, () => baselineRound(exchange, inFlight, `c${String(concurrency)}r${String(round)}`, DELIVERIES)] as [string, () => Promise<Figures>]),
        ];
        for (const [name, run] of measured) {
          const figures = await run();
          const key = name.startsWith('baseline') ? `${name} (with c=${String(concurrency)})` : name;
          results.set(key, [...(results.get(key) ?? []), figures]);
          write(
            `  round ${String(round)} ${key.padEnd(22)} ${figures.perSecond.toFixed(0).padStart(6)} deliveries/s` +
              (Number.isNaN(figures.cpu) ? '' : `  CPU ms/delivery: adapter ${figures.cpu.toFixed(2)}, PostgreSQL ${figures.db.toFixed(2)}`) +
              `  (load ${load()})`,
          );
        }
      }
    } finally {
      for (const lane of lanes) {
        for (const server of lane.servers) await server.stop();
        await lane.store.close();
        await lane.sql.close();
        await lane.exchange.close();
      }
      for (const scratch of scratches) await scratch.drop();
    }
  }

  write();
  write('lane                           deliveries/s (median, min–max)   ÷ baseline (same in flight)   CPU ms/delivery (median): adapter, PostgreSQL');
  const medianOf = (key: string): number => median((results.get(key) ?? []).map((figures) => figures.perSecond));
  for (const [key, figures] of results) {
    const rates = figures.map((figure) => figure.perSecond);
    const [kind, c] = key.split('-') as [string, string];
    const inFlight = kind === 'two' ? 2 * Number(c) : Number(c);
    const baseline = kind === 'baseline' ? undefined : medianOf(`baseline-${String(inFlight)} (with c=${c})`);
    write(
      `${key.padEnd(30)} ${medianOf(key).toFixed(0).padStart(6)} (${Math.min(...rates).toFixed(0)}–${Math.max(...rates).toFixed(0)})`.padEnd(65) +
        (baseline === undefined ? '' : `${(medianOf(key) / baseline).toFixed(3)} of baseline-${String(inFlight)}`).padEnd(30) +
        (kind === 'baseline' ? '' : `${median(figures.map((figure) => figure.cpu)).toFixed(2)}, ${median(figures.map((figure) => figure.db)).toFixed(2)}`),
    );
  }
  if (BEFORE_DIR !== undefined) {
    write();
    for (const key of [...results.keys()].filter((name) => !name.startsWith('baseline') && !name.endsWith('-before'))) {
      const before = results.get(`${key}-before`) ?? [];
      const after = results.get(key) ?? [];
      const cpu = (figures: readonly Figures[], field: 'cpu' | 'db'): number => median(figures.map((figure) => figure[field]));
      write(
        `${key} ÷ ${key}-before (${resolve(BEFORE_DIR)}): deliveries/s ${(medianOf(key) / medianOf(`${key}-before`)).toFixed(2)}×; ` +
          `CPU ms/delivery adapter ${cpu(after, 'cpu').toFixed(2)} vs ${cpu(before, 'cpu').toFixed(2)} (${(cpu(after, 'cpu') / cpu(before, 'cpu')).toFixed(2)}×), ` +
          `PostgreSQL ${cpu(after, 'db').toFixed(2)} vs ${cpu(before, 'db').toFixed(2)} (${(cpu(after, 'db') / cpu(before, 'db')).toFixed(2)}×)`,
      );
    }
  }
  write();
  for (const key of [...results.keys()].filter((name) => !name.startsWith('baseline'))) {
    const [kind, c, before] = key.split('-') as [string, string, string | undefined];
    const rate = medianOf(key);
    write(`aim ≥ ${String(AIM)} deliveries/s, ${kind === 'one' ? 'one instance' : 'two instances'}, SIP_DELIVERY_CONCURRENCY=${c}${before === undefined ? '' : ' (before)'}: ${rate >= AIM ? 'met' : 'NOT met'} (${rate.toFixed(0)}/s)`);
  }
  write(`load average at the end: ${load()}`);
} finally {
  receiverProcess.disconnect();
  rmSync(folder, { recursive: true, force: true });
}
