/**
 * Properties over generated plans: every plan the generator builds meets every rule, and each
 * targeted mutation breaks exactly the rule it aims at.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkPlan, parsePlan, type Problem, type SipPlan } from '../../src/sip/index.js';
import { planShapeArbitrary, buildPlan, mappablePlanArbitrary, validPlanArbitrary } from '../support/arbitraries.js';
import type { PlanJson } from '../support/mutations.js';

function parse(json: PlanJson): SipPlan {
  const result = parsePlan(json);
  if (!result.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(result.problems)}`);
  return result.plan;
}

function errorCodes(problems: readonly Problem[]): Set<string> {
  return new Set(problems.filter((problem) => problem.severity === 'error').map((problem) => problem.code));
}

/** Both principals approve the plan as it stands (the current version, no digest), so completeness rules apply. */
function approveAll(json: PlanJson): void {
  json.approvals = json.principals.map((principal: PlanJson) => ({
    principal: principal.id,
    version: json.version,
    approvedAt: json.updatedAt,
    approvedBy: json.professionals.find((professional: PlanJson) => String(professional.organization).startsWith(principal.kind === 'region' ? 'r-' : 'm-'))?.id,
  }));
}

function addDays(iso: string, days: number): string {
  return new Date(Date.parse(`${iso}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

describe('generated valid plans', () => {
  it('parse and pass every rule', () => {
    fc.assert(
      fc.property(validPlanArbitrary, (json) => {
        expect(checkPlan(parse(json))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('generated plans made at discharge (seed 001 §3.3.2, §3.6.1)', () => {
  it('have no error, and the warning plan.compulsory-care-discharge exactly when the person leaves for LPT or LRV care', () => {
    let warned = 0;
    fc.assert(
      fc.property(mappablePlanArbitrary, (json) => {
        const problems = checkPlan(parse(json));
        const written: unknown = json.discharge?.compulsoryCare;
        const law = typeof written === 'string' ? written : undefined;
        expect(problems.map(({ code, severity, pointer }) => ({ code, severity, pointer }))).toEqual(
          law === undefined ? [] : [{ code: 'plan.compulsory-care-discharge', severity: 'warning', pointer: '/discharge/compulsoryCare' }],
        );
        if (law !== undefined) {
          warned += 1;
          expect(problems[0]?.message).toContain(`under ${law}`);
        }
      }),
      { numRuns: 300 },
    );
    expect(warned).toBeGreaterThan(0);
  });
});

describe('targeted mutations fail with the right code', () => {
  it('expired consent: judged the day after its last valid day', () => {
    fc.assert(
      fc.property(validPlanArbitrary, (json) => {
        json.updatedAt = `${addDays(json.consents[0].validUntil, 1)}T12:00:00+01:00`;
        expect(errorCodes(checkPlan(parse(json)))).toEqual(new Set(['consent.expired']));
      }),
    );
  });

  it('consent longer than a year', () => {
    fc.assert(
      fc.property(validPlanArbitrary, fc.integer({ min: 367, max: 900 }), (json, days) => {
        json.consents[0].validUntil = addDays(json.consents[0].givenAt, days);
        expect(errorCodes(checkPlan(parse(json)))).toEqual(new Set(['consent.period-too-long']));
      }),
    );
  });

  it('missing custodial guardian for a child', () => {
    fc.assert(
      fc.property(planShapeArbitrary.filter((shape) => shape.child), fc.nat(), (shape, pick) => {
        const json = buildPlan(shape);
        const givers: string[] = json.consents[0].givers;
        givers.splice(pick % givers.length, 1);
        if (givers.length === 0) givers.push('individual');
        expect(errorCodes(checkPlan(parse(json)))).toEqual(new Set(['consent.guardian-missing']));
      }),
    );
  });

  it('missing overall responsible principal, once a principal has approved', () => {
    fc.assert(
      fc.property(validPlanArbitrary, (json) => {
        delete json.overallResponsiblePrincipal;
        if (json.approvals.length === 0) {
          json.approvals.push({ principal: 'region', version: 1, approvedAt: json.updatedAt, approvedBy: 'prof-r-unit-0' });
        }
        expect(errorCodes(checkPlan(parse(json)))).toEqual(new Set(['plan.missing-overall-responsible-principal']));
      }),
    );
  });

  it('one principal only: the region\'s interventions move to the municipality', () => {
    fc.assert(
      fc.property(validPlanArbitrary, (json) => {
        for (const intervention of json.interventions) {
          if (String(intervention.responsible).startsWith('r-unit')) intervention.responsible = 'm-unit-0';
        }
        approveAll(json);
        expect(errorCodes(checkPlan(parse(json)))).toEqual(new Set(['plan.single-principal']));
      }),
    );
  });

  it('one principal only: the plan has no region at all', () => {
    fc.assert(
      fc.property(validPlanArbitrary, (json) => {
        json.principals[0].kind = 'municipality';
        approveAll(json);
        const codes = errorCodes(checkPlan(parse(json)));
        expect(codes.has('plan.missing-principal')).toBe(true);
        expect(codes.has('plan.single-principal')).toBe(true);
      }),
    );
  });

  it('summons sent before consent was given: a fact of the past, so a warning that asks for a deviation report', () => {
    fc.assert(
      fc.property(validPlanArbitrary, fc.integer({ min: 1, max: 60 }), (json, days) => {
        json.meetings[0].summons.sentAt = `${addDays(json.consents[0].givenAt, -days)}T10:00:00+01:00`;
        const problems = checkPlan(parse(json));
        expect(errorCodes(problems)).toEqual(new Set());
        expect(problems.map((problem) => [problem.code, problem.severity, problem.reportDeviation])).toEqual([['summons.without-consent', 'warning', true]]);
      }),
    );
  });
});
