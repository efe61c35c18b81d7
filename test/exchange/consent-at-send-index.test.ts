/**
 * decideSend indexes the plan once (docs/performance.md, "The exchange, fifth round"): the index it
 * decides consent with is the plan's own (`planIndexOf`), which `judgeSendWith` reads too, instead of
 * a second `indexPlan` of the same plan object per delivery. `indexPlan` and `planIndexOf` are wrapped
 * here (the module mocked, the originals called) so every index built is counted, and the decisions
 * are those of a fresh index (src/exchange/consent-at-send.test.ts holds the decisions themselves).
 */
import { describe, expect, it, vi } from 'vitest';
import type * as PlanIndexModule from '../../src/sip/plan-index.js';

const built = { count: 0 };

vi.mock('../../src/sip/plan-index.js', async (importOriginal) => {
  const original = await importOriginal<typeof PlanIndexModule>();
  const indexes = new WeakMap<object, PlanIndexModule.PlanIndex>();
  const indexPlan: typeof original.indexPlan = (plan) => {
    built.count++;
    return original.indexPlan(plan);
  };
  const planIndexOf: typeof original.planIndexOf = (plan) => {
    let index = indexes.get(plan);
    if (index === undefined) {
      index = indexPlan(plan);
      indexes.set(plan, index);
    }
    return index;
  };
  return { ...original, indexPlan, planIndexOf };
});

const { decideSend } = await import('../../src/exchange/index.js');
const { indexPlan, sendBasisOf } = await import('../../src/sip/index.js');
const { readExample } = await import('../support/examples.js');

describe('decideSend with the version’s send basis', () => {
  it('builds one index of the plan per decision that sends, not one for consent and another for the rules', () => {
    const plan = readExample('adult-psychiatry-addiction.json');
    const basis = sendBasisOf(plan);
    const at = new Date('2026-04-15T09:00:00+02:00');
    // A new object each time, as each claimed version is: nothing is remembered between deliveries.
    const copy = (): typeof plan => ({ ...plan });
    const first = copy();
    built.count = 0;
    const decision = decideSend(first, { id: 'fk', organization: '202100-5521' }, at, { basis });
    expect(decision.send).toBe(true);
    expect(built.count).toBe(1);
    // The index it used is the plan's: asking for it again builds nothing.
    built.count = 0;
    decideSend(first, { id: 'fk', organization: '202100-5521' }, at, { basis });
    expect(built.count).toBe(0);
    // And it is the index a fresh indexPlan gives.
    expect(decideSend(copy(), { id: 'fk', organization: '202100-5521' }, at, { basis })).toEqual(decision);
    expect(indexPlan(first)).toEqual(indexPlan(plan));
  });
});
