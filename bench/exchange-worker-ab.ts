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
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createScratchDatabase } from '../test/store/postgres-scratch.js';
import { median, newStoredPlan, personnummer, postgresCpuBetween, postgresCpuMillis, write } from './support.js';

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
const receiverProcess = fork(fileURLToPath(new URL('./exchange-receiver.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const receiverPort = await new Promise<number>((resolvePort, reject) => {
  receiverProcess.once('message', (message: { port: number }) => {
    resolvePort(message.port);
  });
  receiverProcess.once('exit', (code) => {
    reject(new Error(`the receiver ended (${String(code)})`));
  });
});
let commandId = 0;
const pending = new Map<number, (reply: Record<string, unknown>) => void>();
receiverProcess.on('message', (message: { id?: number }) => {
  if (message.id === undefined) return;
  pending.get(message.id)?.(message);
  pending.delete(message.id);
});
function receiver<T extends Record<string, unknown>>(op: 'stats' | 'keys' | 'reset', lane: string): Promise<T> {
  const id = ++commandId;
  return new Promise((resolveReply) => {
    pending.set(id, (reply) => {
      resolveReply(reply as T);
    });
    receiverProcess.send({ id, op, lane });
  });
}

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
  const from = async <T>(path: string): Promise<T> => (await import(pathToFileURL(join(resolve(dir), path)).href)) as T;
  const modules: Modules = {
    store: await from('src/store/index.ts'),
    exchange: await from('src/exchange/index.ts'),
    fhir: await from('src/fhir/index.ts'),
    derived: await from('src/http/derived-view.ts'),
  };
  const scratch = await createScratchDatabase();
  const store = await modules.store.createPlanStore({ databaseUrl: scratch.url });
  await store.migrate();
  const receiversFile = join(folder, `${name}.json`);
  writeFileSync(
    receiversFile,
    JSON.stringify({ receivers: [{ id: RECEIVER_ID, organization: RECEIVER_ORG, kind: 'fhir', base: `http://127.0.0.1:${String(receiverPort)}/${name}`, auth: { type: 'none' }, timeoutMs: 60_000 }] }),
  );
  const exchange = await modules.exchange.loadExchange(receiversFile);
  return { name, database: new URL(scratch.url).pathname.slice(1), modules, store, exchange, delivered: 0, drop: () => scratch.drop() };
}

interface Figures {
  readonly cpu: number;
  readonly db: number;
  readonly wall: number;
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolveSleep) => {
    setTimeout(resolveSleep, ms);
  });
let serial = 0;
const session = new Session();
session.connect();
const profiles = new Map<string, unknown[]>();

async function round(checkout: Checkout, label: string, count: number): Promise<Figures> {
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

const load = (): string => loadavg().map((value) => value.toFixed(2)).join(', ');
write(`exchange-worker-ab: the outbox worker in process, concurrency ${String(CONCURRENCY)}, ${String(BATCH)} deliveries a round, ${String(ROUNDS)} rounds (and a warm-up); load average ${load()}`);
const now = await open('.', 'now');
const before = await open(BEFORE_DIR, 'before');
const results = new Map<string, Figures[]>([
  ['now', []],
  ['before', []],
]);
try {
  for (let index = 0; index <= ROUNDS; index++) {
    const pair = index % 2 === 0 ? [now, before] : [before, now];
    for (const checkout of pair) {
      const figures = await round(checkout, index === 0 ? 'warm' : `r${String(index)}`, index === 0 ? 100 : BATCH);
      if (index === 0) continue;
      results.get(checkout.name)?.push(figures);
      write(`  round ${String(index)} ${checkout.name.padEnd(7)} adapter ${figures.cpu.toFixed(3)} ms, PostgreSQL ${figures.db.toFixed(3)} ms, wall ${figures.wall.toFixed(3)} ms per delivery  (load ${load()})`);
    }
  }
  const of = (name: string, field: keyof Figures): number => median((results.get(name) ?? []).map((figures) => figures[field]));
  const ratios = (results.get('now') ?? []).map((figures, index) => figures.cpu / (results.get('before')?.[index]?.cpu ?? Number.NaN));
  write();
  for (const field of ['cpu', 'db', 'wall'] as const) {
    write(`${{ cpu: 'adapter CPU', db: 'PostgreSQL CPU', wall: 'wall time' }[field].padEnd(15)} ms per delivery: now ${of('now', field).toFixed(3)}, before ${of('before', field).toFixed(3)} (${(of('now', field) / of('before', field)).toFixed(2)}×)`);
  }
  write(`adapter CPU now ÷ before per round: ${ratios.map((ratio) => ratio.toFixed(2)).join(', ')}`);
  write(`load average at the end: ${load()}`);
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
