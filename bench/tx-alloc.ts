/**
 * Where a `POST /fhir` transaction's allocations come from, outside HTTP and SQL, in this process:
 * the body's parse (`parseJson`), `readTransaction` (references, validation against the SIP
 * profiles, FHIR → SIP with its zod parse, the rules) and what `recordPlan` does with the plan before
 * SQL (`asFirstVersion`, the plan's FHIR view, the rules with their send basis, the derived texts, the
 * version's document as JSON), as tx-steps runs them. V8's sampling heap profiler
 * (`HeapProfiler.startSampling` through `node:inspector`) counts every sampled allocation, those the
 * collector has freed by the end included (`includeObjectsCollectedByMinorGC` / `…MajorGC`): what a
 * transaction writes into the young generation, which at the aim's constant rate is read and written
 * through caches the host's other work has taken (docs/performance.md, "A transaction's CPU at 100/s").
 *
 * Prints kB allocated a transaction in all and under each step (a step's callees included), the
 * functions that allocate most themselves, and the builtins that allocate (`Object.keys`, iterators,
 * `RegExp.exec` …) by the function that called them. Sampled: a figure moves by a few per cent from
 * run to run. BENCH_PLANS (default 200) transactions never seen before after a warm-up of 100 (own id
 * and person, bench/support.ts); BENCH_INTERVAL (default 1024) bytes between samples on average.
 * Run with `npx tsx bench/tx-alloc.ts`.
 */
import { Session, type HeapProfiler } from 'node:inspector/promises';
import { DEFAULT_MAPPING_OPTIONS, planEntries, planToBundle } from '../src/fhir/index.js';
import { derivedVersion } from '../src/http/derived-view.js';
import { asFirstVersion } from '../src/http/fhir-transaction.js';
import { readTransaction } from '../src/http/transaction-reader.js';
import { checkPlanWithBasis } from '../src/sip/index.js';
import { parseJson } from '../src/sip/json-text.js';
import { createValidator } from '../src/validation/index.js';
import { newPlan, personnummer, scriptSite, write } from './support.js';

const PLANS = Number(process.env.BENCH_PLANS ?? '200');
const INTERVAL = Number(process.env.BENCH_INTERVAL ?? '1024');
const WARM_UP = 100;

/** The steps whose allocations are summed with their callees', by the function's name as V8 reports it. */
const STEPS = ['parseJson', 'readTransaction', 'withBundleReferences', 'validate', 'readCheckedPlan', 'bundleToPlan', 'safeParsePlan', 'asFirstVersion', 'planEntries', 'checkPlanWithBasis', 'derivedVersion'] as const;

const validator = createValidator();
const at = new Date();
let serial = 800_000;

/** Transaction Bundles of new plans as JSON text, as a client sends them. */
function bundleTexts(count: number): string[] {
  return Array.from({ length: count }, () => {
    serial += 1;
    return JSON.stringify(planToBundle(newPlan(`sip-tx-alloc-${String(serial)}`, personnummer(serial))));
  });
}

/** One transaction's work outside HTTP and SQL, as bench/tx-steps.ts does it. */
function transaction(text: string): number {
  const parsed = parseJson(text);
  if (!parsed.ok) throw new Error(parsed.message);
  const result = readTransaction(parsed.value, validator);
  if (!result.ok) throw new Error(`the transaction was refused: ${JSON.stringify(result.outcome).slice(0, 400)}`);
  const first = asFirstVersion(result.plan, at);
  if (first === undefined) throw new Error('an approval names an earlier version');
  const view = planEntries(first, DEFAULT_MAPPING_OPTIONS);
  const derived = derivedVersion(first, view, checkPlanWithBasis(first).basis);
  // The version's document, as the store writes it.
  return JSON.stringify(first).length + derived.texts.length;
}

for (const text of bundleTexts(WARM_UP)) transaction(text);
const texts = bundleTexts(PLANS);
const session = new Session();
session.connect();
// V8's own parameters, which @types/node does not list: count allocations the collector frees too.
const sampling: HeapProfiler.StartSamplingParameterType & { includeObjectsCollectedByMinorGC: boolean; includeObjectsCollectedByMajorGC: boolean } = {
  samplingInterval: INTERVAL,
  includeObjectsCollectedByMinorGC: true,
  includeObjectsCollectedByMajorGC: true,
};
await session.post('HeapProfiler.startSampling', sampling);
for (const text of texts) transaction(text);
const { profile } = await session.post('HeapProfiler.stopSampling');
session.disconnect();

const kB = (bytes: number): string => (bytes / PLANS / 1024).toFixed(1).padStart(7);
const where = (node: HeapProfiler.SamplingHeapProfileNode): string => {
  const { functionName, url } = node.callFrame;
  if (url === '') return functionName === '' ? '(code without a source file: new Function, e.g. zod\'s compiled parsers)' : `${functionName} (builtin)`;
  return scriptSite(node.callFrame);
};

const underStep = new Map<string, number>();
const bySelf = new Map<string, number>();
const builtinsByCaller = new Map<string, number>();
let total = 0;

function visit(node: HeapProfiler.SamplingHeapProfileNode, steps: ReadonlySet<string>, caller: string): void {
  const name = node.callFrame.functionName;
  const here = (STEPS as readonly string[]).includes(name) ? new Set([...steps, name]) : steps;
  const self = node.selfSize;
  total += self;
  for (const step of here) underStep.set(step, (underStep.get(step) ?? 0) + self);
  const at = where(node);
  bySelf.set(at, (bySelf.get(at) ?? 0) + self);
  if (node.callFrame.url === '' && name !== '' && !name.startsWith('(')) builtinsByCaller.set(`${name} ← ${caller}`, (builtinsByCaller.get(`${name} ← ${caller}`) ?? 0) + self);
  for (const child of node.children) visit(child, here, at);
}
visit(profile.head, new Set(), '');

const top = (map: ReadonlyMap<string, number>, count: number): [string, number][] => [...map].sort((a, b) => b[1] - a[1]).slice(0, count);
write(`tx-alloc: ${String(PLANS)} transactions never seen before, sampled every ${String(INTERVAL)} bytes on average; kB allocated a transaction, freed ones included`);
write(`  in all ${kB(total)}`);
write('under each step (its callees included; steps nest):');
for (const step of STEPS) write(`  ${kB(underStep.get(step) ?? 0)}  ${step}`);
write('by the function that allocates:');
for (const [at, bytes] of top(bySelf, 25)) write(`  ${kB(bytes)}  ${at}`);
write('builtins by their caller:');
for (const [at, bytes] of top(builtinsByCaller, 15)) write(`  ${kB(bytes)}  ${at}`);
