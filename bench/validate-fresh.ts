/**
 * Milliseconds per SIP Bundle on Bundles never validated before: each round, every plan of
 * `examples/*.json` becomes a new plan (its own id, person and timestamps, as `bench/support.ts` makes
 * them) and `planToBundle` writes its Bundle, so no result can be remembered from an earlier one.
 * The validator runs with its expressions as written, with the %resource chains hoisted
 * (src/validation/hoist.ts), with the native ref-1/ext-1 checks too (src/validation/native.ts), each
 * with its result cache on and off, interleaved in the same rounds; process CPU milliseconds per Bundle.
 * Run with `npx tsx bench/validate-fresh.ts` (BENCH_ROUNDS, default 20; BENCH_ONLY=text to run only
 * the variants whose name holds it, e.g. `BENCH_ONLY='cache off'` under `node --cpu-prof`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadavg } from 'node:os';
import type { Bundle } from 'fhir/r4.js';
import { PROFILE, planToBundle } from '../src/fhir/index.js';
import { parsePlanText, type SipPlan } from '../src/sip/index.js';
import { createValidator, hasErrors } from '../src/validation/index.js';
import { median, personnummer } from './support.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? '20');
const only = process.env.BENCH_ONLY;
const write = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

const plans: SipPlan[] = readdirSync('examples')
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => {
    const parsed = parsePlanText(readFileSync(path.join('examples', file), 'utf8'));
    if (!parsed.ok) throw new Error(`examples/${file} is not a valid plan`);
    return parsed.plan;
  });

/** Process CPU milliseconds: the machine is shared, so wall time measures the neighbours too. */
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

let serial = 0;
/** A Bundle never seen before: the plan under a new id and person, updated at a new instant. */
function freshBundle(plan: SipPlan): Bundle {
  serial += 1;
  const id = `bench-${String(serial)}-${Math.random().toString(36).slice(2, 10)}`;
  const fresh: SipPlan = {
    ...plan,
    id,
    individual: { ...plan.individual, identifier: { ...plan.individual.identifier, value: personnummer(serial) } },
    updatedAt: new Date(Date.parse(plan.updatedAt) + serial * 1000).toISOString(),
    consents: plan.consents.map((consent) => ({ ...consent, planId: id })),
  };
  return planToBundle(fresh);
}

const variants = [
  { name: 'as written, result cache off', options: { hoistInvariants: false, nativeChecks: false, skipAbsent: false, rememberResults: false } },
  { name: 'as written, result cache on', options: { hoistInvariants: false, nativeChecks: false, skipAbsent: false, rememberResults: true } },
  { name: 'hoisting, result cache off', options: { hoistInvariants: true, nativeChecks: false, skipAbsent: false, rememberResults: false } },
  { name: 'hoisting + native, result cache off', options: { hoistInvariants: true, nativeChecks: true, skipAbsent: false, rememberResults: false } },
  { name: 'hoisting + native + skip absent, cache off', options: { hoistInvariants: true, nativeChecks: true, skipAbsent: true, rememberResults: false } },
  { name: 'hoisting + native, result cache on (default)', options: { hoistInvariants: true, nativeChecks: true, rememberResults: true } },
]
  .map(({ name, options }) => ({ name, validator: createValidator(options), times: [] as number[], invalid: 0 }))
  .filter((variant) => only === undefined || variant.name.includes(only));

for (const variant of variants) variant.validator.validate(freshBundle(plans[0] as SipPlan), { profiles: [PROFILE.bundle] });
for (let round = 0; round < rounds + 2; round += 1) {
  for (const variant of variants) {
    const bundles = plans.map(freshBundle);
    const start = cpuMs();
    let invalid = 0;
    for (const bundle of bundles) if (hasErrors(variant.validator.validate(bundle, { profiles: [PROFILE.bundle] }))) invalid += 1;
    if (round >= 2) variant.times.push((cpuMs() - start) / bundles.length);
    variant.invalid = invalid;
  }
}
write(`${String(plans.length)} example plans, fresh Bundles each round, ${String(rounds)} rounds (median CPU ms per SIP Bundle; load average ${(loadavg()[0] ?? Number.NaN).toFixed(1)} on 2 cores):`);
for (const variant of variants) write(`  ${variant.name.padEnd(46)} ${median(variant.times).toFixed(2)} ms  (${String(variant.invalid)} of ${String(plans.length)} judged invalid)`);
