/**
 * The CPU of the parts of a `POST /fhir` transaction that branch `i11-tx7` changed outside SQL, in
 * process, this checkout against BENCH_BEFORE_DIR=<another checkout> in the same interleaved rounds
 * (which goes first alternates): (a) `parseJson` of the body text (not changed by the branch: the
 * control, whose ratio is the noise), (b) `withBundleReferences` of the parsed Bundle, (c) `matchEntries` of its entries against the plan's
 * view (every view resource mapped beforehand, so only the matching is timed), (d) `derivedVersion`
 * with the view and basis given (the mapping done beforehand: the texts, basis and summary). Each round
 * BATCH (default 20) plans never seen before (bench/support.ts), each checkout its own parsed copies;
 * the two checkouts' results must be equal on every plan, or it stops. Medians of `process.cpuUsage`
 * per transaction over BENCH_ROUNDS (default 20), the ratios, the load average.
 * Run with `BENCH_BEFORE_DIR=/work/wt/start npx tsx bench/tx-parts-ab.ts`.
 */
import { isDeepStrictEqual } from 'node:util';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { planToBundle } from '../src/fhir/index.js';
import { median, newPlan, personnummer, write } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '20');
const BATCH = Number(process.env.BENCH_BATCH ?? '20');
const BEFORE_DIR = process.env.BENCH_BEFORE_DIR;
const PARTS = ['parse', 'references', 'match', 'derived'] as const;
type Part = (typeof PARTS)[number];

/** The functions the bench calls, as each checkout exports them (two checkouts, two copies of the types: called through these shapes). */
interface Modules {
  readonly json: { parseJson(text: string): { ok: boolean; value?: unknown } };
  readonly fhir: { planEntries(plan: unknown, options: unknown): { entry(): unknown }[]; DEFAULT_MAPPING_OPTIONS: unknown };
  readonly sip: { parsePlan(plan: unknown): { ok: boolean; plan?: unknown }; checkPlanWithBasis(plan: unknown): { basis: unknown } };
  readonly tx: { withBundleReferences(bundle: unknown): { entry?: unknown[] }; matchEntries(entries: unknown, plan: unknown, view: unknown): unknown };
  readonly derived: { derivedVersion(plan: unknown, view: unknown, basis: unknown): unknown };
}

async function load(dir: string): Promise<Modules> {
  // The module boundary: what another checkout exports, taken to have the shapes above.
  const from = async <T>(file: string): Promise<T> => (await import(pathToFileURL(resolve(dir, file)).href)) as T;
  return {
    json: await from('src/sip/json-text.ts'),
    fhir: await from('src/fhir/index.ts'),
    sip: await from('src/sip/index.ts'),
    tx: await from('src/http/fhir-transaction.ts'),
    derived: await from('src/http/derived-view.ts'),
  };
}

const cpu = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const checkouts = new Map<string, Modules>([['this', await load('.')], ...(BEFORE_DIR === undefined ? [] : [['before', await load(BEFORE_DIR)] as const])]);
const figures = new Map([...checkouts.keys()].map((name) => [name, new Map<Part, number[]>(PARTS.map((part) => [part, []]))]));
let serial = 800_000;
const loads: number[] = [];
for (let round = 0; round <= ROUNDS; round++) {
  const plans = Array.from({ length: BATCH }, () => {
    serial += 1;
    return newPlan(`sip-tx-parts-${String(serial)}`, personnummer(serial));
  });
  const planTexts = plans.map((plan) => JSON.stringify(plan));
  const bodies = plans.map((plan) => JSON.stringify(planToBundle(plan)));
  const names = round % 2 === 0 ? [...checkouts.keys()] : [...checkouts.keys()].reverse();
  const results = new Map<string, unknown[]>();
  for (const name of names) {
    const { json, fhir, sip, tx, derived } = checkouts.get(name) as Modules;
    const own = planTexts.map((text) => {
      const parsed = sip.parsePlan(JSON.parse(text));
      if (!parsed.ok) throw new Error(`${name}: the bench's plan does not parse`);
      return parsed.plan;
    });
    const views = own.map((plan) => fhir.planEntries(plan, fhir.DEFAULT_MAPPING_OPTIONS));
    for (const view of views) for (const planEntry of view) planEntry.entry();
    const bases = own.map((plan) => sip.checkPlanWithBasis(plan).basis);
    const spent = new Map<Part, number>();
    let start = cpu();
    const parsedBodies = bodies.map((body) => json.parseJson(body).value);
    spent.set('parse', cpu() - start);
    start = cpu();
    const rewritten = parsedBodies.map((bundle) => tx.withBundleReferences(bundle));
    spent.set('references', cpu() - start);
    start = cpu();
    const matches = rewritten.map((bundle, index) => tx.matchEntries(bundle.entry ?? [], own[index], views[index]));
    spent.set('match', cpu() - start);
    start = cpu();
    const derivations = own.map((plan, index) => derived.derivedVersion(plan, views[index], bases[index]));
    spent.set('derived', cpu() - start);
    results.set(name, [parsedBodies, rewritten, matches, derivations]);
    // Round 0 warms up (compiles, loads definitions) and is not counted.
    if (round > 0) for (const part of PARTS) figures.get(name)?.get(part)?.push((spent.get(part) ?? 0) / BATCH);
  }
  const [first, ...others] = [...results.values()];
  if (others.some((other) => !isDeepStrictEqual(other, first))) throw new Error(`round ${String(round)}: the checkouts' results differ`);
  loads.push(loadavg()[0] ?? Number.NaN);
}

write(`tx-parts-ab: ${String(ROUNDS)} rounds × ${String(BATCH)} new plans, CPU ms per transaction (median), load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}; results equal on every plan`);
for (const part of PARTS) {
  const now = median(figures.get('this')?.get(part) ?? []);
  const before = figures.get('before')?.get(part);
  const was = before === undefined ? undefined : median(before);
  write(`  ${part.padEnd(11)} this ${now.toFixed(3)}${was === undefined ? '' : `   before ${was.toFixed(3)}   ratio ${(now / was).toFixed(2)}`}`);
}
