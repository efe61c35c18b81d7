/**
 * Approvals bound to what they approved (src/sip/approval-digest.ts): the digest is SHA-256 of the
 * RFC 8785 JSON of the part, so a reader of the file alone can tell that a part changed after it was
 * approved, and the traffic light follows; the digest survives the trip through FHIR.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bundleToPlan, planToBundle } from '../../src/fhir/index.js';
import { approvalDigest, approvalsInForce, canonicalApprovedPart, parsePlan, planStatus, trafficLight, type SipPlan } from '../../src/sip/index.js';
import { readExample } from '../support/examples.js';

/** The smallest plan with one goal and one intervention of each principal, written out by hand. */
const TINY = {
  id: 'p',
  version: 2,
  updatedAt: '2026-03-01T10:00:00+01:00',
  initiatedAt: '2026-02-01',
  initiatedBy: 'individual',
  individual: { identifier: { system: 'personnummer', value: '19850314-1239' }, name: { given: 'Jonas', family: 'Eriksson' } },
  principals: [
    { id: 'r', kind: 'region', name: 'Region', countyCode: '20' },
    { id: 'k', kind: 'municipality', name: 'Kommun', municipalityCode: '2080' },
  ],
  goals: [{ id: 'g', description: 'Bo kvar hemma' }],
  interventions: [
    { id: 'ir', description: 'Läkarbesök', responsible: 'r', status: 'planned' },
    { id: 'ik', description: 'Hemtjänst', responsible: 'k', status: 'ongoing' },
  ],
};

function parse(json: unknown): SipPlan {
  const parsed = parsePlan(json);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.plan;
}

describe('the approved part and its digest', () => {
  const plan = parse(TINY);

  it('is the RFC 8785 JSON of the principal, its interventions and the shared part (schema defaults filled in)', () => {
    // Written by hand: keys sorted by code point, no whitespace.
    const expected =
      '{"interventions":[{"description":"Hemtjänst","goals":[],"id":"ik","responsible":"k","status":"ongoing"}],"principal":"k",' +
      '"shared":{"coordinator":null,"followUps":[],"goals":[{"description":"Bo kvar hemma","expressedBy":"individual","id":"g","status":"active"}],' +
      '"noActionsByOthers":false,"othersActions":[],"overallResponsiblePrincipal":null}}';
    expect(canonicalApprovedPart(plan, 'k')).toBe(expected);
    expect(approvalDigest(plan, 'k')).toBe(`sha256:${createHash('sha256').update(expected, 'utf8').digest('hex')}`);
  });

  it('digests an item\'s information classes only when it has one, so approvals recorded before the field existed still hold', () => {
    expect(canonicalApprovedPart(parse({ ...TINY, goals: [{ ...TINY.goals[0], informationClasses: [] }] }), 'k')).toBe(canonicalApprovedPart(plan, 'k'));
    const tagged = parse({ ...TINY, goals: [{ ...TINY.goals[0], informationClasses: ['mentalHealth'] }] });
    expect(canonicalApprovedPart(tagged, 'k')).toContain('"goals":[{"description":"Bo kvar hemma","expressedBy":"individual","id":"g","informationClasses":["mentalHealth"],"status":"active"}]');
    expect(approvalDigest(tagged, 'k')).not.toBe(approvalDigest(plan, 'k'));
    expect(approvalDigest(tagged, 'r')).not.toBe(approvalDigest(plan, 'r'));
  });

  it('does not depend on the order keys are written in', () => {
    const reordered = { ...TINY, interventions: TINY.interventions.map(({ status, responsible, description, id }) => ({ status, responsible, description, id })) };
    expect(approvalDigest(parse(reordered), 'k')).toBe(approvalDigest(plan, 'k'));
    expect(approvalDigest(parse(reordered), 'r')).toBe(approvalDigest(plan, 'r'));
  });

  it("changes with the principal's own interventions, not with the other principal's", () => {
    const edited = parse({ ...TINY, interventions: [TINY.interventions[0], { ...TINY.interventions[1], description: 'Hemtjänst två gånger om dagen' }] });
    expect(approvalDigest(edited, 'k')).not.toBe(approvalDigest(plan, 'k'));
    expect(approvalDigest(edited, 'r')).toBe(approvalDigest(plan, 'r'));
  });

  it('changes for every principal when the shared part changes', () => {
    const edited = parse({ ...TINY, goals: [{ id: 'g', description: 'Bo kvar hemma och träffa vänner' }] });
    expect(approvalDigest(edited, 'k')).not.toBe(approvalDigest(plan, 'k'));
    expect(approvalDigest(edited, 'r')).not.toBe(approvalDigest(plan, 'r'));
  });
});

describe('which approvals count, read from the file alone', () => {
  const plan = readExample('adult-psychiatry-addiction.json');

  it('the example is green: the region approved version 2, the municipality version 3, and neither part changed since', () => {
    expect(plan.version).toBe(3);
    expect(plan.approvals.map((approval) => approval.version)).toEqual([2, 3]);
    expect(trafficLight(plan)).toBe('green');
    expect(planStatus(plan)).toBe('active');
  });

  it("a municipal intervention edited in the file turns the municipality's approval off: yellow, draft", () => {
    const edited = structuredClone(plan);
    const municipal = edited.interventions.find((intervention) => intervention.responsible === 'unit-boendestod');
    if (municipal === undefined) throw new Error('the example has a boendestöd intervention');
    municipal.description = `${municipal.description} Utökas till fem dagar i veckan.`;
    expect(approvalsInForce(edited).map((approval) => approval.principal)).toEqual(['region-dalarna']);
    expect(trafficLight(edited)).toBe('yellow');
    expect(planStatus(edited)).toBe('draft');
  });

  it('a goal edited in the file (the shared part) turns both approvals off: red', () => {
    const edited = structuredClone(plan);
    const goal = edited.goals[0];
    if (goal === undefined) throw new Error('the example has a goal');
    goal.description = 'Ett annat mål.';
    expect(trafficLight(edited)).toBe('red');
  });

  it('an approval without a digest counts only for the version it names', () => {
    const undigested = structuredClone(plan);
    for (const approval of undigested.approvals) delete approval.digest;
    expect(approvalsInForce(undigested).map((approval) => approval.principal)).toEqual(['falu-kommun']);
    expect(trafficLight(undigested)).toBe('yellow');
  });
});

describe('through FHIR', () => {
  const plan = readExample('adult-psychiatry-addiction.json');

  it('the digests travel on the approval Provenance and come back unchanged', () => {
    const read = bundleToPlan(planToBundle(plan));
    if (!read.ok) throw new Error(JSON.stringify(read.outcome));
    expect(read.plan.approvals.map((approval) => approval.digest)).toEqual(plan.approvals.map((approval) => approval.digest));
    expect(trafficLight(read.plan)).toBe('green');
  });

  it('a municipal activity edited in the Bundle reads back yellow', () => {
    const bundle = planToBundle(plan);
    const carePlan = bundle.entry?.find((entry) => entry.resource?.resourceType === 'CarePlan')?.resource;
    if (carePlan?.resourceType !== 'CarePlan') throw new Error('the Bundle has a CarePlan');
    const activity = carePlan.activity?.find((candidate) => candidate.detail?.description?.includes('Boendestöd') === true);
    if (activity?.detail === undefined) throw new Error('the CarePlan has the boendestöd activity');
    activity.detail.description = 'Boendestöd varje dag.';
    const read = bundleToPlan(bundle);
    if (!read.ok) throw new Error(JSON.stringify(read.outcome));
    expect(trafficLight(read.plan)).toBe('yellow');
  });
});
