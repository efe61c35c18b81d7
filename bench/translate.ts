/**
 * How fast a municipal export becomes FHIR, against `to-fhir` alone in the same run: plans per
 * second for
 *
 * - baseline, `to-fhir`: SIP JSON text → parsePlan → judgeSend → planToBundle;
 * - municipal → FHIR, as `sip-fhir translate --from modern-case-api --to fhir` does it: export text →
 *   translateInbound (mapping rules, SIP model, SIP rules, and the round trip that reports what the
 *   SIP cannot carry) → judgeSend → planToBundle;
 * - the same without the loss report (`reportLoss: false`), to show what the report costs.
 *
 * Rounds are interleaved (baseline, municipal, municipal without report, again and again) so that a
 * machine busy for a moment slows all three alike, and every round gets inputs of its own: each plan
 * is a variant of a sample with its own case number, names and texts, so no pipeline sees an input
 * twice. Run with `npm run bench:translate` (BENCH_ROUNDS, BENCH_BATCH); figures are printed, nothing
 * is asserted. `BENCH_MAPPING=legacy-xml-export` measures the XML mapping instead (its samples sent
 * at a moment all their consents are in force).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMapping, translateInbound, type Mapping } from '../src/exchange/index.js';
import { DEFAULT_MAPPING_OPTIONS, planToBundle } from '../src/fhir/index.js';
import { judgeSend, parsePlan, type SipPlan } from '../src/sip/index.js';

const NAME = process.env.BENCH_MAPPING ?? 'modern-case-api';
if (NAME !== 'modern-case-api' && NAME !== 'legacy-xml-export') throw new Error(`BENCH_MAPPING must be modern-case-api or legacy-xml-export, not ${NAME}`);
const FOLDER = `mappings/${NAME}`;
const SENT = new Date(NAME === 'modern-case-api' ? '2026-04-15T09:00:00+02:00' : '2026-11-12T12:00:00+01:00');
const rounds = Number(process.env.BENCH_ROUNDS ?? '12');
const batch = Number(process.env.BENCH_BATCH ?? '60');

const sampleTexts = readdirSync(join(FOLDER, 'samples'))
  .filter((name) => name.endsWith(NAME === 'modern-case-api' ? '.json' : '.xml'))
  .sort()
  .map((name) => readFileSync(join(FOLDER, 'samples', name), 'utf8'));

interface Export {
  sipCase: { caseNumber: string; notes?: string };
  client: { firstName: string };
  goals: { text: string }[];
  decisions: { concerns: string }[];
}

/** Variant `n` of a sample: its own case number, name and texts, so that no input repeats. */
function jsonVariant(n: number): string {
  const base = JSON.parse(sampleTexts[n % sampleTexts.length] ?? '{}') as Export;
  base.sipCase.caseNumber = `${base.sipCase.caseNumber}-${String(n)}`;
  base.client.firstName = `${base.client.firstName} ${String(n)}`;
  for (const goal of base.goals) goal.text = `${goal.text} (${String(n)})`;
  for (const decision of base.decisions) decision.concerns = `${decision.concerns}, variant ${String(n)}`;
  return JSON.stringify(base, null, 2);
}

/** The same for an XML export of legacy-xml-export: its own case number, first name and goal texts. */
function xmlVariant(n: number): string {
  const suffix = String(n);
  return (sampleTexts[n % sampleTexts.length] ?? '')
    .replace(/<SipArende nr="([^"]*)"/, (_match, nr: string) => `<SipArende nr="${nr}-${suffix}"`)
    .replace(/<Fornamn>([^<]*)<\/Fornamn>/, (_match, name: string) => `<Fornamn>${name} ${suffix}</Fornamn>`)
    .replace(/(<Mal id="[^"]*"[^>]*>)([^<]*)</g, (_match, open: string, text: string) => `${open}${text} (${suffix})<`);
}

const variant = NAME === 'modern-case-api' ? jsonVariant : xmlVariant;

function planOf(mapping: Mapping, text: string): SipPlan {
  const plan = translateInbound(mapping, text, { reportLoss: false }).plan;
  if (plan === undefined) throw new Error('a bench input does not translate');
  return plan;
}

function send(plan: SipPlan): void {
  if (judgeSend(plan, SENT).some((problem) => problem.severity === 'error')) throw new Error('a bench plan may not be sent');
  planToBundle(plan, DEFAULT_MAPPING_OPTIONS, SENT);
}

type Pipeline = (text: string) => void;

const mapping = await loadMapping(FOLDER);
const pipelines: readonly (readonly [string, Pipeline])[] = [
  [
    'baseline  to-fhir (SIP JSON → Bundle)',
    (text) => {
      const parsed = parsePlan(JSON.parse(text) as unknown);
      if (!parsed.ok) throw new Error('a bench plan does not parse');
      send(parsed.plan);
    },
  ],
  [
    'municipal → FHIR (with loss report)',
    (text) => {
      const result = translateInbound(mapping, text);
      if (result.plan === undefined) throw new Error('a bench input does not translate');
      send(result.plan);
    },
  ],
  [
    'municipal → FHIR (reportLoss: false)',
    (text) => {
      send(planOf(mapping, text));
    },
  ],
];

/** Inputs of one pipeline for one round: municipal export text, or for the baseline the SIP JSON of such an export. */
function inputs(pipeline: number, round: number): string[] {
  const texts: string[] = [];
  for (let i = 0; i < batch; i += 1) {
    const text = variant(((round * pipelines.length + pipeline) * batch + i) * 7 + pipeline);
    texts.push(pipeline === 0 ? JSON.stringify(planOf(mapping, text)) : text);
  }
  return texts;
}

process.stdout.write(`preparing ${String((rounds + 1) * pipelines.length * batch)} distinct inputs …\n`);
// Round 0 warms every pipeline up on inputs of its own; it is not counted.
const prepared = Array.from({ length: rounds + 1 }, (_, round) => pipelines.map((_pipeline, index) => inputs(index, round)));
const rates: number[][] = pipelines.map(() => []);
prepared.forEach((round, roundIndex) => {
  pipelines.forEach(([, run], index) => {
    const texts = round[index] ?? [];
    const start = process.hrtime.bigint();
    for (const text of texts) run(text);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (roundIndex > 0) rates[index]?.push(texts.length / seconds);
  });
});

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const baseline = median(rates[0] ?? []);
process.stdout.write(`\n${String(rounds)} interleaved rounds of ${String(batch)} plans per pipeline, median plans per second:\n`);
pipelines.forEach(([label], index) => {
  const rate = median(rates[index] ?? []);
  process.stdout.write(`${label.padEnd(42)} ${rate.toFixed(0).padStart(6)} plans/s  ${(1000 / rate).toFixed(2).padStart(6)} ms/plan  ${(rate / baseline).toFixed(2)} × baseline\n`);
});
