/**
 * What the FHIR facade answers is valid R4 by two validators that share no code with src/ (Medplum's
 * StructureDefinition validator and the official JSON schema through ajv, test/support/fhir-validators.ts):
 * the CapabilityStatement, searchsets (CarePlan with everything included, another type by the person,
 * Patient/$everything, AuditEvent), a history Bundle, a read with `_summary`, and the OperationOutcome of an error. A
 * client library checking what it receives would refuse an answer they refuse.
 */
import type { Bundle, CarePlan, Resource } from 'fhir/r4.js';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueLocalToken } from '../../src/http/auth/index.js';
import type { RunningServer } from '../../src/http/server.js';
import { formatIssues, validateWithJsonSchema, validateWithMedplum } from '../support/fhir-validators.js';
import { startTestServer, type TestServer } from '../support/http-server.js';

/** A moment while the adult example's consent is in force; the examples are recorded at it. */
const NOW = new Date('2026-04-01T10:00:00+02:00');
/** Region Dalarna, a principal of the adult example's plan. */
const REGION = 'SE2321000180-1000';
const PLAN = 'sip-falun-2026-0142';

describe('the FHIR facade’s answers by independent validators', () => {
  let test: TestServer;
  let server: RunningServer;
  let token: string;

  beforeAll(async () => {
    test = await startTestServer('pglite', { settings: { loadExamples: true } });
    server = test.server;
    if (server.authenticator.mode !== 'local') throw new Error('the test server signs its own tokens');
    token = await issueLocalToken({ org: REGION, scopes: 'system/*.*', ttlSeconds: 3600 }, server.authenticator.localKey, NOW);
  }, 60_000);

  afterAll(() => test.close());

  const get = async (path: string, status = 200): Promise<Resource> => (await request(server.url).get(path).set('Authorization', `Bearer ${token}`).expect(status)).body as Resource;
  /** The errors both validators find; warnings and information are not failures. */
  const errors = (resource: Resource): string => formatIssues([...validateWithMedplum(resource), ...validateWithJsonSchema(resource)].filter((issue) => issue.severity === 'error' || issue.severity === 'fatal'));

  it('answers valid R4 on metadata, searches, history, a subsetted read and an error', async () => {
    const whole = (await get(`/fhir/CarePlan?identifier=${PLAN}&_include=*&_revinclude=*`)) as Bundle;
    const carePlan = whole.entry?.find((entry) => entry.resource?.resourceType === 'CarePlan')?.resource as CarePlan | undefined;
    const patient = carePlan?.subject.reference ?? '';
    expect(patient).toMatch(/^Patient\//);
    const answers: [string, Resource][] = [
      ['metadata', await get('/fhir/metadata')],
      ['CarePlan searchset, everything included', whole],
      ['Appointment searchset by patient', await get(`/fhir/Appointment?patient=${patient}`)],
      ['Consent searchset by patient, _summary=true', await get(`/fhir/Consent?patient=${patient}&_summary=true`)],
      ['Patient searchset by identifier', await get('/fhir/Patient?identifier=198503141239')],
      ['Patient/$everything', await get(`/fhir/${patient}/$everything`)],
      ['AuditEvent searchset', await get('/fhir/AuditEvent?_count=5')],
      ['CarePlan history', await get(`/fhir/CarePlan/${String(carePlan?.id)}/_history`)],
      ['CarePlan read, _summary=true', await get(`/fhir/CarePlan/${String(carePlan?.id)}?_summary=true`)],
      ['OperationOutcome of a 400', await get('/fhir/Goal', 400)],
    ];
    for (const [name, answer] of answers) expect(errors(answer), name).toBe('(no issues)');
    // The searchsets are not empty: a valid empty Bundle would prove little.
    expect(((answers[2]?.[1] as Bundle).entry ?? []).length).toBeGreaterThan(0);
    expect(((answers[4]?.[1] as Bundle).entry ?? []).length).toBe(1);
    expect(((answers[5]?.[1] as Bundle).entry ?? []).length).toBeGreaterThan(10);
  }, 120_000);
});
