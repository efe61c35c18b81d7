/**
 * The transaction Bundle a FHIR receiver is sent, this checkout's against another's
 * (`BENCH_BEFORE_DIR=<checkout>`, e.g. a worktree of main): for every example at its instant and a
 * year on, and for `BENCH_RUNS` (default 300) generated plans at instants up to 400 days either side,
 * each as recorded and with the consents' exclusion descriptions taken out, the text
 * `transactionBundleText` writes from the kept texts here must be the very text the other checkout
 * writes from its kept texts and when it maps the plan in full, and the kept texts the same. Stops at
 * the first difference; prints how many Bundles were compared. The bytes the connector sends here
 * (`transactionBundleBytes`) must be the UTF-8 of that text. Not a speed figure: the check that an
 * optimisation of the exchange's Bundle changed no byte a receiver gets (docs/performance.md, "The
 * exchange, fourth round"). Run with `BENCH_BEFORE_DIR=… npx tsx bench/exchange-same-bytes.ts`.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { transactionBundleBytes, transactionBundleText, type TransactionBundleText } from '../src/exchange/transaction-bundle.js';
import { DEFAULT_MAPPING_OPTIONS, type FhirMappingOptions } from '../src/fhir/index.js';
import { derivedVersion } from '../src/http/derived-view.js';
import { parsePlan, withoutExclusionDescriptions, type SipPlan } from '../src/sip/index.js';
import type { DerivedText } from '../src/store/index.js';
import { mappablePlanArbitrary } from '../test/support/arbitraries.js';
import { exampleFiles, readExample } from '../test/support/examples.js';

const BEFORE_DIR = process.env.BENCH_BEFORE_DIR;
if (BEFORE_DIR === undefined) throw new Error('set BENCH_BEFORE_DIR to the checkout to compare with');
const RUNS = Number(process.env.BENCH_RUNS ?? '300');
const DAY = 86_400_000;

/** The other checkout's modules, as this checkout's types say they are (the same exports). */
const from = async <T>(path: string): Promise<T> => (await import(pathToFileURL(resolve(BEFORE_DIR, path)).href)) as T;
const before = await from<{ transactionBundleText: (plan: SipPlan, options: FhirMappingOptions, at: Date, texts: readonly DerivedText[] | undefined) => TransactionBundleText }>('src/exchange/transaction-bundle.ts');
const beforeOptions = (await from<{ DEFAULT_MAPPING_OPTIONS: FhirMappingOptions }>('src/fhir/index.ts')).DEFAULT_MAPPING_OPTIONS;
const beforeDerived = (await from<{ derivedVersion: (plan: SipPlan) => { texts: readonly DerivedText[] } }>('src/http/derived-view.ts')).derivedVersion;

let bundles = 0;
let texts = 0;
function compare(plan: SipPlan, at: Date): void {
  const kept = derivedVersion(plan).texts;
  const keptBefore = beforeDerived(plan).texts;
  if (JSON.stringify(kept) !== JSON.stringify(keptBefore)) throw new Error(`plan ${plan.id}: the kept texts differ`);
  for (const sent of [plan, withoutExclusionDescriptions(plan)]) {
    const text = transactionBundleText(sent, DEFAULT_MAPPING_OPTIONS, at, kept).text;
    if (text !== before.transactionBundleText(sent, beforeOptions, at, keptBefore).text) throw new Error(`plan ${plan.id} at ${at.toISOString()}: the Bundle from the kept texts differs`);
    if (text !== before.transactionBundleText(sent, beforeOptions, at, undefined).text) throw new Error(`plan ${plan.id} at ${at.toISOString()}: the Bundle differs from the other checkout's full mapping`);
    // What the connector sends: the UTF-8 of that text, written from the parts here.
    if (!transactionBundleBytes(sent, DEFAULT_MAPPING_OPTIONS, at, kept).bytes.equals(Buffer.from(text, 'utf8'))) throw new Error(`plan ${plan.id} at ${at.toISOString()}: the Bundle's bytes are not its text's UTF-8`);
    bundles++;
    texts += kept.length;
  }
}

for (const file of exampleFiles) {
  const plan = readExample(file);
  compare(plan, new Date(plan.updatedAt));
  compare(plan, new Date(Date.parse(plan.updatedAt) + 365 * DAY));
}
fc.assert(
  fc.property(mappablePlanArbitrary, fc.integer({ min: -400, max: 400 }), (json, days) => {
    const parsed = parsePlan(json);
    if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
    compare(parsed.plan, new Date(Date.parse(parsed.plan.updatedAt) + days * DAY));
  }),
  { numRuns: RUNS },
);
process.stdout.write(`the same Bundle text as ${BEFORE_DIR} (from its kept texts, and mapped in full): ${String(bundles)} Bundles, ${String(texts)} entries from kept texts\n`);
