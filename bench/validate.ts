/**
 * How fast the validator is, against baselines measured in the same run (the machines are shared
 * and noisy, so only ratios travel):
 *  (a) resources per second of `createValidator().validate` on the SIP Bundles `planToBundle` makes
 *      from `examples/*.json` (every entry resource, and each whole Bundle) and on the official R4
 *      examples of the resource types SIP uses;
 *  (b) `@medplum/core` 4.5.2 `validateResource` on the same resources, and the ratio ours / Medplum;
 *  (c) the CLI's cold start on one SIP Bundle (`node dist/cli/bin.js validate`), against `node -e ""`.
 * Run with `npm run bench:validate`; figures are printed, nothing is asserted. BENCH_ROUNDS (default
 * 15) and BENCH_SPAWNS (default 10) set the repetitions.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { Bundle, Resource } from 'fhir/r4.js';
import { planToBundle } from '../src/fhir/index.js';
import { parsePlan } from '../src/sip/index.js';
import { createValidator, hasErrors } from '../src/validation/index.js';
import { loadMedplum } from '../test/support/fhir-validators.js';

const OFFICIAL_TYPES = ['CarePlan', 'CareTeam', 'Consent', 'Appointment', 'Goal', 'Patient', 'Organization', 'Practitioner', 'PractitionerRole', 'RelatedPerson', 'Task'];
const rounds = Number(process.env.BENCH_ROUNDS ?? '15');
const spawns = Number(process.env.BENCH_SPAWNS ?? '10');
const write = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8')) as unknown;
}

const bundles: Bundle[] = readdirSync('examples')
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => {
    const parsed = parsePlan(readJson(path.join('examples', file)));
    if (!parsed.ok) throw new Error(`examples/${file} is not a valid plan`);
    return planToBundle(parsed.plan);
  });
/**
 * The same Bundles without `meta.profile`: ours then checks what Medplum's `validateResource`
 * checks without a profile (the base R4 definitions), and not the SIP profiles' cross-resource rules.
 */
const baseOnly: Bundle[] = bundles.map((bundle) => {
  const copy = structuredClone(bundle);
  delete copy.meta;
  for (const entry of copy.entry ?? []) if (entry.resource !== undefined) delete entry.resource.meta;
  return copy;
});
const sipEntries: Resource[] = bundles.flatMap((bundle) => (bundle.entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : [])));

const examplesDir = path.dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
const official: Resource[] = readdirSync(examplesDir)
  .filter((file) => file.endsWith('.json') && OFFICIAL_TYPES.some((type) => file.startsWith(`${type}-`)))
  .sort()
  .map((file) => readJson(path.join(examplesDir, file)) as Resource);

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/** Median milliseconds per pass over `resources`, after warm-up passes; also how many were judged invalid. */
function measure(resources: readonly Resource[], judge: (resource: Resource) => boolean): { ms: number; invalid: number } {
  let invalid = 0;
  for (let i = 0; i < 3; i += 1) invalid = resources.filter((resource) => !judge(resource)).length;
  const times: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    const start = process.hrtime.bigint();
    for (const resource of resources) judge(resource);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return { ms: median(times), invalid };
}

// Loading definitions happens once per process; it is timed apart from the throughput.
const elapsed = (work: () => void): number => {
  const start = process.hrtime.bigint();
  work();
  return Number(process.hrtime.bigint() - start) / 1e6;
};
const validator = createValidator();
const oursLoad = elapsed(() => validator.validate(official[0]));
const ours = (resource: Resource): boolean => !hasErrors(validator.validate(resource));
// The same resources come round every round, so results remembered per element JSON (see
// src/validation/invariants.ts) make later rounds cheaper than a stream of new data; this one
// evaluates every constraint every time, the worst case.
const forgetful = createValidator({ rememberResults: false });
forgetful.validate(official[0]);
const oursForgetful = (resource: Resource): boolean => !hasErrors(forgetful.validate(resource));
const medplumLoad = elapsed(loadMedplum);
const medplum = (resource: Resource): boolean => {
  try {
    validateResource(resource as Parameters<typeof validateResource>[0]);
    return true;
  } catch (error) {
    if (error instanceof OperationOutcomeError) return false;
    throw error;
  }
};

const perSecond = (count: number, ms: number): string => `${(count / (ms / 1000)).toFixed(0).padStart(8)} resources/s`;

write(`Loading: ours ${oursLoad.toFixed(0)} ms (first validate), medplum ${medplumLoad.toFixed(0)} ms (indexing R4 definitions)\n`);
write(`Throughput (median of ${String(rounds)} rounds after warm-up)`);
for (const [label, resources] of [
  [`SIP Bundle entries (${String(sipEntries.length)})`, sipEntries],
  [`SIP Bundles, whole, with their SIP profiles (${String(bundles.length)})`, bundles],
  [`SIP Bundles, whole, base R4 only: meta.profile removed (${String(baseOnly.length)})`, baseOnly],
  [`official R4 examples (${String(official.length)})`, official],
] as const) {
  const a = measure(resources, ours);
  const f = measure(resources, oursForgetful);
  const b = measure(resources, medplum);
  write(`  ${label}`);
  write(`    ours                      ${perSecond(resources.length, a.ms)}  (${String(a.invalid)} invalid)`);
  write(`    ours, nothing remembered  ${perSecond(resources.length, f.ms)}  (${String(f.invalid)} invalid)`);
  write(`    medplum                   ${perSecond(resources.length, b.ms)}  (${String(b.invalid)} invalid)`);
  write(`    ours / medplum: ${(b.ms / a.ms).toFixed(2)} × the throughput (${(b.ms / f.ms).toFixed(2)} × with nothing remembered)`);
}

// (c) Cold start: a fresh process that validates one file, against a process that does nothing.
if (!existsSync('dist/cli/bin.js')) {
  write('\nBuilding dist/ (npm run build) for the cold-start measurement …');
  execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
}
const file = path.join(mkdtempSync(path.join(tmpdir(), 'sip-bench-validate-')), 'bundle.json');
writeFileSync(file, JSON.stringify(bundles[0], null, 2));

function wallTime(args: readonly string[]): { ms: number; status: number | null } {
  spawnSync(process.execPath, args); // warm the file cache
  const times: number[] = [];
  let status: number | null = null;
  for (let i = 0; i < spawns; i += 1) {
    const start = process.hrtime.bigint();
    status = spawnSync(process.execPath, args, { stdio: 'ignore' }).status;
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return { ms: median(times), status };
}

const baseline = wallTime(['-e', '']);
const cli = wallTime(['dist/cli/bin.js', 'validate', file]);
write(`\nCold start (median of ${String(spawns)} processes)`);
write(`  node -e ""                              ${baseline.ms.toFixed(0).padStart(6)} ms`);
write(`  node dist/cli/bin.js validate <bundle>  ${cli.ms.toFixed(0).padStart(6)} ms  (exit ${String(cli.status)})`);
write(`  validate / node: ${(cli.ms / baseline.ms).toFixed(1)} ×, ${(cli.ms - baseline.ms).toFixed(0)} ms of our own`);
