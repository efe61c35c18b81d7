/**
 * Meetings, summonses, answers and consents on the SIP JSON API, end to end over loopback HTTP on
 * PGlite and on PostgreSQL. Each change is recorded as the next version of the plan; a rule it breaks
 * answers 422 naming the rule and its JSON pointer, and stores nothing; warnings travel in the answer.
 *
 * The plan is the adult example (consent 2026-02-12 – 2027-02-11, meeting-1 held on 2026-03-05; the
 * person excludes the health centre `unit-vc-britsarvet`), and the server's clock stands at
 * 2026-04-01T10:00:00+02:00 (NOW).
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS, NOW, freshPlan, startTestServer, type TestServer } from '../support/http-server.js';

interface Invitee {
  party: string;
  required: boolean;
  response: string;
  respondedAt?: string;
  substitute?: string;
}
interface Answer {
  version: number;
  plan: {
    meetings: { id: string; kind: string; status: string; summons?: { sentAt: string; invitees: Invitee[] }; meetingLeader?: string }[];
    consents: { id: string; planId: string }[];
  };
  warnings?: { code: string; severity: string; pointer: string }[];
  problems?: { code: string; severity: string; pointer: string }[];
}

const ID = 'sip-meetings-test';

/** A summons to the follow-up meeting two weeks on, as the coordinator sends it. */
const summons = {
  sentBy: 'prof-anna-lind',
  start: '2026-04-15T13:00:00+02:00',
  end: '2026-04-15T14:30:00+02:00',
  location: 'Psykiatrisk öppenvård Falun, samtalsrum 3',
  agenda: 'Uppföljning av målen och insatserna.',
  invitees: [{ party: 'individual' }, { party: 'prof-anna-lind' }, { party: 'prof-erik-berg' }, { party: 'prof-lars-nyman' }],
  contact: { name: 'Anna Lind', phone: '023-49 01 23' },
};

describe.each(DRIVERS)('meetings and consents on the SIP API on %s', (_name, driver) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(driver);
    await request(server.url).post('/sip/plans').set('Authorization', `Bearer ${server.token}`).send(freshPlan(ID)).expect(201);
  }, 60_000);
  afterAll(async () => {
    await server.close();
  });

  const api = () => request(server.url);
  const auth = () => ({ Authorization: `Bearer ${server.token}` });
  const plan = `/sip/plans/${ID}`;

  it('adds a planned meeting as version 2', async () => {
    const response = await api().post(`${plan}/meetings`).set(auth()).send({ id: 'meeting-2', kind: 'followUp', meetingLeader: 'prof-anna-lind' }).expect(201);
    expect(response.headers.etag).toBe('W/"2"');
    const answer = response.body as Answer;
    expect(answer.version).toBe(2);
    expect(answer.plan.meetings.map((meeting) => [meeting.id, meeting.status])).toEqual([
      ['meeting-1', 'held'],
      ['meeting-2', 'planned'],
    ]);
  });

  it('refuses a meeting whose id is taken (plan.duplicate-id) and one with a status of its own (the body is checked)', async () => {
    const taken = await api().post(`${plan}/meetings`).set(auth()).send({ id: 'meeting-1', kind: 'followUp' }).expect(422);
    expect(taken.headers['content-type']).toContain('application/problem+json');
    expect((taken.body as Answer).problems).toContainEqual(expect.objectContaining({ code: 'plan.duplicate-id', pointer: '/meetings/2/id' }));
    const status = await api().post(`${plan}/meetings`).set(auth()).send({ id: 'meeting-3', kind: 'followUp', status: 'held' }).expect(422);
    expect((status.body as Answer).problems).toContainEqual(expect.objectContaining({ code: 'request.invalid' }));
    await api().get(plan).set(auth()).expect(200).expect('ETag', 'W/"2"');
  });

  it('refuses to record a meeting as held before its summons (meeting.summons-missing)', async () => {
    const response = await api().put(`${plan}/meetings/meeting-2/status`).set(auth()).send({ status: 'held' }).expect(422);
    expect((response.body as Answer).problems).toEqual([expect.objectContaining({ code: 'meeting.summons-missing', pointer: '/meetings/1' })]);
  });

  it("refuses a summons to a unit the consent excludes, and one without the convener's contact details, naming rule and pointer", async () => {
    const excluded = await api()
      .post(`${plan}/meetings/meeting-2/summons`)
      .set(auth())
      .send({ ...summons, invitees: [...summons.invitees, { party: 'unit-vc-britsarvet' }] })
      .expect(422);
    expect((excluded.body as Answer).problems).toEqual([
      expect.objectContaining({ code: 'summons.invitee-excluded', severity: 'error', pointer: '/meetings/1/summons/invitees/4/party' }),
    ]);
    const { contact: _contact, ...withoutContact } = summons;
    const incomplete = await api().post(`${plan}/meetings/meeting-2/summons`).set(auth()).send(withoutContact).expect(422);
    expect((incomplete.body as Answer).problems).toEqual([expect.objectContaining({ code: 'summons.incomplete', pointer: '/meetings/1/summons' })]);
    await api().get(plan).set(auth()).expect(200).expect('ETag', 'W/"2"');
  });

  it('sends the summons: the meeting is summoned, sent now, nobody has answered; a stale If-Match is 412', async () => {
    await api().post(`${plan}/meetings/meeting-2/summons`).set(auth()).set('If-Match', 'W/"1"').send(summons).expect(412).expect('ETag', 'W/"2"');
    const response = await api().post(`${plan}/meetings/meeting-2/summons`).set(auth()).set('If-Match', 'W/"2"').send(summons).expect(201);
    const answer = response.body as Answer;
    expect(answer.version).toBe(3);
    const meeting = answer.plan.meetings[1];
    expect(meeting?.status).toBe('summoned');
    expect(meeting?.summons?.sentAt).toBe(NOW.toISOString());
    expect(meeting?.summons?.invitees).toEqual([
      { party: 'individual', required: true, response: 'noResponse' },
      { party: 'prof-anna-lind', required: true, response: 'noResponse' },
      { party: 'prof-erik-berg', required: true, response: 'noResponse' },
      { party: 'prof-lars-nyman', required: true, response: 'noResponse' },
    ]);
  });

  it("records a principal's decline without a substitute, with the warning that one should be named", async () => {
    const response = await api().put(`${plan}/meetings/meeting-2/invitees/prof-erik-berg/response`).set(auth()).send({ response: 'declined' }).expect(200);
    const answer = response.body as Answer;
    expect(answer.version).toBe(4);
    expect(answer.plan.meetings[1]?.summons?.invitees[2]).toEqual({ party: 'prof-erik-berg', required: true, response: 'declined', respondedAt: NOW.toISOString() });
    expect(answer.warnings).toEqual([expect.objectContaining({ code: 'summons.declined-without-substitute', severity: 'warning', pointer: '/meetings/1/summons/invitees/2' })]);
  });

  it('refuses an answer given before the summons was sent (summons.answer-out-of-time)', async () => {
    const response = await api()
      .put(`${plan}/meetings/meeting-2/invitees/prof-erik-berg/response`)
      .set(auth())
      .send({ response: 'declined', substitute: 'prof-sara-holm', respondedAt: '2026-03-31T16:00:00+02:00' })
      .expect(422);
    expect((response.body as Answer).problems).toEqual([expect.objectContaining({ code: 'summons.answer-out-of-time', pointer: '/meetings/1/summons/invitees/2/respondedAt' })]);
  });

  it('records the substitute and the warning is gone; the time of the answer is kept as written', async () => {
    const response = await api()
      .put(`${plan}/meetings/meeting-2/invitees/prof-erik-berg/response`)
      .set(auth())
      .send({ response: 'declined', substitute: 'prof-sara-holm', respondedAt: '2026-04-01T08:00:00Z' })
      .expect(200);
    const answer = response.body as Answer;
    expect(answer.plan.meetings[1]?.summons?.invitees[2]).toEqual({ party: 'prof-erik-berg', required: true, response: 'declined', respondedAt: '2026-04-01T08:00:00Z', substitute: 'prof-sara-holm' });
    expect(answer.warnings ?? []).toEqual([]);
  });

  it('refuses a substitute for an invitee who comes, an answer from someone not invited, and a substitute the consent excludes', async () => {
    const accepted = await api().put(`${plan}/meetings/meeting-2/invitees/prof-lars-nyman/response`).set(auth()).send({ response: 'accepted', substitute: 'prof-sara-holm' }).expect(422);
    expect((accepted.body as Answer).problems).toEqual([expect.objectContaining({ code: 'request.invalid', pointer: '/substitute' })]);
    const stranger = await api().put(`${plan}/meetings/meeting-2/invitees/prof-karin-ahl/response`).set(auth()).send({ response: 'accepted' }).expect(422);
    expect((stranger.body as Answer).problems).toEqual([expect.objectContaining({ code: 'plan.unresolved-reference', pointer: '/meetings/1/summons/invitees' })]);
    const excluded = await api().put(`${plan}/meetings/meeting-2/invitees/prof-lars-nyman/response`).set(auth()).send({ response: 'declined', substitute: 'unit-vc-britsarvet' }).expect(422);
    expect((excluded.body as Answer).problems).toEqual([expect.objectContaining({ code: 'summons.invitee-excluded', pointer: '/meetings/1/summons/invitees/3/substitute' })]);
    await api().get(plan).set(auth()).expect(200).expect('ETag', 'W/"5"');
  });

  it('refuses to record the meeting as held before it starts, cancels it, and then refuses any change of its status', async () => {
    const early = await api().put(`${plan}/meetings/meeting-2/status`).set(auth()).send({ status: 'held' }).expect(422);
    expect((early.body as Answer).problems).toEqual([expect.objectContaining({ code: 'meeting.held-before-start', pointer: '/meetings/1/status' })]);
    const cancelled = await api().put(`${plan}/meetings/meeting-2/status`).set(auth()).send({ status: 'cancelled', notes: 'Jonas är sjuk; nytt möte bokas.' }).expect(200);
    expect((cancelled.body as Answer).plan.meetings[1]).toMatchObject({ status: 'cancelled', notes: 'Jonas är sjuk; nytt möte bokas.' });
    const again = await api().post(`${plan}/meetings/meeting-2/summons`).set(auth()).send(summons).expect(422);
    expect((again.body as Answer).problems).toEqual([expect.objectContaining({ code: 'meeting.status-change', pointer: '/meetings/1/status' })]);
    await api().put(`${plan}/meetings/no-such-meeting/status`).set(auth()).send({ status: 'cancelled' }).expect(422);
  });

  it('records a new consent for this plan, and refuses one longer than a year (consent.period-too-long)', async () => {
    const consent = { id: 'consent-2', givers: ['individual'], form: 'written', givenAt: '2026-04-01', validUntil: '2027-03-31', coveredActors: ['region-dalarna', 'falu-kommun'] };
    const tooLong = await api().post(`${plan}/consents`).set(auth()).send({ ...consent, validUntil: '2027-06-30' }).expect(422);
    expect((tooLong.body as Answer).problems).toContainEqual(expect.objectContaining({ code: 'consent.period-too-long', pointer: '/consents/1/validUntil' }));
    const response = await api().post(`${plan}/consents`).set(auth()).send(consent).expect(201);
    const answer = response.body as Answer;
    expect(answer.version).toBe(7);
    expect(answer.plan.consents.map((recorded) => [recorded.id, recorded.planId])).toEqual([
      ['consent-1', ID],
      ['consent-2', ID],
    ]);
    const history = await api().get(`${plan}/_history`).set(auth()).expect(200);
    expect((history.body as { versions: { version: number }[] }).versions.map((version) => version.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});
