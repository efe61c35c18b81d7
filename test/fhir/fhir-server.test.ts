/**
 * The adapter against a real FHIR engine: @medplum/fhir-router 4.5.2 (`FhirRouter` over its in-memory
 * `MemoryRepository`, test/support/fhir-server.ts), a fresh server per test, in-process.
 *
 * Each Bundle is sent when its plan version was recorded (`at` = `updatedAt`), so every run posts the
 * same Bundle. The Bundles are `transaction` Bundles, posted as they are; the engine runs them with
 * batch semantics (entry by entry, no atomicity, but with `ifNoneExist`, conditional `PUT` and the
 * `urn:uuid` references between entries resolved), because as a transaction proper it refuses any
 * Bundle with conditional interactions and more than 8 entries — which the first describe checks.
 */
import type { Bundle, CarePlan, FhirResource, OperationOutcome } from 'fhir/r4.js';
import { getSearchParameter } from '@medplum/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAPPING_OPTIONS, IDENTIFIER_SYSTEM, WRITTEN_RESOURCE_TYPES, bundleToPlan, fhirNormalForm, planToBundle } from '../../src/fhir/index.js';
import type { SipPlan } from '../../src/sip/index.js';
import { parsePlan, revisePlan } from '../../src/sip/index.js';
import { exampleFiles, readExample } from '../support/examples.js';
import type { FhirServer } from '../support/fhir-server.js';
import { CAREPLAN_REVINCLUDES, FhirRequestError, fetchPlan, newFhirServer, referenceOf } from '../support/fhir-server.js';

/** Every resource type the writer produces. */
const WRITTEN_TYPES: readonly FhirResource['resourceType'][] = WRITTEN_RESOURCE_TYPES;

/** Shared master data: conditional creates (`ifNoneExist`), never overwritten. */
const MASTER_DATA = new Set<string>(['Patient', 'Organization', 'Practitioner']);

/** The Bundle of a plan as sent when this version was recorded: the same Bundle on every run. */
function bundleOf(plan: SipPlan): Bundle {
  return planToBundle(plan, DEFAULT_MAPPING_OPTIONS, new Date(plan.updatedAt));
}

function errorsIn(outcome: OperationOutcome | FhirResource | undefined): string[] {
  if (outcome?.resourceType !== 'OperationOutcome') return [];
  return outcome.issue.filter((issue) => issue.severity === 'error' || issue.severity === 'fatal').map((issue) => issue.details?.text ?? issue.diagnostics ?? issue.code);
}

/** Each response entry's status and the errors of its outcome, for one readable assertion. */
function responsesOf(response: Bundle): { status: string | undefined; errors: string[] }[] {
  return (response.entry ?? []).map((entry) => ({ status: entry.response?.status, errors: errorsIn(entry.response?.outcome) }));
}

async function carePlanOf(server: FhirServer, planId: string): Promise<CarePlan> {
  const found = await server.searchResources(`CarePlan?identifier=${encodeURIComponent(`${IDENTIFIER_SYSTEM.sipPlan}|${planId}`)}`);
  expect(found).toHaveLength(1);
  const carePlan = found[0];
  if (carePlan?.resourceType !== 'CarePlan') throw new Error(`no CarePlan for ${planId}`);
  return carePlan;
}

/** A resource without what the server adds to it (`meta.versionId`, `meta.lastUpdated`). */
function withoutServerMeta(resource: FhirResource): FhirResource {
  const { meta, ...rest } = resource;
  const { versionId, lastUpdated, ...kept } = meta ?? {};
  return Object.keys(kept).length === 0 ? rest : { ...rest, meta: kept };
}

describe('the engine (what the harness relies on)', () => {
  it('refuses a SIP Bundle as a transaction proper: conditional entries and more than 8 entries need strict isolation', async () => {
    const server = newFhirServer();
    const bundle = bundleOf(readExample('adult-psychiatry-addiction.json'));
    expect(bundle.entry?.length).toBeGreaterThan(8);
    await expect(server.post(bundle, { transactions: true })).rejects.toThrow(FhirRequestError);
    await expect(server.post(bundle, { transactions: true })).rejects.toThrow('Transaction requires strict isolation but has too many entries');
    expect(await server.count(WRITTEN_TYPES)).toEqual(Object.fromEntries(WRITTEN_TYPES.map((type) => [type, 0])));
  });

  it('ignores _include and _revinclude: the CarePlan search returns the CarePlan alone, so a client follows up with searches and reads', async () => {
    const server = newFhirServer();
    const plan = readExample('adult-psychiatry-addiction.json');
    await server.post(bundleOf(plan));
    const { firstSearch, followUps } = await fetchPlan(server, IDENTIFIER_SYSTEM.sipPlan, plan.id);
    expect(firstSearch).toHaveLength(1);
    expect(firstSearch[0]).toMatch(/^CarePlan\//);
    const carePlan = firstSearch[0] ?? '';
    expect(followUps.slice(0, CAREPLAN_REVINCLUDES.length)).toEqual([
      `Consent?data=${carePlan}`,
      `Appointment?supporting-info=${carePlan}`,
      `Task?focus=${carePlan}`,
      `Provenance?target=${carePlan}`,
    ]);
    expect(followUps.slice(CAREPLAN_REVINCLUDES.length).every((request) => request.startsWith('GET '))).toBe(true);
  });

  describe('R4 has the search parameter a client uses for each _include / _revinclude, and the engine finds with it what the plan wrote', () => {
    const plan = readExample('adult-psychiatry-addiction.json');
    it.each([
      { include: 'CarePlan:subject', expression: 'CarePlan.subject', found: 1 },
      { include: 'CarePlan:care-team', expression: 'CarePlan.careTeam', found: 1 },
      { include: 'CarePlan:goal', expression: 'CarePlan.goal', found: plan.goals.length },
      { include: 'Consent:data', expression: 'Consent.provision.data.reference', found: plan.consents.length },
      { include: 'Appointment:supporting-info', expression: 'Appointment.supportingInformation', found: plan.meetings.length },
      { include: 'Task:focus', expression: 'Task.focus', found: plan.principals.length },
      { include: 'Provenance:target', expression: 'Provenance.target', found: plan.approvals.length },
    ])('$include ($expression): $found', async ({ include, expression, found }) => {
      const server = newFhirServer(); // also indexes R4's SearchParameters
      const [type = '', code = ''] = include.split(':');
      const parameter = getSearchParameter(type, code);
      expect(parameter?.type).toBe('reference');
      expect(parameter?.expression?.split(' | ')).toContain(expression);
      await server.post(bundleOf(plan));
      const carePlan = await carePlanOf(server, plan.id);
      if (type === 'CarePlan') {
        // _include: the CarePlan's own references; each reads, and the search by each finds the CarePlan.
        const references = { subject: [carePlan.subject], 'care-team': carePlan.careTeam ?? [], goal: carePlan.goal ?? [] }[code] ?? [];
        const targets = references.map((reference) => reference.reference ?? '');
        expect(targets).toHaveLength(found);
        for (const target of targets) {
          expect(referenceOf(await server.read(target))).toBe(target);
          expect((await server.searchResources(`CarePlan?${code}=${target}`)).map(referenceOf)).toEqual([referenceOf(carePlan)]);
        }
      } else {
        // _revinclude: what refers to the CarePlan.
        expect(await server.searchResources(`${type}?${code}=${referenceOf(carePlan)}`)).toHaveLength(found);
      }
    });
  });
});

describe.each(exampleFiles)('%s on the FHIR server', (file) => {
  const plan = readExample(file);
  const bundle = bundleOf(plan);

  it('is accepted: every entry is created (201) with no error outcome, and the references between entries resolve', async () => {
    const server = newFhirServer();
    const response = await server.post(bundle);
    expect(response.type).toBe('transaction-response');
    expect(responsesOf(response)).toEqual((bundle.entry ?? []).map(() => ({ status: '201', errors: [] })));
    const stored = await Promise.all(WRITTEN_TYPES.map((type) => server.all(type)));
    const counts = Object.fromEntries(WRITTEN_TYPES.map((type, i) => [type, stored[i]?.length ?? 0]));
    const sent = Object.fromEntries(WRITTEN_TYPES.map((type) => [type, (bundle.entry ?? []).filter((entry) => entry.resource?.resourceType === type).length]));
    expect(counts).toEqual(sent);
    const text = JSON.stringify(stored);
    expect(text).not.toContain('urn:uuid:');
  });

  it('posted again creates nothing: conditional creates keep their version, but every conditional update makes a new meta.versionId (MemoryRepository versions every update, even an identical one) with the same content', async () => {
    const server = newFhirServer();
    await server.post(bundle);
    const countsBefore = await server.count(WRITTEN_TYPES);
    const versionsBefore = await server.versions(WRITTEN_TYPES);
    const contentBefore = (await Promise.all(WRITTEN_TYPES.map((type) => server.all(type)))).flat().map(withoutServerMeta);

    const response = await server.post(bundle);
    expect(responsesOf(response)).toEqual((bundle.entry ?? []).map(() => ({ status: '200', errors: [] })));
    expect(await server.count(WRITTEN_TYPES)).toEqual(countsBefore);
    const versionsAfter = await server.versions(WRITTEN_TYPES);
    expect([...versionsAfter.keys()]).toEqual([...versionsBefore.keys()]);
    const changed = (reference: string) => versionsAfter.get(reference) !== versionsBefore.get(reference);
    const references = [...versionsBefore.keys()];
    expect(references.filter((reference) => MASTER_DATA.has(reference.split('/')[0] ?? '') && changed(reference))).toEqual([]);
    expect(references.filter((reference) => !MASTER_DATA.has(reference.split('/')[0] ?? '') && !changed(reference))).toEqual([]);
    expect((await Promise.all(WRITTEN_TYPES.map((type) => server.all(type)))).flat().map(withoutServerMeta)).toEqual(contentBefore);
  });
});

describe('an edited plan posted again', () => {
  it('updates the CarePlan in place: same id, new meta.versionId, the new description and version, nothing created', async () => {
    const server = newFhirServer();
    const plan = readExample('adult-psychiatry-addiction.json');
    await server.post(bundleOf(plan));
    const before = await carePlanOf(server, plan.id);
    const countsBefore = await server.count(WRITTEN_TYPES);

    const description = 'Läkemedelsbehandling och återbesök hos psykiatrin varannan vecka.';
    const edited: SipPlan = {
      ...plan,
      interventions: plan.interventions.map((intervention, i) => (i === 0 ? { ...intervention, description } : intervention)),
    };
    const revised = revisePlan(plan, edited, { at: new Date('2026-05-01T12:00:00+02:00') });
    expect(revised.version).toBe(plan.version + 1);
    const response = await server.post(bundleOf(revised));
    expect(responsesOf(response).filter((entry) => entry.status !== '200' || entry.errors.length > 0)).toEqual([]);

    const after = await carePlanOf(server, plan.id);
    expect(after.id).toBe(before.id);
    expect(after.meta?.versionId).toBeDefined();
    expect(after.meta?.versionId).not.toBe(before.meta?.versionId);
    expect(after.activity?.[0]?.detail?.description).toBe(description);
    expect(before.activity?.[0]?.detail?.description).toBe(plan.interventions[0]?.description);
    expect(await server.count(WRITTEN_TYPES)).toEqual(countsBefore);
  });
});

/** Reads a plan back from the server as a client would (fetchPlan), and maps the searchset to a plan. */
async function readBack(server: FhirServer, planId: string): Promise<SipPlan> {
  const { bundle } = await fetchPlan(server, IDENTIFIER_SYSTEM.sipPlan, planId);
  const result = bundleToPlan(bundle);
  if (!result.ok) throw new Error(JSON.stringify(result.outcome.issue, null, 2));
  return result.plan;
}

describe.each(exampleFiles)('%s read back from the server', (file) => {
  it('with CarePlan?identifier=…, the searches that stand for _revinclude and reads of the rest, equals its normal form', async () => {
    const server = newFhirServer();
    const plan = readExample(file);
    await server.post(bundleOf(plan));
    const { bundle } = await fetchPlan(server, IDENTIFIER_SYSTEM.sipPlan, plan.id);
    expect(bundle.entry?.[0]?.search?.mode).toBe('match');
    expect(bundle.entry?.[0]?.resource?.resourceType).toBe('CarePlan');
    const result = bundleToPlan(bundle);
    expect(result.outcome.issue.filter((issue) => issue.severity === 'error')).toEqual([]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.plan).toEqual(fhirNormalForm(plan));
  });
});

describe('an edited plan read back from the server', () => {
  it('after the revision was posted over the first version, equals the revised plan\'s normal form', async () => {
    const server = newFhirServer();
    const plan = readExample('adult-psychiatry-addiction.json');
    await server.post(bundleOf(plan));
    const description = 'Läkemedelsbehandling och återbesök hos psykiatrin varannan vecka.';
    const edited: SipPlan = {
      ...plan,
      interventions: plan.interventions.map((intervention, i) => (i === 0 ? { ...intervention, description } : intervention)),
    };
    const revised = revisePlan(plan, edited, { at: new Date('2026-05-01T12:00:00+02:00') });
    await server.post(bundleOf(revised));
    expect(await readBack(server, plan.id)).toEqual(fhirNormalForm(revised));
  });
});

/**
 * A second plan made from the first by editing its JSON text: another plan id (which also renames
 * the consent's `planId`) plus the given edits. Parsed again, so it is a valid plan.
 */
function secondPlan(first: SipPlan, id: string, edits: readonly (readonly [string, string])[]): SipPlan {
  const text = edits.reduce((json, [from, to]) => json.replaceAll(from, to), JSON.stringify(first).replaceAll(`"${first.id}"`, `"${id}"`));
  const result = parsePlan(JSON.parse(text) as unknown);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.plan;
}

type UnitOf = SipPlan['principals'][number]['units'][number];

function unitOf(plan: SipPlan, id: string): UnitOf | undefined {
  return plan.principals.flatMap((principal) => principal.units).find((unit) => unit.id === id);
}

describe('two plans sharing the person and organisations (the same personnummer, HSA-ids and organisationsnummer), both posted', () => {
  const first = readExample('adult-psychiatry-addiction.json');
  // Psykiatrisk öppenvård Falun (HSA-id SE2321000180-4PSY) is shared; its phone is 023-49 00 00 in the first plan.
  it.each([
    {
      name: 'another phone for the shared unit',
      second: secondPlan(first, 'sip-falun-2026-0143', [['023-49 00 00', '023-49 11 11']]),
      unit: 'unit-psyk-falun',
    },
    {
      name: 'the shared unit under another local id',
      second: secondPlan(first, 'sip-falun-2026-0143', [['"unit-psyk-falun"', '"psyk-falun"']]),
      unit: 'psyk-falun',
    },
    {
      name: 'the person with another phone',
      second: secondPlan(first, 'sip-falun-2026-0143', [['070-123 45 67', '070-765 43 21']]),
      unit: 'unit-psyk-falun',
    },
  ])('$name: each plan reads back complete, with its own contact details and local ids', async ({ second, unit }) => {
    expect(second).not.toEqual(first);
    const server = newFhirServer();
    await server.post(bundleOf(first));
    await server.post(bundleOf(second));
    const expectedFirst = fhirNormalForm(first);
    const expectedSecond = fhirNormalForm(second);
    const readFirst = await readBack(server, first.id);
    const readSecond = await readBack(server, second.id);
    // The parts the plans do not share first, so a failure names them; then the whole plans.
    expect({ unit: unitOf(readFirst, 'unit-psyk-falun'), individual: readFirst.individual }).toEqual({
      unit: unitOf(expectedFirst, 'unit-psyk-falun'),
      individual: expectedFirst.individual,
    });
    expect({ unit: unitOf(readSecond, unit), individual: readSecond.individual }).toEqual({ unit: unitOf(expectedSecond, unit), individual: expectedSecond.individual });
    expect(readFirst).toEqual(expectedFirst);
    expect(readSecond).toEqual(expectedSecond);
  });
});
