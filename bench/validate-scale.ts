/**
 * How validation time grows with a Bundle's size (issue #13, "linear time"): one SIP Bundle (the
 * adult example, as a new plan) plus N more entries — copies of its Organizations, Practitioners,
 * PractitionerRoles, Goals, Appointments and Tasks under new fullUrls and ids — validated against
 * the SIP Bundle profile and, with `meta.profile` removed everywhere, against base R4 only. Each
 * size gets fresh Bundles (nothing validated before) and the result cache off, and reports CPU
 * milliseconds per Bundle (process CPU time, as the machine is shared) and the ratio to the
 * previous size: doubling the entries should roughly double the time.
 * Run with `npx tsx bench/validate-scale.ts` (BENCH_SIZES, default 1000,2000,4000,10000;
 * BENCH_REPEAT, default 2, Bundles per size and variant; BENCH_ONLY=sip or base).
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import type { Bundle, BundleEntry } from 'fhir/r4.js';
import { PROFILE, planToBundle } from '../src/fhir/index.js';
import { createValidator, hasErrors } from '../src/validation/index.js';
import { median, newPlan, personnummer, write } from './support.js';

const sizes = (process.env.BENCH_SIZES ?? '1000,2000,4000,10000').split(',').map(Number);
const repeat = Number(process.env.BENCH_REPEAT ?? '2');
const only = process.env.BENCH_ONLY;
const COPIED = new Set(['Organization', 'Practitioner', 'PractitionerRole', 'Goal', 'Appointment', 'Task']);

let serial = 0;
/** A SIP Bundle never seen before, with `extra` more entries copied from its own. */
function bigBundle(extra: number, baseOnly: boolean): Bundle {
  serial += 1;
  const bundle = planToBundle(newPlan(`scale-${String(serial)}-${randomUUID()}`, personnummer(serial), new Date(Date.UTC(2026, 0, 1) + serial * 1000)));
  const sources = (bundle.entry ?? []).filter((entry) => entry.resource !== undefined && COPIED.has(entry.resource.resourceType));
  const added: BundleEntry[] = [];
  for (let index = 0; index < extra; index += 1) {
    const source = sources[index % sources.length] as BundleEntry;
    const copy = structuredClone(source);
    const id = randomUUID();
    copy.fullUrl = `urn:uuid:${id}`;
    if (copy.resource !== undefined) copy.resource.id = id;
    if (copy.request !== undefined) copy.request = { ...copy.request, url: copy.resource?.resourceType ?? copy.request.url };
    added.push(copy);
  }
  bundle.entry = [...(bundle.entry ?? []), ...added];
  if (baseOnly) {
    delete bundle.meta;
    for (const entry of bundle.entry) if (entry.resource !== undefined) delete entry.resource.meta;
  }
  return bundle;
}

const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const variants = [
  { name: 'SIP profiles', baseOnly: false, profiles: [PROFILE.bundle] },
  { name: 'base R4 only', baseOnly: true, profiles: [] },
].filter((variant) => only === undefined || variant.name.toLowerCase().includes(only));

const validator = createValidator({ rememberResults: false });
// Warm-up at the smallest size, so the first figure is not the JIT's.
for (const variant of variants) validator.validate(bigBundle(sizes[0] ?? 1_000, variant.baseOnly), { profiles: variant.profiles });
write(`Bundle validation by size: CPU ms per Bundle, result cache off, fresh Bundles, median of ${String(repeat)}; load average ${(loadavg()[0] ?? Number.NaN).toFixed(1)} on 2 cores`);
for (const variant of variants) {
  let previous: { size: number; ms: number } | undefined;
  let smallest: { size: number; ms: number } | undefined;
  for (const size of sizes) {
    const times: number[] = [];
    let invalid = 0;
    for (let index = 0; index < repeat; index += 1) {
      const bundle = bigBundle(size, variant.baseOnly);
      const start = cpuMs();
      if (hasErrors(validator.validate(bundle, { profiles: variant.profiles }))) invalid += 1;
      times.push(cpuMs() - start);
    }
    const ms = median(times);
    const growth = previous === undefined ? '' : `  ×${(ms / previous.ms).toFixed(2)} for ×${(size / previous.size).toFixed(1)} entries`;
    write(`  ${variant.name.padEnd(13)} +${String(size).padStart(6)} entries ${ms.toFixed(0).padStart(8)} ms  ${(ms / size * 1000).toFixed(0).padStart(5)} µs/entry${growth}${invalid > 0 ? `  (${String(invalid)} judged invalid)` : ''}`);
    previous = { size, ms };
    smallest ??= previous;
  }
  if (smallest !== undefined && previous !== undefined && previous !== smallest) {
    // Issue #13: "within 1.5× of linear from the smallest to the largest size".
    const ofLinear = previous.ms / smallest.ms / (previous.size / smallest.size);
    write(`  ${variant.name}: ×${(previous.ms / smallest.ms).toFixed(2)} the time for ×${(previous.size / smallest.size).toFixed(1)} the entries = ${ofLinear.toFixed(2)}× linear (aim ≤ 1.5×: ${ofLinear <= 1.5 ? 'met' : 'NOT met'})`);
  }
}
