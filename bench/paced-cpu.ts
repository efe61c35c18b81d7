/**
 * Why a transaction costs the server more CPU at 100/s than back to back: the CPU of the same work,
 * in this process, with nothing between one piece and the next, and with a gap of a few milliseconds
 * between them (BENCH_GAPS, default `0,1,10`), in interleaved rounds.
 *
 * The work: a `POST /fhir` transaction's reading of a Bundle never seen before — `JSON.parse` of its
 * text with its references written as the fullUrls they resolve to, its validation against the SIP
 * Bundle profile, and `readCheckedPlan` (FHIR → SIP, the rules) — timed phase by phase. Two controls
 * in the same rounds: a loop of integer arithmetic of about a millisecond (code and data that fit in
 * a core's first cache) and 100,000 steps through 2 MB in a random order (data that does not, read as
 * a transaction reads its objects: each address found in the one read before).
 *
 * The gap is spent busy, reading the clock in a loop, not asleep: the core never idles, so its sleep
 * states and clock speed are the same in every lane, and this process touches next to nothing in the
 * gap. What differs is the time that passes, in which other work on the same chip — most likely
 * other virtual machines, on the core's other hardware thread and on the cores that share the
 * third-level cache (the guest sees no stolen time) — takes the caches this process's work was in.
 * On 2026-12-06 (AMD EPYC, 1 MB of second-level cache a core, 32 MB of third-level) the reading cost
 * 1.6× as much with 10 ms between transactions as back to back, the arithmetic loop the same (0.97×),
 * the random walk through 2 MB 2.1× (docs/performance.md, "A transaction's CPU at 100/s").
 *
 * This thread's CPU time around each phase (the scheduler's, V8's helper threads left out), medians over
 * BENCH_ROUNDS (default 8) of BENCH_BATCH (default 200) each, the load average.
 * Run with `npx tsx bench/paced-cpu.ts`.
 */
import { loadavg } from 'node:os';
import type { Bundle } from 'fhir/r4.js';
import { PROFILE, planToBundle, readCheckedPlan } from '../src/fhir/index.js';
import { withBundleReferences } from '../src/http/fhir-transaction.js';
import { createValidator } from '../src/validation/index.js';
import { median, newPlan, personnummer, threadSchedstat, write } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '8');
const BATCH = Number(process.env.BENCH_BATCH ?? '200');
const GAPS = (process.env.BENCH_GAPS ?? '0,1,10').split(',').map(Number);
if (GAPS.some((gap) => !Number.isFinite(gap) || gap < 0)) throw new Error(`BENCH_GAPS: milliseconds ≥ 0, comma-separated, not ${String(process.env.BENCH_GAPS)}`);

/**
 * The main thread's CPU time in ms, from the scheduler (nanoseconds on a core, {@link threadSchedstat}):
 * the event loop's alone. `process.cpuUsage` would add V8's helper threads, whose concurrent work
 * falls in the window when nothing is between two pieces of work and in the gap otherwise.
 */
const cpu = (): number => {
  const times = threadSchedstat(process.pid, String(process.pid));
  if (times === undefined) throw new Error('paced-cpu reads the scheduler statistics of Linux (/proc/<pid>/task/<tid>/schedstat)');
  return times.ran / 1e6;
};

/** Spends `ms` reading the clock: the core stays busy and this process touches almost no memory. */
function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // nothing: the clock's read is the loop's whole work
  }
}

/** Lets the event loop turn between two pieces of work, as a server's does between two requests. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const validator = createValidator();
let serial = 900_000;
/** BATCH transaction Bundles of plans never seen before, as JSON text (own id and person each). */
function newBundles(): string[] {
  return Array.from({ length: BATCH }, () => {
    serial += 1;
    return JSON.stringify(planToBundle(newPlan(`sip-paced-${String(serial)}`, personnummer(serial))));
  });
}

const PHASES = ['parse', 'validate', 'read'] as const;
type Phase = (typeof PHASES)[number];

/** The reading of each Bundle, phase by phase, with `gap` ms between one Bundle and the next: CPU ms per Bundle. */
async function readings(texts: readonly string[], gap: number): Promise<Record<Phase, number>> {
  const spent: Record<Phase, number> = { parse: 0, validate: 0, read: 0 };
  for (const text of texts) {
    const start = cpu();
    const bundle = withBundleReferences(JSON.parse(text) as Bundle);
    const parsed = cpu();
    validator.validate(bundle, { profiles: [PROFILE.bundle] });
    const validated = cpu();
    if (!readCheckedPlan(bundle).ok) throw new Error('a generated plan was refused: the bench measures nothing');
    const read = cpu();
    spent.parse += parsed - start;
    spent.validate += validated - parsed;
    spent.read += read - validated;
    busyWait(gap);
    await turn();
  }
  return { parse: spent.parse / texts.length, validate: spent.validate / texts.length, read: spent.read / texts.length };
}

/** About a millisecond of integer arithmetic in a few registers. */
function arithmetic(): number {
  let x = 0;
  for (let i = 0; i < 1_500_000; i++) x = (x * 31 + i) | 0;
  return x;
}

/**
 * A random cycle through `count` slots: `next[i]` is the slot after `i`, in an order shuffled once, so
 * following it reads memory in an order the processor's prefetchers cannot guess (a sequential walk
 * over as much memory showed no gap at all: the prefetchers hide it).
 */
function randomCycle(count: number): Int32Array {
  const order = Array.from({ length: count }, (_, index) => index);
  for (let index = count - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    [order[index], order[other]] = [order[other] ?? 0, order[index] ?? 0];
  }
  const next = new Int32Array(count);
  for (let index = 0; index < count; index++) next[order[index] ?? 0] = order[(index + 1) % count] ?? 0;
  return next;
}

const cycle = randomCycle((2 * 1024 * 1024) / 4);
/** 100,000 steps through 2 MB in a random order: more than a core's second-level cache holds, and each read waits for the one before. */
function memoryChase(): number {
  let at = 0;
  for (let step = 0; step < 100_000; step++) at = cycle[at] ?? 0;
  return at;
}

/** A control `work` done BATCH / 2 times with `gap` ms between: CPU ms each. */
async function control(work: () => number, gap: number): Promise<number> {
  let spent = 0;
  let sink = 0;
  const times = Math.max(1, Math.floor(BATCH / 2));
  for (let index = 0; index < times; index++) {
    const start = cpu();
    sink += work();
    spent += cpu() - start;
    busyWait(gap);
    await turn();
  }
  if (Number.isNaN(sink)) throw new Error('unreachable: keeps the work from being optimised away');
  return spent / times;
}

interface Figures {
  readonly phases: Record<Phase, number[]>;
  readonly arithmetic: number[];
  readonly memoryChase: number[];
}
const figures = new Map<number, Figures>(GAPS.map((gap) => [gap, { phases: { parse: [], validate: [], read: [] }, arithmetic: [], memoryChase: [] }]));

write(`paced-cpu: ${String(ROUNDS)} rounds, ${String(BATCH)} new transaction Bundles per lane a round, gaps ${GAPS.join(', ')} ms (busy), Node ${process.version}`);
// Warm-up, not counted: compiles the code and loads the definitions.
await readings(newBundles(), 0);
await readings(newBundles(), 0);
const loads: number[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const order = round % 2 === 0 ? [...GAPS].reverse() : GAPS;
  for (const gap of order) {
    const lane = figures.get(gap);
    if (lane === undefined) continue;
    const spent = await readings(newBundles(), gap);
    for (const phase of PHASES) lane.phases[phase].push(spent[phase]);
    lane.arithmetic.push(await control(arithmetic, gap));
    lane.memoryChase.push(await control(memoryChase, gap));
  }
  loads.push(loadavg()[0] ?? Number.NaN);
  write(`  round ${String(round)}: ${GAPS.map((gap) => {
    const lane = figures.get(gap);
    const total = lane === undefined ? Number.NaN : PHASES.reduce((sum, phase) => sum + (lane.phases[phase].at(-1) ?? 0), 0);
    return `gap ${String(gap)} ms ${total.toFixed(2)}`;
  }).join(', ')} ms a transaction`);
}

const base = figures.get(GAPS[0] ?? 0);
const ratio = (value: number, of: number): string => (Number.isFinite(of) && of > 0 ? ` (${(value / of).toFixed(2)}×)` : '');
write(`CPU ms, median over the rounds (× the first gap's), load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}:`);
write('  gap ms   parse+refs      validate        readCheckedPlan  transaction     | arithmetic      2 MB chase');
for (const gap of GAPS) {
  const lane = figures.get(gap);
  if (lane === undefined || base === undefined) continue;
  const cell = (values: readonly number[], of: readonly number[]): string => `${median(values).toFixed(3)}${ratio(median(values), median(of))}`.padEnd(16);
  const totals = (of: Figures): number[] => of.phases.parse.map((parse, index) => parse + (of.phases.validate[index] ?? 0) + (of.phases.read[index] ?? 0));
  write(`  ${String(gap).padEnd(7)}${cell(lane.phases.parse, base.phases.parse)}${cell(lane.phases.validate, base.phases.validate)}${cell(lane.phases.read, base.phases.read)} ${cell(totals(lane), totals(base))}| ${cell(lane.arithmetic, base.arithmetic)}${cell(lane.memoryChase, base.memoryChase)}`);
}
