/**
 * `planIndexOf` (src/sip/plan-index.ts): a read's access decision and its instant's rules share one
 * index of the plan they judge instead of computing it twice. Held equal to `indexPlan` over every
 * example and generated plans; one index per plan object, and a different object (another version, a
 * changed copy) gets its own.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mayAccess } from '../../src/http/auth/access.js';
import { judgeSend, judgeSendWith, parsePlan, sendBasisOf, withoutExclusionDescriptions, type SipPlan } from '../../src/sip/index.js';
import { indexPlan, planIndexOf } from '../../src/sip/plan-index.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, readExample } from '../support/examples.js';

describe('one index per plan judged', () => {
  it('is indexPlan of every example and generated plan, the same object for the same plan', () => {
    for (const file of exampleFiles) {
      const plan = readExample(file);
      const index = planIndexOf(plan);
      expect(index).toEqual(indexPlan(plan));
      expect(planIndexOf(plan)).toBe(index);
    }
    fc.assert(
      fc.property(mappablePlanArbitrary, (json) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error('generated plan does not parse');
        expect(planIndexOf(parsed.plan)).toEqual(indexPlan(parsed.plan));
      }),
      { numRuns: 100 },
    );
  });

  it('gives the copy without exclusion descriptions its original\'s index, which is indexPlan of the copy', () => {
    const check = (plan: SipPlan): void => {
      const index = planIndexOf(plan);
      const copy = withoutExclusionDescriptions(plan);
      expect(planIndexOf(copy)).toBe(index);
      expect(planIndexOf(copy)).toEqual(indexPlan(copy));
    };
    let copies = 0;
    for (const file of exampleFiles) {
      const plan = readExample(file);
      if (withoutExclusionDescriptions(plan) !== plan) copies++;
      check(plan);
    }
    expect(copies).toBeGreaterThan(0);
    fc.assert(
      fc.property(mappablePlanArbitrary, (json) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error('generated plan does not parse');
        check(parsed.plan);
      }),
      { numRuns: 100 },
    );
    // A copy made before its original was indexed is indexed on its own, and equally.
    const adult = readExample('adult-psychiatry-addiction.json');
    const copy = withoutExclusionDescriptions(adult);
    expect(copy).not.toBe(adult);
    expect(planIndexOf(copy)).toEqual(indexPlan(copy));
  });

  it('gives another plan object its own index, so a changed copy is not judged on its original\'s', () => {
    const adult = readExample('adult-psychiatry-addiction.json');
    const original = planIndexOf(adult);
    const [principal, ...others] = adult.principals;
    if (principal === undefined) throw new Error('the example has principals');
    const renamed: SipPlan = { ...adult, principals: [{ ...principal, id: 'another-principal', units: [] }, ...others] };
    expect(planIndexOf(renamed)).not.toBe(original);
    expect(planIndexOf(renamed).entities.get('another-principal')?.kind).toBe('principal');
    expect(original.entities.has('another-principal')).toBe(false);
  });

  it('is kept where nothing that reads the plan sees it: JSON, its keys, a structured clone, deep equality', () => {
    const plan = parsePlanOrThrow(readExample('adult-psychiatry-addiction.json'));
    const before = { json: JSON.stringify(plan), keys: Reflect.ownKeys(plan).filter((key) => Object.getOwnPropertyDescriptor(plan, key)?.enumerable === true) };
    const twin = parsePlanOrThrow(plan);
    planIndexOf(plan);
    expect(JSON.stringify(plan)).toBe(before.json);
    expect(Reflect.ownKeys(plan).filter((key) => Object.getOwnPropertyDescriptor(plan, key)?.enumerable === true)).toEqual(before.keys);
    expect(plan).toStrictEqual(twin);
    expect(structuredClone(plan)).toStrictEqual(twin);
    // A copy made after the index does not carry it: an object of its own is indexed on its own.
    const copy = { ...plan };
    expect(planIndexOf(copy)).not.toBe(planIndexOf(plan));
    expect(planIndexOf(copy)).toEqual(planIndexOf(plan));
  });

  it('indexes a plan that cannot take a property (frozen) at every call, equally', () => {
    const plan = Object.freeze(parsePlanOrThrow(readExample('adult-psychiatry-addiction.json')));
    const first = planIndexOf(plan);
    expect(first).toEqual(indexPlan(plan));
    expect(planIndexOf(plan)).not.toBe(first);
    expect(planIndexOf(plan)).toEqual(first);
  });

  it('leaves access and the send judgement as they were when both run on the same plan, in either order', () => {
    const adult = readExample('adult-psychiatry-addiction.json');
    const region = adult.principals.find((principal) => principal.hsaId !== undefined)?.hsaId;
    if (region === undefined) throw new Error('the example has a principal with an HSA-id');
    const basis = sendBasisOf(adult);
    for (const days of [0, 400]) {
      const at = new Date(Date.parse(adult.updatedAt) + days * 86_400_000);
      const fresh = (): SipPlan => parsePlanOrThrow(adult);
      const accessFirst = fresh();
      const access = mayAccess(accessFirst, region, at);
      expect(judgeSendWith(accessFirst, basis, at)).toEqual(judgeSend(adult, at));
      const rulesFirst = fresh();
      expect(judgeSendWith(rulesFirst, basis, at)).toEqual(judgeSend(adult, at));
      expect(mayAccess(rulesFirst, region, at)).toEqual(access);
    }
  });
});

function parsePlanOrThrow(plan: SipPlan): SipPlan {
  const parsed = parsePlan(JSON.parse(JSON.stringify(plan)));
  if (!parsed.ok) throw new Error('the example parses');
  return parsed.plan;
}
