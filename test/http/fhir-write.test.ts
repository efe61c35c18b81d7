/**
 * The write side of the FHIR facade end to end, on the real server on a loopback port, on the
 * embedded store (PGlite) and on the machine's PostgreSQL, with a fixed clock: `POST /fhir` with a
 * transaction Bundle (created, replayed, replayed ten times at once, edited, edits racing, another
 * client's shape), the refusals (400, 403, 405, 412, 415, 422) as OperationOutcome, `$validate`, the
 * CapabilityStatement, and the audit log.
 *
 * The expected ids come from the README ("Stable ids"): a resource's id on the facade is the UUID of
 * the `urn:uuid` fullUrl `to-fhir` gives it, so a Bundle written by `planToBundle` names the ids the
 * answer must carry, entry by entry.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, CapabilityStatement, FhirResource, OperationOutcome } from 'fhir/r4.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PROFILE, planToBundle } from '../../src/fhir/index.js';
import { issueLocalToken } from '../../src/http/auth/index.js';
import { parsePlanText, type SipPlan } from '../../src/sip/index.js';
import { readFileSync } from 'node:fs';
import { DRIVERS, NOW, REGION, freshPlan, startTestServer, type TestServer } from '../support/http-server.js';
import { readExample } from '../support/examples.js';

const RACERS = 10;
/** An organisation that is no party to the adult example's plan. */
const STRANGER = 'SE2321000180-9999';

/** The plan as `to-fhir` sends it now: a transaction Bundle stamped NOW, while its consent is in force. */
const bundleOf = (plan: SipPlan): Bundle => planToBundle(plan, undefined, NOW);

/** `Type/uuid` of each entry of a Bundle `planToBundle` wrote: what the facade must answer for it. */
const idsOf = (bundle: Bundle): string[] => (bundle.entry ?? []).map((entry) => `${entry.resource?.resourceType ?? ''}/${entry.fullUrl?.slice('urn:uuid:'.length) ?? ''}`);

interface Answer<T> {
  status: number;
  headers: Headers;
  body: T;
}

describe.each(DRIVERS)('the FHIR facade (write) on %s', (_name, driver) => {
  let test: TestServer;

  beforeAll(async () => {
    test = await startTestServer(driver);
  }, 60_000);

  afterAll(async () => {
    await test.close();
  });

  const bearer = (organization: string, scope: string): Promise<string> => {
    if (test.server.authenticator.mode !== 'local') throw new Error('the test server signs its own tokens');
    return issueLocalToken({ org: organization, scopes: scope, ttlSeconds: 3600 }, test.server.authenticator.localKey, NOW);
  };

  async function call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer<T>> {
    const response = await fetch(`${test.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${test.token}`, 'Content-Type': 'application/fhir+json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text === '' ? undefined : JSON.parse(text)) as T };
  }

  const post = (bundle: unknown, headers: Record<string, string> = {}) => call<Bundle>('POST', '/fhir', bundle, headers);
  const outcome = (answer: Answer<unknown>): OperationOutcome => answer.body as OperationOutcome;
  const statuses = (bundle: Bundle): string[] => (bundle.entry ?? []).map((entry) => entry.response?.status ?? '');
  const locations = (bundle: Bundle): string[] => (bundle.entry ?? []).map((entry) => entry.response?.location ?? '');
  const versions = async (planId: string): Promise<number[]> => (await test.server.store.history(planId)).map((stored) => stored.version);

  it('records a new plan from the Bundle to-fhir writes: a transaction-response with 201, the stable ids at version 1 and ETags, in the request order', async () => {
    const plan = freshPlan('sip-fhir-write-new');
    const bundle = bundleOf(plan);
    const answer = await post(bundle);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('application/fhir+json');
    expect(answer.body).toMatchObject({ resourceType: 'Bundle', type: 'transaction-response' });
    expect(answer.body.entry).toHaveLength(bundle.entry?.length ?? -1);
    expect(locations(answer.body)).toEqual(idsOf(bundle).map((id) => `${id}/_history/1`));
    expect(statuses(answer.body)).toEqual(idsOf(bundle).map(() => '201 Created'));

    // Stored as version 1 by the caller, the plan's version recorded at the server's clock; what FHIR carries of the plan is what was sent.
    const stored = await test.server.store.get(plan.id);
    expect(stored).toMatchObject({ version: 1, recordedBy: REGION });
    for (const entry of answer.body.entry ?? []) expect(entry.response).toMatchObject({ etag: 'W/"1"', lastModified: stored?.recordedAt });
    expect(stored?.plan.notes).toBe(plan.notes);
    expect(stored?.plan.goals).toEqual(plan.goals);
    expect(stored?.plan.consents).toEqual(plan.consents);
    expect(stored?.plan.updatedAt).toBe(NOW.toISOString());

    // The location reads the resource.
    const carePlanLocation = locations(answer.body)[idsOf(bundle).findIndex((id) => id.startsWith('CarePlan/'))] ?? '';
    const read = await call<FhirResource>('GET', `/fhir/${carePlanLocation.replace(/\/_history\/\d+$/, '')}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('W/"1"');

    await vi.waitFor(async () => {
      const log = await test.server.store.auditLog({ organization: REGION });
      expect(log).toContainEqual(expect.objectContaining({ action: 'create', what: 'POST /fhir', planId: plan.id, personIdentifier: plan.individual.identifier.value, outcome: 'success', detail: '200' }));
    });
  });

  it("carries the plan's warnings in the CarePlan entry's response.outcome, with the rule code, and records the plan", async () => {
    const parsed = parsePlanText(readFileSync('examples/warnings/meeting.roles-not-appointed.json', 'utf8'));
    if (!parsed.ok) throw new Error('the warning example parses');
    const id = 'sip-fhir-write-warning';
    const plan: SipPlan = { ...parsed.plan, id, version: 1, approvals: [], consents: parsed.plan.consents.map((consent) => ({ ...consent, planId: id })) };
    const bundle = bundleOf(plan);
    const answer = await post(bundle);
    expect(answer.status).toBe(200);
    const carePlanAt = idsOf(bundle).findIndex((entry) => entry.startsWith('CarePlan/'));
    const warnings = (answer.body.entry?.[carePlanAt]?.response?.outcome as OperationOutcome | undefined)?.issue ?? [];
    expect(warnings).toContainEqual(expect.objectContaining({ severity: 'warning', details: expect.objectContaining({ coding: [expect.objectContaining({ code: 'meeting.roles-not-appointed' })] }) as unknown }));
    expect((answer.body.entry ?? []).filter((entry) => entry.response?.outcome !== undefined)).toHaveLength(1);
    expect(await versions(id)).toEqual([1]);
  });

  it('replays the same Bundle without recording anything: 200 OK for every entry at the current version', async () => {
    const plan = freshPlan('sip-fhir-write-replay');
    const bundle = bundleOf(plan);
    expect((await post(bundle)).status).toBe(200);
    const again = await post(bundle);
    expect(again.status).toBe(200);
    expect(statuses(again.body)).toEqual(idsOf(bundle).map(() => '200 OK'));
    expect(locations(again.body)).toEqual(idsOf(bundle).map((id) => `${id}/_history/1`));
    expect(await versions(plan.id)).toEqual([1]);
  });

  it('ten concurrent replays of a new plan record exactly one version: one 201 for the CarePlan, nine 200', async () => {
    const plan = freshPlan('sip-fhir-write-race');
    const bundle = bundleOf(plan);
    const answers = await Promise.all(Array.from({ length: RACERS }, () => post(bundle)));
    expect(answers.map((answer) => answer.status)).toEqual(Array<number>(RACERS).fill(200));
    const carePlanAt = idsOf(bundle).findIndex((id) => id.startsWith('CarePlan/'));
    const carePlanStatuses = answers.map((answer) => statuses(answer.body)[carePlanAt]).sort();
    expect(carePlanStatuses).toEqual([...Array<string>(RACERS - 1).fill('200 OK'), '201 Created']);
    for (const answer of answers) expect(locations(answer.body)).toEqual(idsOf(bundle).map((id) => `${id}/_history/1`));
    expect(await versions(plan.id)).toEqual([1]);
  });

  it('records an edit as the next version: 200 for what was there, 201 for a new goal, and a replay of the edit records nothing more', async () => {
    const plan = freshPlan('sip-fhir-write-edit');
    expect((await post(bundleOf(plan))).status).toBe(200);
    const edited: SipPlan = { ...plan, notes: 'Ändrad via FHIR.', goals: [...plan.goals, { ...(plan.goals[0] as SipPlan['goals'][number]), id: 'goal-new', description: 'Ett nytt mål' }] };
    const bundle = bundleOf(edited);
    const answer = await post(bundle);
    expect(answer.status).toBe(200);
    expect(locations(answer.body)).toEqual(idsOf(bundle).map((id) => `${id}/_history/2`));
    const goalAt = (bundle.entry ?? []).findIndex((entry) => entry.resource?.resourceType === 'Goal' && JSON.stringify(entry.resource).includes('goal-new'));
    expect(goalAt).toBeGreaterThan(0);
    expect(statuses(answer.body)).toEqual(idsOf(bundle).map((_, i) => (i === goalAt ? '201 Created' : '200 OK')));
    const stored = await test.server.store.get(plan.id);
    expect(stored).toMatchObject({ version: 2, plan: { notes: 'Ändrad via FHIR.', version: 2 } });
    expect(stored?.plan.goals.map((goal) => goal.id)).toEqual([...plan.goals.map((goal) => goal.id), 'goal-new']);
    expect((await post(bundle)).status).toBe(200);
    expect(await versions(plan.id)).toEqual([1, 2]);
  });

  it('two sets of different edits racing: without ifMatch each is recorded in turn (no gap, no duplicate); with ifMatch on the same version one wins and the rest get 412', async () => {
    const plan = freshPlan('sip-fhir-write-edits');
    expect((await post(bundleOf(plan))).status).toBe(200);
    const edits = Array.from({ length: RACERS }, (_, racer) => bundleOf({ ...plan, notes: `Racer ${String(racer)}` }));
    const answers = await Promise.all(edits.map((bundle) => post(bundle)));
    expect(answers.map((answer) => answer.status)).toEqual(Array<number>(RACERS).fill(200));
    expect(await versions(plan.id)).toEqual(Array.from({ length: RACERS + 1 }, (_, i) => i + 1));
    // Each answer names the version its edit became, and no two the same.
    const carePlanAt = idsOf(edits[0] ?? {} as Bundle).findIndex((id) => id.startsWith('CarePlan/'));
    expect(answers.map((answer) => answer.body.entry?.[carePlanAt]?.response?.etag).sort()).toEqual(Array.from({ length: RACERS }, (_, i) => `W/"${String(i + 2)}"`).sort());

    const withIfMatch = Array.from({ length: RACERS }, (_, racer) => {
      const bundle = bundleOf({ ...plan, notes: `Guarded racer ${String(racer)}` });
      const entry = bundle.entry?.[carePlanAt] as BundleEntry;
      entry.request = { ...(entry.request ?? { method: 'PUT', url: 'CarePlan' }), ifMatch: `W/"${String(RACERS + 1)}"` };
      return bundle;
    });
    const guarded = await Promise.all(withIfMatch.map((bundle) => post(bundle)));
    expect(guarded.map((answer) => answer.status).sort()).toEqual([200, ...Array<number>(RACERS - 1).fill(412)]);
    for (const refused of guarded.filter((answer) => answer.status === 412)) expect(outcome(refused).issue[0]?.code).toBe('conflict');
    expect(await versions(plan.id)).toEqual(Array.from({ length: RACERS + 2 }, (_, i) => i + 1));
  });

  it("takes another client's transaction: urn:uuid fullUrls of its own, and answers with the facade's stable ids in the request's order", async () => {
    const plan = freshPlan('sip-fhir-write-other-client');
    const ours = bundleOf(plan);
    // The same resources under fullUrls the client made up, every reference rewritten to them.
    const renamed = new Map((ours.entry ?? []).map((entry) => [entry.fullUrl ?? '', `urn:uuid:${randomUUID()}`]));
    let text = JSON.stringify(ours);
    for (const [from, to] of renamed) text = text.replaceAll(`"${from}"`, `"${to}"`);
    const theirs = JSON.parse(text) as Bundle;
    expect(theirs.entry?.map((entry) => entry.fullUrl)).not.toEqual(ours.entry?.map((entry) => entry.fullUrl));
    const answer = await post(theirs, { 'Content-Type': 'application/json' });
    expect(answer.status).toBe(200);
    expect(locations(answer.body)).toEqual(idsOf(ours).map((id) => `${id}/_history/1`));
  });

  it("takes a client that refers relatively: RESTful fullUrls, PUT Type/id, references Type/id resolved in the Bundle as FHIR says", async () => {
    const plan = freshPlan('sip-fhir-write-relative');
    const ours = bundleOf(plan);
    const base = 'http://ehr.region.example/fhir';
    const typeOf = new Map((ours.entry ?? []).map((entry) => [entry.fullUrl ?? '', entry.resource?.resourceType ?? '']));
    let text = JSON.stringify(ours);
    for (const [fullUrl, type] of typeOf) text = text.replaceAll(`"reference":"${fullUrl}"`, `"reference":"${type}/${fullUrl.slice('urn:uuid:'.length)}"`);
    const theirs = JSON.parse(text) as Bundle;
    theirs.entry = (theirs.entry ?? []).map((entry) => {
      const id = entry.fullUrl?.slice('urn:uuid:'.length) ?? '';
      const type = entry.resource?.resourceType ?? '';
      return { fullUrl: `${base}/${type}/${id}`, resource: { ...(entry.resource as FhirResource), id }, request: { method: 'PUT', url: `${type}/${id}` } };
    });
    expect(JSON.stringify(theirs)).not.toContain('urn:uuid:');
    const answer = await post(theirs);
    expect(answer.status).toBe(200);
    expect(locations(answer.body)).toEqual(idsOf(ours).map((id) => `${id}/_history/1`));
  });

  it('refuses an EHR transaction that breaks the SIP Bundle profile with 422 naming each rule and where: entries without fullUrl, a plan whose principals the profile cannot tell', async () => {
    const ehr = JSON.parse(readFileSync('test/fixtures/fhir/ehr-transaction-relative-refs.json', 'utf8')) as Bundle;
    const answer = await post(ehr);
    expect(answer.status).toBe(422);
    const found = outcome(answer).issue.filter((issue) => issue.severity === 'error').map((issue) => `${issue.details?.coding?.[0]?.code ?? ''} ${issue.expression?.[0] ?? ''}`);
    // Entries 3, 7, 8, 10 and 11 of the fixture have no fullUrl, which the SIP Bundle requires; its
    // municipality carries no organisation type (the reader knows it by its kommunkod, the profile
    // does not), so the profile finds no municipality responsible for an intervention or as author.
    expect(found).toEqual(expect.arrayContaining(['min-cardinality Bundle.entry[3].fullUrl', 'min-cardinality Bundle.entry[11].fullUrl', 'sip-bdl-3 Bundle', 'sip-bdl-5 Bundle']));
    expect(await test.server.store.get('sip-sandviken-2026-0031')).toBeUndefined();
  });

  it('keeps what FHIR withholds of a person with protected identity when an edit comes through FHIR: the meeting place stays the stored one', async () => {
    const open = freshPlan('sip-fhir-write-protected');
    const { contact: _contact, ...individual } = open.individual;
    const plan: SipPlan = { ...open, individual: { ...individual, protectedIdentity: 'protectedRegistration' } };
    const created = await call('POST', '/sip/plans', plan, { 'Content-Type': 'application/json' });
    expect(created.status).toBe(201);
    const answer = await post(bundleOf({ ...plan, notes: 'Ändrad via FHIR.' }));
    expect(answer.status).toBe(200);
    const stored = await test.server.store.get(plan.id);
    expect(stored).toMatchObject({ version: 2, plan: { notes: 'Ändrad via FHIR.' } });
    expect(stored?.plan.meetings[0]?.summons?.location).toBe('Psykiatrisk öppenvård Falun, samtalsrum 3');
  });

  it('refuses a closure, an ifMatch on a plan the adapter does not hold, and an approval of an earlier version in a new plan; nothing is recorded', async () => {
    const plan = freshPlan('sip-fhir-write-closure');
    expect((await post(bundleOf(plan))).status).toBe(200);
    const closing = await post(bundleOf({ ...plan, closure: { reason: 'goalsMet', closedAt: NOW.toISOString(), closedBy: 'prof-erik-berg', informed: [] } }));
    expect(closing.status).toBe(422);
    expect(outcome(closing).issue[0]?.diagnostics).toContain(`/sip/plans/${plan.id}/closure`);
    expect(await versions(plan.id)).toEqual([1]);

    const unknown = bundleOf(freshPlan('sip-fhir-write-unheld'));
    const carePlanAt = idsOf(unknown).findIndex((id) => id.startsWith('CarePlan/'));
    const entry = unknown.entry?.[carePlanAt] as BundleEntry;
    entry.request = { method: 'PUT', url: entry.request?.url ?? 'CarePlan', ifMatch: 'W/"1"' };
    expect((await post(unknown)).status).toBe(412);
    expect(await test.server.store.get('sip-fhir-write-unheld')).toBeUndefined();

    // The adult example at version 3, approved at versions 2 and 3: version 2 was never recorded here.
    const adult = readExample('adult-psychiatry-addiction.json');
    const approved: SipPlan = { ...adult, id: 'sip-fhir-write-approved', consents: adult.consents.map((consent) => ({ ...consent, planId: 'sip-fhir-write-approved' })) };
    const refused = await post(bundleOf(approved));
    expect(refused.status).toBe(422);
    expect(outcome(refused).issue[0]?.diagnostics).toContain('earlier version');
    expect(await test.server.store.get('sip-fhir-write-approved')).toBeUndefined();
  });

  it('a closed plan: a replay of what it stated before the closure records nothing (200), an edit is refused with 422 plan.closed-read-only', async () => {
    const plan = freshPlan('sip-fhir-write-closed');
    const bundle = bundleOf(plan);
    expect((await post(bundle)).status).toBe(200);
    const closed = await call('POST', `/sip/plans/${plan.id}/closure`, { reason: 'goalsMet', closedBy: 'prof-erik-berg', informed: ['individual'] }, { 'Content-Type': 'application/json' });
    expect(closed.status).toBe(201);
    const replay = await post(bundle);
    expect(replay.status).toBe(200);
    expect(statuses(replay.body)).toEqual(idsOf(bundle).map(() => '200 OK'));
    expect(locations(replay.body)).toEqual(idsOf(bundle).map((id) => `${id}/_history/2`));
    const edit = await post(bundleOf({ ...plan, notes: 'Efter avslut' }));
    expect(edit.status).toBe(422);
    expect(outcome(edit).issue.flatMap((issue) => issue.details?.coding?.map((coding) => coding.code) ?? [])).toEqual(['plan.closed-read-only']);
    expect(await versions(plan.id)).toEqual([1, 2]);
  });

  it('refuses what is not a transaction of POST and PUT entries with 400, and a body that is not FHIR JSON with 415', async () => {
    const bundle = bundleOf(freshPlan('sip-fhir-write-400'));
    for (const type of ['collection', 'batch', 'searchset']) {
      const answer = await post({ ...bundle, type });
      expect(answer.status).toBe(400);
      expect(outcome(answer).issue[0]).toMatchObject({ severity: 'error', expression: ['Bundle.type'] });
    }
    expect((await post({ resourceType: 'Patient' })).status).toBe(400);
    const deleting = await post({ ...bundle, entry: [{ ...(bundle.entry?.[0] ?? {}), request: { method: 'DELETE', url: 'Patient/x' } }, ...(bundle.entry ?? []).slice(1)] });
    expect(deleting.status).toBe(400);
    expect(outcome(deleting).issue[0]?.expression).toEqual(['Bundle.entry[0].request.method']);
    const text = await post('not json at all', { 'Content-Type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(outcome(text).issue[0]?.code).toBe('not-supported');
    expect((await post(bundle, { 'Content-Type': 'application/problem+json' })).status).toBe(415);
    expect(await test.server.store.get('sip-fhir-write-400')).toBeUndefined();
  });

  it('refuses an invalid resource with 422 and its FHIRPath, a rule of the SIP process with 422 and its code, an entry with no place in the plan with 422; nothing is recorded', async () => {
    const plan = freshPlan('sip-fhir-write-422');
    const bundle = bundleOf(plan);
    const carePlanAt = idsOf(bundle).findIndex((id) => id.startsWith('CarePlan/'));
    const broken = structuredClone(bundle);
    (broken.entry?.[carePlanAt]?.resource as { status: string }).status = 'halfway';
    const invalid = await post(broken);
    expect(invalid.status).toBe(422);
    expect(outcome(invalid).issue).toContainEqual(expect.objectContaining({ severity: 'error', expression: [`Bundle.entry[${String(carePlanAt)}].resource.status`] }));

    // A summons that ends before it starts: a rule of the SIP process, not of a FHIR profile.
    const parsed = parsePlanText(readFileSync('examples/invalid/summons.ends-before-start.json', 'utf8'));
    if (!parsed.ok) throw new Error('the invalid example parses');
    const rule = await post(bundleOf({ ...parsed.plan, id: 'sip-fhir-write-rule', version: 1, approvals: [], consents: parsed.plan.consents.map((consent) => ({ ...consent, planId: 'sip-fhir-write-rule' })) }));
    expect(rule.status).toBe(422);
    expect(outcome(rule).issue.flatMap((issue) => issue.details?.coding?.map((coding) => coding.code) ?? [])).toContain('summons.ends-before-start');

    const withObservation = { ...bundle, entry: [...(bundle.entry ?? []), { fullUrl: `urn:uuid:${randomUUID()}`, resource: { resourceType: 'Observation', status: 'final', code: { text: 'Blodtryck' } }, request: { method: 'POST', url: 'Observation' } }] };
    const unplaced = await post(withObservation);
    expect(unplaced.status).toBe(422);
    expect(outcome(unplaced).issue).toContainEqual(expect.objectContaining({ severity: 'error', expression: [`Bundle.entry[${String(bundle.entry?.length ?? 0)}]`] }));
    expect(await test.server.store.get(plan.id)).toBeUndefined();
    expect(await test.server.store.get('sip-fhir-write-rule')).toBeUndefined();
  });

  it('refuses an organisation not in the plan and scopes that do not allow the write with 403, and audits the refusal', async () => {
    const plan = freshPlan('sip-fhir-write-403');
    const bundle = bundleOf(plan);
    const stranger = await post(bundle, { Authorization: `Bearer ${await bearer(STRANGER, 'system/*.*')}` });
    expect(stranger.status).toBe(403);
    expect(outcome(stranger).issue[0]?.code).toBe('forbidden');
    expect((await post(bundle, { Authorization: `Bearer ${await bearer(REGION, 'system/CarePlan.read')}` })).status).toBe(403);
    // SMART v2: .u changes a plan but does not record a new one; .c records a new one but does not change it.
    expect((await post(bundle, { Authorization: `Bearer ${await bearer(REGION, 'system/CarePlan.u')}` })).status).toBe(403);
    expect((await post(bundle, { Authorization: `Bearer ${await bearer(REGION, 'system/CarePlan.c')}` })).status).toBe(200);
    const edited = bundleOf({ ...plan, notes: 'Ändrad' });
    expect((await post(edited, { Authorization: `Bearer ${await bearer(REGION, 'system/CarePlan.c')}` })).status).toBe(403);
    expect((await post(edited, { Authorization: `Bearer ${await bearer(REGION, 'system/CarePlan.u')}` })).status).toBe(200);
    expect(await versions(plan.id)).toEqual([1, 2]);
    const log = await test.server.store.auditLog({ organization: STRANGER });
    expect(log).toContainEqual(expect.objectContaining({ action: 'create', what: 'POST /fhir', planId: plan.id, outcome: 'refused', detail: '403' }));
  });

  it('answers $validate with 200 and the OperationOutcome, for a Bundle, a resource of a type, and a Parameters; 404 for an unknown type', async () => {
    const bundle = bundleOf(freshPlan('sip-fhir-write-validate'));
    const good = await call<OperationOutcome>('POST', '/fhir/$validate', bundle);
    expect(good.status).toBe(200);
    expect(good.body.resourceType).toBe('OperationOutcome');
    expect(good.body.issue.filter((issue) => issue.severity === 'error')).toEqual([]);

    const carePlanAt = idsOf(bundle).findIndex((id) => id.startsWith('CarePlan/'));
    const broken = structuredClone(bundle);
    (broken.entry?.[carePlanAt]?.resource as { status: string }).status = 'halfway';
    const bad = await call<OperationOutcome>('POST', '/fhir/Bundle/$validate', broken);
    expect(bad.status).toBe(200);
    expect(bad.body.issue).toContainEqual(expect.objectContaining({ severity: 'error', expression: [`Bundle.entry[${String(carePlanAt)}].resource.status`] }));

    const carePlan = structuredClone(broken.entry?.[carePlanAt]?.resource);
    const typed = await call<OperationOutcome>('POST', '/fhir/CarePlan/$validate', { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: carePlan }] });
    expect(typed.status).toBe(200);
    expect(typed.body.issue).toContainEqual(expect.objectContaining({ severity: 'error', expression: ['CarePlan.status'] }));
    const goal = await call<OperationOutcome>('POST', '/fhir/Goal/$validate', { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'Ett mål' }, subject: { reference: 'Patient/x' }, meta: { profile: [PROFILE.goal] } });
    expect(goal.status).toBe(200);
    expect(goal.body.resourceType).toBe('OperationOutcome');

    expect((await call('POST', '/fhir/Banana/$validate', { resourceType: 'Banana' })).status).toBe(404);
    expect((await call('POST', '/fhir/Goal/$validate', carePlan)).status).toBe(400);
  });

  it('answers 405 with Allow for a method not supported on a known path, 404 for an unknown type, and lists the transaction and $validate in the CapabilityStatement', async () => {
    for (const [method, path, allow] of [
      ['DELETE', '/fhir/CarePlan/abc', 'GET'],
      ['PUT', '/fhir/Goal/abc', 'GET'],
      ['PATCH', '/fhir/CarePlan/abc', 'GET'],
      ['POST', '/fhir/CarePlan', 'GET'],
      ['GET', '/fhir', 'POST'],
      ['DELETE', '/fhir/metadata', 'GET'],
    ] as const) {
      const answer = await call<OperationOutcome>(method, path, method === 'GET' || method === 'DELETE' ? undefined : {});
      expect({ method, path, status: answer.status }).toEqual({ method, path, status: 405 });
      expect(answer.headers.get('allow')).toBe(allow);
      expect(answer.body.issue[0]?.code).toBe('not-supported');
    }
    expect((await call('DELETE', '/fhir/Banana/abc')).status).toBe(404);

    const metadata = await call<CapabilityStatement>('GET', '/fhir/metadata');
    const [rest] = metadata.body.rest ?? [];
    expect(rest?.interaction?.map((interaction) => interaction.code)).toEqual(['transaction']);
    expect(rest?.operation).toEqual([expect.objectContaining({ name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' })]);
    expect(rest?.resource?.find((resource) => resource.type === 'CarePlan')?.operation?.map((operation) => operation.name)).toEqual(['validate']);
    expect(metadata.body.implementation?.description).not.toContain('read only');
  });
});
