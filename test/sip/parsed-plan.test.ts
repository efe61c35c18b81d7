/**
 * The store takes a plan the SIP model's schema returned as it is, instead of parsing it again
 * (`isParsedPlan`, src/sip/parse.ts; `validated`, src/store/sql-plan-store.ts). That is sound only if
 * parsing such a plan again gives it back, to the JSON text: held here over every example and
 * generated plans, for plans `parsePlan` and the FHIR reader returned and for the first version the
 * FHIR facade records of them (`asFirstVersion`, built by `withVersionFields`), and for the structured
 * clone of a reader's plan that a transaction worker sends the event loop (`parsedClone`). And what is
 * not a parsed plan — a copy, a clone no one vouched for, a plan with a field that does not parse — is
 * not taken for one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planToBundle } from '../../src/fhir/index.js';
import { bundleToPlan } from '../../src/fhir/read/read-plan.js';
import { asFirstVersion } from '../../src/http/fhir-transaction.js';
import { isParsedPlan, parsedClone, parsePlan, withVersionFields, type SipPlan } from '../../src/sip/index.js';
import { mappablePlanArbitrary, validPlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, readExample } from '../support/examples.js';

const AT = new Date('2026-12-02T05:30:00.123Z');
/** How many first versions were built from a plan the reader returned (the case the store trusts). */
let firstVersions = 0;

/** `plan` is taken as parsed, and parsing it again gives the same JSON text. */
function expectParsed(plan: SipPlan): void {
  expect(isParsedPlan(plan)).toBe(true);
  const again = parsePlan(plan);
  if (!again.ok) throw new Error(`a plan taken as parsed does not parse: ${JSON.stringify(again.problems)}`);
  expect(JSON.stringify(plan)).toBe(JSON.stringify(again.plan));
}

/** Every way the write paths hold a plan of `json`: as parsed, as read back from its Bundle, and as the first version of each. */
function expectAllParsed(json: unknown): void {
  const parsed = parsePlan(json);
  if (!parsed.ok) throw new Error(`does not parse: ${JSON.stringify(parsed.problems)}`);
  expectParsed(parsed.plan);
  const first = asFirstVersion({ ...parsed.plan, approvals: parsed.plan.approvals.map((approval) => ({ ...approval, version: parsed.plan.version })) }, AT);
  // Built from a copy (not what the schema returned): a plain plan, parsed by the store.
  expect(first === undefined ? undefined : isParsedPlan(first)).toBe(first === undefined ? undefined : false);
  const read = bundleToPlan(planToBundle(parsed.plan));
  if (!read.ok) return;
  expectParsed(read.plan);
  // As src/http/transaction-reader.ts takes the plan a worker read: its clone, vouched for.
  const clone = structuredClone(read.plan);
  expect(isParsedPlan(clone)).toBe(false);
  expect(parsedClone(clone)).toStrictEqual(read.plan);
  expectParsed(clone);
  const recorded = asFirstVersion(read.plan, AT);
  if (recorded === undefined) return;
  expectParsed(recorded);
  firstVersions += 1;
  expect(recorded.version).toBe(1);
  expect(recorded.updatedAt).toBe(AT.toISOString());
}

describe('plans taken as parsed', () => {
  it('parse to themselves, for every example and its Bundle read back', () => {
    for (const file of exampleFiles) expectAllParsed(readExample(file));
  });

  it('parse to themselves, for generated plans', () => {
    fc.assert(fc.property(mappablePlanArbitrary, (json) => { expectAllParsed(json); }), { numRuns: 120 });
    fc.assert(fc.property(validPlanArbitrary, (json) => { expectAllParsed(json); }), { numRuns: 120 });
    // Not vacuous: most generated plans come back from their Bundle and are recorded as a first version.
    expect(firstVersions).toBeGreaterThan(120);
  });

  it('are only what the schema returned: not a copy, not JSON, not a plan with a field that does not parse', () => {
    const parsed = parsePlan(readExample('adult-psychiatry-addiction.json'));
    if (!parsed.ok) throw new Error('the example parses');
    const plan = parsed.plan;
    expect(isParsedPlan(plan)).toBe(true);
    expect(isParsedPlan({ ...plan })).toBe(false);
    expect(isParsedPlan(JSON.parse(JSON.stringify(plan)) as SipPlan)).toBe(false);
    expect(isParsedPlan(structuredClone(plan))).toBe(false);
    expect(isParsedPlan(withVersionFields(plan, { version: 0, updatedAt: plan.updatedAt, approvals: plan.approvals }))).toBe(false);
    expect(isParsedPlan(withVersionFields(plan, { version: 2, updatedAt: 'yesterday', approvals: plan.approvals }))).toBe(false);
    const badApproval = [{ ...plan.approvals[0], version: -1 }] as SipPlan['approvals'];
    expect(isParsedPlan(withVersionFields(plan, { version: 2, updatedAt: plan.updatedAt, approvals: badApproval }))).toBe(false);
    expect(isParsedPlan(withVersionFields({ ...plan }, { version: 2, updatedAt: plan.updatedAt, approvals: plan.approvals }))).toBe(false);
    expectParsed(withVersionFields(plan, { version: 7, updatedAt: AT.toISOString(), approvals: [] }));
  });
});
