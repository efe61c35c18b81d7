/**
 * The read side of the FHIR R4 facade end to end: the real server (`startServer`) on a loopback
 * port with the example plans, on the embedded store (PGlite) and on the machine's PostgreSQL, with
 * tokens signed by the server's own key and a fixed clock. The CapabilityStatement; a read by the
 * stable id before and after a plan update through the SIP API; a search whose searchset reads back
 * to the stored plan; a plan whose consent was withdrawn refused with the rule's code; 401, 403 and
 * 404 as OperationOutcome; the audit log.
 */
import type { Bundle, CapabilityStatement, CarePlan, Consent, OperationOutcome } from 'fhir/r4.js';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IDENTIFIER_SYSTEM, PROFILE, bundleToPlan, fhirNormalForm, planResourceIds, planToBundle } from '../../src/fhir/index.js';
import type { RunningServer } from '../../src/http/server.js';
import type { StoredPlan } from '../../src/store/index.js';
import { exampleFiles, readExample } from '../support/examples.js';
import { startTestServer, type TestServer } from '../support/http-server.js';

/** Region Dalarna, a principal of the adult example's plan. */
const REGION = 'SE2321000180-1000';
const PLAN = 'sip-falun-2026-0142';
/** Region Skåne, a principal of the plan closed after the person withdrew their consent. */
const SKANE = 'SE2321000255-1000';
const WITHDRAWN_PLAN = 'sip-malmo-2025-0862';

describe.each([
  ['the embedded store (PGlite)', 'pglite'],
  ['PostgreSQL', 'postgres'],
] as const)('the FHIR facade (read) on %s', (_name, driver) => {
  let test: TestServer;
  let server: RunningServer;
  let token: string;

  const bearer = (organization: string, scope?: string): Promise<string> => test.bearer(organization, scope);

  beforeAll(async () => {
    test = await startTestServer(driver, { settings: { loadExamples: true } });
    server = test.server;
    token = await bearer(REGION);
  }, 60_000);

  afterAll(() => test.close());

  const api = () => request(server.url);
  const auth = (value = token) => ({ Authorization: `Bearer ${value}` });
  const stored = async (planId = PLAN): Promise<StoredPlan> => {
    const found = await server.store.get(planId);
    if (found === undefined) throw new Error(`the examples hold ${planId}`);
    return found;
  };
  /** The facade's id of the plan's first resource of a type: the UUID of its fullUrl. */
  const idOf = async (resourceType: string, planId = PLAN): Promise<string> => {
    const found = planResourceIds((await stored(planId)).plan).find((resource) => resource.resourceType === resourceType);
    if (found === undefined) throw new Error(`no ${resourceType} in ${planId}`);
    return found.id;
  };

  it('answers GET /fhir/metadata without a token: a CapabilityStatement of every type the mapping writes, CarePlan searchable, SMART security', async () => {
    const response = await api().get('/fhir/metadata').expect(200);
    expect(response.headers['content-type']).toContain('application/fhir+json');
    const statement = response.body as CapabilityStatement;
    expect(statement).toMatchObject({ resourceType: 'CapabilityStatement', kind: 'instance', fhirVersion: '4.0.1', format: ['json'], status: 'active' });
    const [rest] = statement.rest ?? [];
    const written = new Set(exampleFiles.flatMap((file) => (planToBundle(readExample(file)).entry ?? []).map((entry) => entry.resource?.resourceType ?? '')));
    // The examples write all but two of the types; a deviation (DetectedIssue) and a summons to an
    // organisation (HealthcareService) are written too (src/fhir/write/bundle.ts).
    // And the audit log, as AuditEvent.
    expect(rest?.resource?.map((resource) => resource.type).sort()).toEqual([...new Set([...written, 'DetectedIssue', 'HealthcareService', 'AuditEvent'])].sort());
    for (const resource of rest?.resource ?? []) {
      if (resource.type === 'AuditEvent') continue;
      expect(resource.interaction?.map((interaction) => interaction.code)).toEqual(expect.arrayContaining(['read', 'vread', 'history-instance']));
      expect(resource).toMatchObject({ versioning: 'versioned', readHistory: true });
    }
    const carePlan = rest?.resource?.find((resource) => resource.type === 'CarePlan');
    expect(carePlan?.interaction?.map((interaction) => interaction.code)).toEqual(['read', 'vread', 'history-instance', 'history-type', 'search-type']);
    const auditEvent = rest?.resource?.find((resource) => resource.type === 'AuditEvent');
    expect(auditEvent?.interaction?.map((interaction) => interaction.code)).toEqual(['read', 'search-type']);
    expect(auditEvent?.searchParam?.map((param) => param.name)).toEqual(['patient', 'agent', 'altid', 'date', '_count', '_total']);
    expect(carePlan?.supportedProfile).toEqual([PROFILE.carePlan]);
    expect(carePlan?.searchParam?.map((param) => param.name)).toEqual(expect.arrayContaining(['identifier', 'patient', 'subject', 'status']));
    expect(carePlan?.searchInclude).toEqual(expect.arrayContaining(['CarePlan:subject', 'CarePlan:care-team', 'CarePlan:goal', '*']));
    expect(carePlan?.searchRevInclude).toEqual(expect.arrayContaining(['Consent:data', 'Appointment:supporting-info', 'Provenance:target', 'ServiceRequest:based-on', '*']));
    expect(rest?.resource?.find((resource) => resource.type === 'Consent')?.supportedProfile).toEqual([PROFILE.consent]);
    expect(rest?.security?.service?.[0]?.coding?.[0]).toEqual({ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' });
  });

  it('refuses plan data without a token: 401 with an OperationOutcome and WWW-Authenticate', async () => {
    const response = await api().get(`/fhir/CarePlan/${await idOf('CarePlan')}`).expect(401);
    expect(response.headers['content-type']).toContain('application/fhir+json');
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((response.body as OperationOutcome).issue[0]?.code).toBe('login');
    await api().get('/fhir/CarePlan').query({ identifier: PLAN }).expect(401);
  });

  it('reads the CarePlan and its Consent by stable ids, and the same ids read the next version after a SIP update', async () => {
    const carePlanId = await idOf('CarePlan');
    const consentId = await idOf('Consent');
    const before = await stored();
    const read = await api().get(`/fhir/CarePlan/${carePlanId}`).set(auth()).expect(200);
    expect(read.headers['content-type']).toContain('application/fhir+json');
    expect(read.headers.etag).toBe(`W/"${String(before.version)}"`);
    const carePlan = read.body as CarePlan;
    expect(carePlan).toMatchObject({ resourceType: 'CarePlan', id: carePlanId, meta: { versionId: String(before.version), lastUpdated: before.recordedAt, profile: [PROFILE.carePlan] } });
    expect(carePlan.identifier).toContainEqual({ system: IDENTIFIER_SYSTEM.sipPlan, value: PLAN });
    expect(carePlan.subject.reference).toBe(`Patient/${await idOf('Patient')}`);
    expect(JSON.stringify(carePlan)).not.toContain('urn:uuid:');
    const consent = (await api().get(`/fhir/Consent/${consentId}`).set(auth()).expect(200)).body as Consent;
    expect(consent).toMatchObject({ resourceType: 'Consent', id: consentId, status: 'active' });

    const sip = await api().get(`/sip/plans/${PLAN}`).set(auth()).expect(200);
    const edited = { ...(sip.body as { plan: object }).plan, notes: 'Ändrad via SIP-API:t.' };
    await api().put(`/sip/plans/${PLAN}`).set(auth()).set('If-Match', sip.headers.etag ?? '').send(edited).expect(200);
    const after = await stored();
    expect(after.version).toBe(before.version + 1);
    const reread = await api().get(`/fhir/CarePlan/${carePlanId}`).set(auth()).expect(200);
    expect(reread.headers.etag).toBe(`W/"${String(after.version)}"`);
    expect(reread.body as CarePlan).toMatchObject({ id: carePlanId, meta: { versionId: String(after.version) }, note: [{ text: 'Ändrad via SIP-API:t.' }] });
    expect(await idOf('Consent')).toBe(consentId);
    expect((await api().get(`/fhir/Consent/${consentId}`).set(auth()).expect(200)).body as Consent).toMatchObject({ id: consentId, meta: { versionId: String(after.version) } });
  });

  it('searches CarePlan by identifier with _include=* and _revinclude=*: a searchset that reads back to the stored plan', async () => {
    const response = await api().get('/fhir/CarePlan').query({ identifier: `${IDENTIFIER_SYSTEM.sipPlan}|${PLAN}`, _include: '*', _revinclude: '*' }).set(auth()).expect(200);
    expect(response.headers['content-type']).toContain('application/fhir+json');
    const bundle = response.body as Bundle;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
    expect(bundle.link?.find((link) => link.relation === 'self')?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/fhir\/CarePlan\?/);
    const entries = bundle.entry ?? [];
    expect(entries.filter((entry) => entry.search?.mode === 'match').map((entry) => entry.resource?.resourceType)).toEqual(['CarePlan']);
    for (const entry of entries) expect(entry.fullUrl).toBe(`${server.url}/fhir/${entry.resource?.resourceType ?? ''}/${entry.resource?.id ?? ''}`);
    const current = await stored();
    expect(entries.length).toBe(planResourceIds(current.plan).length);
    const read = bundleToPlan(bundle);
    if (!read.ok) throw new Error(JSON.stringify(read.outcome));
    expect(read.plan).toEqual(fhirNormalForm(current.plan));
  });

  it('brings the municipal decisions with _revinclude=ServiceRequest:based-on: the one granting boendestöd (int-4) in the adult example', async () => {
    const response = await api().get('/fhir/CarePlan').query({ identifier: PLAN, _revinclude: 'ServiceRequest:based-on' }).set(auth()).expect(200);
    const entries = (response.body as Bundle).entry ?? [];
    expect(entries.map((entry) => [entry.resource?.resourceType, entry.search?.mode])).toEqual([
      ['CarePlan', 'match'],
      ['ServiceRequest', 'include'],
    ]);
    const carePlan = entries[0]?.resource as CarePlan;
    expect((entries[1]?.resource as { basedOn?: { reference?: string }[] }).basedOn?.[0]?.reference).toBe(`CarePlan/${carePlan.id ?? ''}`);
  });

  it('includes only what is asked: the subject, the goals and the consents naming the plan; finds by patient and status', async () => {
    const response = await api()
      .get(`/fhir/CarePlan?identifier=${PLAN}&_include=CarePlan:subject&_include=CarePlan:goal&_revinclude=Consent:data`)
      .set(auth())
      .expect(200);
    const entries = (response.body as Bundle).entry ?? [];
    const { plan } = await stored();
    expect(entries.map((entry) => [entry.resource?.resourceType, entry.search?.mode])).toEqual([
      ['CarePlan', 'match'],
      ['Patient', 'include'],
      ...plan.goals.map(() => ['Goal', 'include']),
      ...plan.consents.map(() => ['Consent', 'include']),
    ]);
    const byPatient = (await api().get('/fhir/CarePlan').query({ patient: `Patient/${await idOf('Patient')}` }).set(auth()).expect(200)).body as Bundle;
    expect(byPatient.entry?.map((entry) => (entry.resource as CarePlan).identifier?.[0]?.value)).toEqual([PLAN]);
    const byPerson = (await api().get('/fhir/CarePlan').query({ 'subject:identifier': `${IDENTIFIER_SYSTEM.personnummer}|${plan.individual.identifier.value}` }).set(auth()).expect(200)).body as Bundle;
    expect(byPerson.total).toBe(1);
    expect(((await api().get('/fhir/CarePlan').query({ identifier: PLAN, status: 'completed' }).set(auth()).expect(200)).body as Bundle).total).toBe(0);
    expect(((await api().get('/fhir/CarePlan').query({ identifier: `urn:other|${PLAN}` }).set(auth()).expect(200)).body as Bundle).total).toBe(0);
    const paged = (await api().get('/fhir/CarePlan').query({ identifier: PLAN, _count: '0' }).set(auth()).expect(200)).body as Bundle;
    expect(paged).toMatchObject({ total: 1 });
    expect(paged.entry).toEqual([]);
    expect(paged.link?.map((link) => link.relation)).toEqual(['self']);
    await api().get('/fhir/CarePlan').query({ colour: 'red' }).set(auth()).expect(400);
    await api().get('/fhir/CarePlan').query({ _include: 'CarePlan:author' }).set(auth()).expect(400);
  });

  it('refuses a plan whose consent was withdrawn with 403 naming consent.withdrawn, on read and on search, and audits it', async () => {
    const skane = await bearer(SKANE);
    const read = await api().get(`/fhir/CarePlan/${await idOf('CarePlan', WITHDRAWN_PLAN)}`).set(auth(skane)).expect(403);
    expect(read.headers['content-type']).toContain('application/fhir+json');
    const outcome = read.body as OperationOutcome;
    expect(outcome.issue.map((issue) => issue.diagnostics).join('\n')).toContain('consent.withdrawn');
    expect(outcome.issue[0]?.code).toBe('forbidden');
    const searched = await api().get('/fhir/CarePlan').query({ identifier: WITHDRAWN_PLAN, _include: '*' }).set(auth(skane)).expect(403);
    expect(JSON.stringify(searched.body)).toContain('consent.withdrawn');
    const log = await server.store.auditLog({ organization: SKANE });
    expect(log.filter((entry) => entry.planId === WITHDRAWN_PLAN && entry.outcome === 'refused' && entry.detail === '403').map((entry) => entry.action).sort()).toEqual(['read', 'search']);
  });

  it('answers a conditional read with 304 when the ETag or date still holds, after judging it as a read (R4 http.html#cread)', async () => {
    const path = `/fhir/Consent/${await idOf('Consent')}`;
    const first = await api().get(path).set(auth()).expect(200);
    const etag = String(first.headers.etag);
    const lastModified = String(first.headers['last-modified']);
    const unchanged = await api().get(path).set(auth()).set('If-None-Match', etag).expect(304);
    expect(unchanged.text).toBeFalsy();
    expect(unchanged.headers.etag).toBe(etag);
    expect(unchanged.headers['content-type']).toBeUndefined();
    await api().get(path).set(auth()).set('If-None-Match', 'W/"0"').expect(200);
    await api().get(path).set(auth()).set('If-Modified-Since', lastModified).expect(304);
    await api().get(path).set(auth()).set('If-Modified-Since', new Date(Date.parse(lastModified) - 86_400_000).toUTCString()).expect(200);
    // An end-to-end reload asks for the content whatever the client holds.
    await api().get(path).set(auth()).set('If-None-Match', etag).set('Cache-Control', 'no-cache').expect(200);
    const log = await server.store.auditLog({ organization: REGION });
    expect(log.filter((entry) => entry.what === `GET ${path}` && entry.action === 'read').map((entry) => entry.detail)).toEqual(expect.arrayContaining(['200', '304']));
    // Judged first: a plan that may not be sent now is refused, whatever the client holds.
    await api().get(`/fhir/CarePlan/${await idOf('CarePlan', WITHDRAWN_PLAN)}`).set(auth(await bearer(SKANE))).set('If-None-Match', '*').expect(403);
    await api().get(path).set(auth(await bearer('SE2321000180-9999'))).set('If-None-Match', etag).expect(403);
    const statement = (await api().get('/fhir/metadata').expect(200)).body as CapabilityStatement;
    expect(statement.rest?.[0]?.resource?.find((resource) => resource.type === 'Consent')?.conditionalRead).toBe('full-support');
  });

  it('answers 404 for an unknown id or type, and 403 to an organisation not in the plan or a token without the scope', async () => {
    const unknownId = await api().get('/fhir/CarePlan/00000000-0000-0000-0000-000000000000').set(auth()).expect(404);
    expect(unknownId.headers['content-type']).toContain('application/fhir+json');
    expect((unknownId.body as OperationOutcome).issue[0]?.code).toBe('not-found');
    await api().get(`/fhir/Goal/${await idOf('CarePlan')}`).set(auth()).expect(404);
    await api().get('/fhir/CarePlan/not_a_fhir_id!').set(auth()).expect(404);
    const unknownType = await api().get(`/fhir/Banana/${await idOf('CarePlan')}`).set(auth()).expect(404);
    expect((unknownType.body as OperationOutcome).issue[0]?.diagnostics).toContain('Banana');
    // A type no search parameter of which names a person is not searched; one that is needs a person or ids (test/http/fhir-type-search.test.ts).
    await api().get('/fhir/Organization').set(auth()).expect(404);
    await api().get('/fhir/Goal').set(auth()).expect(400);
    await api().get(`/fhir/CarePlan/${await idOf('CarePlan')}`).set(auth(await bearer('SE2321000180-9999'))).expect(403);
    await api().get(`/fhir/CarePlan/${await idOf('CarePlan')}`).set(auth(await bearer(REGION, 'system/Patient.read'))).expect(403);
  });

  it('pages the matches with _count and a next link; a Patient two plans share is read as the plan recorded last maps it', async () => {
    const { plan } = await stored();
    const second = { ...plan, id: 'sip-falun-2026-0999', version: 1, approvals: [], consents: plan.consents.map((consent) => ({ ...consent, planId: 'sip-falun-2026-0999' })) };
    delete (second as { closure?: unknown }).closure;
    await api().post('/sip/plans').set(auth()).send(second).expect(201);
    const person = `${IDENTIFIER_SYSTEM.personnummer}|${plan.individual.identifier.value}`;
    const first = (await api().get('/fhir/CarePlan').query({ 'patient:identifier': person, _count: '1' }).set(auth()).expect(200)).body as Bundle;
    expect(first.total).toBe(2);
    expect(first.entry?.map((entry) => (entry.resource as CarePlan).identifier?.[0]?.value)).toEqual([PLAN]);
    const next = first.link?.find((link) => link.relation === 'next')?.url;
    if (next === undefined) throw new Error('no next link on the first of two pages');
    const page = (await api().get(next.slice(server.url.length)).set(auth()).expect(200)).body as Bundle;
    expect(page.entry?.map((entry) => (entry.resource as CarePlan).identifier?.[0]?.value)).toEqual(['sip-falun-2026-0999']);
    expect(page.link?.map((link) => link.relation)).toEqual(['self']);
    const patientId = await idOf('Patient');
    expect(await server.store.plansWithResource('Patient', patientId)).toEqual([PLAN, 'sip-falun-2026-0999']);
    const patient = await api().get(`/fhir/Patient/${patientId}`).set(auth()).expect(200);
    expect(patient.headers.etag).toBe('W/"1"');
  });

  it('audits every read and search: who, which plan and person, what and how it ended', async () => {
    const carePlanId = await idOf('CarePlan');
    await api().get(`/fhir/CarePlan/${carePlanId}`).set(auth()).expect(200);
    await api().get('/fhir/CarePlan').query({ identifier: PLAN }).set(auth()).expect(200);
    const person = (await stored()).plan.individual.identifier.value;
    // A success is audited right after the answer is sent, so the entry may land a moment later.
    await vi.waitFor(async () => {
      const log = await server.store.auditLog({ organization: REGION, limit: 2 });
      expect(log).toHaveLength(2);
      expect(log).toEqual(expect.arrayContaining([
        expect.objectContaining({ action: 'search', what: 'GET /fhir/CarePlan', planId: PLAN, personIdentifier: person, outcome: 'success', detail: '200' }),
        expect.objectContaining({ action: 'read', what: `GET /fhir/CarePlan/${carePlanId}`, planId: PLAN, personIdentifier: person, outcome: 'success', detail: '200' }),
      ]));
    });
    const anonymous = await server.store.auditLog({ organization: 'anonymous' });
    expect(anonymous.some((entry) => entry.what.startsWith('GET /fhir/') && entry.outcome === 'refused' && entry.detail === '401')).toBe(true);
  });
});
