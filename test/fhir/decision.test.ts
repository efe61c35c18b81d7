/**
 * A municipal decision → ServiceRequest and back (src/fhir/write/decision.ts). Expected values are
 * read off examples/elderly-discharge-multimorbidity.json (int-6, the home-help decision).
 */
import type { Bundle, CarePlan, ServiceRequest } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { EXTENSION, bundleToPlan, planToBundle } from '../../src/fhir/index.js';
import type { SipPlan } from '../../src/sip/index.js';
import { readExample } from '../support/examples.js';

const EXAMPLE = 'elderly-discharge-multimorbidity.json';

function decisionsOf(bundle: Bundle): ServiceRequest[] {
  return (bundle.entry ?? []).flatMap((entry) => (entry.resource?.resourceType === 'ServiceRequest' ? [entry.resource] : []));
}

describe('a decision as a ServiceRequest', () => {
  const bundle = planToBundle(readExample(EXAMPLE));
  const [request] = decisionsOf(bundle);

  it('is one order per decided intervention, in force, granted, with the decision time, decider, provider, validity and scope', () => {
    expect(decisionsOf(bundle)).toHaveLength(1);
    expect(request).toMatchObject({
      status: 'active',
      intent: 'order',
      authoredOn: '2026-01-27T14:20:00+01:00',
      code: { coding: [{ system: 'https://linkoping.example.se/fhir/CodeSystem/insatskod', code: 'HTJ' }], text: 'Hemtjänst: personlig omvårdnad morgon och kväll, matdistribution' },
      occurrencePeriod: { start: '2026-01-28', end: '2026-07-31' },
      orderDetail: [{ text: 'varje dag morgon och kväll, lunch levereras' }],
      quantityRatio: {
        numerator: { value: 32, unit: 'h', system: 'http://unitsofmeasure.org', code: 'h' },
        denominator: { value: 1, unit: 'mo', system: 'http://unitsofmeasure.org', code: 'mo' },
      },
      requester: { type: 'PractitionerRole', display: 'Malin Olsson' },
      performer: [{ type: 'Organization' }],
      identifier: [{ value: 'sip-linkoping-2026-0077/int-6.decision' }],
    });
    expect(request?.doNotPerform).toBeUndefined();
    expect(request?.extension).toEqual([
      { url: EXTENSION.statute, extension: [{ url: 'act', valueString: '2025:400' }, { url: 'chapter', valuePositiveInt: 11 }, { url: 'section', valuePositiveInt: 1 }] },
    ]);
  });

  it('is told in the plan\'s own narrative, in the intervention\'s status', () => {
    const carePlan = bundle.entry?.find((entry) => entry.resource?.resourceType === 'CarePlan')?.resource as CarePlan;
    expect(carePlan.text?.div).toContain('<td>Pågår. Beviljad enligt 11 kap. 1 § socialtjänstlagen (2025:400) den 27 januari 2026</td>');
  });

  it('is linked from its activity and based on the plan', () => {
    const carePlanEntry = bundle.entry?.find((entry) => entry.resource?.resourceType === 'CarePlan');
    const activity = (carePlanEntry?.resource as CarePlan).activity?.find((candidate) => candidate.id === 'int-6');
    const link = activity?.detail?.extension?.find((extension) => extension.url === EXTENSION.decision);
    const requestEntry = bundle.entry?.find((entry) => entry.resource?.resourceType === 'ServiceRequest');
    expect(link?.valueReference?.reference).toBe(requestEntry?.fullUrl);
    expect(request?.basedOn?.[0]?.reference).toBe(carePlanEntry?.fullUrl);
  });

  it('writes a refusal as doNotPerform and an overturned decision as revoked, and reads both back', () => {
    const plan: SipPlan = structuredClone(readExample(EXAMPLE));
    const intervention = plan.interventions.find((candidate) => candidate.id === 'int-6');
    if (intervention?.decision === undefined) throw new Error('the example lost its decision');
    intervention.status = 'cancelled';
    intervention.decision = { ...intervention.decision, outcome: 'refused', status: 'overturned', statute: { act: '1993:387', section: 9, point: 4 } };
    const written = planToBundle(plan);
    const [refused] = decisionsOf(written);
    expect(refused?.doNotPerform).toBe(true);
    expect(refused?.status).toBe('revoked');
    const read = bundleToPlan(written);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.plan.interventions.find((candidate) => candidate.id === 'int-6')?.decision).toEqual({
      ...intervention.decision,
      outcome: 'refused',
      status: 'overturned',
      statute: { act: '1993:387', section: 9, point: 4 },
    });
  });

  it('reports a ServiceRequest that no intervention links to', () => {
    const written = planToBundle(readExample(EXAMPLE));
    const carePlan = written.entry?.find((entry) => entry.resource?.resourceType === 'CarePlan')?.resource as CarePlan;
    for (const activity of carePlan.activity ?? []) {
      if (activity.detail?.extension) activity.detail.extension = activity.detail.extension.filter((extension) => extension.url !== EXTENSION.decision);
    }
    const read = bundleToPlan(written);
    expect(read.outcome.issue.some((issue) => issue.severity === 'warning' && issue.diagnostics?.includes('not the decision of any intervention'))).toBe(true);
    expect(read.ok && read.plan.interventions.find((candidate) => candidate.id === 'int-6')?.decision).toBeUndefined();
  });

  it('reads another writer\'s decision with a code but no system as words only, and refuses one with no statute, naming where', () => {
    const written = planToBundle(readExample(EXAMPLE));
    const entry = written.entry?.find((candidate) => candidate.resource?.resourceType === 'ServiceRequest');
    const request = entry?.resource as ServiceRequest;
    request.code = { coding: [{ code: 'HTJ' }], text: 'Hemtjänst' };
    const read = bundleToPlan(written);
    expect(read.ok && read.plan.interventions.find((candidate) => candidate.id === 'int-6')?.decision?.concerns).toEqual({ text: 'Hemtjänst' });

    delete request.extension;
    const refused = bundleToPlan(written);
    expect(refused.ok).toBe(false);
    const index = written.entry?.indexOf(entry ?? {}) ?? -1;
    expect(refused.outcome.issue).toContainEqual(
      expect.objectContaining({ severity: 'error', code: 'required', expression: [`Bundle.entry[${String(index)}].resource.extension('${EXTENSION.statute}')`] }),
    );
  });
});
