/**
 * FHIR → SIP on Bundles this adapter did not write: a regional EHR's `transaction` with relative
 * references (some entries without fullUrl), and a FHIR server's `searchset` answering
 * `GET CarePlan?identifier=…&_include=*&_revinclude=Consent:data`. The expected plans below are
 * written by hand from the fixtures in test/fixtures/fhir/, never pasted from the reader's output.
 *
 * Local ids (see ReadContext.localIdOf): the `<local id>` of a sip-entity identifier, else the
 * resource id, else the urn:uuid; prefixed by the lowercase resource type when already taken.
 * Parties get theirs first (Organizations in Bundle order, principals and other actors in the loop,
 * units after it; then PractitionerRoles), then Goals, Appointments and Consents.
 *
 * Reference resolution is checked against https://hl7.org/fhir/R4/bundle.html#references.
 */
import { readFileSync } from 'node:fs';
import type { Bundle, BundleEntry, CarePlan, Consent, FhirResource, OperationOutcomeIssue } from 'fhir/r4.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleToPlan, codeSystemUrl, EXTENSION, IDENTIFIER_SYSTEM, ORGANIZATION_TYPE, PARTICIPANT_ROLE, SIP_CATEGORY } from '../../src/fhir/index.js';
import type { SipPlan } from '../../src/sip/index.js';
import { errorsOnly, formatIssues, loadJsonSchema, loadMedplum, validateWithJsonSchema, validateWithMedplum } from '../support/fhir-validators.js';

const EHR_FILE = 'ehr-transaction-relative-refs.json';
const SERVER_FILE = 'server-searchset.json';

/** A fresh copy of a fixture each time, so a test may change it. */
function fixture(name: string): Bundle {
  return JSON.parse(readFileSync(new URL(`../fixtures/fhir/${name}`, import.meta.url), 'utf8')) as Bundle;
}

function entryAt(bundle: Bundle, index: number): BundleEntry {
  const entry = bundle.entry?.[index];
  if (entry === undefined) throw new Error(`the fixture has no entry ${String(index)}`);
  return entry;
}

function resourceAt<T extends FhirResource['resourceType']>(bundle: Bundle, index: number, type: T): Extract<FhirResource, { resourceType: T }> {
  const resource = entryAt(bundle, index).resource;
  if (resource?.resourceType !== type) throw new Error(`entry ${String(index)} is not a ${type}`);
  return resource as Extract<FhirResource, { resourceType: T }>;
}

type IssueSummary = Pick<OperationOutcomeIssue, 'severity' | 'code' | 'expression'>;

const summary = (issues: readonly OperationOutcomeIssue[]): IssueSummary[] =>
  issues.map(({ severity, code, expression }) => ({ severity, code, expression }));

function readPlan(input: unknown): { plan: SipPlan; issues: OperationOutcomeIssue[] } {
  const result = bundleToPlan(input);
  if (!result.ok) throw new Error(`the Bundle was not read:\n${JSON.stringify(summary(result.outcome.issue), null, 1)}`);
  return { plan: result.plan, issues: result.outcome.issue };
}

function readFailure(input: unknown): OperationOutcomeIssue[] {
  const result = bundleToPlan(input);
  expect(result.ok, 'the reader accepted a Bundle it should refuse').toBe(false);
  return result.outcome.issue;
}

/** Entry positions in the EHR transaction, checked below against the fixture. */
const EHR = { patient: 0, region: 1, municipality: 2, unit: 3, practitioner: 4, role: 5, careTeam: 6, goal1: 7, goal2: 8, carePlan: 9, consent: 10, observation: 11 } as const;
const ehrPlanPath = `Bundle.entry[${String(EHR.carePlan)}].resource`;

/** Entry positions in the server searchset. */
const SRV = { carePlan: 0, patient: 1, consent: 14, outcome: 15 } as const;
const srvPlanPath = `Bundle.entry[${String(SRV.carePlan)}].resource`;

describe('the fixtures', () => {
  beforeAll(() => {
    loadMedplum();
    loadJsonSchema();
  }, 60_000);

  it.each([EHR_FILE, SERVER_FILE])('%s is a valid base R4 Bundle (Medplum and the official JSON schema)', (name) => {
    const bundle = fixture(name);
    const issues = [...validateWithMedplum(bundle), ...validateWithJsonSchema(bundle)];
    expect(errorsOnly(issues), formatIssues(issues)).toEqual([]);
  });

  it('the EHR transaction is laid out as the tests assume, with relative references and no urn:uuid', () => {
    const bundle = fixture(EHR_FILE);
    const types = (bundle.entry ?? []).map((entry) => entry.resource?.resourceType);
    expect(types).toEqual(['Patient', 'Organization', 'Organization', 'Organization', 'Practitioner', 'PractitionerRole', 'CareTeam', 'Goal', 'Goal', 'CarePlan', 'Consent', 'Observation']);
    expect(bundle.type).toBe('transaction');
    for (const entry of bundle.entry ?? []) {
      expect(entry.request?.method).toMatch(/^(POST|PUT)$/);
      if (entry.fullUrl !== undefined) expect(entry.fullUrl).toMatch(/^http:\/\/ehr\.region\.example\/fhir\/[A-Za-z]+\/[a-z0-9]+$/);
    }
    expect(JSON.stringify(bundle)).not.toContain('urn:uuid:');
    expect(entryAt(bundle, EHR.goal1).fullUrl).toBeUndefined();
    expect(entryAt(bundle, EHR.consent).fullUrl).toBeUndefined();
    // The systems and codes are the ones the reader knows.
    expect(resourceAt(bundle, EHR.patient, 'Patient').identifier?.[0]?.system).toBe(IDENTIFIER_SYSTEM.personnummer);
    expect(resourceAt(bundle, EHR.region, 'Organization').type?.[0]?.coding?.[0]).toMatchObject({ system: codeSystemUrl(ORGANIZATION_TYPE.id), code: 'region' });
    const municipality = resourceAt(bundle, EHR.municipality, 'Organization');
    expect(municipality.type).toBeUndefined();
    expect(municipality.identifier).toEqual([{ system: IDENTIFIER_SYSTEM.municipalityCode, value: '2181' }]);
    expect(resourceAt(bundle, EHR.practitioner, 'Practitioner').identifier?.[0]?.system).toBe(IDENTIFIER_SYSTEM.hsaIdRivta);
    expect(resourceAt(bundle, EHR.careTeam, 'CareTeam').participant?.[0]?.role?.[0]?.coding?.[0]).toMatchObject({ system: codeSystemUrl(PARTICIPANT_ROLE.id), code: 'coordinator' });
    const carePlan = resourceAt(bundle, EHR.carePlan, 'CarePlan');
    expect(carePlan.category?.[0]?.coding?.[0]).toMatchObject({ system: codeSystemUrl(SIP_CATEGORY.id), code: 'sip-plan' });
    expect(carePlan.identifier?.[0]?.system).toBe(IDENTIFIER_SYSTEM.sipPlan);
    expect(carePlan.extension).toBeUndefined();
    expect(JSON.stringify(bundle)).not.toContain(EXTENSION.planRecorded);
  });

  it('the server searchset has absolute fullUrls, match/include/outcome modes and one OperationOutcome', () => {
    const bundle = fixture(SERVER_FILE);
    expect(bundle.type).toBe('searchset');
    const entries = bundle.entry ?? [];
    expect(entries).toHaveLength(16);
    expect(entries.map((entry) => entry.search?.mode)).toEqual(['match', ...Array<string>(SRV.outcome - 1).fill('include'), 'outcome']);
    expect(resourceAt(bundle, SRV.carePlan, 'CarePlan').id).toBe('1');
    expect(resourceAt(bundle, SRV.consent, 'Consent').id).toBe('1');
    expect(resourceAt(bundle, SRV.outcome, 'OperationOutcome').issue).toHaveLength(1);
    for (const entry of entries.slice(0, SRV.outcome)) {
      expect(entry.fullUrl).toBe(`https://fhir.server.example/fhir/${entry.resource?.resourceType ?? '?'}/${entry.resource?.id ?? '?'}`);
    }
  });
});

describe('an EHR transaction with relative references', () => {
  const read = () => readPlan(fixture(EHR_FILE));

  it('is read into one plan', () => {
    const { plan } = read();
    expect(plan.id).toBe('sip-sandviken-2026-0031');
    expect(plan.version).toBe(1);
    // No plan-recorded extension: the recorded time is the CarePlan's meta.lastUpdated.
    expect(plan.updatedAt).toBe('2026-04-20T13:45:12+02:00');
    expect(plan.initiatedAt).toBe('2026-03-02');
    expect(plan.initiatedBy).toBe('individual');
    expect(plan.notes).toBe('Planen upprättades vid SIP-möte den 2 mars 2026.');
  });

  it('reads the individual: official name, personnummer, contact and language', () => {
    expect(read().plan.individual).toEqual({
      identifier: { system: 'personnummer', value: '197809232387' },
      name: { given: 'Lena Maria', family: 'Sundberg' },
      birthDate: '1978-09-23',
      contact: {
        phone: '070-312 45 67',
        email: 'lena.sundberg@example.se',
        address: { line: ['Kungsgatan 7 lgh 1102'], postalCode: '811 30', city: 'Sandviken' },
      },
      protectedIdentity: 'none',
      canConsent: true,
      language: 'sv',
    });
  });

  it('reads the region by its type code and the municipality by its SCB kommunkod alone, in the CareTeam\'s order', () => {
    const { plan } = read();
    // The CareTeam lists the municipality before the region; the Bundle's entries the other way round.
    expect(plan.principals).toEqual([
      { id: 'kom', kind: 'municipality', name: 'Sandvikens kommun', municipalityCode: '2181', units: [] },
      {
        id: 'reg',
        kind: 'region',
        name: 'Region Gävleborg',
        hsaId: 'SE2321000198-E0001',
        organisationsnummer: '232100-0198',
        countyCode: '21',
        units: [{ id: 'psyk', name: 'Psykiatrisk öppenvård Sandviken', hsaId: 'SE2321000198-E0PSY', contact: { phone: '026-15 40 00' } }],
      },
    ]);
    expect(plan.otherActors).toEqual([]);
    expect(plan.relatedPersons).toEqual([]);
  });

  it('reads the professional with the RIV-TA HSA-id, acting for the unit, as coordinator', () => {
    const { plan } = read();
    expect(plan.professionals).toEqual([
      { id: 'role1', name: { given: 'Johan', family: 'Ek' }, title: 'sjuksköterska', hsaId: 'SE2321000198-P0123', organization: 'psyk', contact: { phone: '026-15 40 12' } },
    ]);
    expect(plan.coordinator).toBe('role1');
  });

  it('reads the goals in CarePlan.goal order', () => {
    expect(read().plan.goals).toEqual([
      { id: 'g1', description: 'Jag vill kunna bo kvar i min lägenhet.', expressedBy: 'individual', status: 'active', targetDate: '2026-09-30', informationClasses: [] },
      { id: 'g2', description: 'Jag vill ta min medicin varje dag utan att glömma.', expressedBy: 'individual', status: 'active', informationClasses: [] },
    ]);
  });

  it("makes a PractitionerRole-only activity the responsibility of the role's organization, and the municipality responsible for its own", () => {
    const { plan } = read();
    expect(plan.interventions).toEqual([
      {
        id: 'intervention-1',
        description: 'Stöd med medicinering vid hembesök två gånger i veckan.',
        responsible: 'psyk',
        performer: 'role1',
        goals: ['g2'],
        status: 'ongoing',
        start: '2026-03-09',
        end: '2026-09-30',
        informationClasses: [],
      },
      { id: 'intervention-2', description: 'Boendestöd i hemmet.', responsible: 'kom', goals: ['g1'], status: 'planned', schedule: 'varje vardag 08–09', informationClasses: [] },
    ]);
    expect(plan.overallResponsiblePrincipal).toBe('kom');
    expect(plan.noActionsByOthers).toBe(false);
  });

  it('reads the consent reached by a conditional patient reference: period, givers, covered and excluded parties', () => {
    expect(read().plan.consents).toEqual([
      {
        id: 'c1',
        planId: 'sip-sandviken-2026-0031',
        givers: ['individual'],
        form: 'written',
        givenAt: '2026-03-02',
        validUntil: '2027-03-01',
        coveredActors: ['reg', 'kom'],
        excludedInformation: [],
        excludedParties: ['psyk'],
      },
    ]);
  });

  it('has nothing the EHR did not send', () => {
    const { plan } = read();
    expect(plan.meetings).toEqual([]);
    expect(plan.followUps).toEqual([]);
    expect(plan.approvals).toEqual([]);
    expect(plan.deviations).toEqual([]);
    expect(plan.closure).toBeUndefined();
    expect(plan.ownAccount).toBeUndefined();
  });

  it('reports, at their FHIRPath, exactly what the SIP model cannot hold', () => {
    expect(summary(read().issues)).toEqual([
      // The unit's type is the EHR's own code (enhetstyp PSYK-OV): neither a SIP code nor mapped by a ConceptMap.
      { severity: 'warning', code: 'code-invalid', expression: [`Bundle.entry[${String(EHR.unit)}].resource.type`] },
      { severity: 'information', code: 'incomplete', expression: [`${ehrPlanPath}.extension`] },
      {
        severity: 'warning',
        code: 'not-supported',
        expression: [`Bundle.entry[${String(EHR.patient)}].resource.extension('http://ehr.region.example/fhir/StructureDefinition/interpreter-needed')`],
      },
      { severity: 'warning', code: 'not-supported', expression: [`${ehrPlanPath}.addresses`] },
      { severity: 'information', code: 'not-supported', expression: [`Bundle.entry[${String(EHR.observation)}].resource`] },
    ]);
  });

  it('reports a resource whose type is the name of a member of every JavaScript object as not part of a SIP, as any other type it does not map', () => {
    const bundle = fixture(EHR_FILE);
    const strays = ['constructor', 'toString', '__proto__'].map((resourceType, index) => ({ fullUrl: `urn:uuid:00000000-0000-4000-8000-00000000000${String(index)}`, resource: { resourceType } }));
    const entries = bundle.entry ?? [];
    const { issues } = readPlan({ ...bundle, entry: [...entries, ...strays] });
    expect(summary(issues).slice(-3)).toEqual(strays.map((_, index) => ({ severity: 'information', code: 'not-supported', expression: [`Bundle.entry[${String(entries.length + index)}].resource`] })));
  });
});

describe('a FHIR server searchset', () => {
  const read = () => readPlan(fixture(SERVER_FILE));

  it('is read into one plan, versioned from meta', () => {
    const { plan } = read();
    expect(plan.id).toBe('sip-vasteras-2026-0107');
    expect(plan.version).toBe(3);
    expect(plan.updatedAt).toBe('2026-05-06T08:12:44.120Z');
    expect(plan.initiatedAt).toBe('2026-04-14');
    expect(plan.initiatedBy).toBe('individual');
    expect(plan.overallResponsiblePrincipal).toBe('2');
    expect(plan.notes).toBeUndefined();
  });

  it('reads the individual', () => {
    expect(read().plan.individual).toEqual({
      identifier: { system: 'personnummer', value: '199102114585' },
      name: { given: 'Amina', family: 'Yusuf' },
      birthDate: '1991-02-11',
      protectedIdentity: 'none',
      canConsent: true,
    });
  });

  it('reads principals, units and other actors, keeping numeric server ids that are free', () => {
    const { plan } = read();
    expect(plan.principals).toEqual([
      { id: '1', kind: 'region', name: 'Region Västmanland', hsaId: 'SE2321000206-1000', units: [{ id: '4', name: 'Skultuna vårdcentral', hsaId: 'SE2321000206-2VCS' }] },
      { id: '2', kind: 'municipality', name: 'Västerås stad', municipalityCode: '1980', units: [{ id: '3', name: 'Hemtjänst Västerås centrum' }] },
    ]);
    expect(plan.otherActors).toEqual([{ id: '5', kind: 'socialInsuranceAgency', name: 'Försäkringskassan', organisationsnummer: '202100-5521' }]);
  });

  it('prefixes taken ids with the type and prefers a sip-entity identifier, in the CareTeam\'s order', () => {
    const { plan } = read();
    // The CareTeam lists PractitionerRole/2 first; the searchset has PractitionerRole/1 first.
    expect(plan.professionals).toEqual([
      { id: 'prof-ahmed', name: { given: 'Ahmed', family: 'Nilsson' }, title: 'biståndshandläggare', organization: '2', contact: { email: 'ahmed.nilsson@vasteras.example.se' } },
      { id: 'practitionerrole-1', name: { given: 'Karin', family: 'Holm' }, title: 'distriktssköterska', hsaId: 'SE2321000206-P7781', organization: '4' },
    ]);
    expect(plan.coordinator).toBe('prof-ahmed');
    expect(plan.goals.map((goal) => goal.id)).toEqual(['goal-1', 'goal-2']);
    expect(plan.consents.map((consent) => consent.id)).toEqual(['consent-1']);
  });

  it('reads the goals, one achieved', () => {
    expect(read().plan.goals).toEqual([
      { id: 'goal-1', description: 'Jag vill förstå vilka mediciner jag tar och varför.', expressedBy: 'individual', status: 'active', informationClasses: [] },
      { id: 'goal-2', description: 'Jag vill äta lunch varje dag.', expressedBy: 'individual', status: 'achieved', targetDate: '2026-06-30', informationClasses: [] },
    ]);
  });

  it('reads the interventions through relative and absolute performer references', () => {
    expect(read().plan.interventions).toEqual([
      {
        id: 'insats-1',
        description: 'Hembesök av distriktssköterska för läkemedelsgenomgång.',
        responsible: '4',
        performer: 'practitionerrole-1',
        goals: ['goal-1'],
        status: 'planned',
        start: '2026-04-20',
        informationClasses: [],
      },
      { id: 'intervention-2', description: 'Hemtjänst med stöd vid måltider.', responsible: '3', goals: ['goal-2'], status: 'ongoing', informationClasses: [] },
      { id: 'intervention-3', description: 'Ansökan om sjukersättning prövas.', responsible: '5', goals: [], status: 'awaitingDecision', informationClasses: [] },
    ]);
  });

  it('reads the _revinclude-d consent, whose data is a versioned absolute reference to the CarePlan', () => {
    expect(read().plan.consents).toEqual([
      {
        id: 'consent-1',
        planId: 'sip-vasteras-2026-0107',
        givers: ['individual'],
        form: 'written',
        givenAt: '2026-04-14',
        validUntil: '2027-04-13',
        coveredActors: ['1', '2', '5'],
        excludedInformation: [{ class: 'substanceUse', description: 'Tidigare missbruksvård' }],
        excludedParties: [],
      },
    ]);
  });

  it('skips the search outcome entry and reports only the reference-only activity and the missing initiator', () => {
    const { issues } = read();
    expect(summary(issues)).toEqual([
      { severity: 'information', code: 'incomplete', expression: [`${srvPlanPath}.extension`] },
      { severity: 'warning', code: 'not-supported', expression: [`${srvPlanPath}.activity[3].reference`] },
    ]);
    expect(issues.flatMap((issue) => issue.expression ?? []).filter((expression) => expression.startsWith(`Bundle.entry[${String(SRV.outcome)}]`))).toEqual([]);
  });
});

describe('Bundles the reader refuses', () => {
  it('a CarePlan whose subject is not in the Bundle', () => {
    const bundle = fixture(EHR_FILE);
    resourceAt(bundle, EHR.carePlan, 'CarePlan').subject = { reference: 'Patient/finns-inte' };
    expect(summary(readFailure(bundle))).toEqual([{ severity: 'error', code: 'required', expression: [`${ehrPlanPath}.subject`] }]);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'Bundle'],
    ['an array', [fixture(EHR_FILE)]],
    ['a bare Patient', { resourceType: 'Patient', id: 'p1' }],
    ['an object without resourceType', { type: 'transaction', entry: [] }],
  ])('input that is not a Bundle: %s', (_name, input) => {
    expect(summary(readFailure(input))).toEqual([{ severity: 'error', code: 'structure', expression: ['Bundle'] }]);
  });

  it('a history Bundle', () => {
    const bundle = { ...fixture(SERVER_FILE), type: 'history' };
    expect(summary(readFailure(bundle))).toEqual([{ severity: 'error', code: 'not-supported', expression: ['Bundle.type'] }]);
  });

  it.each<[string, (bundle: Bundle) => void, string]>([
    [
      "an activity's performer",
      (bundle) => {
        const performer = resourceAt(bundle, EHR.carePlan, 'CarePlan').activity?.[1]?.detail?.performer?.[0];
        if (performer === undefined) throw new Error('fixture changed');
        performer.reference = 'Organization/finns-inte';
      },
      `${ehrPlanPath}.activity[1].detail.performer[0]`,
    ],
    [
      "a consent's excluded party",
      (bundle) => {
        const actor = resourceAt(bundle, EHR.consent, 'Consent').provision?.provision?.[0]?.actor?.[0];
        if (actor === undefined) throw new Error('fixture changed');
        actor.reference = { reference: 'Organization/finns-inte' };
      },
      `Bundle.entry[${String(EHR.consent)}].resource.provision.provision[0].actor[0]`,
    ],
    [
      "the CarePlan's author",
      (bundle) => {
        resourceAt(bundle, EHR.carePlan, 'CarePlan').author = { reference: 'Organization/finns-inte' };
      },
      `${ehrPlanPath}.author`,
    ],
  ])('a reference to nothing, with no identifier or display to read the party from: %s', (_name, change, expression) => {
    const bundle = fixture(EHR_FILE);
    change(bundle);
    const issues = readFailure(bundle);
    // The reference itself is a warning; what cannot do without the party (a responsible principal,
    // the overall responsibility, an exclusion of the consent) is an error.
    expect(summary(issues)).toContainEqual({ severity: 'warning', code: 'not-found', expression: [expression] });
    expect(issues.some((issue) => issue.severity === 'error')).toBe(true);
  });

  it("a consent's excluded party that cannot be read is an error: leaving it out would widen the consent", () => {
    const bundle = fixture(EHR_FILE);
    const actor = resourceAt(bundle, EHR.consent, 'Consent').provision?.provision?.[0]?.actor?.[0];
    if (actor === undefined) throw new Error('fixture changed');
    actor.reference = { reference: 'Organization/finns-inte' };
    expect(summary(readFailure(bundle))).toContainEqual({
      severity: 'error',
      code: 'not-found',
      expression: [`Bundle.entry[${String(EHR.consent)}].resource.provision.provision[0].actor[0]`],
    });
  });
});

/**
 * https://hl7.org/fhir/R4/bundle.html#references: an absolute reference resolves only to the entry with
 * that fullUrl; a relative `Type/id` in an entry whose fullUrl is a RESTful URL is first made absolute
 * against that entry's base, and resolves only to the entry with the resulting fullUrl. Anything else
 * is outside the Bundle.
 */
describe('references resolve as the R4 Bundle rules say', () => {
  const OTHER = 'https://other.example/fhir';

  function addEntry(bundle: Bundle, fullUrl: string, resource: FhirResource): void {
    bundle.entry?.splice(SRV.outcome, 0, { fullUrl, resource, search: { mode: 'include' } });
  }

  it('an absolute reference to another server does not resolve to a local entry that has the same type and id', () => {
    const bundle = fixture(SERVER_FILE);
    // Organization/3 on this server is the home-care unit; the municipality's own server is another one.
    resourceAt(bundle, SRV.carePlan, 'CarePlan').author = { reference: 'https://fhir.kommun.example/fhir/Organization/3' };
    expect(summary(readFailure(bundle))).toContainEqual({ severity: 'warning', code: 'not-found', expression: [`${srvPlanPath}.author`] });
  });

  it("a relative reference resolves against the referring entry's base, not to an entry of another server", () => {
    const bundle = fixture(SERVER_FILE);
    addEntry(bundle, `${OTHER}/Organization/9`, {
      resourceType: 'Organization',
      id: '9',
      type: [{ coding: [{ system: codeSystemUrl(ORGANIZATION_TYPE.id), code: 'privateCareProvider' }] }],
      name: 'Annan vårdgivare AB',
    });
    const performer = resourceAt(bundle, SRV.carePlan, 'CarePlan').activity?.[2]?.detail?.performer?.[0];
    if (performer === undefined) throw new Error('fixture changed');
    // From https://fhir.server.example/fhir/CarePlan/1 this means https://fhir.server.example/fhir/Organization/9.
    performer.reference = 'Organization/9';
    expect(summary(readFailure(bundle))).toContainEqual({ severity: 'warning', code: 'not-found', expression: [`${srvPlanPath}.activity[2].detail.performer[0]`] });
  });

  it("the references inside a PractitionerRole resolve against the PractitionerRole's own fullUrl", () => {
    const bundle = fixture(SERVER_FILE);
    addEntry(bundle, `${OTHER}/Organization/4`, {
      resourceType: 'Organization',
      id: '4',
      type: [{ coding: [{ system: codeSystemUrl(ORGANIZATION_TYPE.id), code: 'privateCareProvider' }] }],
      name: 'Privat hemsjukvård AB',
    });
    addEntry(bundle, `${OTHER}/Practitioner/8`, { resourceType: 'Practitioner', id: '8', name: [{ family: 'Berg', given: ['Eva'] }] });
    // Relative references: on other.example they mean other.example's Practitioner/8 and Organization/4.
    addEntry(bundle, `${OTHER}/PractitionerRole/8`, {
      resourceType: 'PractitionerRole',
      id: '8',
      practitioner: { reference: 'Practitioner/8' },
      organization: { reference: 'Organization/4' },
      code: [{ text: 'sjuksköterska' }],
    });
    const performer = resourceAt(bundle, SRV.carePlan, 'CarePlan').activity?.[0]?.detail?.performer?.[0];
    if (performer === undefined) throw new Error('fixture changed');
    performer.reference = `${OTHER}/PractitionerRole/8`;

    const { plan } = readPlan(bundle);
    const privateProvider = plan.otherActors.find((actor) => actor.name === 'Privat hemsjukvård AB');
    const professional = plan.professionals.find((candidate) => candidate.name.family === 'Berg');
    expect(privateProvider?.kind).toBe('privateCareProvider');
    expect(professional?.organization).toBe(privateProvider?.id);
    const intervention = plan.interventions.find((candidate) => candidate.id === 'insats-1');
    expect(intervention?.performer).toBe(professional?.id);
    // The organisation responsible is the one the role acts for: other.example's Organization/4,
    // not fhir.server.example's Organization/4 (Skultuna vårdcentral).
    expect(intervention?.responsible).toBe(privateProvider?.id);
  });

  it('a versioned absolute reference resolves to the entry with that fullUrl (version ignored)', () => {
    const bundle = fixture(SERVER_FILE);
    const data = resourceAt(bundle, SRV.consent, 'Consent').provision?.data?.[0]?.reference.reference;
    expect(data).toBe('https://fhir.server.example/fhir/CarePlan/1/_history/3');
    const { plan, issues } = readPlan(bundle);
    expect(plan.consents[0]?.planId).toBe('sip-vasteras-2026-0107');
    expect(issues.flatMap((issue) => issue.expression ?? [])).not.toContain(`Bundle.entry[${String(SRV.consent)}].resource.provision.data`);
  });

  it('a conditional reference in a transaction resolves by identifier', () => {
    const bundle = fixture(EHR_FILE);
    const consent: Consent = resourceAt(bundle, EHR.consent, 'Consent');
    expect(consent.patient?.reference).toBe(`Patient?identifier=${IDENTIFIER_SYSTEM.personnummer}|197809232387`);
    expect(readPlan(bundle).plan.consents.map((read) => read.id)).toEqual(['c1']);
    // The same reference with a number no entry has leaves the consent out of this patient's plan.
    consent.patient = { reference: `Patient?identifier=${IDENTIFIER_SYSTEM.personnummer}|199102114585` };
    expect(readPlan(bundle).plan.consents).toEqual([]);
  });

  it("a relative reference from an entry without fullUrl resolves by type and id (the transaction's own server)", () => {
    const bundle = fixture(EHR_FILE);
    const carePlan: CarePlan = resourceAt(bundle, EHR.carePlan, 'CarePlan');
    expect(carePlan.goal?.map((goal) => goal.reference)).toEqual(['Goal/g1', 'Goal/g2']);
    expect(entryAt(bundle, EHR.goal1).fullUrl).toBeUndefined();
    expect(readPlan(bundle).plan.goals.map((goal) => goal.id)).toEqual(['g1', 'g2']);
  });
});
