/**
 * What R4 lets a client add to a FHIR request beyond the search parameters of a type, end to end on
 * the real server: CarePlan's `date` and `_lastUpdated` searches; `_summary=count` and `_total`;
 * `Prefer: handling=lenient` (https://hl7.org/fhir/R4/search.html#errors); `_format`, `_pretty` and
 * `Accept` (https://hl7.org/fhir/R4/http.html#parameters), where anything but FHIR R4 JSON is 406.
 */
import type { Bundle, CapabilityStatement, CarePlan, OperationOutcome } from 'fhir/r4.js';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planToBundle } from '../../src/fhir/index.js';
import { issueLocalToken } from '../../src/http/auth/index.js';
import type { RunningServer } from '../../src/http/server.js';
import { startTestServer, type TestServer } from '../support/http-server.js';

/** A moment while the adult example's consent is in force; the examples are recorded at it. */
const NOW = new Date('2026-04-01T10:00:00+02:00');
/** Region Dalarna, a principal of the adult example's plan, initiated 2026-02-10 and not closed. */
const REGION = 'SE2321000180-1000';
const PLAN = 'sip-falun-2026-0142';

describe.each([
  ['the embedded store (PGlite)', 'pglite'],
  ['PostgreSQL', 'postgres'],
] as const)('FHIR request parameters on %s', (_name, driver) => {
  let test: TestServer;
  let server: RunningServer;
  let token: string;

  beforeAll(async () => {
    test = await startTestServer(driver, { settings: { loadExamples: true } });
    server = test.server;
    if (server.authenticator.mode !== 'local') throw new Error('the test server signs its own tokens');
    token = await issueLocalToken({ org: REGION, scopes: 'system/*.*', ttlSeconds: 3600 }, server.authenticator.localKey, NOW);
  }, 60_000);

  afterAll(() => test.close());

  const get = (path: string) => request(server.url).get(path).set('Authorization', `Bearer ${token}`);
  /** The plan ids of a searchset's matches. */
  const found = (bundle: Bundle): string[] =>
    (bundle.entry ?? []).filter((entry) => entry.search?.mode === 'match').map((entry) => (entry.resource as CarePlan).identifier?.[0]?.value ?? '?');
  const search = async (query: string): Promise<string[]> => {
    const response = await get(`/fhir/CarePlan?${query}`).expect(200);
    return found(response.body as Bundle);
  };

  it('finds a CarePlan by date: its period runs from 2026-02-10 and is open', async () => {
    expect(await search('date=ge2026-02-10')).toEqual([PLAN]);
    expect(await search('date=le2026-02-10')).toEqual([PLAN]);
    expect(await search('date=gt2030-01-01')).toEqual([PLAN]);
    expect(await search('date=sa2026-02-09')).toEqual([PLAN]);
    expect(await search('date=lt2026-02-10')).toEqual([]);
    expect(await search('date=sa2026-02-10')).toEqual([]);
    expect(await search('date=eb2027-01-01')).toEqual([]);
    // An open period lies within no year.
    expect(await search('date=2026')).toEqual([]);
    expect(await search('date=ge2026-01-01&date=le2026-03-01')).toEqual([PLAN]);
  });

  it('finds a CarePlan by _lastUpdated, the instant its version was recorded', async () => {
    const recorded = (await server.store.get(PLAN))?.recordedAt;
    expect(recorded).toBeDefined();
    const response = await get(`/fhir/CarePlan?identifier=${PLAN}`).expect(200);
    expect(((response.body as Bundle).entry?.[0]?.resource as CarePlan).meta?.lastUpdated).toBe(recorded);
    const instant = encodeURIComponent(String(recorded));
    expect(await search(`_lastUpdated=ge${instant}`)).toEqual([PLAN]);
    expect(await search(`_lastUpdated=le${instant}`)).toEqual([PLAN]);
    expect(await search(`_lastUpdated=gt${instant}`)).toEqual([]);
    expect(await search(`_lastUpdated=lt${instant}`)).toEqual([]);
  });

  it('answers a malformed date with 400 naming the parameter and the value', async () => {
    for (const query of ['date=ge2026-02-30', '_lastUpdated=yesterday', 'date=ap2026']) {
      const response = await get(`/fhir/CarePlan?${query}`).expect(400);
      expect(response.headers['content-type']).toContain('application/fhir+json');
      const [issue] = (response.body as OperationOutcome).issue;
      expect(issue?.diagnostics).toContain(query);
    }
  });

  it('counts with _summary=count (a total, no entries) and takes _total', async () => {
    const counted = (await get('/fhir/CarePlan?_summary=count').expect(200)).body as Bundle;
    expect(counted).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
    expect(counted.entry).toBeUndefined();
    const none = (await get('/fhir/CarePlan?_summary=count&date=lt2000').expect(200)).body as Bundle;
    expect(none.total).toBe(0);
    expect(found((await get('/fhir/CarePlan?_total=accurate').expect(200)).body as Bundle)).toEqual([PLAN]);
    await get('/fhir/CarePlan?_total=maybe').expect(400);
    const unknown = await get('/fhir/CarePlan?_summary=maybe').expect(400);
    expect((unknown.body as OperationOutcome).issue[0]?.diagnostics).toContain('_summary=maybe');
  });

  it('answers part of each resource with _summary and _elements (read, vread, search), tagged SUBSETTED', async () => {
    const isSubsetted = (resource: { meta?: { tag?: { code?: string }[] } }): boolean => resource.meta?.tag?.some((tag) => tag.code === 'SUBSETTED') === true;
    const whole = ((await get(`/fhir/CarePlan?identifier=${PLAN}`).expect(200)).body as Bundle).entry?.[0]?.resource as CarePlan;
    expect(whole.text).toBeDefined();
    expect(whole.activity?.length).toBeGreaterThan(0);
    expect(isSubsetted(whole)).toBe(false);

    // Read: CarePlan's Σ elements leave out text, extensions, activity and goal.
    const summarised = (await get(`/fhir/CarePlan/${String(whole.id)}?_summary=true`).expect(200)).body as CarePlan;
    expect(summarised).toMatchObject({ id: whole.id, status: whole.status, intent: whole.intent, subject: whole.subject, identifier: whole.identifier });
    expect(summarised.meta?.versionId).toBe(whole.meta?.versionId);
    expect([summarised.text, summarised.extension, summarised.activity, summarised.goal]).toEqual([undefined, undefined, undefined, undefined]);
    expect(isSubsetted(summarised)).toBe(true);

    // Vread: _summary=data keeps all but the narrative.
    const data = (await get(`/fhir/CarePlan/${String(whole.id)}/_history/${String(whole.meta?.versionId)}?_summary=data`).expect(200)).body as CarePlan;
    const { text: _text, meta: _meta, ...rest } = whole;
    expect(data).toMatchObject(rest);
    expect(data.text).toBeUndefined();
    expect(isSubsetted(data)).toBe(true);

    // Search: _elements shapes the matches; what is included stays whole.
    const searched = (await get(`/fhir/CarePlan?identifier=${PLAN}&_elements=title&_include=CarePlan:subject`).expect(200)).body as Bundle;
    const match = searched.entry?.find((entry) => entry.search?.mode === 'match')?.resource as CarePlan;
    expect(Object.keys(match).sort()).toEqual(['id', 'intent', 'meta', 'resourceType', 'status', 'subject', 'title']);
    const included = searched.entry?.find((entry) => entry.search?.mode === 'include')?.resource;
    expect(included?.resourceType).toBe('Patient');
    expect(included === undefined ? true : isSubsetted(included)).toBe(false);
    // _summary=text on a search: the narrative and the mandatory elements.
    const texts = (await get(`/fhir/CarePlan?identifier=${PLAN}&_summary=text`).expect(200)).body as Bundle;
    expect(Object.keys(texts.entry?.[0]?.resource ?? {}).sort()).toEqual(['id', 'intent', 'meta', 'resourceType', 'status', 'subject', 'text']);

    const colour = await get(`/fhir/CarePlan/${String(whole.id)}?_elements=colour`).expect(400);
    expect((colour.body as OperationOutcome).issue[0]?.diagnostics).toContain('CarePlan has no element colour');
    await get(`/fhir/CarePlan/${String(whole.id)}?_summary=count`).expect(400);
    await get(`/fhir/CarePlan?_summary=true&_elements=title`).expect(400);
  });

  it('refuses an unknown search parameter, and ignores it under Prefer: handling=lenient, leaving it out of the links', async () => {
    const strict = await get('/fhir/CarePlan?colour=blue').expect(400);
    expect((strict.body as OperationOutcome).issue[0]?.diagnostics).toContain('colour');
    await get('/fhir/CarePlan?colour=blue').set('Prefer', 'handling=strict').expect(400);
    const lenient = await get('/fhir/CarePlan?colour=blue&status=active').set('Prefer', 'handling=lenient').expect(200);
    const bundle = lenient.body as Bundle;
    expect(found(bundle)).toEqual([PLAN]);
    const self = bundle.link?.find((link) => link.relation === 'self')?.url ?? '';
    expect(self).toContain('status=active');
    expect(self).not.toContain('colour');
    const audit = await get('/fhir/AuditEvent?colour=blue').set('Prefer', 'return=minimal; handling=lenient').expect(200);
    expect((audit.body as Bundle).link?.[0]?.url).not.toContain('colour');
    await get('/fhir/AuditEvent?colour=blue').expect(400);
  });

  it('refuses an _include or _revinclude it does not serve, also one named like a member of every JavaScript object', async () => {
    for (const query of ['_include=CarePlan:colour', '_include=toString', '_include=constructor', '_revinclude=constructor', '_revinclude=__proto__']) {
      const refused = await get(`/fhir/CarePlan?identifier=${PLAN}&${query}`).expect(400);
      expect((refused.body as OperationOutcome).issue[0]?.diagnostics, query).toContain(`Not supported: ${query.slice(query.indexOf('=') + 1)}`);
    }
    await get(`/fhir/CarePlan?identifier=${PLAN}&_include=CarePlan:subject&_revinclude=Provenance:target`).expect(200);
  });

  it('finds a CarePlan by _id, alone, as one of several, and with the other parameters', async () => {
    const whole = ((await get(`/fhir/CarePlan?identifier=${PLAN}`).expect(200)).body as Bundle).entry?.[0]?.resource as CarePlan;
    const id = String(whole.id);
    expect(await search(`_id=${id}`)).toEqual([PLAN]);
    expect(await search(`_id=no-such-careplan,${id}`)).toEqual([PLAN]);
    expect(await search('_id=no-such-careplan')).toEqual([]);
    expect(await search(`_id=${id}&identifier=${PLAN}`)).toEqual([PLAN]);
    expect(await search(`_id=${id}&identifier=sip-other-2026-0001`)).toEqual([]);
    expect(await search(`_id=${id}&${String(whole.subject.reference?.replace('Patient/', 'patient='))}`)).toEqual([PLAN]);
    expect(await search(`_id=${id}&patient=no-such-patient`)).toEqual([]);
    expect(await search(`_id=${id}&status=revoked`)).toEqual([]);
    const twice = await get(`/fhir/CarePlan?_id=${id}&_id=${id}`).expect(400);
    expect((twice.body as OperationOutcome).issue[0]?.diagnostics).toContain('_id');
  });

  it('answers a transaction with the resources under Prefer: return=representation, and with an outcome under return=OperationOutcome', async () => {
    const stored = await server.store.get(PLAN);
    if (stored === undefined) throw new Error('the example plan is loaded');
    const transaction = JSON.stringify(planToBundle(stored.plan));
    const post = (prefer?: string) => {
      const call = request(server.url).post('/fhir').set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/fhir+json');
      return (prefer === undefined ? call : call.set('Prefer', prefer)).send(transaction).expect(200);
    };
    const plain = (await post()).body as Bundle;
    expect(plain.entry?.every((entry) => entry.resource === undefined)).toBe(true);

    const represented = (await post('return=representation')).body as Bundle;
    expect(represented.entry?.length).toBe(plain.entry?.length);
    for (const entry of represented.entry ?? []) {
      // Each resource is the one its location names, as a read answers it now.
      expect(`${String(entry.resource?.resourceType)}/${String(entry.resource?.id)}/_history/${String(entry.resource?.meta?.versionId)}`).toBe(entry.response?.location);
    }
    const carePlan = represented.entry?.find((entry) => entry.resource?.resourceType === 'CarePlan')?.resource as CarePlan;
    expect(carePlan).toEqual((await get(`/fhir/CarePlan/${String(carePlan.id)}`).expect(200)).body);

    const outcome = (await post('return=OperationOutcome')).body as Bundle;
    const carePlanEntry = outcome.entry?.find((entry) => entry.response?.location?.startsWith('CarePlan/'));
    expect(carePlanEntry?.response?.outcome).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'information' }] });
    expect(carePlanEntry?.resource).toBeUndefined();
  });

  it('searches by POST with the parameters in a form, and in the URL beside it (R4 http.html#search)', async () => {
    const post = (path: string) => request(server.url).post(path).set('Authorization', `Bearer ${token}`);
    const form = `identifier=${PLAN}&_include=CarePlan:subject`;
    const byGet = (await get(`/fhir/CarePlan?${form}`).expect(200)).body as Bundle;
    const byPost = await post('/fhir/CarePlan/_search').type('form').send(form).expect(200);
    expect(byPost.headers['content-type']).toContain('application/fhir+json');
    // The same answer, links included: they name every parameter the search used, as a GET.
    expect(byPost.body).toEqual(byGet);
    expect(found(byPost.body as Bundle)).toEqual([PLAN]);

    // The form's parameters and the URL's together; a personnummer stays out of the URL.
    const person = encodeURIComponent('http://electronichealth.se/identifier/personnummer|198503141239');
    expect(((await post('/fhir/CarePlan/_search?_summary=count').type('form').send(`patient:identifier=${person}`).expect(200)).body as Bundle).total).toBe(1);
    expect(((await post('/fhir/CarePlan/_search?_summary=count').type('form').send('patient:identifier=199001011234').expect(200)).body as Bundle).total).toBe(0);
    // No body at all: the URL's parameters alone.
    expect(found((await post(`/fhir/CarePlan/_search?identifier=${PLAN}`).expect(200)).body as Bundle)).toEqual([PLAN]);
    const audit = (await post('/fhir/AuditEvent/_search').type('form').send('_count=1').expect(200)).body as Bundle;
    expect(audit).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    expect(audit.entry).toHaveLength(1);

    const colour = await post('/fhir/CarePlan/_search').type('form').send('colour=blue').expect(400);
    expect((colour.body as OperationOutcome).issue[0]?.diagnostics).toContain('colour');
    const json = await post('/fhir/CarePlan/_search').set('Content-Type', 'application/fhir+json').send('{"identifier":"x"}').expect(415);
    expect((json.body as OperationOutcome).issue[0]?.diagnostics).toContain('application/x-www-form-urlencoded');
    const location = await post('/fhir/Location/_search').type('form').send('name=x').expect(404);
    expect((location.body as OperationOutcome).issue[0]?.diagnostics).toContain('Search is not supported on Location');
    expect(((await post('/fhir/Patient/_search').type('form').send('identifier=x').expect(200)).body as Bundle).total).toBe(0);
    await request(server.url).post('/fhir/CarePlan/_search').type('form').send(form).expect(401);
  });

  it('serves _format=json and its media types, and _pretty, on reads, searches and metadata', async () => {
    for (const format of ['json', 'application/json', 'application/fhir+json', 'application%2Ffhir%2Bjson', 'application/fhir+json;fhirVersion=4.0']) {
      const response = await get(`/fhir/CarePlan?_format=${format}&_pretty=true`).expect(200);
      expect(response.headers['content-type']).toContain('application/fhir+json');
      expect(found(response.body as Bundle)).toEqual([PLAN]);
    }
    const metadata = await request(server.url).get('/fhir/metadata?_format=json').expect(200);
    expect((metadata.body as CapabilityStatement).resourceType).toBe('CapabilityStatement');
    // The search parameters beside _format are still read, and still narrow the search.
    expect(found((await get('/fhir/CarePlan?status=active&_format=json&date=ge2026-02-10').expect(200)).body as Bundle)).toEqual([PLAN]);
    expect(found((await get('/fhir/CarePlan?_pretty=false&status=completed&_format=json').expect(200)).body as Bundle)).toEqual([]);
    await get('/fhir/CarePlan?_format=json&colour=blue').expect(400);
    await get(`/fhir/CarePlan?_format=json&_format=json`).expect(400);
    await get(`/fhir/CarePlan?_pretty=yes`).expect(400);
  });

  it('answers 406 with an OperationOutcome when only XML, Turtle or another FHIR version is acceptable', async () => {
    for (const format of ['xml', 'application/fhir+xml', 'ttl', 'html', 'application/fhir+json;fhirVersion=3.0']) {
      const response = await get(`/fhir/CarePlan?_format=${encodeURIComponent(format)}`).expect(406);
      expect(response.headers['content-type']).toContain('application/fhir+json');
      expect((response.body as OperationOutcome).issue[0]?.diagnostics).toContain(`_format=${format}`);
      expect((response.body as OperationOutcome).issue[0]?.code).toBe('not-supported');
    }
    for (const accept of ['application/fhir+xml', 'application/xml, text/xml', 'application/fhir+json; fhirVersion=3.0', 'application/fhir+json; q=0']) {
      const response = await get('/fhir/metadata').set('Accept', accept).expect(406);
      expect((response.body as OperationOutcome).resourceType).toBe('OperationOutcome');
      expect((response.body as OperationOutcome).issue[0]?.code).toBe('not-supported');
    }
    // What browsers and most clients send.
    const carePlanId = ((await get(`/fhir/CarePlan?identifier=${PLAN}`).expect(200)).body as Bundle).entry?.[0]?.resource?.id;
    expect(carePlanId).toBeDefined();
    for (const accept of ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'application/fhir+json; fhirVersion=4.0', 'application/json', 'application/fhir+xml;q=0.9, application/fhir+json']) {
      const response = await get(`/fhir/CarePlan/${String(carePlanId)}`).set('Accept', accept).expect(200);
      expect((response.body as CarePlan).resourceType).toBe('CarePlan');
    }
  });

  it('lists date and _lastUpdated among CarePlan’s search parameters', async () => {
    const statement = (await request(server.url).get('/fhir/metadata').expect(200)).body as CapabilityStatement;
    const carePlan = statement.rest?.[0]?.resource?.find((resource) => resource.type === 'CarePlan');
    const names = (carePlan?.searchParam ?? []).map((parameter) => parameter.name);
    expect(names).toEqual(expect.arrayContaining(['_id', 'date', '_lastUpdated', '_summary', '_elements', '_total']));
  });
});
