/**
 * The pure half of the FHIR write side (src/http/fhir-transaction.ts): what counts as "nothing
 * changed", what a plan new to the adapter is recorded as, what FHIR withholds of a person with
 * protected identity and an edit must not erase, and which resource of the plan each request entry
 * became.
 */
import fc from 'fast-check';
import type { Bundle, BundleEntry, FhirResource, Identifier } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAPPING_OPTIONS, IDENTIFIER_SYSTEM, PROTECTED_LOCATION_TEXT, planEntries, planToBundle } from '../../src/fhir/index.js';
import { IDENTIFIED_BEYOND_KEY, asFirstVersion, keepWithheld, matchEntries, sameClosure, samePlanContent, transactionRepresentation, transactionResponse, withBundleReferences } from '../../src/http/fhir-transaction.js';
import { planResourceIds } from '../../src/fhir/index.js';
import { parsePlan, type SipPlan } from '../../src/sip/index.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { freshPlan } from '../support/http-server.js';
import { exampleFiles, readExample } from '../support/examples.js';

const AT = new Date('2026-04-01T08:00:00Z');

describe('samePlanContent', () => {
  const plan = readExample('adult-psychiatry-addiction.json');

  it('sets aside version, record time, approvals and closure, and the order of members', () => {
    const { closure: _none, ...open } = plan;
    const replay: SipPlan = { ...open, version: 9, updatedAt: '2030-01-01T00:00:00Z', approvals: [] };
    expect(samePlanContent(plan, replay)).toBe(true);
    const reordered = Object.fromEntries(Object.entries(plan).reverse()) as SipPlan;
    expect(samePlanContent(plan, reordered)).toBe(true);
  });

  it('sees an edit of the content: notes, a goal, the order of goals', () => {
    expect(samePlanContent(plan, { ...plan, notes: 'Ny anteckning' })).toBe(false);
    expect(samePlanContent(plan, { ...plan, goals: plan.goals.slice(1) })).toBe(false);
    expect(samePlanContent(plan, { ...plan, goals: [...plan.goals].reverse() })).toBe(false);
  });

  it('compares in the form FHIR carries: a birth date the personnummer gives is no change', () => {
    const derived = planToBundle(plan).entry?.find((entry) => entry.resource?.resourceType === 'Patient')?.resource as { birthDate?: string } | undefined;
    expect(derived?.birthDate).toBe('1985-03-14');
    expect(samePlanContent(plan, { ...plan, individual: { ...plan.individual, birthDate: '1985-03-14' } })).toBe(true);
  });
});

describe('sameClosure', () => {
  it('is true for none and none, false when one side has a closure', () => {
    const plan = freshPlan('sip-closure');
    expect(sameClosure(plan, plan)).toBe(true);
    expect(sameClosure(plan, { ...plan, closure: { reason: 'goalsMet', closedAt: '2026-05-01T10:00:00Z', closedBy: 'prof-erik-berg', informed: [] } })).toBe(false);
  });
});

describe('asFirstVersion', () => {
  it('records a new plan as version 1 at the moment given, its approvals of the version sent naming 1', () => {
    const plan = readExample('adult-psychiatry-addiction.json');
    const onlyLatest: SipPlan = { ...plan, approvals: plan.approvals.filter((approval) => approval.version === plan.version) };
    expect(onlyLatest.approvals).toHaveLength(1);
    const first = asFirstVersion(onlyLatest, AT);
    expect(first).toMatchObject({ version: 1, updatedAt: '2026-04-01T08:00:00.000Z' });
    expect(first?.approvals.map((approval) => [approval.principal, approval.version])).toEqual([['falu-kommun', 1]]);
  });

  it('refuses (undefined) a new plan whose approval names an earlier version the adapter never had', () => {
    const plan = readExample('adult-psychiatry-addiction.json');
    expect(plan.approvals.map((approval) => approval.version)).toEqual([2, 3]);
    expect(asFirstVersion(plan, AT)).toBeUndefined();
  });
});

describe('keepWithheld', () => {
  const stored: SipPlan = (() => {
    const plan = freshPlan('sip-protected');
    const { contact: _contact, ...individual } = plan.individual;
    return {
      ...plan,
      individual: { ...individual, protectedIdentity: 'protectedRegistration' },
      relatedPersons: plan.relatedPersons.map((person) => ({ ...person, contact: { ...person.contact, address: { line: ['Hemliga gatan 7'], postalCode: '791 60', city: 'Falun' } } })),
    };
  })();

  it('puts back the meeting place and the related persons\' addresses that FHIR replaced or left out', () => {
    const fromFhir: SipPlan = {
      ...stored,
      notes: 'Ändrad',
      relatedPersons: stored.relatedPersons.map(({ contact, ...person }) => ({ ...person, contact: { phone: contact?.phone ?? '' } })),
      meetings: stored.meetings.map((meeting) => (meeting.summons === undefined ? meeting : { ...meeting, summons: { ...meeting.summons, location: PROTECTED_LOCATION_TEXT } })),
    };
    const kept = keepWithheld(stored, fromFhir);
    expect(kept.meetings[0]?.summons?.location).toBe('Psykiatrisk öppenvård Falun, samtalsrum 3');
    expect(kept.relatedPersons[0]?.contact).toEqual({ phone: '070-765 43 21', address: { line: ['Hemliga gatan 7'], postalCode: '791 60', city: 'Falun' } });
    expect(kept.notes).toBe('Ändrad');
  });

  it('keeps a place the sender wrote, and changes nothing for a person without protected identity', () => {
    const moved: SipPlan = { ...stored, meetings: stored.meetings.map((meeting) => (meeting.summons === undefined ? meeting : { ...meeting, summons: { ...meeting.summons, location: 'Nytt rum' } })) };
    expect(keepWithheld(stored, moved).meetings[0]?.summons?.location).toBe('Nytt rum');
    const open = freshPlan('sip-open');
    const placeholder: SipPlan = { ...open, meetings: open.meetings.map((meeting) => (meeting.summons === undefined ? meeting : { ...meeting, summons: { ...meeting.summons, location: PROTECTED_LOCATION_TEXT } })) };
    expect(keepWithheld(open, placeholder)).toBe(placeholder);
  });
});

describe('matchEntries', () => {
  const plan = freshPlan('sip-match');
  const bundle = planToBundle(plan);
  const entries = bundle.entry ?? [];
  const expected = entries.map((entry) => ({ resourceType: entry.resource?.resourceType, id: entry.fullUrl?.slice('urn:uuid:'.length) }));

  it('finds every entry of the Bundle to-fhir writes at the id of its fullUrl, in the request order', () => {
    expect(matchEntries(entries, plan)).toEqual({ ok: true, ids: expected });
    const reversed = [...entries].reverse();
    expect(matchEntries(reversed, plan)).toEqual({ ok: true, ids: [...expected].reverse() });
  });

  it("finds another client's entries by identifier (the RIV-TA HSA-id system too), by conditional URL, and pairs a CareTeam with no identifier of ours", () => {
    const stripped = entries.map((entry): BundleEntry => {
      const resource = structuredClone(entry.resource) as FhirResource & { identifier?: { system?: string; value?: string }[] };
      const fullUrl = `urn:uuid:${crypto.randomUUID()}`;
      if (resource.resourceType === 'CareTeam') return { fullUrl, resource: { ...resource, identifier: [{ system: 'urn:ehr:team', value: 'T1' }] }, request: { method: 'PUT', url: 'CareTeam/T1' } };
      if (resource.resourceType === 'Organization') {
        resource.identifier = resource.identifier?.map((identifier) => (identifier.system === IDENTIFIER_SYSTEM.hsaId ? { ...identifier, system: IDENTIFIER_SYSTEM.hsaIdRivta } : identifier));
      }
      if (resource.resourceType === 'Goal') {
        // No identifier: found by the conditional URL the writer gave it.
        delete resource.identifier;
        return { fullUrl, resource, ...(entry.request === undefined ? {} : { request: entry.request }) };
      }
      return { fullUrl, resource, request: { method: 'POST', url: resource.resourceType } };
    });
    expect(matchEntries(stripped, plan)).toEqual({ ok: true, ids: expected });
  });

  it('reads the RIV-TA HSA-id system as the HSA-id: a unit alone is found as the unit, not paired with the first organisation', () => {
    const unitAt = entries.findIndex((entry) => entry.resource?.resourceType === 'Organization' && JSON.stringify(entry.resource.identifier ?? []).includes('SE2321000180-4PSY'));
    const unit = entries[unitAt] as BundleEntry & { resource: { identifier: { system?: string; value?: string }[] } };
    expect(unit.resource.identifier).toEqual([{ type: expect.anything() as unknown, system: IDENTIFIER_SYSTEM.hsaId, value: 'SE2321000180-4PSY' }]);
    const rivta: BundleEntry = { fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000003', resource: { resourceType: 'Organization', identifier: [{ system: IDENTIFIER_SYSTEM.hsaIdRivta, value: 'SE2321000180-4PSY' }] }, request: { method: 'POST', url: 'Organization' } };
    expect(matchEntries([rivta], plan)).toEqual({ ok: true, ids: [expected[unitAt]] });
  });

  it('names the entries that have no place in the plan: a type a SIP does not map, one Patient too many', () => {
    const observation: BundleEntry = { fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000001', resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' } }, request: { method: 'POST', url: 'Observation' } };
    const patient = entries.find((entry) => entry.resource?.resourceType === 'Patient') as BundleEntry;
    const secondPatient: BundleEntry = { ...patient, fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000002', resource: { resourceType: 'Patient', id: 'other' } };
    expect(matchEntries([...entries, observation, secondPatient], plan)).toEqual({ ok: false, unmatched: [entries.length, entries.length + 1] });
  });
});

describe('matchEntries knows most resources from their keys alone', () => {
  /** What a mapped resource carries as business identifiers: its identifiers, and a Provenance its tags. */
  const carried = (resource: FhirResource): { system?: string; value?: string }[] => {
    const identifiers = (resource as { identifier?: Identifier | Identifier[] }).identifier;
    const list = Array.isArray(identifiers) ? identifiers : identifiers === undefined ? [] : [identifiers];
    const tags = resource.resourceType === 'Provenance' ? (resource.meta?.tag ?? []).map((tag) => ({ system: tag.system, value: tag.code })) : [];
    return [...list, ...tags].map(({ system, value }) => ({ system, value }));
  };

  /** Every resource of a type outside IDENTIFIED_BEYOND_KEY carries exactly its key: matching need not map it. */
  function expectKeysSuffice(plan: SipPlan): void {
    for (const entry of planEntries(plan, DEFAULT_MAPPING_OPTIONS)) {
      if (IDENTIFIED_BEYOND_KEY.has(entry.resourceType)) continue;
      const resource = entry.entry().resource;
      if (resource === undefined) throw new Error('every plan entry holds a resource');
      expect({ type: entry.resourceType, identifiers: carried(resource) }).toEqual({ type: entry.resourceType, identifiers: [{ system: entry.key.identifier.system, value: entry.key.identifier.value }] });
    }
  }

  /** The plan's own Bundle under fullUrls and ids it never wrote: found by identifier alone, each entry at its resource's id. */
  function expectFoundByIdentifier(plan: SipPlan): void {
    const entries = planToBundle(plan).entry ?? [];
    const expected = entries.map((entry) => ({ resourceType: entry.resource?.resourceType, id: entry.fullUrl?.slice('urn:uuid:'.length) }));
    const renamed = entries.map((entry, index): BundleEntry => ({ ...entry, fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(index).padStart(12, '0')}` }));
    expect(matchEntries([...renamed].reverse(), plan)).toEqual({ ok: true, ids: [...expected].reverse() });
  }

  it.each(exampleFiles)('%s', (file) => {
    const plan = readExample(file);
    expectKeysSuffice(plan);
    expectFoundByIdentifier(plan);
  });

  it('generated plans', () => {
    fc.assert(
      fc.property(mappablePlanArbitrary, (json) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        expectKeysSuffice(parsed.plan);
        expectFoundByIdentifier(parsed.plan);
      }),
      { numRuns: 100 },
    );
  });

  it('an Organization is found by an identifier beside its key (its organisation number), since those types are mapped', () => {
    const plan = freshPlan('sip-match-orgnr');
    const entries = planToBundle(plan).entry ?? [];
    const at = entries.findIndex((entry) => entry.resource?.resourceType === 'Organization' && carried(entry.resource).some((identifier) => identifier.system === 'urn:oid:2.5.4.97'));
    const organization = entries[at]?.resource;
    if (organization === undefined) throw new Error('the plan has an organisation with an organisation number');
    const byNumber = carried(organization).filter((identifier) => identifier.system === 'urn:oid:2.5.4.97');
    const entry: BundleEntry = { fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000009', resource: { resourceType: 'Organization', identifier: byNumber }, request: { method: 'POST', url: 'Organization' } };
    expect(matchEntries([entry], plan)).toEqual({ ok: true, ids: [{ resourceType: 'Organization', id: entries[at]?.fullUrl?.slice('urn:uuid:'.length) }] });
  });
});

describe('withBundleReferences', () => {
  it('writes a reference that resolves within the Bundle as the fullUrl of its target, and leaves every other reference as it is', () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'http://ehr.example/fhir/Patient/p1', resource: { resourceType: 'Patient', id: 'p1' }, request: { method: 'PUT', url: 'Patient/p1' } },
        {
          fullUrl: 'http://ehr.example/fhir/Goal/g1',
          resource: {
            resourceType: 'Goal',
            id: 'g1',
            lifecycleStatus: 'active',
            description: { text: 'x' },
            subject: { reference: 'Patient/p1' },
            expressedBy: { reference: 'http://elsewhere.example/fhir/Practitioner/x' },
            addresses: [{ reference: '#contained' }, { reference: 'Condition/not-here' }],
          },
          request: { method: 'PUT', url: 'Goal/g1' },
        },
      ],
    };
    const goal = withBundleReferences(bundle).entry?.[1]?.resource as { subject: { reference: string }; expressedBy: { reference: string }; addresses: { reference: string }[] };
    expect(goal.subject.reference).toBe('http://ehr.example/fhir/Patient/p1');
    expect(goal.expressedBy.reference).toBe('http://elsewhere.example/fhir/Practitioner/x');
    expect(goal.addresses.map((address) => address.reference)).toEqual(['#contained', 'Condition/not-here']);
    expect((bundle.entry?.[1]?.resource as { subject: { reference: string } }).subject.reference).toBe('Patient/p1');
    // What needs no rewriting is shared, not copied: the Patient entry here.
    expect(withBundleReferences(bundle).entry?.[0]).toBe(bundle.entry?.[0]);
  });

  it('returns a Bundle whose references all name fullUrls already as it is, copying nothing', () => {
    const bundle = planToBundle(freshPlan('sip-refs-as-sent'));
    expect(withBundleReferences(bundle)).toBe(bundle);
  });
});

describe('transactionResponse', () => {
  it('answers each entry with its status, location, ETag and time, and the outcome on the CarePlan entry only', () => {
    const outcome = { resourceType: 'OperationOutcome' as const, issue: [{ severity: 'warning' as const, code: 'informational' as const, diagnostics: 'x' }] };
    const response: Bundle = transactionResponse(
      [
        { resourceType: 'Patient', id: 'p', created: false },
        { resourceType: 'CarePlan', id: 'c', created: true },
      ],
      4,
      '2026-04-01T08:00:00.000Z',
      outcome,
    );
    expect(response).toEqual({
      resourceType: 'Bundle',
      type: 'transaction-response',
      entry: [
        { response: { status: '200 OK', location: 'Patient/p/_history/4', etag: 'W/"4"', lastModified: '2026-04-01T08:00:00.000Z' } },
        { response: { status: '201 Created', location: 'CarePlan/c/_history/4', etag: 'W/"4"', lastModified: '2026-04-01T08:00:00.000Z', outcome } },
      ],
    });
  });
});

describe('transactionRepresentation (Prefer: return=representation)', () => {
  const adult = readExample('adult-psychiatry-addiction.json');
  const stored = { plan: adult, version: adult.version, recordedAt: '2026-04-01T08:00:00.000Z', recordedBy: 'system' };
  const ids = planResourceIds(adult);
  const principal = () => ({ allowed: true as const, role: 'principal' as const });

  it('gives each entry its resource as the version maps it, in the order asked, and none for an id the version does not have', () => {
    const asked = [...ids].reverse().concat({ resourceType: 'Goal', id: 'no-such-goal' });
    const { resources, withheld } = transactionRepresentation(stored, asked, principal, AT);
    expect(withheld).toBeUndefined();
    expect(resources?.map((resource) => resource === undefined ? undefined : `${resource.resourceType}/${String(resource.id)}`)).toEqual([
      ...[...ids].reverse().map((id) => `${id.resourceType}/${id.id}`),
      undefined,
    ]);
    const carePlan = resources?.find((resource) => resource?.resourceType === 'CarePlan');
    expect(carePlan?.meta?.versionId).toBe(String(adult.version));
  });

  it('withholds them, saying why, from a caller that may not see the plan or when the plan may not be sent now', () => {
    expect(transactionRepresentation(stored, ids, () => ({ allowed: false, reason: 'not a party' }), AT)).toEqual({ withheld: 'not a party' });
    const withdrawn = readExample('closed-consent-withdrawn.json');
    const refused = transactionRepresentation({ ...stored, plan: withdrawn }, planResourceIds(withdrawn), principal, AT);
    expect(refused.resources).toBeUndefined();
    expect(refused.withheld).toContain('consent.withdrawn');
  });
});
