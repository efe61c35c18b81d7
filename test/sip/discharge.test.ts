/**
 * A plan made at discharge from inpatient care (seed 001 §3.3.2, lag 2017:612), and the exception
 * for compulsory psychiatric care (§3.6.1): a person who leaves inpatient care for öppen psykiatrisk
 * tvångsvård (LPT) or öppen rättspsykiatrisk vård (LRV) is planned for with a samordnad vårdplan
 * instead of a SIP, so such a plan gets a warning that names the rule.
 */
import { describe, expect, it } from 'vitest';
import type { Discharge, SipPlan } from '../../src/sip/index.js';
import { checkPlan, parsePlan } from '../../src/sip/index.js';
import { readExample } from '../support/examples.js';

const ADULT = readExample('adult-psychiatry-addiction.json');

function dischargedWith(discharge: Discharge): SipPlan {
  return { ...ADULT, discharge };
}

describe('the discharge in the model', () => {
  it('refuses compulsory care after a somatic discharge, at the field, naming psychiatric inpatient care', () => {
    const result = parsePlan({ ...ADULT, discharge: { from: 'somaticInpatientCare', compulsoryCare: 'LRV' } });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems.map(({ code, pointer }) => ({ code, pointer }))).toEqual([{ code: 'schema.invalid-value', pointer: '/discharge/compulsoryCare' }]);
      expect(result.problems[0]?.message).toContain('psychiatricInpatientCare');
    }
  });

  it('refuses an unknown law and an unknown field', () => {
    const result = parsePlan({ ...ADULT, discharge: { from: 'psychiatricInpatientCare', compulsoryCare: 'LVM', notifiedAt: '2026-03-01' } });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems.map(({ code, pointer }) => ({ code, pointer })).sort((a, b) => a.pointer.localeCompare(b.pointer))).toEqual([
        { code: 'schema.invalid-value', pointer: '/discharge/compulsoryCare' },
        { code: 'schema.unknown-field', pointer: '/discharge/notifiedAt' },
      ]);
    }
  });
});

describe('plan.compulsory-care-discharge', () => {
  it('warns when the person leaves inpatient care for öppen psykiatrisk tvångsvård under LPT', () => {
    const problems = checkPlan(dischargedWith({ from: 'psychiatricInpatientCare', dischargedAt: '2026-03-05', compulsoryCare: 'LPT' }));
    expect(problems).toEqual([
      {
        code: 'plan.compulsory-care-discharge',
        severity: 'warning',
        kind: 'history',
        pointer: '/discharge/compulsoryCare',
        message:
          'The person leaves inpatient care for öppen psykiatrisk tvångsvård under LPT; for this discharge LPT (lag 1991:1128 om psykiatrisk tvångsvård) 7 a § prescribes a samordnad vårdplan instead of a SIP',
        source: { document: 'seed-001', section: '§3.6.1 Undantag vid tvångsvård och rättspsykiatri; §3.3.2' },
      },
    ]);
  });

  it('warns when the person leaves inpatient care for öppen rättspsykiatrisk vård under LRV', () => {
    const problems = checkPlan(dischargedWith({ from: 'psychiatricInpatientCare', compulsoryCare: 'LRV' }));
    expect(problems.map(({ code, severity, pointer }) => ({ code, severity, pointer }))).toEqual([
      { code: 'plan.compulsory-care-discharge', severity: 'warning', pointer: '/discharge/compulsoryCare' },
    ]);
    expect(problems[0]?.message).toContain('öppen rättspsykiatrisk vård under LRV');
    expect(problems[0]?.message).toContain('LRV (lag 1991:1129 om rättspsykiatrisk vård) 12 a §');
    expect(problems[0]?.message).toContain('samordnad vårdplan instead of a SIP');
  });

  it('does not warn for a somatic discharge, nor for a psychiatric one whose compulsory care ends at discharge', () => {
    expect(checkPlan(dischargedWith({ from: 'somaticInpatientCare', dischargedAt: '2026-03-05' }))).toEqual([]);
    expect(checkPlan(dischargedWith({ from: 'psychiatricInpatientCare', dischargedAt: '2026-03-05' }))).toEqual([]);
    expect(checkPlan(ADULT)).toEqual([]);
  });
});
