/**
 * Read what can be read: a Bundle assembled from a server's searches holds resources under the
 * server's URLs and may miss some targets. Every reference the adapter writes carries the target's
 * business identifier and display besides its `urn:uuid`, so the reader finds the target by its
 * identifier, or keeps the party from the reference alone, with a warning; and the plan's order comes
 * from the CareTeam and the CarePlan, not from the order of the entries.
 */
import type { Bundle, BundleEntry, OperationOutcomeIssue } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAPPING_OPTIONS, bundleToPlan, fhirNormalForm, planToBundle } from '../../src/fhir/index.js';
import { exampleFiles, readExample } from '../support/examples.js';

const AT = new Date('2026-05-01T12:00:00+02:00');
const SERVER = 'https://fhir.server.example/fhir';

/**
 * The Bundle as a server would return it from searches: a searchset, every entry under the server's
 * URL with a server id, in reverse order, and the references still as the writer wrote them (their
 * `urn:uuid`s name no entry any more, so only their identifiers find the targets).
 */
function asServerSearchset(bundle: Bundle): Bundle {
  const entries = (bundle.entry ?? []).map((entry, i): BundleEntry => {
    const resource = entry.resource;
    if (resource === undefined) throw new Error('every entry has a resource');
    const id = `srv${String(i)}`;
    return { fullUrl: `${SERVER}/${resource.resourceType}/${id}`, resource: { ...resource, id }, search: { mode: i === 0 ? 'match' : 'include' } };
  });
  return { resourceType: 'Bundle', type: 'searchset', entry: entries.reverse() };
}

const warnings = (issues: readonly OperationOutcomeIssue[]) => issues.filter((issue) => issue.severity === 'warning');

describe.each(exampleFiles)('the Bundle of %s, as a server returns it from searches', (file) => {
  it('reads back to the plan, finding every target by the identifier its reference carries, in the plan\'s order', () => {
    const plan = readExample(file);
    const read = bundleToPlan(asServerSearchset(planToBundle(plan, DEFAULT_MAPPING_OPTIONS, AT)));
    if (!read.ok) throw new Error(JSON.stringify(read.outcome.issue.filter((issue) => issue.severity === 'error')));
    expect(read.plan).toEqual(fhirNormalForm(plan));
  });
});

describe('a target that is not in the Bundle at all', () => {
  const plan = readExample('adult-psychiatry-addiction.json');
  const bundle = planToBundle(plan, DEFAULT_MAPPING_OPTIONS, AT);
  // Vårdcentralen Britsarvet, which the person excludes: a nested Consent provision's actor, which no
  // standard R4 search parameter reaches (Consent:actor covers only the root provision).
  const unitName = plan.principals.flatMap((principal) => principal.units).find((unit) => unit.id === 'unit-vc-britsarvet')?.name;
  const withoutUnit: Bundle = {
    ...bundle,
    entry: (bundle.entry ?? []).filter((entry) => !(entry.resource?.resourceType === 'Organization' && entry.resource.name === unitName)),
  };

  it('is a warning, and the party is kept from what the reference carries: its display, and the local id the CareTeam gives it', () => {
    expect(withoutUnit.entry?.length).toBe((bundle.entry?.length ?? 0) - 1);
    const read = bundleToPlan(withoutUnit);
    if (!read.ok) throw new Error(JSON.stringify(read.outcome.issue.filter((issue) => issue.severity === 'error')));
    expect(warnings(read.outcome.issue).map((issue) => [issue.code, issue.diagnostics])).toContainEqual([
      'not-found',
      expect.stringContaining('the organisation is read from the reference alone, as other actor "unit-vc-britsarvet"') as string,
    ]);
    expect(read.plan.otherActors).toContainEqual({ id: 'unit-vc-britsarvet', kind: 'other', name: unitName });
    // The person's exclusion of the unit is kept: leaving it out would widen the consent.
    expect(read.plan.consents[0]?.excludedParties).toEqual(['unit-vc-britsarvet']);
  });
});
