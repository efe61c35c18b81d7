/**
 * Throughput on base R4 resources never seen before, against Medplum in the same run (issue #13,
 * "speed on fresh data"): every official R4 example of the types bench/validate.ts measures (the
 * ones SIP uses) plus the first example of every other resource type, perturbed anew before each
 * pass — each `id` and each human-readable string (display, text, family, given, name, description,
 * comment, an identifier's value) gets the round's serial, and each narrative a word more — so no
 * result can be remembered from an earlier pass. In interleaved rounds, each on its own fresh copies:
 * ours with the result cache on (the default), ours with it off, and `@medplum/core` 4.5.2
 * `validateResource` (base R4, no profile, as ours without `meta.profile`). Times are process CPU
 * milliseconds per pass (the machine is shared), medians over the rounds.
 * Run with `npx tsx bench/validate-fresh-official.ts` (BENCH_ROUNDS, default 15).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import path from 'node:path';
import { OperationOutcomeError, validateResource } from '@medplum/core';
import { createValidator, hasErrors } from '../src/validation/index.js';
import { loadMedplum } from '../test/support/fhir-validators.js';
import { median, write } from './support.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? '15');
const only = process.env.BENCH_ONLY;
const SIP_TYPES = ['CarePlan', 'CareTeam', 'Consent', 'Appointment', 'Goal', 'Patient', 'Organization', 'Practitioner', 'PractitionerRole', 'RelatedPerson', 'Task'];
/** Definitions and terminology, not instances: not what a stream of clinical data holds. */
const CONFORMANCE = /^(StructureDefinition|ValueSet|CodeSystem|ConceptMap|SearchParameter|OperationDefinition|CapabilityStatement|CompartmentDefinition|ImplementationGuide|NamingSystem|StructureMap|GraphDefinition|MessageDefinition|TerminologyCapabilities|ExampleScenario|Bundle)-/;

type Json = Record<string, unknown>;
const examplesDir = path.dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
const files = readdirSync(examplesDir).filter((file) => /^[A-Z][A-Za-z]+-.*\.json$/.test(file) && !CONFORMANCE.test(file)).sort();
const firstOfType = new Map<string, string>();
for (const file of files) {
  const type = file.slice(0, file.indexOf('-'));
  if (!firstOfType.has(type)) firstOfType.set(type, file);
}
export const chosen = files.filter((file) => SIP_TYPES.some((type) => file.startsWith(`${type}-`)) || [...firstOfType.values()].includes(file));
const originals: Json[] = chosen.map((file) => JSON.parse(readFileSync(path.join(examplesDir, file), 'utf8')) as Json);

const TEXTS = new Set(['display', 'text', 'family', 'given', 'name', 'description', 'comment', 'value']);
let serial = 0;
/**
 * A copy of `value` never seen before: the resource id, human-readable strings and narratives carry
 * a new serial (other ids stay: `#id` references name them).
 */
function perturb(value: unknown, key = '', root = true): unknown {
  if (Array.isArray(value)) return value.map((item) => perturb(item, key, false));
  if (typeof value === 'object' && value !== null) {
    const out: Json = {};
    for (const [name, item] of Object.entries(value)) out[name] = perturb(item, name, false);
    if (root && typeof out.id === 'string') out.id = `${out.id.slice(0, 50)}-p${String(serial)}`;
    return out;
  }
  if (typeof value !== 'string' || key === 'id') return value;
  if (key === 'div') return value.replace(/<\/div>\s*$/, ` r${String(serial)}</div>`);
  if (TEXTS.has(key) && !/^[a-z]+:/.test(value) && !/^\d/.test(value)) return `${value} ${String(serial)}`;
  return value;
}
export function perturbedOnce(): Json[] {
  serial += 1;
  return originals.map((resource) => perturb(resource) as Json);
}

const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

if (rounds > 0) loadMedplum();
const cached = createValidator();
const uncached = createValidator({ rememberResults: false });
const variants = [
  { name: 'ours, result cache on (default)', judge: (resource: Json) => !hasErrors(cached.validate(resource)) },
  { name: 'ours, result cache off', judge: (resource: Json) => !hasErrors(uncached.validate(resource)) },
  {
    name: 'medplum validateResource',
    judge: (resource: Json): boolean => {
      try {
        validateResource(resource as unknown as Parameters<typeof validateResource>[0]);
        return true;
      } catch (error) {
        if (error instanceof OperationOutcomeError) return false;
        throw error;
      }
    },
  },
].map((variant) => ({ ...variant, times: [] as number[], invalid: 0 })).filter((variant) => only === undefined || variant.name.includes(only));

const loadBefore = loadavg()[0] ?? Number.NaN;
for (let round = 0; round < rounds + 3; round += 1) {
  for (const variant of variants) {
    const copies = perturbedOnce();
    const start = cpuMs();
    let invalid = 0;
    for (const resource of copies) if (!variant.judge(resource)) invalid += 1;
    // The first three rounds warm up the JIT and load definitions.
    if (round >= 3) variant.times.push(cpuMs() - start);
    variant.invalid = invalid;
  }
}
const medplum = median(variants.find((variant) => variant.name.startsWith('medplum'))?.times ?? []);
write(`${String(originals.length)} official R4 examples (${String(chosen.filter((file) => SIP_TYPES.some((type) => file.startsWith(`${type}-`))).length)} of the SIP types, one of each other type), perturbed anew for every pass; ${String(rounds)} interleaved rounds`);
write(`load average ${loadBefore.toFixed(1)} before, ${(loadavg()[0] ?? Number.NaN).toFixed(1)} after (2 cores)`);
for (const variant of variants) {
  const ms = median(variant.times);
  write(`  ${variant.name.padEnd(34)} ${ms.toFixed(0).padStart(6)} CPU ms per pass  ${(ms * 1000 / originals.length).toFixed(0).padStart(5)} µs/resource  ${(originals.length / (ms / 1000)).toFixed(0).padStart(6)} resources/CPU-s  ×${(medplum / ms).toFixed(2)} Medplum's throughput  (${String(variant.invalid)} judged invalid)`);
}
