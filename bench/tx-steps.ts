/**
 * The CPU a `POST /fhir` transaction of a new plan spends outside HTTP and SQL, in this process, for
 * this checkout and (with BENCH_BEFORE_DIR=<another checkout>) that one in the same interleaved
 * rounds: (a) `readTransaction` — reference rewriting, validation against the SIP profiles, FHIR → SIP
 * (zod), the rules and consent at sending; (b) what `recordPlan` and the store do with the plan
 * before SQL — `asFirstVersion`, the rules on the version recorded, its FHIR view, the derived texts
 * and send basis, and the store's parse of the plan (`validated`, skipped for a plan the schema
 * returned when the checkout knows `isParsedPlan`). Every round takes BENCH_BATCH (default 10) plans
 * never seen before (own id and person, bench/support.ts), each checkout its own JSON copy; which
 * checkout goes first alternates. `process.cpuUsage` per batch, medians over BENCH_ROUNDS (default 12).
 * Run with `npx tsx bench/tx-steps.ts`.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadavg } from 'node:os';
import { planToBundle } from '../src/fhir/index.js';
import { median, newPlan, personnummer, write } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '12');
const BATCH = Number(process.env.BENCH_BATCH ?? '10');
const BEFORE_DIR = process.env.BENCH_BEFORE_DIR;

/** What the bench calls of a checkout; parsed-module boundary (two checkouts, two copies of the types). */
interface Checkout {
  readonly name: string;
  read(bundle: unknown): unknown;
  record(plan: unknown): void;
}

/** The functions the bench calls, as each checkout exports them (two checkouts, two copies of the types: called through these shapes). */
interface Modules {
  readonly reader: { readTransaction(bundle: unknown, validator: unknown): { ok: boolean; plan?: unknown; outcome?: unknown } };
  readonly validation: { createValidator(): unknown };
  readonly fhir: { planEntries(plan: unknown, options: unknown): unknown; DEFAULT_MAPPING_OPTIONS: unknown };
  readonly sip: { checkPlan(plan: unknown): unknown; parsePlan(plan: unknown): unknown; checkPlanWithBasis?: (plan: unknown) => { basis: unknown }; isParsedPlan?: (plan: unknown) => boolean };
  readonly tx: { asFirstVersion(plan: unknown, at: Date): unknown };
  readonly derived: { derivedVersion(plan: unknown, view?: unknown, basis?: unknown): unknown };
}

async function load(dir: string, name: string): Promise<Checkout> {
  // The module boundary: what another checkout exports, taken to have the shapes above.
  const from = async <T>(file: string): Promise<T> => (await import(pathToFileURL(resolve(dir, file)).href)) as T;
  const modules: Modules = {
    reader: await from('src/http/transaction-reader.ts'),
    validation: await from('src/validation/index.ts'),
    fhir: await from('src/fhir/index.ts'),
    sip: await from('src/sip/index.ts'),
    tx: await from('src/http/fhir-transaction.ts'),
    derived: await from('src/http/derived-view.ts'),
  };
  const { reader, validation, fhir, sip, tx, derived } = modules;
  const validator = validation.createValidator();
  const at = new Date();
  return {
    name,
    read: (bundle) => {
      const result = reader.readTransaction(bundle, validator);
      if (!result.ok) throw new Error(`${name}: the transaction was refused: ${JSON.stringify(result.outcome).slice(0, 400)}`);
      return result.plan;
    },
    record: (plan) => {
      const first = tx.asFirstVersion(plan, at);
      const view = fhir.planEntries(first, fhir.DEFAULT_MAPPING_OPTIONS);
      if (sip.checkPlanWithBasis !== undefined) {
        const checked = sip.checkPlanWithBasis(first);
        derived.derivedVersion(first, view, checked.basis);
      } else {
        sip.checkPlan(first);
        derived.derivedVersion(first, view);
      }
      if (sip.isParsedPlan?.(first) !== true) sip.parsePlan(first);
    },
  };
}

const cpu = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const checkouts = [await load('.', 'this'), ...(BEFORE_DIR === undefined ? [] : [await load(BEFORE_DIR, 'before')])];
const figures = new Map(checkouts.map((checkout) => [checkout.name, { read: [] as number[], record: [] as number[] }]));
let serial = 500_000;
const loads: number[] = [];
for (let round = 0; round <= ROUNDS; round++) {
  const texts = Array.from({ length: BATCH }, () => {
    serial += 1;
    return JSON.stringify(planToBundle(newPlan(`sip-tx-steps-${String(serial)}`, personnummer(serial))));
  });
  const order = round % 2 === 0 ? checkouts : [...checkouts].reverse();
  for (const checkout of order) {
    const bundles = texts.map((text) => JSON.parse(text) as unknown);
    const start = cpu();
    const plans = bundles.map((bundle) => checkout.read(bundle));
    const read = cpu();
    for (const plan of plans) checkout.record(plan);
    const end = cpu();
    // Round 0 warms up (compiles, loads definitions) and is not counted.
    if (round === 0) continue;
    figures.get(checkout.name)?.read.push((read - start) / BATCH);
    figures.get(checkout.name)?.record.push((end - read) / BATCH);
  }
  loads.push(loadavg()[0] ?? Number.NaN);
  const mine = figures.get('this')?.read;
  const was = figures.get('before')?.read;
  const now = mine?.[mine.length - 1];
  const then = was?.[was.length - 1];
  if (round > 0 && now !== undefined && then !== undefined) write(`  round ${String(round)}${round % 2 === 0 ? '' : ' (before first)'}: read this ${now.toFixed(2)}   before ${then.toFixed(2)}   ratio ${(now / then).toFixed(2)}`);
}

write(`tx-steps: ${String(ROUNDS)} rounds × ${String(BATCH)} new plans, CPU ms per transaction (median), load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`);
const mine = figures.get('this');
const before = figures.get('before');
for (const step of ['read', 'record'] as const) {
  const now = median(mine?.[step] ?? []);
  const was = before === undefined ? undefined : median(before[step]);
  write(`  ${step.padEnd(7)} this ${now.toFixed(2)}${was === undefined ? '' : `   before ${was.toFixed(2)}   ratio ${(now / was).toFixed(2)}`}`);
}
if (mine !== undefined && before !== undefined) {
  const total = (figures: { read: number[]; record: number[] }): number => median(figures.read.map((read, index) => read + (figures.record[index] ?? 0)));
  write(`  both    this ${total(mine).toFixed(2)}   before ${total(before).toFixed(2)}   ratio ${(total(mine) / total(before)).toFixed(2)}`);
}
