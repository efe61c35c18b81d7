/**
 * The adapter's CPU per delivery of the whole outbox worker, in process: this checkout's against
 * BENCH_BEFORE_DIR=<another checkout>'s in the same interleaved rounds (which goes first alternates),
 * each with its own store on a scratch PostgreSQL database, its own exchange (a receivers file naming
 * one FHIR receiver) and its own `OutboxWorker` as `sip-fhir serve` wires it (concurrency
 * BENCH_CONCURRENCY, default 4; the version's deriver), delivering to the node:http receiver of
 * bench:exchange in a child process (bench/exchange-receiver.ts). Each round records BENCH_BATCH
 * (default 400) plans never seen before with their derived data and deliveries, collects the writes'
 * garbage (`--expose-gc`), then starts the worker and times until the outbox holds nothing undelivered:
 * claim, consent, the Bundle, axios, the settlement — everything a delivery costs the adapter, without
 * an HTTP server's own timers beside it. The bench process's CPU (`process.cpuUsage`), the PostgreSQL
 * backends' (from /proc) and the wall time per delivery; each round checks every key arrived once.
 * Medians over BENCH_ROUNDS (default 6, after a warm-up), the ratios, the load average.
 * `BENCH_PROFILE=<dir>` writes a CPU profile of each checkout's timed windows only (node:inspector),
 * for bench/profile-top.ts. Run with `BENCH_BEFORE_DIR=/work/wt/start node --expose-gc --import tsx
 * bench/exchange-worker-ab.ts`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkoutImporter, deliveryRounds, loadAverage, newStoredPlan, personnummer, postgresCpuBetween, postgresCpuMillis, scratchStoreOf, startExchangeReceiver, write, type DeliveryFigures, type ReceiverCommand } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '6');
const BATCH = Number(process.env.BENCH_BATCH ?? '400');
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? '4');
const PROFILE = process.env.BENCH_PROFILE;
const BEFORE_DIR = process.env.BENCH_BEFORE_DIR;
if (BEFORE_DIR === undefined) throw new Error('set BENCH_BEFORE_DIR to the checkout to compare with');
const WRITER = 'SE2321000180-1000';
const RECEIVER_ID = 'fk-bench';
const RECEIVER_ORG = '202100-5521';

// ——— the receiver, in a child process (bench:exchange's) ———
const receiverHandle = await startExchangeReceiver();
const { process: receiverProcess, port: receiverPort } = receiverHandle;
const receiver = <T extends Record<string, unknown>>(op: ReceiverCommand, lane: string): Promise<T> => receiverHandle.command<T>(op, lane);

/** What the bench calls of a checkout (two checkouts, two copies of the types: called through these shapes). */
interface Worker {
  start(): void;
  stop(): Promise<void>;
}
interface Exchange {
  readonly receivers: readonly { id: string; organization: string }[];
  readonly connectorFor: unknown;
  readonly decide: unknown;
  route(plan: unknown, writtenBy: string): readonly string[];
  close(): Promise<void>;
}
interface Store {
  create(plan: unknown, recordedBy: string, resources: unknown, options: unknown): Promise<unknown>;
  readonly outbox: unknown;
  audit(entry: unknown): Promise<void>;
  migrate(): Promise<void>;
  close(): Promise<void>;
}
interface Modules {
  readonly store: { createPlanStore(options: { databaseUrl: string }): Promise<Store> };
  readonly exchange: { loadExchange(file: string): Promise<Exchange>; OutboxWorker: new (options: Record<string, unknown>) => Worker };
  readonly fhir: { planResourceIds(plan: unknown): unknown };
  readonly derived: { derivedVersion(plan: unknown): unknown; currentDeriver(): string };
}
interface Checkout {
  readonly name: string;
  readonly database: string;
  readonly modules: Modules;
  readonly store: Store;
  readonly exchange: Exchange;
  delivered: number;
  drop(): Promise<void>;
}

const folder = mkdtempSync(join(tmpdir(), 'sip-bench-worker-ab-'));

async function open(dir: string, name: string): Promise<Checkout> {
  const from = checkoutImporter(dir);
  const modules: Modules = {
    store: await from('src/store/index.ts'),
    exchange: await from('src/exchange/index.ts'),
    fhir: await from('src/fhir/index.ts'),
    derived: await from('src/http/derived-view.ts'),
  };
  const { store, scratch } = await scratchStoreOf((options) => modules.store.createPlanStore(options));
  const receiversFile = join(folder, `${name}.json`);
  writeFileSync(
    receiversFile,
    JSON.stringify({ receivers: [{ id: RECEIVER_ID, organization: RECEIVER_ORG, kind: 'fhir', base: `http://127.0.0.1:${String(receiverPort)}/${name}`, auth: { type: 'none' }, timeoutMs: 60_000 }] }),
  );
  const exchange = await modules.exchange.loadExchange(receiversFile);
  return { name, database: new URL(scratch.url).pathname.slice(1), modules, store, exchange, delivered: 0, drop: () => scratch.drop() };
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolveSleep) => {
    setTimeout(resolveSleep, ms);
  });
let serial = 0;
const session = new Session();
session.connect();
const profiles = new Map<string, unknown[]>();

async function round(checkout: Checkout, label: string, count: number): Promise<DeliveryFigures> {
  await receiver('reset', checkout.name);
  const plans = Array.from({ length: count }, (_, n) => {
    serial++;
    return newStoredPlan(`bwa-${checkout.name}-${label}-${String(n)}`, personnummer(serial));
  });
  for (const plan of plans) {
    const deliverTo = checkout.exchange.route(plan, WRITER);
    await checkout.store.create(plan, WRITER, checkout.modules.fhir.planResourceIds(plan), { deliverTo, derived: checkout.modules.derived.derivedVersion(plan) });
  }
  const worker = new checkout.modules.exchange.OutboxWorker({
    concurrency: CONCURRENCY,
    outbox: checkout.store.outbox,
    audit: (entry: unknown) => checkout.store.audit(entry),
    receivers: checkout.exchange.receivers,
    connectorFor: checkout.exchange.connectorFor,
    decide: checkout.exchange.decide,
    deriver: checkout.modules.derived.currentDeriver(),
    pollIntervalMs: 5,
  });
  (globalThis as { gc?: () => void }).gc?.();
  const profiling = PROFILE !== undefined && label !== 'warm';
  if (profiling) await session.post('Profiler.enable').then(() => session.post('Profiler.start'));
  const dbBefore = postgresCpuMillis(checkout.database);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  worker.start();
  let stats = await receiver<{ keys: number; requests: number; duplicates: number }>('stats', checkout.name);
  while (stats.keys < count) {
    await sleep(5);
    stats = await receiver('stats', checkout.name);
  }
  await worker.stop();
  const wall = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const db = postgresCpuBetween(dbBefore, postgresCpuMillis(checkout.database)) ?? Number.NaN;
  if (profiling) {
    const { profile } = await session.post('Profiler.stop');
    profiles.set(checkout.name, [...(profiles.get(checkout.name) ?? []), profile]);
  }
  if (stats.requests !== count || stats.duplicates !== 0) throw new Error(`${checkout.name} ${label}: ${String(stats.requests)} requests, ${String(stats.duplicates)} duplicates for ${String(count)}`);
  return { cpu: (cpu.user + cpu.system) / 1000 / count, db: db / count, wall: wall / count };
}

write(`exchange-worker-ab: the outbox worker in process, concurrency ${String(CONCURRENCY)}, ${String(BATCH)} deliveries a round, ${String(ROUNDS)} rounds (and a warm-up); load average ${loadAverage()}`);
const now = await open('.', 'now');
const before = await open(BEFORE_DIR, 'before');
try {
  await deliveryRounds(now, before, ROUNDS, (checkout, index) => round(checkout, index === 0 ? 'warm' : `r${String(index)}`, index === 0 ? 100 : BATCH));
  if (PROFILE !== undefined) {
    for (const [name, list] of profiles) {
      // The rounds' profiles as one: their nodes merged by id is not possible, so each is written apart.
      list.forEach((profile, index) => {
        writeFileSync(join(resolve(PROFILE), `${name}-${String(index + 1)}.cpuprofile`), JSON.stringify(profile));
      });
    }
    write(`profiles in ${resolve(PROFILE)}`);
  }
} finally {
  session.disconnect();
  for (const checkout of [now, before]) {
    await checkout.exchange.close();
    await checkout.store.close();
    await checkout.drop();
  }
  receiverProcess.disconnect();
  rmSync(folder, { recursive: true, force: true });
}
