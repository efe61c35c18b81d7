/**
 * The CPU of the outbox's claim path on PostgreSQL per delivery — claiming, reading the claimed rows'
 * versions with their kept texts, and recording the settlements with their audit entries, as the worker
 * drives it (`deliverBatch` with its deriver) — this checkout against BENCH_BEFORE_DIR=<another
 * checkout> in the same interleaved rounds (which goes first alternates), each on a scratch PostgreSQL
 * database of its own (created and dropped). No consent, no Bundle, no HTTP: the attempt only reads the
 * plan to deliver (as the consent decision does) and answers `delivered` with an audit entry, so what is
 * measured is what src/store/outbox.ts costs the adapter (the bench process's CPU, `process.cpuUsage`)
 * and PostgreSQL (its backends' CPU from /proc). BENCH_CLAIMERS (default 2) claim loops of BENCH_LIMIT
 * (default 2) deliveries each, as a worker of SIP_DELIVERY_CONCURRENCY=4 claims; each round BENCH_BATCH
 * (default 400) plans never seen before, recorded with their derived data before the timing; medians
 * over BENCH_ROUNDS (default 6), the ratios, the load average. Steadier than bench:exchange on a loaded
 * machine, for a change of the claim path. Run with `BENCH_BEFORE_DIR=/work/wt/start node --expose-gc
 * --import tsx bench/exchange-claim-ab.ts` (`--expose-gc`: the writes' garbage is collected before each
 * timing).
 */
import { checkoutImporter, deliveryRounds, loadAverage, newPlan, personnummer, postgresCpuBetween, postgresCpuMillis, scratchStoreOf, write, type DeliveryFigures } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '6');
const BATCH = Number(process.env.BENCH_BATCH ?? '400');
const CLAIMERS = Number(process.env.BENCH_CLAIMERS ?? '2');
const LIMIT = Number(process.env.BENCH_LIMIT ?? '2');
const BEFORE_DIR = process.env.BENCH_BEFORE_DIR;
if (BEFORE_DIR === undefined) throw new Error('set BENCH_BEFORE_DIR to the checkout to compare with');
const WRITER = 'SE2321000180-1000';
const RECEIVER = 'fk-bench';

/** What the bench calls of a checkout (two checkouts, two copies of the types: called through these shapes). */
interface Claimed {
  readonly stored: { readonly plan: { readonly id: string } };
}
interface Store {
  create(plan: unknown, recordedBy: string, resources: unknown, options: unknown): Promise<unknown>;
  readonly outbox: { deliverBatch(at: Date, limit: number, attempt: (claimed: Claimed) => Promise<unknown>, options: { deriver: string }): Promise<number> };
  migrate(): Promise<void>;
  close(): Promise<void>;
}
interface Modules {
  readonly store: { createPlanStore(options: { databaseUrl: string }): Promise<Store> };
  readonly fhir: { planResourceIds(plan: unknown): unknown };
  readonly derived: { derivedVersion(plan: unknown): { readonly deriver: string } };
}

interface Checkout {
  readonly name: string;
  readonly database: string;
  readonly modules: Modules;
  readonly store: Store;
  drop(): Promise<void>;
}

async function open(dir: string, name: string): Promise<Checkout> {
  const from = checkoutImporter(dir);
  const modules: Modules = {
    store: await from('src/store/index.ts'),
    fhir: await from('src/fhir/index.ts'),
    derived: await from('src/http/derived-view.ts'),
  };
  const { store, scratch } = await scratchStoreOf((options) => modules.store.createPlanStore(options));
  return { name, database: new URL(scratch.url).pathname.slice(1), modules, store, drop: () => scratch.drop() };
}

let serial = 0;
async function round(checkout: Checkout, label: string): Promise<DeliveryFigures> {
  let deriver = '';
  for (let n = 0; n < BATCH; n++) {
    serial++;
    const plan = newPlan(`bca-${checkout.name}-${label}-${String(n)}`, personnummer(serial));
    const derived = checkout.modules.derived.derivedVersion(plan);
    deriver = derived.deriver;
    await checkout.store.create(plan, WRITER, checkout.modules.fhir.planResourceIds(plan), { deliverTo: [RECEIVER], derived });
  }
  const attempt = (claimed: Claimed): Promise<unknown> => {
    if (claimed.stored.plan.id === '') throw new Error('no plan');
    const at = new Date().toISOString();
    return Promise.resolve({ kind: 'delivered', status: 200, detail: '40 entries', audit: { at, organization: '202100-5521', agent: 'bench', planId: claimed.stored.plan.id, action: 'execute', what: 'deliver', outcome: 'success', detail: 'delivered' } });
  };
  // The writes' garbage collected before the timing, when the bench runs with --expose-gc (else a
  // collection of it falls in whichever checkout's timing comes second).
  (globalThis as { gc?: () => void }).gc?.();
  const dbBefore = postgresCpuMillis(checkout.database);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let delivered = 0;
  await Promise.all(
    Array.from({ length: CLAIMERS }, async () => {
      for (;;) {
        const claimed = await checkout.store.outbox.deliverBatch(new Date(), LIMIT, attempt, { deriver });
        if (claimed === 0) return;
        delivered += claimed;
      }
    }),
  );
  const wall = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const db = postgresCpuBetween(dbBefore, postgresCpuMillis(checkout.database)) ?? Number.NaN;
  if (delivered !== BATCH) throw new Error(`${checkout.name} ${label}: ${String(delivered)} delivered of ${String(BATCH)}`);
  return { cpu: (cpu.user + cpu.system) / 1000 / BATCH, db: db / BATCH, wall: wall / BATCH };
}

write(`exchange-claim-ab: the outbox's claim path per delivery, ${String(CLAIMERS)} claim loops of ${String(LIMIT)}, ${String(BATCH)} plans a round, ${String(ROUNDS)} rounds (and a warm-up); load average ${loadAverage()}`);
const now = await open('.', 'now');
const before = await open(BEFORE_DIR, 'before');
try {
  await deliveryRounds(now, before, ROUNDS, (checkout, index) => round(checkout, `r${String(index)}`));
} finally {
  for (const checkout of [now, before]) {
    await checkout.store.close();
    await checkout.drop();
  }
}
