/**
 * Searching for a person by their number as people write it (issue #11): the store keeps a
 * personnummer or samordningsnummer as twelve digits without a separator, and every search by a
 * person's number — `/sip/plans?person=`, `/fhir/CarePlan?patient:identifier=` (with or without
 * HL7 Sweden's system), `/fhir/AuditEvent?patient:identifier=` — finds the person whichever form the
 * value is given in. A value that is not a valid number finds nothing without a system (it may be a
 * reservnummer) and is a 400 naming the parameter with the personnummer or samordningsnummer system.
 *
 * Over HTTP on a loopback port, on the embedded store and on the machine's PostgreSQL. The forms and
 * the people they name were worked out by hand: 19850314-1239 is the adult example's person (check
 * digit 9 by the Luhn sum of 850314123); 850374-1236 is a samordningsnummer of someone born on
 * 1985-03-14 (day 14 + 60); `850314+1239` names a person born in 1885, so nobody here.
 */
import type { AuditEvent, Bundle, CarePlan, OperationOutcome } from 'fhir/r4.js';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDENTIFIER_SYSTEM } from '../../src/fhir/index.js';
import type { SipPlan } from '../../src/sip/index.js';
import { DRIVERS, freshPlan, startTestServer, type TestServer } from '../support/http-server.js';

const BY_PERSONNUMMER = 'person-search-pnr';
const BY_SAMORDNINGSNUMMER = 'person-search-snr';

/** The adult example recorded for a person with a samordningsnummer instead. */
function coordinationPlan(): SipPlan {
  const plan = freshPlan(BY_SAMORDNINGSNUMMER);
  return { ...plan, individual: { ...plan.individual, identifier: { system: 'samordningsnummer', value: '19850374-1236' } } };
}

/** Every form of the adult example's personnummer that names the same person. */
const PERSONNUMMER_FORMS = ['198503141239', '19850314-1239', '850314-1239', '8503141239', ' 19850314-1239 '];

describe.each(DRIVERS)('searching by a person number on %s', (_name, driver) => {
  let running: TestServer;
  const api = () => request(running.url);
  const auth = () => ({ Authorization: `Bearer ${running.token}` });

  const sipSearch = async (person: string): Promise<string[]> => {
    const answer = await api().get('/sip/plans').query({ person }).set(auth()).expect(200);
    return (answer.body as { plans: { plan: { id: string } }[] }).plans.map((found) => found.plan.id);
  };
  const carePlans = async (value: string): Promise<string[]> => {
    const answer = await api().get('/fhir/CarePlan').query({ 'patient:identifier': value }).set(auth()).expect(200);
    return ((answer.body as Bundle).entry ?? []).flatMap((entry) =>
      (entry.resource as CarePlan).identifier?.filter((identifier) => identifier.system === IDENTIFIER_SYSTEM.sipPlan).map((identifier) => identifier.value ?? '') ?? [],
    );
  };

  beforeAll(async () => {
    running = await startTestServer(driver);
    await api().post('/sip/plans').set(auth()).send(freshPlan(BY_PERSONNUMMER)).expect(201);
    await api().post('/sip/plans').set(auth()).send(coordinationPlan()).expect(201);
  }, 60_000);
  afterAll(async () => {
    await running.close();
  });

  it('GET /sip/plans?person= finds the plan by the personnummer in every form, and the samordningsnummer too', async () => {
    for (const form of PERSONNUMMER_FORMS) expect(await sipSearch(form), form).toEqual([BY_PERSONNUMMER]);
    for (const form of ['19850374-1236', '850374-1236', '198503741236']) expect(await sipSearch(form), form).toEqual([BY_SAMORDNINGSNUMMER]);
  });

  it('GET /sip/plans?person= finds nothing for a person of a hundred (+) or a number that is not valid', async () => {
    expect(await sipSearch('850314+1239')).toEqual([]);
    expect(await sipSearch('19850314-1238')).toEqual([]);
    expect(await sipSearch('not-a-number')).toEqual([]);
  });

  it('GET /fhir/CarePlan?patient:identifier= finds the plan in every form, with and without the personnummer system', async () => {
    for (const form of PERSONNUMMER_FORMS) {
      expect(await carePlans(form), form).toEqual([BY_PERSONNUMMER]);
      expect(await carePlans(`${IDENTIFIER_SYSTEM.personnummer}|${form}`), form).toEqual([BY_PERSONNUMMER]);
      expect(await carePlans(`|${form}`), form).toEqual([BY_PERSONNUMMER]);
    }
    expect(await carePlans(`${IDENTIFIER_SYSTEM.samordningsnummer}|850374-1236`)).toEqual([BY_SAMORDNINGSNUMMER]);
    expect(await carePlans('850374-1236')).toEqual([BY_SAMORDNINGSNUMMER]);
    // The right number under the other system names nobody.
    expect(await carePlans(`http://example.org/reservnummer|19850314-1239`)).toEqual([]);
    expect(await carePlans('19850314-1238')).toEqual([]);
  });

  it('GET /fhir/CarePlan answers 400 naming patient:identifier for a value that is not a number of the system given', async () => {
    const cases: [string, string][] = [
      [`${IDENTIFIER_SYSTEM.personnummer}|19850314-1238`, 'is not a valid personnummer'],
      [`${IDENTIFIER_SYSTEM.personnummer}|850374-1236`, 'is a samordningsnummer, not a personnummer'],
      [`${IDENTIFIER_SYSTEM.samordningsnummer}|19850314-1239`, 'is a personnummer, not a samordningsnummer'],
    ];
    for (const [value, reason] of cases) {
      const answer = await api().get('/fhir/CarePlan').query({ 'patient:identifier': value }).set(auth()).expect(400);
      const outcome = answer.body as OperationOutcome;
      expect(outcome.resourceType).toBe('OperationOutcome');
      expect(outcome.issue[0]?.diagnostics).toContain('patient:identifier');
      expect(outcome.issue[0]?.diagnostics).toContain(reason);
    }
  });

  it('GET /fhir/AuditEvent?patient:identifier= finds the reads of the person in every form; 400 for an invalid personnummer', async () => {
    await api().get(`/sip/plans/${BY_PERSONNUMMER}`).set(auth()).expect(200);
    // Every search is audited too, so the entries are told apart by what was asked: the one read.
    const reads = async (value: string): Promise<number> => {
      const answer = await api().get('/fhir/AuditEvent').query({ 'patient:identifier': value }).set(auth()).expect(200);
      const events = ((answer.body as Bundle).entry ?? []).map((entry) => entry.resource as AuditEvent);
      return events.filter((event) => event.entity?.at(-1)?.description === `GET /sip/plans/${BY_PERSONNUMMER}`).length;
    };
    expect(await reads('198503141239')).toBe(1);
    for (const form of PERSONNUMMER_FORMS) expect(await reads(form), form).toBe(1);
    expect(await reads(`${IDENTIFIER_SYSTEM.personnummer}|850314-1239`)).toBe(1);
    expect(await reads('19850374-1236')).toBe(0);
    const refused = await api().get('/fhir/AuditEvent').query({ 'patient:identifier': `${IDENTIFIER_SYSTEM.personnummer}|850314-1238` }).set(auth()).expect(400);
    expect((refused.body as OperationOutcome).issue[0]?.diagnostics).toContain('patient:identifier');
  });
});
