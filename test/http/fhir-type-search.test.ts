/**
 * Search of the facade's types other than CarePlan by the person (src/http/fhir-type-search.ts), end
 * to end on the real server with the example plans: what each search finds is checked against the
 * plan's own resources as a CarePlan search with `_revinclude=*` / `_include=*` answers them, and
 * against the official R4 expression of the parameter read by hand (an Appointment's participant, a
 * Consent's patient …), not against the code under test.
 */
import type { Appointment, Bundle, CapabilityStatement, Consent, FhirResource, Goal, OperationOutcome, Patient, Task } from 'fhir/r4.js';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planResourceIds } from '../../src/fhir/index.js';
import { issueLocalToken } from '../../src/http/auth/index.js';
import type { RunningServer } from '../../src/http/server.js';
import { startTestServer, type TestServer } from '../support/http-server.js';

/** A moment while the adult example's consent is in force (2026-02-12 – 2027-02-11). */
const NOW = new Date('2026-04-01T10:00:00+02:00');
/** Region Dalarna, a principal of the adult example's plan. */
const REGION = 'SE2321000180-1000';
const PLAN = 'sip-falun-2026-0142';
/** The adult example's person (examples/adult-psychiatry-addiction.json). */
const PERSON = '19850314-1239';
const PERSONNUMMER = 'http://electronichealth.se/identifier/personnummer';
/** Region Skåne, a principal of the plan closed after the person withdrew their consent. */
const SKANE = 'SE2321000255-1000';
const WITHDRAWN_PERSON = '19980719-4171';
/** Region Västerbotten, a principal of the Umeå example (two meetings, so two Appointments). */
const UMEA = 'SE2321000222-1000';
const UMEA_PERSON = '198412012950';
/** An organisation party to no plan. */
const STRANGER = 'SE2321000180-9999';

describe.each([
  ['the embedded store (PGlite)', 'pglite'],
  ['PostgreSQL', 'postgres'],
] as const)('search of the other types by the person on %s', (_name, driver) => {
  let test: TestServer;
  let server: RunningServer;
  const tokens = new Map<string, string>();
  /** The adult plan's resources by type, as the CarePlan search with everything included answers them. */
  let whole: Map<string, FhirResource[]>;
  let patientId: string;

  beforeAll(async () => {
    test = await startTestServer(driver, { settings: { loadExamples: true } });
    server = test.server;
    if (server.authenticator.mode !== 'local') throw new Error('the test server signs its own tokens');
    for (const organization of [REGION, SKANE, STRANGER, UMEA]) tokens.set(organization, await issueLocalToken({ org: organization, scopes: 'system/*.*', ttlSeconds: 3600 }, server.authenticator.localKey, NOW));
    const everything = (await get(`/fhir/CarePlan?identifier=${PLAN}&_include=*&_revinclude=*`).expect(200)).body as Bundle;
    whole = new Map();
    for (const entry of everything.entry ?? []) {
      const resource = entry.resource;
      if (resource === undefined) continue;
      whole.set(resource.resourceType, [...(whole.get(resource.resourceType) ?? []), resource]);
    }
    patientId = String(whole.get('Patient')?.[0]?.id);
  }, 60_000);

  afterAll(() => test.close());

  const get = (path: string, organization = REGION) => request(server.url).get(path).set('Authorization', `Bearer ${tokens.get(organization) ?? ''}`);
  const matches = (bundle: Bundle): FhirResource[] => (bundle.entry ?? []).filter((entry) => entry.search?.mode === 'match').flatMap((entry) => (entry.resource === undefined ? [] : [entry.resource]));
  const ids = (resources: readonly FhirResource[]): string[] => resources.map((resource) => String(resource.id)).sort();
  /** The Patient id of a person's plan, as the store's FHIR view maps it (for a plan nothing may be sent of). */
  const patientIdOf = async (person: string): Promise<string> => {
    const { plans } = await server.store.search({ personIdentifier: person.replace('-', '') });
    const [stored] = plans;
    if (stored === undefined) throw new Error(`no plan of ${person}`);
    const found = planResourceIds(stored.plan).find((resource) => resource.resourceType === 'Patient');
    if (found === undefined) throw new Error('no Patient');
    return found.id;
  };
  const search = async (path: string, organization = REGION): Promise<FhirResource[]> => matches((await get(path, organization).expect(200)).body as Bundle);

  it('finds a person’s appointments, consents, goals and tasks by patient, as the plan holds them', async () => {
    const appointments = (await search(`/fhir/Appointment?patient=Patient/${patientId}`)) as Appointment[];
    expect(appointments.length).toBeGreaterThan(0);
    expect(ids(appointments)).toEqual(ids(whole.get('Appointment') ?? []));
    // Appointment-patient: Appointment.participant.actor.where(resolve() is Patient).
    for (const appointment of appointments) expect(appointment.participant.map((participant) => participant.actor?.reference)).toContain(`Patient/${patientId}`);

    const consents = (await search(`/fhir/Consent?patient=${patientId}`)) as Consent[];
    expect(consents.length).toBeGreaterThan(0);
    expect(ids(consents)).toEqual(ids(whole.get('Consent') ?? []));
    for (const consent of consents) expect(consent.patient?.reference).toBe(`Patient/${patientId}`);

    const goals = (await search(`/fhir/Goal?subject=Patient/${patientId}`)) as Goal[];
    expect(goals.length).toBeGreaterThan(0);
    expect(ids(goals)).toEqual(ids(whole.get('Goal') ?? []));
    for (const goal of goals) expect(goal.subject.reference).toBe(`Patient/${patientId}`);

    const tasks = (await search(`/fhir/Task?patient=Patient/${patientId}`)) as Task[];
    for (const task of tasks) expect(task.for?.reference).toBe(`Patient/${patientId}`);
    expect(ids(tasks)).toEqual(ids((whole.get('Task') ?? []).filter((task) => (task as Task).for?.reference === `Patient/${patientId}`)));
  });

  it('finds by the person’s identifier: Patient?identifier and patient:identifier', async () => {
    const patients = (await search(`/fhir/Patient?identifier=${PERSONNUMMER}|${PERSON}`)) as Patient[];
    expect(ids(patients)).toEqual([patientId]);
    expect(patients[0]?.identifier?.map((identifier) => identifier.value)).toContain(PERSON.replace('-', ''));
    expect(ids(await search(`/fhir/Patient?identifier=${PERSON}`))).toEqual([patientId]);
    expect(ids(await search(`/fhir/Patient?_id=${patientId}`))).toEqual([patientId]);
    // Another valid personnummer is nobody here; a personnummer under the samordningsnummer system is a 400.
    expect(await search(`/fhir/Patient?identifier=${PERSONNUMMER}|19121212-1212`)).toEqual([]);
    await get(`/fhir/Patient?identifier=http://electronichealth.se/identifier/samordningsnummer|${PERSON}`).expect(400);
    expect(ids(await search(`/fhir/Goal?patient:identifier=${PERSONNUMMER}|${PERSON}`))).toEqual(ids(whole.get('Goal') ?? []));
    // A personnummer with a wrong check digit is a 400 naming the parameter.
    const bad = await get(`/fhir/Consent?patient:identifier=${PERSONNUMMER}|19850314-1230`).expect(400);
    expect((bad.body as OperationOutcome).issue[0]?.diagnostics).toContain('patient:identifier');
  });

  it('narrows by _id, and every condition must hold', async () => {
    const [consent] = whole.get('Consent') ?? [];
    expect(consent).toBeDefined();
    expect(ids(await search(`/fhir/Consent?_id=${String(consent?.id)}`))).toEqual([String(consent?.id)]);
    expect(ids(await search(`/fhir/Consent?_id=${String(consent?.id)}&patient=${patientId}`))).toEqual([String(consent?.id)]);
    expect(await search(`/fhir/Consent?_id=${String(consent?.id)}&patient=Patient/someone-else`)).toEqual([]);
    // Provenance-patient is Provenance.target.where(resolve() is Patient): the plan's Provenance targets its CarePlan, not the person.
    expect(whole.get('Provenance')?.length).toBeGreaterThan(0);
    expect(await search(`/fhir/Provenance?patient=Patient/${patientId}`)).toEqual([]);
    // A reference to a type the parameter's expression does not take finds nothing.
    expect(await search(`/fhir/Appointment?patient=Group/${patientId}`)).toEqual([]);
  });

  it('includes what the matches refer to by an official reference parameter (_include), from the plan, each once', async () => {
    const key = (resource: FhirResource): string => `${resource.resourceType}/${String(resource.id)}`;
    const present = new Set([...whole.values()].flat().map(key));
    const appointments = (whole.get('Appointment') ?? []) as Appointment[];
    // Appointment-actor is Appointment.participant.actor (the R4 registry), read here by hand.
    const actors = (only?: string): string[] =>
      [...new Set(appointments.flatMap((appointment) => appointment.participant.flatMap((participant) => (participant.actor?.reference === undefined ? [] : [participant.actor.reference]))))]
        .filter((reference) => present.has(reference) && (only === undefined || reference.startsWith(`${only}/`)))
        .sort();
    expect(actors().length).toBeGreaterThan(0);
    const included = (bundle: Bundle): string[] => (bundle.entry ?? []).filter((entry) => entry.search?.mode === 'include').flatMap((entry) => (entry.resource === undefined ? [] : [key(entry.resource)]));
    const searched = async (query: string): Promise<Bundle> => (await get(`/fhir/Appointment?patient=${patientId}&${query}`).expect(200)).body as Bundle;
    const all = await searched('_include=Appointment:actor');
    expect(ids(matches(all))).toEqual(ids(appointments));
    expect(included(all).sort()).toEqual(actors());
    expect(new Set(included(all)).size).toBe(included(all).length);
    for (const entry of (all.entry ?? []).filter((candidate) => candidate.search?.mode === 'include')) expect(entry.fullUrl).toBe(`${server.url}/fhir/${key(entry.resource as FhirResource)}`);
    // A target type narrows; the included resource is the plan's own (the Patient as the plan maps it).
    const patients = await searched('_include=Appointment:actor:Patient');
    expect(included(patients)).toEqual(actors('Patient'));
    expect((patients.entry ?? []).find((entry) => entry.search?.mode === 'include')?.resource).toEqual(whole.get('Patient')?.[0]);
    // Without _include nothing is included; Bundle.total counts the matches alone.
    expect(included(await searched('_count=50'))).toEqual([]);
    expect(all.total).toBe(appointments.length);
    // Another type's parameter, an unknown one, a type the parameter cannot point at: 400, naming what is taken.
    for (const bad of ['Consent:actor', 'Appointment:banana', 'Appointment:actor:Goal', 'Appointment']) {
      const refused = await get(`/fhir/Appointment?patient=${patientId}&_include=${bad}`).expect(400);
      expect((refused.body as OperationOutcome).issue[0]?.diagnostics).toContain(`_include=${bad}`);
    }
    // Listed in the CapabilityStatement, every one a reference parameter of the type.
    const metadata = (await get('/fhir/metadata').expect(200)).body as CapabilityStatement;
    const appointment = metadata.rest?.[0]?.resource?.find((resource) => resource.type === 'Appointment');
    expect(appointment?.searchInclude).toContain('Appointment:actor');
    expect(appointment?.searchInclude).toContain('Appointment:patient');
  });

  it('sorts by date, _lastUpdated and _id (_sort), descending with -, ties by id', async () => {
    const umea = async (query: string): Promise<FhirResource[]> => matches((await get(`/fhir/Appointment?patient:identifier=${UMEA_PERSON}&${query}`, UMEA).expect(200)).body as Bundle);
    const appointments = (await umea('_count=50')) as Appointment[];
    expect(appointments.length).toBeGreaterThan(1);
    const sorted = async (keys: string): Promise<string[]> => (await umea(`_sort=${keys}`)).map((resource) => String(resource.id));
    // Appointment's date is Appointment.start (the R4 registry); ties by id. Instants compared as instants.
    const byStart = [...appointments].sort((a, b) => Date.parse(String(a.start)) - Date.parse(String(b.start)) || String(a.id).localeCompare(String(b.id)));
    const byStartDescending = [...appointments].sort((a, b) => Date.parse(String(b.start)) - Date.parse(String(a.start)) || String(a.id).localeCompare(String(b.id)));
    expect(byStart.map((appointment) => appointment.id)).not.toEqual(byStartDescending.map((appointment) => appointment.id));
    expect(await sorted('date')).toEqual(byStart.map((appointment) => String(appointment.id)));
    expect(await sorted('-date')).toEqual(byStartDescending.map((appointment) => String(appointment.id)));
    expect(await sorted('-_id')).toEqual(ids(appointments).reverse());
    // One plan version shows them all: _lastUpdated ties, and the id decides.
    expect(await sorted('_lastUpdated')).toEqual(ids(appointments));
    // Paging follows the order.
    expect((await umea('_sort=-date&_count=1')).map((resource) => String(resource.id))).toEqual(byStartDescending.slice(0, 1).map((appointment) => String(appointment.id)));
    // Goal has no date parameter; nothing sorts by an unknown key.
    for (const [path, bad] of [[`/fhir/Goal?patient=${patientId}`, 'date'], [`/fhir/Appointment?patient=${patientId}`, 'banana']] as const) {
      const refused = await get(`${path}&_sort=${bad}`).expect(400);
      expect((refused.body as OperationOutcome).issue[0]?.diagnostics).toContain(`_sort=${bad}`);
    }
  });

  it('keeps to the care dates start and end on Patient/$everything, by each type\'s clinical date as R4\'s date search parameters name it', async () => {
    // The R4 registry's \`date\` parameters (search parameter registry, clinical-date, Appointment-date,
    // PractitionerRole-date) of the types a plan shows, read by hand; a type not here has none.
    const careDate: Record<string, (resource: FhirResource) => unknown> = {
      CarePlan: (resource) => (resource as { period?: unknown }).period,
      CareTeam: (resource) => (resource as { period?: unknown }).period,
      Consent: (resource) => (resource as Consent).dateTime,
      Appointment: (resource) => (resource as Appointment).start,
      PractitionerRole: (resource) => (resource as { period?: unknown }).period,
      Encounter: (resource) => (resource as { period?: unknown }).period,
      EpisodeOfCare: (resource) => (resource as { period?: unknown }).period,
    };
    const undated = new Set(['Patient', 'Organization', 'Practitioner', 'RelatedPerson', 'Location', 'Goal', 'Task', 'ServiceRequest', 'QuestionnaireResponse', 'Provenance']);
    const all = [...whole.values()].flat();
    for (const resource of all) expect(resource.resourceType in careDate || undated.has(resource.resourceType), `${resource.resourceType} is in neither table`).toBe(true);
    /** Whether a resource's care date reaches on or after \`from\` and on or before \`to\` (whole days, far from every value). */
    const within = (resource: FhirResource, from: string, to: string): boolean => {
      const value = careDate[resource.resourceType]?.(resource);
      if (value === undefined) return true;
      if (typeof value === 'string') return value.slice(0, 10) >= from && value.slice(0, 10) <= to;
      const { start, end } = value as { start?: string; end?: string };
      if (start === undefined && end === undefined) return true;
      return (end === undefined || end.slice(0, 10) >= from) && (start === undefined || start.slice(0, 10) <= to);
    };
    const key = (resource: FhirResource): string => `${resource.resourceType}/${String(resource.id)}`;
    const everything = async (query: string): Promise<string[]> => matches((await get(`/fhir/Patient/${patientId}/$everything?${query}&_count=200`).expect(200)).body as Bundle).map(key).sort();
    const expected = (from: string, to: string): string[] => all.filter((resource) => within(resource, from, to)).map(key).sort();

    const later = expected('2099-01-01', '9999-12-31');
    expect(later.length).toBeLessThan(all.length);
    expect(await everything('start=2099-01-01')).toEqual(later);
    const earlier = expected('0001-01-01', '2000-01-01');
    expect(earlier.length).toBeLessThan(all.length);
    expect(await everything('end=2000-01-01')).toEqual(earlier);
    expect(await everything('start=2000-01-01&end=2099-12-31')).toEqual(all.map(key).sort());
    // The Patient is kept, first; and by POST, as valueDate.
    const posted = await request(server.url)
      .post(`/fhir/Patient/${patientId}/$everything`)
      .set('Authorization', `Bearer ${tokens.get(REGION) ?? ''}`)
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'start', valueDate: '2099-01-01' }, { name: '_count', valueInteger: 200 }] }))
      .expect(200);
    expect(matches(posted.body as Bundle).map(key).sort()).toEqual(later);
    expect(matches(posted.body as Bundle)[0]).toMatchObject({ resourceType: 'Patient', id: patientId });
  });

  it('narrows by date and status as the official parameters define them (Appointment.start, Consent.dateTime, Goal.lifecycleStatus)', async () => {
    const appointments = (whole.get('Appointment') ?? []) as Appointment[];
    const starts = appointments.map((appointment) => String(appointment.start)).sort();
    expect(starts.length).toBeGreaterThan(0);
    const [earliest] = starts;
    const latest = starts.at(-1);
    const byDate = async (query: string): Promise<string[]> => ids(await search(`/fhir/Appointment?patient=${patientId}&${query}`));
    expect(await byDate(`date=ge${encodeURIComponent(String(earliest))}`)).toEqual(ids(appointments));
    expect(await byDate(`date=gt${encodeURIComponent(String(latest))}`)).toEqual([]);
    expect(await byDate(`date=eq${String(latest).slice(0, 10)}`)).toEqual(ids(appointments.filter((appointment) => appointment.start?.slice(0, 10) === String(latest).slice(0, 10))));
    expect(await byDate('date=lt2000-01-01')).toEqual([]);
    const statuses = [...new Set(appointments.map((appointment) => appointment.status))];
    for (const status of statuses) expect(await byDate(`status=${status}`)).toEqual(ids(appointments.filter((appointment) => appointment.status === status)));
    expect(await byDate(`status=${statuses.join(',')}`)).toEqual(ids(appointments));
    expect(await byDate('status=entered-in-error')).toEqual([]);

    const consents = (whole.get('Consent') ?? []) as Consent[];
    const consentDay = String(consents[0]?.dateTime).slice(0, 10);
    expect(ids(await search(`/fhir/Consent?patient=${patientId}&date=${consentDay}`))).toEqual(ids(consents.filter((consent) => consent.dateTime?.slice(0, 10) === consentDay)));
    const goals = (whole.get('Goal') ?? []) as Goal[];
    const lifecycle = String(goals[0]?.lifecycleStatus);
    expect(ids(await search(`/fhir/Goal?patient=${patientId}&lifecycle-status=${lifecycle}`))).toEqual(ids(goals.filter((goal) => goal.lifecycleStatus === lifecycle)));
    // A malformed date names itself; a date alone names no person.
    expect(((await get(`/fhir/Appointment?patient=${patientId}&date=ge2026-13-01`).expect(400)).body as OperationOutcome).issue[0]?.diagnostics).toContain('date=ge2026-13-01');
    await get('/fhir/Appointment?date=ge2026-01-01').expect(400);
  });

  it('pages with _count, counts with _summary=count, and subsets with _elements', async () => {
    const all = ids(whole.get('Goal') ?? []);
    expect(all.length).toBeGreaterThan(1);
    const counted = (await get(`/fhir/Goal?patient=${patientId}&_summary=count`).expect(200)).body as Bundle;
    expect(counted).toMatchObject({ type: 'searchset', total: all.length });
    expect(counted.entry).toBeUndefined();
    const paged: string[] = [];
    let next: string | undefined = `/fhir/Goal?patient=${patientId}&_count=1`;
    while (next !== undefined) {
      const page = (await get(next.replace(server.url, '')).expect(200)).body as Bundle;
      expect(page.total).toBe(all.length);
      paged.push(...matches(page).map((resource) => String(resource.id)));
      if (paged.length > all.length) throw new Error('the pages do not end');
      next = page.link?.find((link) => link.relation === 'next')?.url.replace(/^https?:\/\/[^/]+\/fhir/, '/fhir');
    }
    expect(paged.sort()).toEqual(all);
    const [subsetted] = (await search(`/fhir/Goal?patient=${patientId}&_elements=lifecycleStatus`)) as Goal[];
    expect(subsetted?.lifecycleStatus).toBeDefined();
    expect(subsetted?.description).toBeDefined(); // mandatory, kept
    expect(subsetted?.target).toBeUndefined();
    expect(subsetted?.meta?.tag?.some((tag) => tag.code === 'SUBSETTED')).toBe(true);
  });

  it('searches by POST with a form body', async () => {
    const byPost = await request(server.url)
      .post('/fhir/Consent/_search')
      .set('Authorization', `Bearer ${tokens.get(REGION) ?? ''}`)
      .type('form')
      .send(`patient=Patient/${patientId}`)
      .expect(200);
    expect(ids(matches(byPost.body as Bundle))).toEqual(ids(whole.get('Consent') ?? []));
  });

  it('gives an organisation of no plan nothing, audited; refuses a plan whose consent was withdrawn with 403', async () => {
    expect(await search(`/fhir/Consent?patient:identifier=${PERSON}`, STRANGER)).toEqual([]);
    const audited = await server.store.auditLog({ organization: STRANGER });
    expect(audited).toContainEqual(expect.objectContaining({ action: 'search', what: 'GET /fhir/Consent', outcome: 'success' }));
    const refused = await get(`/fhir/Consent?patient:identifier=${WITHDRAWN_PERSON}`, SKANE).expect(403);
    expect(JSON.stringify(refused.body)).toContain('consent.withdrawn');
    const log = await server.store.auditLog({ organization: SKANE });
    expect(log).toContainEqual(expect.objectContaining({ action: 'search', what: 'GET /fhir/Consent', outcome: 'refused', detail: '403' }));
  });

  it('answers a search naming no person with 400, a type no parameter of which names one with 404, an unknown parameter with 400', async () => {
    const none = await get('/fhir/Goal').expect(400);
    expect((none.body as OperationOutcome).issue[0]?.diagnostics).toContain('Search Goal by _id, patient, subject');
    const organization = await get('/fhir/Organization?name=x').expect(404);
    expect((organization.body as OperationOutcome).issue[0]?.diagnostics).toContain('Search is not supported on Organization');
    const unknown = await get(`/fhir/Consent?patient=${patientId}&colour=blue`).expect(400);
    expect((unknown.body as OperationOutcome).issue[0]?.diagnostics).toContain('colour');
    const lenient = await get(`/fhir/Consent?patient=${patientId}&colour=blue`).set('Prefer', 'handling=lenient').expect(200);
    expect((lenient.body as Bundle).link?.[0]?.url).not.toContain('colour');
    await get('/fhir/Consent?patient=Patient/a|b').expect(400);
    await get(`/fhir/Consent?patient=${patientId}&patient=${patientId}`).expect(400);
    // CarePlan keeps its own search.
    expect(matches((await get(`/fhir/CarePlan?patient=${patientId}`).expect(200)).body as Bundle).map((resource) => resource.resourceType)).toEqual(['CarePlan']);
  });

  it('answers Patient/$everything with every resource of the person’s plans the caller may be sent, the Patient first', async () => {
    const bundle = (await get(`/fhir/Patient/${patientId}/$everything`).expect(200)).body as Bundle;
    expect(bundle.type).toBe('searchset');
    const got = matches(bundle);
    expect(got[0]).toMatchObject({ resourceType: 'Patient', id: patientId });
    // The same resources the plan's CarePlan search with everything included and revincluded answers, each once.
    const key = (resource: FhirResource): string => `${resource.resourceType}/${String(resource.id)}`;
    expect(got.map(key).sort()).toEqual([...whole.values()].flat().map(key).sort());
    expect(new Set(got.map(key)).size).toBe(got.length);
    expect(bundle.total).toBe(got.length);
    // _type keeps some types; _count pages.
    const typed = matches((await get(`/fhir/Patient/${patientId}/$everything?_type=Consent,Goal`).expect(200)).body as Bundle);
    expect(typed.map(key).sort()).toEqual([...(whole.get('Consent') ?? []), ...(whole.get('Goal') ?? [])].map(key).sort());
    const first = (await get(`/fhir/Patient/${patientId}/$everything?_count=2`).expect(200)).body as Bundle;
    expect(matches(first)).toHaveLength(2);
    expect(first.link?.find((link) => link.relation === 'next')?.url).toContain('_offset=2');
    // _since after the plan's version was recorded leaves nothing.
    expect(matches((await get(`/fhir/Patient/${patientId}/$everything?_since=2099-01-01T00:00:00Z`).expect(200)).body as Bundle)).toEqual([]);
    // By POST too.
    const post = (body: unknown) =>
      request(server.url).post(`/fhir/Patient/${patientId}/$everything`).set('Authorization', `Bearer ${tokens.get(REGION) ?? ''}`).set('Content-Type', 'application/fhir+json').send(JSON.stringify(body));
    const posted = await post({ resourceType: 'Parameters', parameter: [{ name: '_type', valueCode: 'Patient' }] }).expect(200);
    expect(matches(posted.body as Bundle).map(key)).toEqual([`Patient/${patientId}`]);
    expect((await post({ resourceType: 'Parameters' }).expect(200)).body).toMatchObject({ total: got.length });
    const bad = await post({ resourceType: 'Parameters', parameter: [{ name: '_type' }] }).expect(400);
    expect((bad.body as OperationOutcome).issue[0]?.diagnostics).toContain('Parameters.parameter[0]');
    await post({ resourceType: 'Patient' }).expect(400);
  });

  it('refuses Patient/$everything to an organisation of none of the person’s plans and for a withdrawn consent, 404 for nobody, 400 for what it does not take', async () => {
    const stranger = await get(`/fhir/Patient/${patientId}/$everything`, STRANGER).expect(403);
    expect((stranger.body as OperationOutcome).issue[0]?.diagnostics).toContain(STRANGER);
    // Nothing of the withdrawn plan may be sent, its Patient's id not even by a search: it is read from the store.
    await get(`/fhir/Patient?identifier=${WITHDRAWN_PERSON}`, SKANE).expect(403);
    const id = await patientIdOf(WITHDRAWN_PERSON);
    const withdrawn = await get(`/fhir/Patient/${id}/$everything`, SKANE).expect(403);
    expect(JSON.stringify(withdrawn.body)).toContain('consent.withdrawn');
    await get('/fhir/Patient/00000000-0000-0000-0000-000000000000/$everything').expect(404);
    const start = await get(`/fhir/Patient/${patientId}/$everything?start=yesterday`).expect(400);
    expect((start.body as OperationOutcome).issue[0]?.diagnostics).toContain('start=yesterday');
    // A bad value of a parameter the operation takes is refused even under lenient handling.
    await get(`/fhir/Patient/${patientId}/$everything?end=2026-13-01`).set('Prefer', 'handling=lenient').expect(400);
    await get(`/fhir/Patient/${patientId}/$everything?start=2026-01-01&start=2026-02-01`).expect(400);
    await get(`/fhir/Patient/${patientId}/$everything?_type=Banana`).expect(400);
    await get(`/fhir/Patient/${patientId}/$everything?_since=yesterday`).expect(400);
    const log = await server.store.auditLog({ organization: STRANGER });
    expect(log).toContainEqual(expect.objectContaining({ action: 'search', what: `GET /fhir/Patient/${patientId}/$everything`, outcome: 'refused', detail: '403' }));
  });

  it('lists each type’s search in the CapabilityStatement with the official parameter definitions', async () => {
    const statement = (await request(server.url).get('/fhir/metadata').expect(200)).body as CapabilityStatement;
    const resources = statement.rest?.[0]?.resource ?? [];
    const of = (type: string) => resources.find((resource) => resource.type === type);
    expect(of('Appointment')?.interaction?.map((interaction) => interaction.code)).toContain('search-type');
    expect(of('Appointment')?.searchParam?.find((parameter) => parameter.name === 'patient')?.definition).toBe('http://hl7.org/fhir/SearchParameter/Appointment-patient');
    expect(of('Consent')?.searchParam?.find((parameter) => parameter.name === 'patient')?.definition).toBe('http://hl7.org/fhir/SearchParameter/clinical-patient');
    expect(of('Task')?.searchParam?.map((parameter) => parameter.name)).toEqual(expect.arrayContaining(['_id', 'patient', 'subject', 'status']));
    expect(of('Appointment')?.searchParam?.find((parameter) => parameter.name === 'date')?.definition).toBe('http://hl7.org/fhir/SearchParameter/Appointment-date');
    expect(of('Goal')?.searchParam?.map((parameter) => parameter.name)).toContain('lifecycle-status');
    expect(of('Patient')?.searchParam?.map((parameter) => parameter.name)).toEqual(expect.arrayContaining(['_id', 'identifier']));
    expect(of('Organization')?.interaction?.map((interaction) => interaction.code)).not.toContain('search-type');
    expect(of('Patient')?.operation?.map((operation) => operation.definition)).toContain('http://hl7.org/fhir/OperationDefinition/Patient-everything');
  });
});
