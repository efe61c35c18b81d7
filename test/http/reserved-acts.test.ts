/**
 * Acts that belong to a principal (src/http/reserved-acts.ts): approving a principal's part, recording
 * a consent, closing the plan. First the decision alone, for callers admitted by the real `mayAccess`
 * on the examples; then over HTTP on the real server, where an other actor covered by the consent
 * (Arbetsförmedlingen in the Umeå example, which no exclusion narrows) and a principal approving for
 * the other principal are refused with a 403 that is in the audit log, nothing is recorded, and what
 * they may do (a withdrawal, an edit that leaves the consents as they are) is still taken.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planToBundle } from '../../src/fhir/index.js';
import { issueLocalToken, mayAccess } from '../../src/http/auth/index.js';
import { changedAnswers, reservedActRefusal, type Admission, type ReservedAct } from '../../src/http/reserved-acts.js';
import type { RunningServer } from '../../src/http/server.js';
import type { SipPlan } from '../../src/sip/index.js';
import { readExample } from '../support/examples.js';
import { startTestServer, type TestServer } from '../support/http-server.js';

/** While the consents of the adult, Stockholm and Umeå examples are in force. */
const NOW = new Date('2026-04-01T10:00:00+02:00');

/** The admission `mayAccess` gives the organisation with this HSA-id (it must be let in). */
function admissionOf(plan: SipPlan, hsaId: string): Admission {
  const decision = mayAccess(plan, hsaId, NOW);
  if (!decision.allowed) throw new Error(`${hsaId} is not let in: ${decision.message}`);
  return decision;
}

describe('which admitted caller may record which act', () => {
  const adult = readExample('adult-psychiatry-addiction.json');
  const stockholm = readExample('awaiting-decision.json');
  const approve = (principal: string): ReservedAct => ({ kind: 'approve', principal });

  it('names the principals a caller acts for: a principal itself, a unit its principal, an other actor none', () => {
    expect(admissionOf(adult, 'SE2321000180-1000').principals).toEqual(['region-dalarna']);
    expect(admissionOf(adult, 'SE2321000180-4PSY').principals).toEqual(['region-dalarna']);
    expect(admissionOf(adult, 'SE2021005521-FK01').principals).toEqual([]);
    // Stockholms stad is recorded by organisationsnummer alone: a caller with an HSA-id issued under it acts for it.
    expect(admissionOf(stockholm, 'SE2120000142-S001').principals).toEqual(['stockholms-stad']);
  });

  it('lets a principal, and a unit of it, approve that principal’s part', () => {
    expect(reservedActRefusal(adult, admissionOf(adult, 'SE2321000180-1000'), approve('region-dalarna'))).toBeUndefined();
    expect(reservedActRefusal(adult, admissionOf(adult, 'SE2321000180-4PSY'), approve('region-dalarna'))).toBeUndefined();
    expect(reservedActRefusal(stockholm, admissionOf(stockholm, 'SE2120000142-S001'), approve('stockholms-stad'))).toBeUndefined();
  });

  it('refuses a principal approving the other principal’s part when that principal has callers of its own', () => {
    expect(reservedActRefusal(stockholm, admissionOf(stockholm, 'SE2321000016-1000'), approve('stockholms-stad'))).toContain('approved by that principal');
    expect(reservedActRefusal(stockholm, admissionOf(stockholm, 'SE2120000142-S001'), approve('region-stockholm'))).toContain('approved by that principal');
  });

  it('lets the other principal record the approval of a principal recorded by name alone, which no caller can act for', () => {
    // Falu kommun carries no HSA-id or organisationsnummer, nor do its units.
    expect(reservedActRefusal(adult, admissionOf(adult, 'SE2321000180-1000'), approve('falu-kommun'))).toBeUndefined();
  });

  it('refuses an other actor every reserved act, the approval of a principal recorded by name alone included', () => {
    const fk = admissionOf(adult, 'SE2021005521-FK01');
    for (const act of [approve('region-dalarna'), approve('falu-kommun'), { kind: 'recordConsent' }, { kind: 'close' }, { kind: 'replaceConsents' }, { kind: 'create' }] as const) {
      expect(reservedActRefusal(adult, fk, act)).toBeDefined();
    }
  });

  it('lets a principal record a plan or a consent, close the plan and change its consents', () => {
    const region = admissionOf(adult, 'SE2321000180-1000');
    for (const act of [{ kind: 'recordConsent' }, { kind: 'close' }, { kind: 'replaceConsents' }, { kind: 'create' }] as const) expect(reservedActRefusal(adult, region, act)).toBeUndefined();
  });

  it('lets an other actor record its own answer to a summons and its professionals’, and a principal any invitee’s', () => {
    const fk = admissionOf(adult, 'SE2021005521-FK01');
    const answer = (party: string): ReservedAct => ({ kind: 'answer', party });
    // prof-karin-ahl acts for Försäkringskassan (fk); prof-anna-lind for a unit of Region Dalarna.
    expect(adult.professionals.find((professional) => professional.id === 'prof-karin-ahl')?.organization).toBe('fk');
    expect(reservedActRefusal(adult, fk, answer('prof-karin-ahl'))).toBeUndefined();
    expect(reservedActRefusal(adult, fk, answer('fk'))).toBeUndefined();
    expect(reservedActRefusal(adult, fk, answer('prof-anna-lind'))).toContain('records its own answer');
    expect(reservedActRefusal(adult, fk, answer('individual'))).toContain('records its own answer');
    const region = admissionOf(adult, 'SE2321000180-1000');
    for (const party of ['prof-karin-ahl', 'prof-anna-lind', 'individual']) expect(reservedActRefusal(adult, region, answer(party))).toBeUndefined();
  });

  it('finds the invitees whose answers a whole-plan write changes, and none when it changes nothing else', () => {
    expect(changedAnswers(adult, adult)).toEqual([]);
    const meetings = adult.meetings.map((meeting) => ({
      ...meeting,
      ...(meeting.summons === undefined
        ? {}
        : { summons: { ...meeting.summons, invitees: meeting.summons.invitees.map((invitee) => (invitee.party === 'prof-anna-lind' ? { ...invitee, response: 'declined' as const } : invitee)) } }),
    }));
    expect(changedAnswers(adult, { ...adult, meetings })).toEqual(['prof-anna-lind']);
    expect(changedAnswers(adult, { ...adult, notes: 'Ny anteckning.' })).toEqual([]);
  });

  it('refuses nothing to a caller judged without an organisation (authentication disabled)', () => {
    expect(reservedActRefusal(adult, { allowed: true }, approve('region-dalarna'))).toBeUndefined();
    expect(reservedActRefusal(adult, { allowed: true }, { kind: 'recordConsent' })).toBeUndefined();
  });
});

describe('reserved acts over HTTP', () => {
  const PLAN = 'sip-umea-2025-0318';
  /** Region Västerbotten, a principal. */
  const REGION = 'SE2321000222-1000';
  /** Umeå kommun, a principal recorded by organisationsnummer 212000-2627: an HSA-id issued under it. */
  const KOMMUN = 'SE2120002627-U001';
  /** Arbetsförmedlingen, an other actor the consent covers (organisationsnummer 202100-2114). */
  const AF = 'SE2021002114-AF01';

  let test: TestServer;
  let server: RunningServer;
  const tokens = new Map<string, string>();
  const api = () => request(server.url);
  const as = (hsaId: string) => ({ Authorization: `Bearer ${tokens.get(hsaId) ?? ''}` });
  const version = async (): Promise<number | undefined> => (await server.store.get(PLAN))?.version;

  beforeAll(async () => {
    test = await startTestServer('pglite', { settings: { loadExamples: true } });
    server = test.server;
    if (server.authenticator.mode !== 'local') throw new Error('the test server signs its own tokens');
    for (const hsaId of [REGION, KOMMUN, AF]) tokens.set(hsaId, await issueLocalToken({ org: hsaId, scopes: 'system/*.*', ttlSeconds: 3600 }, server.authenticator.localKey, NOW));
  }, 120_000);

  afterAll(() => test.close());

  /** The refusals of this organisation in the audit log, as `what` and `detail`. */
  const refusalsOf = async (hsaId: string) =>
    (await server.store.auditLog({ organization: hsaId })).filter((entry) => entry.outcome === 'refused').map((entry) => [entry.what, entry.detail]);

  it('refuses the other actor a consent, an approval and a closure with 403, audited, and records nothing', async () => {
    const before = await version();
    const consent = { id: 'consent-af', givers: ['individual'], form: 'oral', givenAt: '2026-04-01', validUntil: '2027-03-31', coveredActors: ['region-vasterbotten', 'umea-kommun', 'af'] };
    const refusedConsent = await api().post(`/sip/plans/${PLAN}/consents`).set(as(AF)).send(consent).expect(403);
    expect(refusedConsent.text).toContain('may not record a consent in plan');
    await api().post(`/sip/plans/${PLAN}/approvals`).set(as(AF)).send({ principal: 'region-vasterbotten', approvedBy: 'prof-olof-hedstrom' }).expect(403);
    await api().post(`/sip/plans/${PLAN}/closure`).set(as(AF)).send({ reason: 'goalsMet', closedBy: 'prof-olof-hedstrom', informed: ['individual'] }).expect(403);
    expect(await version()).toBe(before);
    expect(await refusalsOf(AF)).toEqual(
      expect.arrayContaining([
        [`POST /sip/plans/${PLAN}/consents`, '403'],
        [`POST /sip/plans/${PLAN}/approvals`, '403'],
        [`POST /sip/plans/${PLAN}/closure`, '403'],
      ]),
    );
  });

  it('refuses the other actor a whole-plan write that changes the consents, on /sip and POST /fhir, and takes one that leaves them', async () => {
    const answer = await api().get(`/sip/plans/${PLAN}`).set(as(AF)).expect(200);
    const read = { plan: (answer.body as { plan: SipPlan }).plan, etag: String(answer.headers.etag) };
    const widened: SipPlan = { ...read.plan, consents: read.plan.consents.map((consent) => ({ ...consent, form: 'oral' as const, documentedBy: 'prof-jonas-lindberg' })) };
    const refused = await api().put(`/sip/plans/${PLAN}`).set(as(AF)).set('If-Match', read.etag).send(widened).expect(403);
    expect(refused.text).toContain('may not change the consents of plan');
    const transaction = await api().post('/fhir').set(as(AF)).set('Content-Type', 'application/fhir+json').send(JSON.stringify(planToBundle(widened)));
    expect(transaction.status, transaction.text).toBe(403);
    expect((await server.store.get(PLAN))?.plan.consents[0]?.form).toBe('written');

    const before = await version();
    const noted: SipPlan = { ...read.plan, notes: 'Arbetsförmedlingen har bokat in ett nytt trepartssamtal.' };
    await api().put(`/sip/plans/${PLAN}`).set(as(AF)).set('If-Match', read.etag).send(noted).expect(200);
    expect(await version()).toBe((before ?? 0) + 1);
    // Through FHIR, the consents read back from the Bundle are the ones stored: an edit elsewhere is taken.
    const fhirEdit = await api()
      .post('/fhir')
      .set(as(AF))
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify(planToBundle({ ...noted, notes: 'Trepartssamtalet är flyttat till maj.' })));
    expect(fhirEdit.status, fhirEdit.text).toBe(200);
    expect(await version()).toBe((before ?? 0) + 2);
  });

  it('refuses the other actor a new plan, on /sip and POST /fhir, audited', async () => {
    const base = readExample('follow-up-revised-goals.json');
    const fresh = (id: string): SipPlan => ({ ...base, id, version: 1, approvals: [], consents: base.consents.map((consent) => ({ ...consent, planId: id })) });
    const refused = await api().post('/sip/plans').set(as(AF)).send(fresh('sip-af-new-1')).expect(403);
    expect((refused.body as { detail: string }).detail).toContain('may not record plan "sip-af-new-1"');
    const transaction = await api().post('/fhir').set(as(AF)).set('Content-Type', 'application/fhir+json').send(JSON.stringify(planToBundle(fresh('sip-af-new-2'))));
    expect(transaction.status, transaction.text).toBe(403);
    expect(await server.store.get('sip-af-new-1')).toBeUndefined();
    expect(await server.store.get('sip-af-new-2')).toBeUndefined();
    expect(await refusalsOf(AF)).toEqual(expect.arrayContaining([['POST /sip/plans', '403'], ['POST /fhir', '403']]));
  });

  it('refuses a principal approving the other principal’s part, and takes each principal’s own approval', async () => {
    await api().post(`/sip/plans/${PLAN}/approvals`).set(as(REGION)).send({ principal: 'umea-kommun', approvedBy: 'prof-olof-hedstrom' }).expect(403);
    expect(await refusalsOf(REGION)).toContainEqual([`POST /sip/plans/${PLAN}/approvals`, '403']);
    const before = await version();
    await api().post(`/sip/plans/${PLAN}/approvals`).set(as(REGION)).send({ principal: 'region-vasterbotten', approvedBy: 'prof-olof-hedstrom' }).expect(201);
    await api().post(`/sip/plans/${PLAN}/approvals`).set(as(KOMMUN)).send({ principal: 'umea-kommun', approvedBy: 'prof-erik-nordin' }).expect(201);
    expect(await version()).toBe((before ?? 0) + 2);
  });

  it('lets the other actor answer a summons for its own professional only; a principal records any invitee’s answer', async () => {
    const summons = {
      sentBy: 'prof-maria-forsberg',
      start: '2026-04-20T13:00:00+02:00',
      end: '2026-04-20T14:00:00+02:00',
      location: 'Psykiatriska öppenvårdsmottagningen Umeå',
      agenda: 'Uppföljning av arbetsträningen.',
      invitees: [{ party: 'individual' }, { party: 'prof-maria-forsberg' }, { party: 'prof-jonas-lindberg' }],
      contact: { name: 'Maria Forsberg', phone: '090-785 12 04' },
    };
    await api().post(`/sip/plans/${PLAN}/meetings`).set(as(REGION)).send({ id: 'meeting-3', kind: 'followUp', meetingLeader: 'prof-maria-forsberg' }).expect(201);
    await api().post(`/sip/plans/${PLAN}/meetings/meeting-3/summons`).set(as(REGION)).send(summons).expect(201);
    const invitee = (party: string) => `/sip/plans/${PLAN}/meetings/meeting-3/invitees/${party}/response`;
    const before = await version();
    const refused = await api().put(invitee('prof-maria-forsberg')).set(as(AF)).send({ response: 'declined' }).expect(403);
    expect((refused.body as { detail: string }).detail).toContain('not that of invitee "prof-maria-forsberg"');
    await api().put(invitee('individual')).set(as(AF)).send({ response: 'accepted' }).expect(403);
    expect(await version()).toBe(before);
    expect(await refusalsOf(AF)).toContainEqual([`PUT ${invitee('prof-maria-forsberg')}`, '403']);

    // Its own professional's answer, then the principal's record of what the others said.
    await api().put(invitee('prof-jonas-lindberg')).set(as(AF)).send({ response: 'accepted' }).expect(200);
    await api().put(invitee('individual')).set(as(REGION)).send({ response: 'accepted' }).expect(200);
    await api().put(invitee('prof-jonas-lindberg')).set(as(KOMMUN)).send({ response: 'tentative' }).expect(200);

    // Nor through a whole-plan write.
    const answer = await api().get(`/sip/plans/${PLAN}`).set(as(AF)).expect(200);
    const read = (answer.body as { plan: SipPlan }).plan;
    const meetings = read.meetings.map((meeting) =>
      meeting.id !== 'meeting-3' || meeting.summons === undefined
        ? meeting
        : { ...meeting, summons: { ...meeting.summons, invitees: meeting.summons.invitees.map((entry) => (entry.party === 'prof-maria-forsberg' ? { ...entry, response: 'accepted' as const } : entry)) } },
    );
    const whole = await api().put(`/sip/plans/${PLAN}`).set(as(AF)).set('If-Match', String(answer.headers.etag)).send({ ...read, meetings }).expect(403);
    expect(whole.text).toContain('record this answer to a summons in plan');
    const stored = (await server.store.get(PLAN))?.plan.meetings.find((meeting) => meeting.id === 'meeting-3')?.summons?.invitees;
    expect(stored?.map((entry) => [entry.party, entry.response])).toEqual([
      ['individual', 'accepted'],
      ['prof-maria-forsberg', 'noResponse'],
      ['prof-jonas-lindberg', 'tentative'],
    ]);
  });

  it('takes the other actor’s record of a withdrawal: the person may withdraw at any time, to anyone', async () => {
    const withdrawn = await api().post(`/sip/plans/${PLAN}/consents/consent-1/withdrawal`).set(as(AF)).send({ withdrawnBy: 'individual', recordedBy: 'prof-jonas-lindberg' });
    expect(withdrawn.status).toBe(201);
    expect((await server.store.get(PLAN))?.plan.consents[0]?.withdrawal).toBeDefined();
  });
});
