/**
 * The CPU of the reads the facade answers by mapping, not from a kept text, in process: from a stored
 * version's view (src/http/fhir-routes.ts `judgedView`, the plan already judged sendable), (a) a
 * Consent read, its one resource serialised, (b) a CarePlan search's `_include=*&_revinclude=*` for
 * one plan, every resource of the view serialised as a searchset entry; this checkout against
 * BENCH_BEFORE_DIR=<another checkout> in the same interleaved rounds (which goes first alternates),
 * each round BENCH_BATCH (default 20) plans never seen before (bench/support.ts), each checkout
 * parsing its own copy. The two checkouts' answers must be the same text for every plan, or it stops.
 * Medians of `process.cpuUsage` over BENCH_ROUNDS (default 30, after a warm-up round), their ratio, the
 * median of the rounds' own ratios and how many rounds came out lower, the load average.
 * Run with `BENCH_BEFORE_DIR=/work/wt/start npx tsx bench/view-read-ab.ts`.
 */
import { loadavg } from 'node:os';
import { checkoutImporter, median, newPlan, personnummer, write } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '30');
const BATCH = Number(process.env.BENCH_BATCH ?? '20');
const BEFORE_DIR = process.env.BENCH_BEFORE_DIR;

/** A stored version as `judgedView` reads it. */
interface Stored {
  readonly plan: unknown;
  readonly version: number;
  readonly recordedAt: string;
  readonly recordedBy: string;
}

/** The functions the bench calls, as each checkout exports them (two checkouts, two copies of the types: called through these shapes). */
interface Modules {
  readonly sip: { parsePlan(plan: unknown): { ok: boolean; plan?: unknown } };
  readonly routes: { judgedView(stored: Stored, at: Date): { entries: readonly { type: string; id: string; resource: unknown }[] } };
}

async function load(dir: string): Promise<Modules> {
  const from = checkoutImporter(dir);
  return { sip: await from('src/sip/index.ts'), routes: await from('src/http/fhir-routes.ts') };
}

const cpu = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const BASE = 'http://localhost/fhir';
const checkouts = new Map<string, Modules>([['this', await load('.')], ...(BEFORE_DIR === undefined ? [] : [['before', await load(BEFORE_DIR)] as const])]);
const figures = new Map([...checkouts.keys()].map((name) => [name, { consent: [] as number[], include: [] as number[] }]));
let serial = 760_000;
const loads: number[] = [];
for (let round = 0; round <= ROUNDS; round++) {
  const at = new Date();
  const texts = Array.from({ length: BATCH }, () => {
    serial += 1;
    return JSON.stringify(newPlan(`sip-view-read-ab-${String(serial)}`, personnummer(serial), at));
  });
  const names = round % 2 === 0 ? [...checkouts.keys()] : [...checkouts.keys()].reverse();
  const answers = new Map<string, string[]>();
  for (const name of names) {
    const { sip, routes } = checkouts.get(name) as Modules;
    const stored = texts.map((text): Stored => {
      const parsed = sip.parsePlan(JSON.parse(text));
      if (!parsed.ok) throw new Error(`${name}: the bench's plan does not parse`);
      return { plan: parsed.plan, version: 3, recordedAt: at.toISOString(), recordedBy: 'system' };
    });
    let start = cpu();
    const consents = stored.map((version) => {
      const consent = routes.judgedView(version, at).entries.find((entry) => entry.type === 'Consent');
      if (consent === undefined) throw new Error(`${name}: no Consent in the view`);
      return JSON.stringify(consent.resource);
    });
    const consentTime = (cpu() - start) / BATCH;
    start = cpu();
    const included = stored.map((version) =>
      routes
        .judgedView(version, at)
        .entries.map((entry) => JSON.stringify({ fullUrl: `${BASE}/${entry.type}/${entry.id}`, resource: entry.resource, search: { mode: entry.type === 'CarePlan' ? 'match' : 'include' } }))
        .join(','),
    );
    const includeTime = (cpu() - start) / BATCH;
    answers.set(name, [...consents, ...included]);
    // Round 0 warms up (compiles) and is not counted.
    if (round > 0) {
      figures.get(name)?.consent.push(consentTime);
      figures.get(name)?.include.push(includeTime);
    }
  }
  const [mine, before] = [answers.get('this') ?? [], answers.get('before')];
  if (before !== undefined && mine.some((text, index) => text !== before[index])) throw new Error(`round ${String(round)}: the answers differ between the checkouts`);
  loads.push(loadavg()[0] ?? Number.NaN);
}

write(`view-read-ab: ${String(ROUNDS)} rounds × ${String(BATCH)} new plans, CPU ms per plan (median), load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}${checkouts.size > 1 ? '; the answers the same text on every plan' : ''}`);
const mine = figures.get('this');
const before = figures.get('before');
for (const [step, label] of [['consent', 'a Consent read from the view'], ['include', '_include=* & _revinclude=* of one plan']] as const) {
  const now = median(mine?.[step] ?? []);
  const was = before === undefined ? undefined : median(before[step]);
  // Each round's two lanes ran on the same plans within moments of each other: their ratio rides out the host's load better than the ratio of the medians.
  const byRound = before === undefined ? [] : (mine?.[step] ?? []).map((value, index) => value / (before[step][index] ?? Number.NaN));
  const rounds = byRound.length === 0 ? '' : `   by round ${median(byRound).toFixed(3)} (median), lower in ${String(byRound.filter((ratio) => ratio < 1).length)}/${String(byRound.length)}`;
  write(`  ${label.padEnd(40)} this ${now.toFixed(3)}${was === undefined ? '' : `   before ${was.toFixed(3)}   ratio ${(now / was).toFixed(2)}${rounds}`}`);
}
