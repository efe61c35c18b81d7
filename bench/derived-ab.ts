/**
 * The CPU of what a write derives for its version's reads, in process: (a) mapping every resource of
 * a plan (`planEntries` and each entry's `entry()`), (b) `derivedVersion` with its own `planEntries`
 * (the mapping of every resource but Consent, the texts, the basis and summary), (c) as a transaction
 * does it: `planEntries`, `matchEntries` of the plan's own Bundle's entries on that view (which maps
 * some resources), `derivedVersion` of the same view; this checkout against
 * BENCH_BEFORE_DIR=<another checkout> in the same interleaved rounds (which goes first alternates),
 * each round BENCH_BATCH (default 20) plans never seen before (bench/support.ts), each checkout parsing
 * its own copy; the two checkouts' derived texts must be equal on every plan, or it stops. Medians of
 * `process.cpuUsage` over BENCH_ROUNDS (default 30), their ratio, the median of the rounds' own
 * ratios and how many rounds came out lower, the load average.
 * Run with `BENCH_BEFORE_DIR=/work/wt/start npx tsx bench/derived-ab.ts`.
 */
import { isDeepStrictEqual } from 'node:util';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median, newPlan, personnummer, write } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '30');
const BATCH = Number(process.env.BENCH_BATCH ?? '20');
const BEFORE_DIR = process.env.BENCH_BEFORE_DIR;

/** The functions the bench calls, as each checkout exports them (two checkouts, two copies of the types: called through these shapes). */
interface Modules {
  readonly fhir: { planEntries(plan: unknown, options: unknown): { entry(): unknown }[]; planToBundle(plan: unknown): { entry?: unknown[] }; DEFAULT_MAPPING_OPTIONS: unknown };
  readonly sip: { parsePlan(plan: unknown): { ok: boolean; plan?: unknown }; checkPlanWithBasis(plan: unknown): { basis: unknown } };
  readonly derived: { derivedVersion(plan: unknown, view: unknown, basis: unknown): { texts: unknown } };
  readonly transaction: { matchEntries(entries: unknown, plan: unknown, view: unknown): { ok: boolean } };
}

async function load(dir: string): Promise<Modules> {
  // The module boundary: what another checkout exports, taken to have the shapes above.
  const from = async <T>(file: string): Promise<T> => (await import(pathToFileURL(resolve(dir, file)).href)) as T;
  return { fhir: await from('src/fhir/index.ts'), sip: await from('src/sip/index.ts'), derived: await from('src/http/derived-view.ts'), transaction: await from('src/http/fhir-transaction.ts') };
}

const cpu = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const checkouts = new Map<string, Modules>([['this', await load('.')], ...(BEFORE_DIR === undefined ? [] : [['before', await load(BEFORE_DIR)] as const])]);
const figures = new Map([...checkouts.keys()].map((name) => [name, { map: [] as number[], derived: [] as number[], transaction: [] as number[] }]));
let serial = 700_000;
const loads: number[] = [];
for (let round = 0; round <= ROUNDS; round++) {
  const texts = Array.from({ length: BATCH }, () => {
    serial += 1;
    return JSON.stringify(newPlan(`sip-derived-ab-${String(serial)}`, personnummer(serial)));
  });
  const names = round % 2 === 0 ? [...checkouts.keys()] : [...checkouts.keys()].reverse();
  const derivedTexts = new Map<string, unknown[]>();
  for (const name of names) {
    const { fhir, sip, derived, transaction } = checkouts.get(name) as Modules;
    const plans = texts.map((text) => {
      const parsed = sip.parsePlan(JSON.parse(text));
      if (!parsed.ok) throw new Error(`${name}: the bench's plan does not parse`);
      return parsed.plan;
    });
    const bases = plans.map((plan) => sip.checkPlanWithBasis(plan).basis);
    // What a transaction of each plan would carry: its Bundle's entries as parsed from the body.
    const incoming = plans.map((plan) => JSON.parse(JSON.stringify(fhir.planToBundle(plan).entry)) as unknown);
    let start = cpu();
    for (const plan of plans) for (const planEntry of fhir.planEntries(plan, fhir.DEFAULT_MAPPING_OPTIONS)) planEntry.entry();
    const map = (cpu() - start) / BATCH;
    start = cpu();
    const results = plans.map((plan, index) => derived.derivedVersion(plan, fhir.planEntries(plan, fhir.DEFAULT_MAPPING_OPTIONS), bases[index]).texts);
    const derivedTime = (cpu() - start) / BATCH;
    start = cpu();
    const written = plans.map((plan, index) => {
      const view = fhir.planEntries(plan, fhir.DEFAULT_MAPPING_OPTIONS);
      if (!transaction.matchEntries(incoming[index], plan, view).ok) throw new Error(`${name}: a plan's own Bundle did not match it`);
      return derived.derivedVersion(plan, view, bases[index]).texts;
    });
    const transactionTime = (cpu() - start) / BATCH;
    if (!isDeepStrictEqual(written, results)) throw new Error(`${name}: the texts of a transaction's view differ from derivedVersion's own`);
    derivedTexts.set(name, results);
    // Round 0 warms up (compiles) and is not counted.
    if (round > 0) {
      figures.get(name)?.map.push(map);
      figures.get(name)?.derived.push(derivedTime);
      figures.get(name)?.transaction.push(transactionTime);
    }
  }
  if (checkouts.size > 1 && !isDeepStrictEqual(derivedTexts.get('this'), derivedTexts.get('before'))) throw new Error(`round ${String(round)}: the derived texts differ between the checkouts`);
  loads.push(loadavg()[0] ?? Number.NaN);
}

write(`derived-ab: ${String(ROUNDS)} rounds × ${String(BATCH)} new plans, CPU ms per plan (median), load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}${checkouts.size > 1 ? '; derived texts equal on every plan' : ''}`);
const mine = figures.get('this');
const before = figures.get('before');
for (const [step, label] of [['map', 'mapping every resource'], ['derived', 'derivedVersion with its planEntries'], ['transaction', 'a transaction: view, match, derive']] as const) {
  const now = median(mine?.[step] ?? []);
  const was = before === undefined ? undefined : median(before[step]);
  // Each round's two lanes ran on the same plans within moments of each other: their ratio rides out the host's load better than the ratio of the medians.
  const byRound = before === undefined ? [] : (mine?.[step] ?? []).map((value, index) => value / (before[step][index] ?? Number.NaN));
  const rounds = byRound.length === 0 ? '' : `   by round ${median(byRound).toFixed(3)} (median), lower in ${String(byRound.filter((ratio) => ratio < 1).length)}/${String(byRound.length)}`;
  write(`  ${label.padEnd(38)} this ${now.toFixed(3)}${was === undefined ? '' : `   before ${was.toFixed(3)}   ratio ${(now / was).toFixed(2)}${rounds}`}`);
}
