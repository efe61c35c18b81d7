/**
 * The CPU of `store.create` for a new plan with its resources and derived data, as `POST /fhir` records
 * one, this checkout against BENCH_BEFORE_DIR=<another checkout> in the same interleaved rounds (which
 * goes first alternates), each on a scratch PostgreSQL database of its own (`sip_bench_store_ab_*`,
 * created and dropped; SIP_TEST_DATABASE_URL names the server, default the local one): per create, the
 * bench process's CPU (the store's client side: pg's messages, socket writes, replies) from
 * `process.cpuUsage`, the PostgreSQL backends' CPU from /proc (support.ts `postgresCpuMillis`), and the wall time; four creates in
 * flight, as a loaded server has them. Each round BENCH_BATCH (default 100) plans never seen before,
 * mapped and derived before the timing; medians over BENCH_ROUNDS (default 8), the ratios, the load
 * average. Run with `BENCH_BEFORE_DIR=/work/wt/start npx tsx bench/store-create-ab.ts`.
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { median, newPlan, personnummer, postgresCpuBetween, postgresCpuMillis, write } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '8');
const BATCH = Number(process.env.BENCH_BATCH ?? '100');
const BEFORE_DIR = process.env.BENCH_BEFORE_DIR;
const SERVER = process.env.SIP_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** What the bench calls of a checkout (two checkouts, two copies of the types: called through these shapes). */
interface Store {
  create(plan: unknown, recordedBy: string, resources: unknown, options: unknown): Promise<unknown>;
  migrate(): Promise<void>;
  close(): Promise<void>;
}
interface Modules {
  readonly client: { openPg(url: string, options: { maxConnections: number }): unknown };
  readonly store: { SqlPlanStore: new (client: unknown) => Store };
  readonly fhir: { planEntries(plan: unknown, options: unknown): unknown; resourceIdsOf(view: unknown): unknown; DEFAULT_MAPPING_OPTIONS: unknown };
  readonly sip: { parsePlan(plan: unknown): { ok: boolean; plan?: unknown } };
  readonly derived: { derivedVersion(plan: unknown, view: unknown): unknown };
}

function urlOf(database: string): string {
  const url = new URL(SERVER);
  url.pathname = `/${database}`;
  return url.toString();
}

async function onServer(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: SERVER });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

interface Checkout {
  readonly name: string;
  readonly database: string;
  readonly modules: Modules;
  readonly store: Store;
}

async function open(dir: string, name: string): Promise<Checkout> {
  // The module boundary: what another checkout exports, taken to have the shapes above.
  const from = async <T>(file: string): Promise<T> => (await import(pathToFileURL(resolve(dir, file)).href)) as T;
  const modules: Modules = {
    client: await from('src/store/sql-client.ts'),
    store: await from('src/store/sql-plan-store.ts'),
    fhir: await from('src/fhir/index.ts'),
    sip: await from('src/sip/index.ts'),
    derived: await from('src/http/derived-view.ts'),
  };
  const database = `sip_bench_store_ab_${name}_${String(process.pid)}`;
  await onServer(`CREATE DATABASE ${database}`);
  const store = new modules.store.SqlPlanStore(modules.client.openPg(urlOf(database), { maxConnections: 4 }));
  await store.migrate();
  return { name, database, modules, store };
}

const cpu = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const checkouts = [await open('.', 'this'), ...(BEFORE_DIR === undefined ? [] : [await open(BEFORE_DIR, 'before')])];
const figures = new Map(checkouts.map((checkout) => [checkout.name, { client: [] as number[], postgres: [] as number[], wall: [] as number[] }]));
const loads: number[] = [];
let serial = 1_300_000;
try {
  for (let round = 0; round <= ROUNDS; round++) {
    const texts = Array.from({ length: BATCH }, () => {
      serial += 1;
      return JSON.stringify({ ...newPlan(`sip-store-ab-${String(serial)}`, personnummer(serial)), version: 1 });
    });
    for (const checkout of round % 2 === 0 ? checkouts : [...checkouts].reverse()) {
      const { fhir, sip, derived } = checkout.modules;
      const writes = texts.map((text) => {
        const parsed = sip.parsePlan(JSON.parse(text));
        if (!parsed.ok) throw new Error(`${checkout.name}: the bench's plan does not parse`);
        const view = fhir.planEntries(parsed.plan, fhir.DEFAULT_MAPPING_OPTIONS);
        return { plan: parsed.plan, resources: fhir.resourceIdsOf(view), options: { derived: derived.derivedVersion(parsed.plan, view) } };
      });
      const backends = postgresCpuMillis(checkout.database);
      const start = cpu();
      const began = performance.now();
      for (let at = 0; at < writes.length; at += 4) {
        await Promise.all(writes.slice(at, at + 4).map((one) => checkout.store.create(one.plan, 'SE2321000180-1000', one.resources, one.options)));
      }
      const wall = performance.now() - began;
      const client = cpu() - start;
      const postgres = postgresCpuBetween(backends, postgresCpuMillis(checkout.database)) ?? Number.NaN;
      // Round 0 warms up (compiles, prepares the statements) and is not counted.
      if (round === 0) continue;
      const mine = figures.get(checkout.name);
      mine?.client.push(client / BATCH);
      mine?.postgres.push(postgres / BATCH);
      mine?.wall.push(wall / BATCH);
    }
    loads.push(loadavg()[0] ?? Number.NaN);
  }
} finally {
  for (const checkout of checkouts) {
    await checkout.store.close();
    await onServer(`DROP DATABASE IF EXISTS ${checkout.database} WITH (FORCE)`);
  }
}

write(`store-create-ab: ${String(ROUNDS)} rounds × ${String(BATCH)} new plans, 4 creates in flight, ms per create (median), load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`);
for (const what of ['client', 'postgres', 'wall'] as const) {
  const now = median(figures.get('this')?.[what] ?? []);
  const before = figures.get('before')?.[what];
  const was = before === undefined ? undefined : median(before);
  write(`  ${what.padEnd(9)} this ${now.toFixed(3)}${was === undefined ? '' : `   before ${was.toFixed(3)}   ratio ${(now / was).toFixed(2)}`}`);
}
