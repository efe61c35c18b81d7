/**
 * How fast SIP ⇄ FHIR is, as ratios against a baseline measured in the same run: the baseline is
 * `JSON.parse(JSON.stringify(bundle))` of the same Bundle, the least any receiver of it pays. Run
 * with `npm run bench:mapping`; figures are printed, nothing is asserted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { bundleToPlan, planToBundle } from '../src/fhir/index.js';
import type { SipPlan } from '../src/sip/index.js';
import { parsePlan } from '../src/sip/index.js';

const plans: SipPlan[] = readdirSync('examples')
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => {
    const result = parsePlan(JSON.parse(readFileSync(`examples/${file}`, 'utf8')) as unknown);
    if (!result.ok) throw new Error(`examples/${file} is not a valid plan`);
    return result.plan;
  });
const bundles = plans.map((plan) => planToBundle(plan));

/** Median time per round over all example plans, in milliseconds. */
function measure(label: string, rounds: number, work: () => void): number {
  for (let i = 0; i < 20; i += 1) work();
  const times: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    const start = process.hrtime.bigint();
    work();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] ?? Number.NaN;
  process.stdout.write(`${label.padEnd(44)} ${median.toFixed(3)} ms per ${String(plans.length)} plans\n`);
  return median;
}

const rounds = Number(process.env.BENCH_ROUNDS ?? '200');
const baseline = measure('baseline: JSON round trip of the Bundles', rounds, () => {
  for (const bundle of bundles) JSON.parse(JSON.stringify(bundle));
});
const toFhir = measure('to-fhir: planToBundle', rounds, () => {
  for (const plan of plans) planToBundle(plan);
});
const fromFhir = measure('from-fhir: bundleToPlan', rounds, () => {
  for (const bundle of bundles) bundleToPlan(bundle);
});
const entries = bundles.reduce((sum, bundle) => sum + (bundle.entry?.length ?? 0), 0);
process.stdout.write(`\n${String(plans.length)} plans, ${String(entries)} entries\n`);
process.stdout.write(`to-fhir   ${(toFhir / baseline).toFixed(1)} × baseline, ${((toFhir / plans.length) * 1000).toFixed(0)} µs per plan\n`);
process.stdout.write(`from-fhir ${(fromFhir / baseline).toFixed(1)} × baseline, ${((fromFhir / plans.length) * 1000).toFixed(0)} µs per plan\n`);
