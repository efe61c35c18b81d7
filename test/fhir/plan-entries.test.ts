/**
 * `planEntries` (src/fhir/write/plan-entries.ts) against `planToBundle`, differentially: the FHIR
 * facade answers a read from the one entry it maps, so that entry must be the one the whole Bundle
 * holds. Over every example (the leaky protected-identity plan, and the adult example with an
 * organisation invited to a meeting and a deviation, so that HealthcareService and DetectedIssue are
 * written too) and the property-based plans, at the moment the version was recorded and a later one:
 * the same types and fullUrls in the same order, every entry mapped alone equal to the Bundle's, and
 * the entries mapped in the reverse order equal too (no entry depends on another being mapped first).
 */
import fc from 'fast-check';
import type { BundleEntry } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAPPING_OPTIONS, planEntries, planToBundle } from '../../src/fhir/index.js';
import { parsePlan, type SipPlan } from '../../src/sip/index.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, leakyProtectedPlan, readExample } from '../support/examples.js';

/** Later than any example's version, while their consents may or may not be in force: the mapping judges Consent.status at it. */
const LATER = new Date('2026-11-20T08:30:00+01:00');

function withDeviationAndInvitedUnit(): SipPlan {
  const adult = readExample('adult-psychiatry-addiction.json');
  const [meeting] = adult.meetings;
  if (meeting?.summons === undefined) throw new Error('the adult example has a summoned meeting');
  return {
    ...adult,
    meetings: [{ ...meeting, summons: { ...meeting.summons, invitees: [...meeting.summons.invitees, { party: 'unit-boendestod', required: true, response: 'noResponse' }] } }],
    deviations: [
      {
        id: 'deviation-1',
        reportedAt: '2026-03-20T09:15:00+01:00',
        reportedBy: 'prof-anna-lind',
        concerns: 'unit-boendestod',
        category: 'interventionNotDelivered',
        description: 'Boendestödet kom inte igång den 16 mars som planerat.',
        status: 'underInvestigation',
        interimResponsibility: 'Socialsekreteraren tar kontakt med Jonas varje vecka.',
        interimResponsiblePrincipal: 'falu-kommun',
        informationClasses: [],
      },
    ],
  };
}

/** Asserts planEntries(plan, …, at) is planToBundle(plan, …, at).entry, entry by entry and in any order of mapping. */
function expectSameEntries(plan: SipPlan, at: Date, eachAlone: boolean): void {
  const expected: BundleEntry[] = planToBundle(plan, DEFAULT_MAPPING_OPTIONS, at).entry ?? [];
  const lazy = planEntries(plan, DEFAULT_MAPPING_OPTIONS, at);
  expect(lazy.map((entry) => [entry.resourceType, entry.key.fullUrl])).toEqual(expected.map((entry) => [entry.resource?.resourceType, entry.fullUrl]));
  const reversed = planEntries(plan, DEFAULT_MAPPING_OPTIONS, at);
  const mappedBackwards = [...reversed].reverse().map((entry) => entry.entry()).reverse();
  expect(mappedBackwards).toEqual(expected);
  expect(lazy.map((entry) => entry.entry())).toEqual(expected);
  // Asked again, an entry is the one already mapped.
  expect(lazy[0]?.entry()).toBe(lazy[0]?.entry());
  if (eachAlone) {
    expected.forEach((entry, index) => {
      expect(planEntries(plan, DEFAULT_MAPPING_OPTIONS, at)[index]?.entry()).toEqual(entry);
    });
  }
}

describe('planEntries maps each entry as planToBundle does', () => {
  const plans: [string, SipPlan][] = [
    ...exampleFiles.map((file): [string, SipPlan] => [file, readExample(file)]),
    ['the protected-identity plan with what its rules forbid', leakyProtectedPlan()],
    ['the adult plan with an invited unit and a deviation', withDeviationAndInvitedUnit()],
  ];

  it.each(plans)('%s, each entry alone, when recorded and later', (_name, plan) => {
    expectSameEntries(plan, new Date(plan.updatedAt), true);
    expectSameEntries(plan, LATER, true);
  });

  it('writes HealthcareService and DetectedIssue in the plan made to have them (so the comparison covers them)', () => {
    const types = planEntries(withDeviationAndInvitedUnit()).map((entry) => entry.resourceType);
    expect(types).toContain('HealthcareService');
    expect(types).toContain('DetectedIssue');
  });

  it('over generated plans', () => {
    fc.assert(
      fc.property(mappablePlanArbitrary, fc.integer({ min: 0, max: 400 }), (json, days) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        expectSameEntries(parsed.plan, new Date(Date.parse(parsed.plan.updatedAt) + days * 86_400_000), false);
      }),
      { numRuns: 150 },
    );
  });
});
