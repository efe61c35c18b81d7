/**
 * CPU milliseconds per SIP Bundle of the validation alone (`createValidator().validate`, the SIP
 * profiles, the result cache on as the server runs it), this checkout against another
 * (BENCH_BEFORE_DIR=<checkout>, a worktree of main say) in the same interleaved rounds: every round
 * BENCH_BATCH (default 20) plans never seen before (own id and person, bench/support.ts) are mapped to
 * their Bundles, each checkout validates its own JSON copy of them, which goes first alternates, and
 * both must give the same OperationOutcome. Medians over BENCH_ROUNDS (default 20), with the load.
 * Run with `BENCH_BEFORE_DIR=/work/wt/start npx tsx bench/validate-ab.ts`.
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { PROFILE, planToBundle } from '../src/fhir/index.js';
import { median, newPlan, personnummer, write } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '20');
const BATCH = Number(process.env.BENCH_BATCH ?? '20');
const BEFORE_DIR = process.env.BENCH_BEFORE_DIR;

/** What the bench calls of a checkout's validator (two checkouts, two copies of the types: called through this shape). */
interface Validation {
  createValidator(): { validate(resource: unknown, options?: { profiles?: readonly string[] }): unknown };
}

async function load(dir: string): Promise<(bundle: unknown) => unknown> {
  // The module boundary: what another checkout exports, taken to have the shape above.
  const validation = (await import(pathToFileURL(resolve(dir, 'src/validation/index.ts')).href)) as Validation;
  const validator = validation.createValidator();
  return (bundle) => validator.validate(bundle, { profiles: [PROFILE.bundle] });
}

const cpu = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const lanes = [{ name: 'this', validate: await load('.'), ms: [] as number[] }, ...(BEFORE_DIR === undefined ? [] : [{ name: 'before', validate: await load(BEFORE_DIR), ms: [] as number[] }])];
let serial = 700_000;
const loads: number[] = [];
for (let round = 0; round <= ROUNDS; round++) {
  const texts = Array.from({ length: BATCH }, () => {
    serial += 1;
    return JSON.stringify(planToBundle(newPlan(`sip-validate-ab-${String(serial)}`, personnummer(serial))));
  });
  const outcomes = new Map<string, unknown[]>();
  for (const lane of round % 2 === 0 ? lanes : [...lanes].reverse()) {
    const bundles = texts.map((text) => JSON.parse(text) as unknown);
    const start = cpu();
    outcomes.set(lane.name, bundles.map((bundle) => lane.validate(bundle)));
    // Round 0 warms up (loads definitions, compiles) and is not counted.
    if (round > 0) lane.ms.push((cpu() - start) / BATCH);
  }
  const [first, ...others] = [...outcomes.values()];
  for (const other of others) if (!isDeepStrictEqual(first, other)) throw new Error(`round ${String(round)}: the checkouts' outcomes differ`);
  loads.push(loadavg()[0] ?? Number.NaN);
  const [mine, before] = lanes;
  const last = (ms: number[] | undefined): number => ms?.[ms.length - 1] ?? Number.NaN;
  if (round > 0 && before !== undefined) write(`  round ${String(round)}${round % 2 === 0 ? '' : ' (before first)'}: this ${last(mine?.ms).toFixed(2)}   before ${last(before.ms).toFixed(2)}   ratio ${(last(mine?.ms) / last(before.ms)).toFixed(2)}`);
}
write(`validate-ab: ${String(ROUNDS)} rounds × ${String(BATCH)} new SIP Bundles, CPU ms per Bundle (median), load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`);
const [mine, before] = lanes;
const now = median(mine?.ms ?? []);
const was = before === undefined ? undefined : median(before.ms);
write(`  this ${now.toFixed(2)}${was === undefined ? '' : `   before ${was.toFixed(2)}   ratio ${(now / was).toFixed(2)}`}`);
