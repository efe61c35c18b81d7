/**
 * The keys of a plan's resources kept with its version (src/fhir/write/kept-keys.ts) against the keys
 * `planEntries` registers: for every example and generated plans, the entries made with the restored
 * keys are the entries made by registering them — the same types, local ids and keys (member for
 * member, in the same order of members) in the same order, and every entry mapped from them the same
 * JSON text, Consents included, at the version's instant and at others. And what is not such a list
 * restores nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAPPING_OPTIONS, keptKeysText, planEntries, restoredKeys, type PlanEntry } from '../../src/fhir/index.js';
import { parsePlan, type SipPlan } from '../../src/sip/index.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, leakyProtectedPlan, readExample } from '../support/examples.js';

const DAY = 86_400_000;

/** Each entry's type, local id and key as JSON text: members, their values and their order. */
const keysOf = (entries: readonly PlanEntry[]): string[] => entries.map(({ resourceType, localId, key }) => JSON.stringify([resourceType, localId, key]));

/** The entries with restored keys are the registered ones, and map to the same text at `at`; returns how many entries. */
function expectSameEntries(plan: SipPlan, at: Date): number {
  const registered = planEntries(plan, DEFAULT_MAPPING_OPTIONS, at);
  const text = keptKeysText(planEntries(plan, DEFAULT_MAPPING_OPTIONS));
  if (text === undefined) throw new Error(`no keys kept for ${plan.id}`);
  const restored = restoredKeys(text);
  if (restored === undefined) throw new Error(`the kept keys of ${plan.id} are not restored`);
  const entries = planEntries(plan, DEFAULT_MAPPING_OPTIONS, at, restored);
  expect(keysOf(entries)).toEqual(keysOf(registered));
  expect(entries.map((entry) => JSON.stringify(entry.entry()))).toEqual(registered.map((entry) => JSON.stringify(entry.entry())));
  return entries.length;
}

describe('the keys kept with a version', () => {
  it('restore the keys planEntries registers, for every example, at the version’s instant and a year on', () => {
    let entries = 0;
    for (const plan of [...exampleFiles.map(readExample), leakyProtectedPlan()]) {
      entries += expectSameEntries(plan, new Date(plan.updatedAt));
      entries += expectSameEntries(plan, new Date(new Date(plan.updatedAt).getTime() + 365 * DAY));
    }
    expect(entries).toBeGreaterThan(exampleFiles.length * 2 * 10);
  });

  it('restore them for generated plans, at instants either side of the version’s', () => {
    fc.assert(
      fc.property(mappablePlanArbitrary, fc.integer({ min: -400, max: 400 }), (json, days) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        expectSameEntries(parsed.plan, new Date(new Date(parsed.plan.updatedAt).getTime() + days * DAY));
      }),
      { numRuns: 150 },
    );
  });

  it('restore nothing from what is not such a list', () => {
    const plan = readExample('adult-psychiatry-addiction.json');
    const text = keptKeysText(planEntries(plan, DEFAULT_MAPPING_OPTIONS)) ?? '';
    const kept = JSON.parse(text) as unknown[][];
    const [first] = kept;
    if (first === undefined) throw new Error('no keys');
    expect(restoredKeys(text)).toBeDefined();
    expect(restoredKeys('[]')).toBeDefined();
    for (const bad of [
      '',
      'null',
      '{}',
      '"x"',
      '[null]',
      JSON.stringify([first.slice(0, 6)]),
      JSON.stringify([[...first, 1]]),
      JSON.stringify([['Basic', ...first.slice(1)]]),
      JSON.stringify([[...first.slice(0, 5), 'patch', first[6]]]),
      JSON.stringify([[...first.slice(0, 6), 2]]),
      JSON.stringify([[...first.slice(0, 6), true]]),
      JSON.stringify([[first[0], 1, ...first.slice(2)]]),
      JSON.stringify([[...first.slice(0, 2), null, ...first.slice(3)]]),
      JSON.stringify([first, first]),
    ]) {
      expect(restoredKeys(bad), bad).toBeUndefined();
    }
  });

  it('are not kept when a key’s identifier has more than a system and a value (the restored one would not)', () => {
    const entries = planEntries(readExample('adult-psychiatry-addiction.json'), DEFAULT_MAPPING_OPTIONS);
    expect(keptKeysText(entries)).toBeDefined();
    const [first, ...rest] = entries;
    if (first === undefined) throw new Error('no entries');
    const withUse: PlanEntry = { ...first, key: { ...first.key, identifier: { ...first.key.identifier, use: 'official' } } };
    expect(keptKeysText([withUse, ...rest])).toBeUndefined();
    const reordered: PlanEntry = { ...first, key: { ...first.key, identifier: { value: first.key.identifier.value, system: first.key.identifier.system } } };
    expect(keptKeysText([reordered, ...rest])).toBeUndefined();
  });
});
