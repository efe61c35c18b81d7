/**
 * An item's information classes in FHIR (issue #14 point 3; seed 001 §4.2): the `information-class`
 * extension on Goal, CarePlan.activity and DetectedIssue, its way back, and the SIP profiles
 * accepting it. The expected extensions are written by hand from src/fhir/canonical.ts and the
 * sip-information-class CodeSystem in profiles/.
 */
import type { Bundle, CarePlan, DetectedIssue, Goal } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { bundleToPlan, planToBundle } from '../../src/fhir/index.js';
import type { SipPlan } from '../../src/sip/index.js';
import { createValidator } from '../../src/validation/index.js';
import { readExample } from '../support/examples.js';

const URL = 'http://sip-fhir-adapter.se/fhir/StructureDefinition/information-class';
const SYSTEM = 'http://sip-fhir-adapter.se/fhir/CodeSystem/sip-information-class';
const ADULT = readExample('adult-psychiatry-addiction.json');
const validator = createValidator();

/** The adult example with goal-1, int-2 and a new deviation tagged. */
function tagged(): SipPlan {
  return {
    ...ADULT,
    goals: ADULT.goals.map((goal) => (goal.id === 'goal-1' ? { ...goal, informationClasses: ['substanceUse'] } : goal)),
    interventions: ADULT.interventions.map((intervention) =>
      intervention.id === 'int-2' ? { ...intervention, informationClasses: ['substanceUse', 'mentalHealth'] } : intervention,
    ),
    deviations: [
      {
        id: 'deviation-1',
        reportedAt: '2026-03-12T15:00:00+01:00',
        reportedBy: 'prof-anna-lind',
        concerns: 'unit-beroende',
        category: 'informationNotShared',
        description: 'Uppgifter om vårdnadstvisten lämnades inte vidare.',
        status: 'open',
        informationClasses: ['familySituation'],
      },
    ],
  };
}

function resources<T>(bundle: Bundle, type: string): T[] {
  return (bundle.entry ?? []).map((entry) => entry.resource).filter((resource) => resource?.resourceType === type) as T[];
}

/** What a receiver gets: the Bundle as JSON text, parsed again. */
const overTheWire = (bundle: Bundle): unknown => JSON.parse(JSON.stringify(bundle)) as unknown;

describe('the information-class extension', () => {
  const bundle = planToBundle(tagged());

  it('is written on the tagged Goal, one Coding of sip-information-class, and on no other Goal', () => {
    const goals = resources<Goal>(bundle, 'Goal');
    const tags = goals.map((goal) => (goal.extension ?? []).filter((extension) => extension.url === URL));
    expect(tags).toEqual([[{ url: URL, valueCoding: { system: SYSTEM, code: 'substanceUse', display: 'Substance use' } }], [], []]);
  });

  it('is written on the activity (not its detail) of the tagged intervention, one per class', () => {
    const [carePlan] = resources<CarePlan>(bundle, 'CarePlan');
    const activity = carePlan?.activity?.find((candidate) => candidate.id === 'int-2');
    expect(activity?.extension).toEqual([
      { url: URL, valueCoding: { system: SYSTEM, code: 'substanceUse', display: 'Substance use' } },
      { url: URL, valueCoding: { system: SYSTEM, code: 'mentalHealth', display: 'Mental health' } },
    ]);
    expect(activity?.detail?.extension ?? []).not.toContainEqual(expect.objectContaining({ url: URL }));
    expect(carePlan?.activity?.filter((candidate) => candidate.extension !== undefined).map((candidate) => candidate.id)).toEqual(['int-2']);
  });

  it('is written on the tagged deviation', () => {
    const [issue] = resources<DetectedIssue>(bundle, 'DetectedIssue');
    expect(issue?.extension).toContainEqual({ url: URL, valueCoding: { system: SYSTEM, code: 'familySituation', display: 'Family situation' } });
  });

  it('is accepted by the SIP profiles (extension context, required binding)', () => {
    const errors = validator.validate(bundle).issue.filter((issue) => issue.severity === 'error' || issue.severity === 'fatal');
    expect(errors).toEqual([]);
  });

  it('is refused by the SIP profiles with a code that is not of the information-class value set', () => {
    const broken = structuredClone(bundle);
    const [goal] = resources<Goal>(broken, 'Goal');
    const extension = goal?.extension?.find((candidate) => candidate.url === URL);
    if (extension?.valueCoding === undefined) throw new Error('the tagged goal has its extension');
    extension.valueCoding = { system: SYSTEM, code: 'religion' };
    const errors = validator.validate(broken).issue.filter((issue) => issue.severity === 'error');
    expect(errors.length).toBeGreaterThan(0);
    expect(JSON.stringify(errors)).toContain('religion');
  });

  it('comes back: SIP → FHIR → SIP keeps every tag, and untagged items stay untagged', () => {
    const result = bundleToPlan(overTheWire(bundle));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const tags = (items: readonly { id: string; informationClasses: readonly string[] }[]): [string, readonly string[]][] =>
      items.map((item) => [item.id, item.informationClasses]);
    expect(tags(result.plan.goals)).toEqual([
      ['goal-1', ['substanceUse']],
      ['goal-2', []],
      ['goal-3', []],
    ]);
    expect(tags(result.plan.interventions)).toEqual([
      ['int-1', []],
      ['int-2', ['substanceUse', 'mentalHealth']],
      ['int-3', []],
      ['int-4', []],
      ['int-5', []],
      ['int-6', []],
    ]);
    expect(tags(result.plan.deviations)).toEqual([['deviation-1', ['familySituation']]]);
  });

  it('read from another writer: a class without a SIP code is read as "other", with a warning, never dropped', () => {
    const foreign = structuredClone(bundle);
    const [goal] = resources<Goal>(foreign, 'Goal');
    const extension = goal?.extension?.find((candidate) => candidate.url === URL);
    if (extension === undefined) throw new Error('the tagged goal has its extension');
    extension.valueCoding = { system: 'https://example.org/own-classes', code: 'x1' };
    const result = bundleToPlan(overTheWire(foreign));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.plan.goals[0]?.informationClasses).toEqual(['other']);
    expect(result.outcome.issue).toContainEqual(expect.objectContaining({ severity: 'warning', code: 'code-invalid', diagnostics: 'An information class without a SIP code is read as "other"' }));
  });
});
