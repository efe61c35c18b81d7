/**
 * Versions and the audit log on the FHIR facade, end to end: the real server (`startServer`) on a
 * loopback port with the example plans, on PGlite and on the machine's PostgreSQL, with a fixed clock
 * and tokens signed by the server's own key.
 *
 * - vread and `_history` of a resource: every plan version that has it, newest first, with request
 *   and response as R4 http.html#history has them; a resource gone from a version is a DELETE; paging;
 *   consent judged now for the current version and for every version sent; access as for a read.
 * - `/fhir/AuditEvent`: search by patient, agent, altid and date with paging, read by id; an
 *   organisation sees its own entries and those about the plans it is a principal of; the scope
 *   `system/AuditEvent.read`; reading the log is audited too.
 */
import type { AuditEvent, Bundle, CapabilityStatement, CarePlan, Goal, OperationOutcome } from 'fhir/r4.js';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IDENTIFIER_SYSTEM, planResourceIds } from '../../src/fhir/index.js';
import { issueLocalToken } from '../../src/http/auth/index.js';
import type { RunningServer } from '../../src/http/server.js';
import type { SipPlan } from '../../src/sip/index.js';
import type { StoredPlan } from '../../src/store/index.js';
import { createValidator, hasErrors } from '../../src/validation/index.js';
import { DRIVERS, freshPlan } from '../support/http-server.js';
import { startTestServer, type TestServer } from '../support/http-server.js';

/** A moment while the adult example's consent is in force (2026-02-12 – 2027-02-11). */
const NOW = new Date('2026-04-01T10:00:00+02:00');
/** Region Dalarna, a principal of the adult example's plan. */
const REGION = 'SE2321000180-1000';
const PLAN = 'sip-falun-2026-0142';
/** Region Skåne, a principal of the plan closed after the person withdrew their consent. */
const SKANE = 'SE2321000255-1000';
const WITHDRAWN_PLAN = 'sip-malmo-2025-0862';
/** An organisation of no plan. */
const STRANGER = 'SE2321000180-9999';

const validator = createValidator();

describe.each(DRIVERS)('FHIR history and AuditEvent on %s', (_name, driver) => {
  let test: TestServer;
  let server: RunningServer;
  let token: string;

  const bearer = (organization: string, scope?: string): Promise<string> => test.bearer(organization, scope);

  beforeAll(async () => {
    test = await startTestServer(driver, { settings: { loadExamples: true, rateLimitPerMinute: 1_000_000 } });
    server = test.server;
    token = await bearer(REGION);
  }, 60_000);

  afterAll(() => test.close());

  const api = () => request(server.url);
  const auth = (value = token) => ({ Authorization: `Bearer ${value}` });
  const history = async (planId: string): Promise<StoredPlan[]> => server.store.history(planId);
  /** The facade's id of the plan's first resource of a type (its fullUrl UUID). */
  const idOf = async (resourceType: string, planId = PLAN, version?: number): Promise<string> => {
    const stored = await server.store.get(planId, version);
    const found = planResourceIds(stored?.plan ?? freshPlan('none')).find((resource) => resource.resourceType === resourceType);
    if (stored === undefined || found === undefined) throw new Error(`no ${resourceType} in ${planId}`);
    return found.id;
  };
  const path = (url: string | undefined): string => {
    if (url === undefined) throw new Error('no link');
    return url.slice(server.url.length);
  };

  describe('_history and vread', () => {
    it('lists every version of the CarePlan newest first, as a history Bundle R4 accepts', async () => {
      const versions = await history(PLAN);
      expect(versions.length).toBeGreaterThan(1);
      const id = await idOf('CarePlan');
      const response = await api().get(`/fhir/CarePlan/${id}/_history`).set(auth()).expect(200);
      expect(response.headers['content-type']).toContain('application/fhir+json');
      const bundle = response.body as Bundle;
      expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'history' });
      // R4 asks for total in a searchset only; counting what may be sent would judge every version.
      expect(bundle.total).toBeUndefined();
      expect(bundle.entry).toHaveLength(versions.length);
      expect(bundle.link).toEqual([{ relation: 'self', url: `${server.url}/fhir/CarePlan/${id}/_history?_count=50` }]);
      const newestFirst = [...versions].reverse();
      expect(bundle.entry?.map((entry) => entry.response)).toEqual(
        newestFirst.map((stored) => ({ status: stored.version === 1 ? '201 Created' : '200 OK', etag: `W/"${String(stored.version)}"`, lastModified: stored.recordedAt })),
      );
      expect(bundle.entry?.map((entry) => entry.request)).toEqual(newestFirst.map((stored) => (stored.version === 1 ? { method: 'POST', url: 'CarePlan' } : { method: 'PUT', url: `CarePlan/${id}` })));
      for (const [index, entry] of (bundle.entry ?? []).entries()) {
        const stored = newestFirst[index];
        expect(entry.fullUrl).toBe(`${server.url}/fhir/CarePlan/${id}`);
        expect(entry.resource).toMatchObject({ resourceType: 'CarePlan', id, meta: { versionId: String(stored?.version), lastUpdated: stored?.recordedAt } });
      }
      // Version 1 has no approval yet: a draft; the last has both: active (DESIGN.md §4).
      expect((bundle.entry?.at(-1)?.resource as CarePlan).status).toBe('draft');
      expect((bundle.entry?.[0]?.resource as CarePlan).status).toBe('active');
      expect(hasErrors(validator.validate(bundle))).toBe(false);
    });

    it('pages with _count and a next link, each version once', async () => {
      const versions = await history(PLAN);
      const id = await idOf('CarePlan');
      const seen: string[] = [];
      let next: string | undefined = `/fhir/CarePlan/${id}/_history?_count=1`;
      while (next !== undefined) {
        const page = (await api().get(next).set(auth()).expect(200)).body as Bundle;
        expect(page.entry?.length).toBe(1);
        seen.push(...(page.entry ?? []).map((entry) => entry.resource?.meta?.versionId ?? ''));
        const link = page.link?.find((candidate) => candidate.relation === 'next')?.url;
        next = link === undefined ? undefined : path(link);
      }
      expect(seen).toEqual([...versions].reverse().map((stored) => String(stored.version)));
      await api().get(`/fhir/CarePlan/${id}/_history?_count=500`).set(auth()).expect(400);
      await api().get(`/fhir/CarePlan/${id}/_history?_since=2026-01-01`).set(auth()).expect(400);
      await api().get(`/fhir/CarePlan/${id}/_history?_cursor=x`).set(auth()).expect(400);
    });

    it('reads a past version by vread, with its ETag; an unknown version is a 404 OperationOutcome', async () => {
      const id = await idOf('CarePlan');
      const [first] = await history(PLAN);
      const response = await api().get(`/fhir/CarePlan/${id}/_history/1`).set(auth()).expect(200);
      expect(response.headers['content-type']).toContain('application/fhir+json');
      expect(response.headers.etag).toBe('W/"1"');
      expect(response.headers['last-modified']).toBe(new Date(first?.recordedAt ?? '').toUTCString());
      expect(response.body as CarePlan).toMatchObject({ resourceType: 'CarePlan', id, status: 'draft', meta: { versionId: '1', lastUpdated: first?.recordedAt } });
      for (const vid of ['99', '0', 'abc', '1.0']) {
        const missing = await api().get(`/fhir/CarePlan/${id}/_history/${vid}`).set(auth()).expect(404);
        expect(missing.headers['content-type']).toContain('application/fhir+json');
        expect((missing.body as OperationOutcome).issue[0]?.code).toBe('not-found');
      }
      await api().get('/fhir/CarePlan/00000000-0000-0000-0000-000000000000/_history/1').set(auth()).expect(404);
      await api().get('/fhir/Banana/abc/_history').set(auth()).expect(404);
      // The history of a whole type is CarePlan's alone (test/http/fhir-type-history.test.ts).
      await api().get('/fhir/Goal/_history').set(auth()).expect(404);
    });

    it('lists a goal a later version dropped as a DELETE; its vread there is a 404, before it a 200', async () => {
      const plan = { ...freshPlan('sip-history-goal'), individual: { ...freshPlan('x').individual, identifier: { system: 'personnummer' as const, value: '19790617-2387' } } };
      await api().post('/sip/plans').set(auth()).send(plan).expect(201);
      const goalId = await idOf('Goal', 'sip-history-goal');
      const goal = (await api().get(`/fhir/Goal/${goalId}`).set(auth()).expect(200)).body as Goal;
      const [dropped] = (await history('sip-history-goal'))[0]?.plan.goals ?? [];
      if (dropped === undefined) throw new Error('the plan has goals');
      const current = (await server.store.get('sip-history-goal'))?.plan;
      if (current === undefined) throw new Error('the plan was created');
      const edited: SipPlan = {
        ...current,
        goals: current.goals.filter((candidate) => candidate.id !== dropped.id),
        interventions: current.interventions.map((intervention) => ({ ...intervention, goals: intervention.goals.filter((goalRef) => goalRef !== dropped.id) })).filter((intervention) => intervention.goals.length > 0),
      };
      await api().put('/sip/plans/sip-history-goal').set(auth()).set('If-Match', 'W/"1"').send(edited).expect(200);
      const bundle = (await api().get(`/fhir/Goal/${goalId}/_history`).set(auth()).expect(200)).body as Bundle;
      expect(bundle.entry).toHaveLength(2);
      expect(bundle.entry?.map((entry) => [entry.request?.method, entry.request?.url, entry.response?.status, entry.response?.etag, entry.resource?.id])).toEqual([
        ['DELETE', `Goal/${goalId}`, '204 No Content', 'W/"2"', undefined],
        ['POST', 'Goal', '201 Created', 'W/"1"', goalId],
      ]);
      expect(hasErrors(validator.validate(bundle))).toBe(false);
      await api().get(`/fhir/Goal/${goalId}/_history/2`).set(auth()).expect(404);
      expect((await api().get(`/fhir/Goal/${goalId}/_history/1`).set(auth()).expect(200)).body).toEqual(goal);
    });

    it('refuses every version of a plan whose consent was withdrawn, older versions included', async () => {
      const skane = await bearer(SKANE);
      const id = await idOf('CarePlan', WITHDRAWN_PLAN);
      const refused = await api().get(`/fhir/CarePlan/${id}/_history`).set(auth(skane)).expect(403);
      expect(JSON.stringify(refused.body)).toContain('consent.withdrawn');
      // Version 1 still shows the consent in force; the current version knows it was withdrawn.
      const vread = await api().get(`/fhir/CarePlan/${id}/_history/1`).set(auth(skane)).expect(403);
      expect(JSON.stringify(vread.body)).toContain('consent.withdrawn');
    });

    it('leaves out a version whose own consent has expired, and refuses its vread', async () => {
      const base = freshPlan('sip-history-renewed');
      const [consent] = base.consents;
      if (consent === undefined) throw new Error('the example has a consent');
      const first: SipPlan = {
        ...base,
        individual: { ...base.individual, identifier: { system: 'personnummer', value: '198403219291' } },
        consents: [{ ...consent, id: 'consent-old', givenAt: '2025-03-01', validUntil: '2026-02-28' }],
      };
      const second: SipPlan = { ...first, version: 2, consents: [...first.consents, { ...consent, id: 'consent-new', givenAt: '2026-03-01', validUntil: '2027-02-28' }] };
      await server.store.create(first, REGION, planResourceIds(first));
      await server.store.update(second, 1, REGION, planResourceIds(second));
      const id = await idOf('CarePlan', 'sip-history-renewed');
      const bundle = (await api().get(`/fhir/CarePlan/${id}/_history`).set(auth()).expect(200)).body as Bundle;
      expect(bundle.entry?.map((entry) => entry.resource?.meta?.versionId)).toEqual(['2']);
      const refused = await api().get(`/fhir/CarePlan/${id}/_history/1`).set(auth()).expect(403);
      expect(JSON.stringify(refused.body)).toMatch(/consent\.[a-zA-Z]+/);
      await api().get(`/fhir/CarePlan/${id}/_history/2`).set(auth()).expect(200);
    });

    it('gives shared master data the history of the plan a read answers from', async () => {
      // A second plan for the adult example's person, recorded later.
      await api().post('/sip/plans').set(auth()).send(freshPlan('sip-history-shared')).expect(201);
      const patientId = await idOf('Patient');
      const plans = await server.store.plansWithResource('Patient', patientId);
      expect(plans.length).toBeGreaterThan(1);
      const read = await api().get(`/fhir/Patient/${patientId}`).set(auth()).expect(200);
      const bundle = (await api().get(`/fhir/Patient/${patientId}/_history`).set(auth()).expect(200)).body as Bundle;
      const [newest] = bundle.entry ?? [];
      expect(newest?.response?.etag).toBe(read.headers.etag);
      expect(newest?.response?.lastModified).toBe((read.body as Goal).meta?.lastUpdated);
      const answering = (await Promise.all(plans.map((planId) => server.store.get(planId)))).find((stored) => stored?.recordedAt === newest?.response?.lastModified);
      expect(answering).toBeDefined();
      expect(bundle.entry).toHaveLength((await history(answering?.plan.id ?? '')).length);
    });

    it('gives an organisation the newest plan no longer names the history of the plan a read answers from', async () => {
      const a = freshPlan('sip-history-org-a');
      const b = freshPlan('sip-history-org-b');
      await server.store.create(a, REGION, planResourceIds(a));
      await server.store.create(b, REGION, planResourceIds(b));
      // Version 2 of b no longer has the health centre (an Organization by its HSA-id, shared by every
      // plan naming it): recorded last, b is the newest plan the id leads to, but no longer names it.
      const unit = 'unit-vc-britsarvet';
      const withoutUnit: SipPlan = {
        ...b,
        version: 2,
        principals: b.principals.map((principal) => ({ ...principal, units: principal.units.filter((candidate) => candidate.id !== unit) })),
        consents: b.consents.map((consent) => ({ ...consent, excludedParties: consent.excludedParties.filter((party) => party !== unit) })),
      };
      await server.store.update(withoutUnit, 1, REGION, planResourceIds(withoutUnit));
      const organizations = (plan: SipPlan) => new Set(planResourceIds(plan).filter((resource) => resource.resourceType === 'Organization').map((resource) => resource.id));
      const [unitId, ...others] = [...organizations(b)].filter((id) => !organizations(withoutUnit).has(id));
      if (unitId === undefined || others.length > 0) throw new Error('the health centre is the one Organization b version 2 lacks');
      expect(organizations(a).has(unitId)).toBe(true);
      expect(await server.store.plansWithResource('Organization', unitId)).toEqual(expect.arrayContaining(['sip-history-org-a', 'sip-history-org-b']));
      const created = await server.store.get('sip-history-org-a');
      const read = await api().get(`/fhir/Organization/${unitId}`).set(auth()).expect(200);
      expect((read.body as Goal).meta?.lastUpdated).toBe(created?.recordedAt);
      const bundle = (await api().get(`/fhir/Organization/${unitId}/_history`).set(auth()).expect(200)).body as Bundle;
      expect(bundle.entry?.map((entry) => [entry.request?.method, entry.response?.etag, entry.response?.lastModified])).toEqual([['POST', 'W/"1"', created?.recordedAt]]);
    });

    it('answers 401 without a token, and 403 to an organisation of no plan or a token without the scope', async () => {
      const id = await idOf('CarePlan');
      await api().get(`/fhir/CarePlan/${id}/_history`).expect(401);
      await api().get(`/fhir/CarePlan/${id}/_history/1`).set(auth(await bearer(STRANGER))).expect(403);
      await api().get(`/fhir/CarePlan/${id}/_history`).set(auth(await bearer(STRANGER))).expect(403);
      await api().get(`/fhir/CarePlan/${id}/_history`).set(auth(await bearer(REGION, 'system/AuditEvent.read'))).expect(403);
    });

    it('audits a vread and a history read as reads of the plan', async () => {
      const id = await idOf('CarePlan');
      const agent = await issueLocalToken({ org: REGION, subject: 'history-reader', scopes: 'system/CarePlan.read', ttlSeconds: 3600 }, localKey(), NOW);
      await api().get(`/fhir/CarePlan/${id}/_history/1`).set(auth(agent)).expect(200);
      await api().get(`/fhir/CarePlan/${id}/_history`).set(auth(agent)).expect(200);
      const person = (await server.store.get(PLAN))?.plan.individual.identifier.value;
      await vi.waitFor(async () => {
        const log = await server.store.auditLog({ agent: 'history-reader' });
        expect(log.map((entry) => [entry.action, entry.what, entry.planId, entry.personIdentifier, entry.outcome])).toEqual([
          ['read', `GET /fhir/CarePlan/${id}/_history`, PLAN, person, 'success'],
          ['read', `GET /fhir/CarePlan/${id}/_history/1`, PLAN, person, 'success'],
        ]);
      });
    });
  });

  describe('_history paging, _since and _at (R4 http.html#history)', () => {
    const PAGED = 'sip-history-paged';
    let carePlanId: string;
    /** Version n's recording instant (ms since the epoch), as the history's lastUpdated says. */
    let recorded: number[];
    const versionsOf = (bundle: Bundle): number[] => (bundle.entry ?? []).map((entry) => Number(/W\/"(\d+)"/.exec(entry.response?.etag ?? '')?.[1]));
    const relations = (bundle: Bundle): Record<string, string> => Object.fromEntries((bundle.link ?? []).map((link) => [link.relation, link.url]));
    const page = async (query: string): Promise<Bundle> => (await api().get(`/fhir/CarePlan/${carePlanId}/_history?${query}`).set(auth()).expect(200)).body as Bundle;
    const iso = (instant: number): string => new Date(instant).toISOString();

    beforeAll(async () => {
      const base = freshPlan(PAGED);
      const first: SipPlan = { ...base, individual: { ...base.individual, identifier: { system: 'personnummer', value: '19650314-0417' } } };
      await server.store.create(first, REGION, planResourceIds(first));
      // Seven versions, a few milliseconds apart so that each has an instant of its own.
      for (let version = 2; version <= 7; version++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        const next: SipPlan = { ...first, version, notes: `Version ${String(version)}` };
        await server.store.update(next, version - 1, REGION, planResourceIds(next));
      }
      carePlanId = await idOf('CarePlan', PAGED);
      recorded = [0, ...(await history(PAGED)).map((stored) => Date.parse(stored.recordedAt))];
      expect(new Set(recorded).size).toBe(8);
    });

    it('pages newest first with next and previous links, absolute and stable; a page past either end is empty', async () => {
      const link = (query: string): string => `${server.url}/fhir/CarePlan/${carePlanId}/_history?${query}`;
      const first = await page('_count=3');
      expect(versionsOf(first)).toEqual([7, 6, 5]);
      expect(relations(first)).toEqual({ self: link('_count=3'), next: link('_count=3&_cursor=before-5') });
      expect(first.total).toBeUndefined();
      expect(hasErrors(validator.validate(first))).toBe(false);
      const second = (await api().get(path(relations(first).next)).set(auth()).expect(200)).body as Bundle;
      expect(versionsOf(second)).toEqual([4, 3, 2]);
      expect(relations(second)).toEqual({ self: link('_count=3&_cursor=before-5'), next: link('_count=3&_cursor=before-2'), previous: link('_count=3&_cursor=after-4') });
      const third = (await api().get(path(relations(second).next)).set(auth()).expect(200)).body as Bundle;
      expect(versionsOf(third)).toEqual([1]);
      expect(third.entry?.[0]?.request).toEqual({ method: 'POST', url: 'CarePlan' });
      expect(relations(third)).toEqual({ self: link('_count=3&_cursor=before-2'), previous: link('_count=3&_cursor=after-1') });
      // Back from the last page: the same middle page as on the way there.
      const back = (await api().get(path(relations(third).previous)).set(auth()).expect(200)).body as Bundle;
      expect(versionsOf(back)).toEqual([4, 3, 2]);
      expect(relations(back)).toEqual({ self: link('_count=3&_cursor=after-1'), next: link('_count=3&_cursor=before-2'), previous: link('_count=3&_cursor=after-4') });
      const newest = (await api().get(path(relations(back).previous)).set(auth()).expect(200)).body as Bundle;
      expect(versionsOf(newest)).toEqual([7, 6, 5]);
      expect(relations(newest)).toEqual({ self: link('_count=3&_cursor=after-4'), next: link('_count=3&_cursor=before-5') });

      // A version recorded meanwhile does not shift a page already linked to.
      const current = await server.store.get(PAGED);
      if (current === undefined) throw new Error('the plan is stored');
      const eighth: SipPlan = { ...current.plan, version: 8, notes: 'Version 8' };
      await server.store.update(eighth, 7, REGION, planResourceIds(eighth));
      expect(versionsOf(await page('_count=3&_cursor=before-5'))).toEqual([4, 3, 2]);
      expect(versionsOf(await page('_count=3'))).toEqual([8, 7, 6]);
      recorded.push(Date.parse((await server.store.get(PAGED))?.recordedAt ?? ''));

      const pastTheEnd = await page('_count=3&_cursor=before-1');
      expect(pastTheEnd.entry ?? []).toEqual([]);
      expect(relations(pastTheEnd)).toEqual({ self: link('_count=3&_cursor=before-1'), previous: link('_count=3&_cursor=after-0') });
      expect(versionsOf(await page('_count=3&_cursor=after-0'))).toEqual([3, 2, 1]);
      const pastTheStart = await page('_count=3&_cursor=after-8');
      expect(pastTheStart.entry ?? []).toEqual([]);
      expect(relations(pastTheStart).next).toBe(link('_count=3&_cursor=before-9'));
      expect(versionsOf(await page('_count=3&_cursor=before-99'))).toEqual([8, 7, 6]);
      // _count=0: no entries, no paging.
      const none = await page('_count=0');
      expect(none.entry ?? []).toEqual([]);
      expect(relations(none)).toEqual({ self: link('_count=0') });
    });

    it('keeps with _since the versions recorded at or after the instant, as an instant in any zone', async () => {
      const at5 = recorded[5] ?? 0;
      expect(versionsOf(await page(`_since=${iso(at5)}`))).toEqual([8, 7, 6, 5]);
      expect(versionsOf(await page(`_since=${iso(at5 + 1)}`))).toEqual([8, 7, 6]);
      expect(versionsOf(await page(`_since=${iso(at5 - 1)}`))).toEqual([8, 7, 6, 5]);
      // The same instant an hour ahead of UTC; the + sent unescaped (a space to a query parser) reads as the + it was.
      const plusOne = `${iso(at5 + 3_600_000).slice(0, -1)}+01:00`;
      expect(versionsOf(await page(`_since=${encodeURIComponent(plusOne)}`))).toEqual([8, 7, 6, 5]);
      expect(versionsOf(await page(`_since=${plusOne}`))).toEqual([8, 7, 6, 5]);
      expect(versionsOf(await page(`_since=${iso(Date.now() + 86_400_000)}`))).toEqual([]);
      // Paging keeps the filter.
      const first = await page(`_since=${iso(at5)}&_count=2`);
      expect(versionsOf(first)).toEqual([8, 7]);
      expect(relations(first).next).toBe(`${server.url}/fhir/CarePlan/${carePlanId}/_history?_since=${encodeURIComponent(iso(at5))}&_count=2&_cursor=before-7`);
      expect(versionsOf((await api().get(path(relations(first).next)).set(auth()).expect(200)).body as Bundle)).toEqual([6, 5]);
    });

    it('keeps with _at the versions current at some moment of the period its precision gives', async () => {
      const [at3, at4, at5] = [recorded[3] ?? 0, recorded[4] ?? 0, recorded[5] ?? 0];
      // The instant version 3 was recorded: it alone was current then (version 2 ended at that instant).
      expect(versionsOf(await page(`_at=${iso(at3)}`))).toEqual([3]);
      expect(versionsOf(await page(`_at=${iso(at3 - 1)}`))).toEqual([2]);
      expect(versionsOf(await page(`_at=${iso(Math.floor((at4 + at5) / 2))}`))).toEqual([4]);
      // The newest version stays current.
      expect(versionsOf(await page(`_at=${iso(Date.now() + 86_400_000)}`))).toEqual([8]);
      expect(versionsOf(await page('_at=2000-01-01'))).toEqual([]);
      // A year: every version current at some moment of it (all were recorded this year, unless the test straddles New Year in Stockholm).
      const year = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm', year: 'numeric' });
      if (year.format(recorded[1]) === year.format(recorded[8])) expect(versionsOf(await page(`_at=${year.format(recorded[1])}`))).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
      // Both: what both keep.
      expect(versionsOf(await page(`_at=${iso(at3)}&_since=${iso(at3)}`))).toEqual([3]);
      expect(versionsOf(await page(`_at=${iso(at3)}&_since=${iso(at4)}`))).toEqual([]);
    });

    it('answers a malformed _count, _since, _at or _cursor, and a parameter history does not take, with a 400 naming it', async () => {
      for (const [query, named] of [
        ['_since=2026-01-01', '_since'],
        ['_since=2026-04-01T10:00:00', '_since'],
        ['_since=2026-04-01T10:00Z', '_since'],
        ['_since=2026-02-30T10:00:00Z', '_since'],
        ['_at=ge2026-01-01', '_at'],
        ['_at=2026-13', '_at'],
        ['_at=yesterday', '_at'],
        ['_count=-1', '_count'],
        ['_count=201', '_count'],
        ['_count=ten', '_count'],
        ['_cursor=before-x', '_cursor'],
        ['_cursor=5', '_cursor'],
        ['_list=abc', '_list'],
        ['_count=1&_count=2', '_count'],
      ] as const) {
        const bad = await api().get(`/fhir/CarePlan/${carePlanId}/_history?${query}`).set(auth()).expect(400);
        expect(bad.headers['content-type']).toContain('application/fhir+json');
        expect((bad.body as OperationOutcome).issue[0]?.diagnostics, query).toContain(named);
      }
    });

    it('keeps a removal current until the resource comes back: _at after it finds the DELETE, _since after it nothing', async () => {
      const planId = 'sip-history-removal';
      const base = freshPlan(planId);
      await api().post('/sip/plans').set(auth()).send({ ...base, individual: { ...base.individual, identifier: { system: 'personnummer', value: '19710822-0893' } } }).expect(201);
      const goalId = await idOf('Goal', planId);
      const created = (await server.store.get(planId))?.plan;
      const [dropped] = created?.goals ?? [];
      if (created === undefined || dropped === undefined) throw new Error('the plan has goals');
      const second: SipPlan = {
        ...created,
        goals: created.goals.filter((candidate) => candidate.id !== dropped.id),
        interventions: created.interventions.map((intervention) => ({ ...intervention, goals: intervention.goals.filter((goalRef) => goalRef !== dropped.id) })).filter((intervention) => intervention.goals.length > 0),
      };
      await new Promise((resolve) => setTimeout(resolve, 5));
      await api().put(`/sip/plans/${planId}`).set(auth()).set('If-Match', 'W/"1"').send(second).expect(200);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await api().put(`/sip/plans/${planId}`).set(auth()).set('If-Match', 'W/"2"').send({ ...second, version: 2, notes: 'Version 3' }).expect(200);
      const times = (await history(planId)).map((stored) => stored.recordedAt);
      expect(times).toHaveLength(3);
      const goalPage = async (query: string): Promise<Bundle> => (await api().get(`/fhir/Goal/${goalId}/_history?${query}`).set(auth()).expect(200)).body as Bundle;
      const rows = (bundle: Bundle) => (bundle.entry ?? []).map((entry) => [entry.request?.method, entry.response?.etag, entry.resource?.id]);
      expect(rows(await goalPage(''))).toEqual([['DELETE', 'W/"2"', undefined], ['POST', 'W/"1"', goalId]]);
      // Version 3 does not have the goal and changes nothing of it: the removal in version 2 is still current.
      expect(rows(await goalPage(`_at=${times[2] ?? ''}`))).toEqual([['DELETE', 'W/"2"', undefined]]);
      expect(rows(await goalPage(`_at=${times[0] ?? ''}`))).toEqual([['POST', 'W/"1"', goalId]]);
      expect(rows(await goalPage(`_since=${times[2] ?? ''}`))).toEqual([]);
      expect(rows(await goalPage(`_since=${times[1] ?? ''}`))).toEqual([['DELETE', 'W/"2"', undefined]]);
      const paged = await goalPage('_count=1');
      expect(rows(paged)).toEqual([['DELETE', 'W/"2"', undefined]]);
      expect(hasErrors(validator.validate(paged))).toBe(false);
    });

    it('never lists, links to or counts a version whose consent may not be sent now', async () => {
      const planId = 'sip-history-hidden';
      const base = freshPlan(planId);
      const [consent] = base.consents;
      if (consent === undefined) throw new Error('the example has a consent');
      const person = { ...base.individual, identifier: { system: 'personnummer' as const, value: '19650314-0417' } };
      const expired: SipPlan = { ...base, individual: person, consents: [{ ...consent, id: 'consent-old', givenAt: '2025-03-01', validUntil: '2026-02-28' }] };
      await server.store.create(expired, REGION, planResourceIds(expired));
      const second: SipPlan = { ...expired, version: 2, notes: 'Version 2' };
      await server.store.update(second, 1, REGION, planResourceIds(second));
      const renewed: SipPlan = { ...second, version: 3, notes: 'Version 3', consents: [...second.consents, { ...consent, id: 'consent-new', givenAt: '2026-03-01', validUntil: '2027-02-28' }] };
      await server.store.update(renewed, 2, REGION, planResourceIds(renewed));
      const fourth: SipPlan = { ...renewed, version: 4, notes: 'Version 4' };
      await server.store.update(fourth, 3, REGION, planResourceIds(fourth));
      const id = await idOf('CarePlan', planId);
      const get = async (query: string): Promise<Bundle> => (await api().get(`/fhir/CarePlan/${id}/_history?${query}`).set(auth()).expect(200)).body as Bundle;
      expect(versionsOf(await get(''))).toEqual([4, 3]);
      const first = await get('_count=1');
      expect(versionsOf(first)).toEqual([4]);
      const older = (await api().get(path(relations(first).next)).set(auth()).expect(200)).body as Bundle;
      expect(versionsOf(older)).toEqual([3]);
      // Versions 1 and 2 are there but may not be sent: no next link leads to them.
      expect(relations(older).next).toBeUndefined();
      expect(versionsOf(await get('_count=1&_cursor=before-3'))).toEqual([]);
      expect(relations(await get('_count=5&_cursor=after-0')).next).toBeUndefined();
      expect(versionsOf(await get('_count=5&_cursor=after-0'))).toEqual([4, 3]);
      const stored = await history(planId);
      expect(versionsOf(await get(`_at=${stored[1]?.recordedAt ?? ''}`))).toEqual([]);
      expect(JSON.stringify(await get('_count=5&_cursor=after-0'))).not.toContain('Version 2');
    });
  });

  describe('the CapabilityStatement and what the routes take', () => {
    it('lists history-instance with _count, _since and _at, which the route takes, history-type on CarePlan alone with _count and _since, and no history-system, which it does not serve', async () => {
      const statement = (await api().get('/fhir/metadata').expect(200)).body as CapabilityStatement;
      const [rest] = statement.rest ?? [];
      expect(rest?.interaction?.map((interaction) => interaction.code)).not.toContain('history-system');
      const id = await idOf('CarePlan');
      for (const resource of rest?.resource ?? []) {
        const codes = resource.interaction?.map((interaction) => interaction.code) ?? [];
        const typeHistory = await api().get(`/fhir/${resource.type}/_history`).set(auth());
        if (resource.type === 'CarePlan') {
          expect(codes).toContain('history-type');
          expect(typeHistory.status).toBe(200);
          const typeDocumentation = resource.interaction?.find((interaction) => interaction.code === 'history-type')?.documentation ?? '';
          expect(new Set([...typeDocumentation.matchAll(/\b_[a-z]+/g)].map((match) => match[0]))).toEqual(new Set(['_count', '_since', '_at']));
          expect(typeDocumentation).toContain('_at is not supported');
          for (const query of ['_count=2', `_since=${(await server.store.get(PLAN))?.recordedAt ?? ''}`, '_format=json']) await api().get(`/fhir/CarePlan/_history?${query}`).set(auth()).expect(200);
          await api().get('/fhir/CarePlan/_history?_at=2026').set(auth()).expect(400);
        } else {
          expect(codes, resource.type).not.toContain('history-type');
          // No history of a whole type but CarePlan's.
          expect(typeHistory.status, resource.type).toBe(404);
        }
        if (resource.type === 'AuditEvent') {
          expect(codes).not.toContain('history-instance');
          continue;
        }
        expect(codes, resource.type).toContain('history-instance');
        const documentation = resource.interaction?.find((interaction) => interaction.code === 'history-instance')?.documentation ?? '';
        const named = [...documentation.matchAll(/\b_[a-z]+/g)].map((match) => match[0]);
        expect(new Set(named)).toEqual(new Set(['_count', '_since', '_at']));
      }
      // Each parameter named is taken; one not named is refused.
      const instant = (await server.store.get(PLAN))?.recordedAt ?? '';
      // _format and _pretty are R4's on every interaction (src/http/fhir-format.ts), not the history's own.
      for (const query of ['_count=2', `_since=${instant}`, `_at=${instant}`, '_format=json']) await api().get(`/fhir/CarePlan/${id}/_history?${query}`).set(auth()).expect(200);
      for (const query of ['_list=x', '_sort=_lastUpdated']) await api().get(`/fhir/CarePlan/${id}/_history?${query}`).set(auth()).expect(400);
      expect((await api().get('/fhir/_history').set(auth())).status).not.toBe(200);
    });

    it('lists the AuditEvent search parameters the route takes, and the route refuses those it does not list', async () => {
      const statement = (await api().get('/fhir/metadata').expect(200)).body as CapabilityStatement;
      const auditEvent = statement.rest?.[0]?.resource?.find((resource) => resource.type === 'AuditEvent');
      const values: Record<string, string> = { patient: `Patient/${await idOf('Patient')}`, agent: REGION, altid: 'someone', date: '2026', _count: '1', _total: 'none' };
      const listed = auditEvent?.searchParam?.map((param) => param.name) ?? [];
      expect(listed.sort()).toEqual(Object.keys(values).sort());
      for (const name of listed) await api().get('/fhir/AuditEvent').query({ [name]: values[name] }).set(auth()).expect(200);
      for (const name of ['entity', 'type', 'action', 'outcome', '_sort', '_include']) await api().get('/fhir/AuditEvent').query({ [name]: 'x' }).set(auth()).expect(400);
    });
  });

  const localKey = () => {
    if (server.authenticator.mode !== 'local') throw new Error('the test server signs its own tokens');
    return server.authenticator.localKey;
  };

  describe('AuditEvent', () => {
    const personSystem = IDENTIFIER_SYSTEM.personnummer;
    const events = (bundle: Bundle): AuditEvent[] => (bundle.entry ?? []).map((entry) => entry.resource as AuditEvent);
    const search = async (query: Record<string, string | string[]>, bearerToken = token): Promise<Bundle> => (await api().get('/fhir/AuditEvent').query(query).set(auth(bearerToken)).expect(200)).body as Bundle;

    it('finds the reads of a person by patient:identifier and by patient, as valid AuditEvents', async () => {
      const start = new Date();
      const agent = await issueLocalToken({ org: REGION, subject: 'audit-reader-1', scopes: 'system/*.read', ttlSeconds: 3600 }, localKey(), NOW);
      const carePlanId = await idOf('CarePlan');
      await api().get(`/fhir/CarePlan/${carePlanId}`).set(auth(agent)).expect(200);
      await api().get(`/fhir/CarePlan/${carePlanId}/_history/1`).set(auth(agent)).expect(200);
      const person = (await server.store.get(PLAN))?.plan.individual.identifier.value ?? '';
      await vi.waitFor(async () => { expect(await server.store.auditLog({ agent: 'audit-reader-1' })).toHaveLength(2); });
      const window = [`ge${start.toISOString()}`, `lt${new Date(Date.now() + 1).toISOString()}`];
      const bundle = await search({ 'patient:identifier': `${personSystem}|${person}`, altid: 'audit-reader-1', date: window });
      expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
      expect(hasErrors(validator.validate(bundle))).toBe(false);
      const found = events(bundle);
      expect(found.map((event) => [event.subtype?.[0]?.code, event.action, event.outcome, event.entity?.at(-1)?.description])).toEqual([
        ['vread', 'R', '0', `GET /fhir/CarePlan/${carePlanId}/_history/1`],
        ['read', 'R', '0', `GET /fhir/CarePlan/${carePlanId}`],
      ]);
      for (const event of found) {
        expect(event.agent).toEqual([{ who: { identifier: { system: 'urn:oid:1.2.752.29.4.19', value: REGION } }, altId: 'audit-reader-1', requestor: true }]);
        expect(event.entity?.slice(0, 2).map((entity) => entity.what?.identifier)).toEqual([
          { system: IDENTIFIER_SYSTEM.sipPlan, value: PLAN },
          { system: personSystem, value: person },
        ]);
        expect(event.recorded >= start.toISOString()).toBe(true);
      }
      expect(bundle.entry?.map((entry) => entry.fullUrl)).toEqual(found.map((event) => `${server.url}/fhir/AuditEvent/${event.id ?? ''}`));
      const byPatient = await search({ patient: `Patient/${await idOf('Patient')}`, altid: 'audit-reader-1', date: window });
      expect(events(byPatient)).toEqual(found);
      expect(events(await search({ 'patient:identifier': `${personSystem}|191212121212`, altid: 'audit-reader-1' }))).toEqual([]);
      expect(events(await search({ patient: 'Patient/00000000-0000-0000-0000-000000000000' }))).toEqual([]);
    });

    it('shows a principal the refused attempts of others on its plan, and the other only its own', async () => {
      const skane = await bearer(SKANE);
      const carePlanId = await idOf('CarePlan');
      await api().get(`/fhir/CarePlan/${carePlanId}`).set(auth(skane)).expect(403);
      // Skåne's own plan, refused for its withdrawn consent: not the region's to review.
      await api().get(`/fhir/CarePlan/${await idOf('CarePlan', WITHDRAWN_PLAN)}`).set(auth(skane)).expect(403);
      await vi.waitFor(async () => { expect((await server.store.auditLog({ organization: SKANE, planId: PLAN })).length).toBeGreaterThan(0); });
      const bySkane = events(await search({ 'agent:identifier': `urn:oid:1.2.752.29.4.19|${SKANE}` }));
      // The region sees Skåne's attempt on its plan, not Skåne's reads of Skåne's own plan.
      expect(bySkane.length).toBeGreaterThan(0);
      for (const event of bySkane) {
        expect(event.entity?.[0]?.what?.identifier?.value).toBe(PLAN);
        expect(event.agent[0]?.who?.identifier?.value).toBe(SKANE);
      }
      expect(bySkane.map((event) => [event.subtype?.[0]?.code, event.outcome, event.outcomeDesc])).toContainEqual(['read', '4', 'refused (HTTP 403)']);
      expect(events(await search({ agent: SKANE }))).toEqual(bySkane);
      expect(events(await search({ 'agent:identifier': `urn:other|${SKANE}` }))).toEqual([]);
      // Skåne sees only its own entries, also about the region's plan's person.
      const person = (await server.store.get(PLAN))?.plan.individual.identifier.value ?? '';
      const seenBySkane = events(await search({ 'patient:identifier': person }, skane));
      expect(seenBySkane.length).toBeGreaterThan(0);
      for (const event of seenBySkane) expect(event.agent[0]?.who?.identifier?.value).toBe(SKANE);
      // An organisation that made no call about the person sees nothing of it.
      expect(events(await search({ 'patient:identifier': person }, await bearer('SE2321000180-8888')))).toEqual([]);
    });

    it('pages newest first with _count and a next link, and narrows by date', async () => {
      const start = new Date(Date.now() - 1);
      const agent = await issueLocalToken({ org: REGION, subject: 'audit-pager', scopes: 'system/CarePlan.read', ttlSeconds: 3600 }, localKey(), NOW);
      for (let index = 0; index < 5; index++) await api().get(`/fhir/CarePlan/${await idOf('CarePlan')}`).set(auth(agent)).expect(200);
      await vi.waitFor(async () => { expect(await server.store.auditLog({ agent: 'audit-pager' })).toHaveLength(5); });
      const all = events(await search({ altid: 'audit-pager' }));
      expect(all).toHaveLength(5);
      const recorded = all.map((event) => event.recorded);
      expect(recorded).toEqual([...recorded].sort().reverse());
      const pages: AuditEvent[][] = [];
      const totals: (number | undefined)[] = [];
      const counting = vi.spyOn(server.store, 'auditCount');
      let next: string | undefined = '/fhir/AuditEvent?altid=audit-pager&_count=2';
      while (next !== undefined) {
        const page = (await api().get(next).set(auth()).expect(200)).body as Bundle;
        pages.push(events(page));
        totals.push(page.total);
        const link = page.link?.find((candidate) => candidate.relation === 'next')?.url;
        next = link === undefined ? undefined : path(link);
      }
      expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
      expect(pages.flat()).toEqual(all);
      // Bundle.total unasked: only where a page shows it, a first page with no next (R4 search.html#total leaves it to the server).
      expect(totals).toEqual([undefined, undefined, undefined]);
      expect((await search({ altid: 'audit-pager' })).total).toBe(5);
      // Not counted at all: a count reads every matching entry of the log.
      expect(counting).not.toHaveBeenCalled();
      // Asked: the matches on all pages, the same on every page; _total=none leaves it out.
      const counted: (number | undefined)[] = [];
      let nextCounted: string | undefined = '/fhir/AuditEvent?altid=audit-pager&_count=2&_total=accurate';
      while (nextCounted !== undefined) {
        const page = (await api().get(nextCounted).set(auth()).expect(200)).body as Bundle;
        counted.push(page.total);
        const link = page.link?.find((candidate) => candidate.relation === 'next')?.url;
        nextCounted = link === undefined ? undefined : path(link);
      }
      expect(counted).toEqual([5, 5, 5]);
      expect(counting).toHaveBeenCalledTimes(3);
      counting.mockRestore();
      expect((await search({ altid: 'audit-pager', _count: '0' })).total).toBe(5);
      expect((await search({ altid: 'audit-pager', _count: '0', _total: 'none' })).total).toBeUndefined();
      expect(events(await search({ altid: 'audit-pager', _count: '0' }))).toEqual([]);
      expect((await search({ altid: 'audit-pager', _total: 'estimate' })).total).toBe(5);
      expect((await search({ altid: 'audit-pager', _total: 'accurate' })).total).toBe(5);
      const withoutTotal = await search({ altid: 'audit-pager', _total: 'none', _count: '2' });
      expect(withoutTotal.total).toBeUndefined();
      expect(events(withoutTotal)).toEqual(all.slice(0, 2));
      expect(withoutTotal.link?.find((link) => link.relation === 'next')?.url).toContain('_total=none');
      expect(hasErrors(validator.validate(withoutTotal))).toBe(false);
      // Entries another organisation may not review are not counted for it.
      expect((await search({ altid: 'audit-pager' }, await bearer('SE2321000180-8888'))).total).toBe(0);
      expect((await search({ altid: 'audit-pager', date: `lt${start.toISOString()}` })).total).toBe(0);
      const [, second] = all;
      if (second === undefined) throw new Error('five events');
      // ge the second newest: it and the newer ones; lt it: the older ones (several may share a millisecond).
      expect(events(await search({ altid: 'audit-pager', date: `ge${second.recorded}` }))).toEqual(all.filter((event) => event.recorded >= second.recorded));
      expect(events(await search({ altid: 'audit-pager', date: [`ge${start.toISOString()}`, `lt${second.recorded}`] }))).toEqual(all.filter((event) => event.recorded < second.recorded));
      expect(events(await search({ altid: 'audit-pager', date: `eq${second.recorded}` }))).toEqual(all.filter((event) => event.recorded === second.recorded));
      expect(events(await search({ altid: 'audit-pager', date: `lt${start.toISOString()}` }))).toEqual([]);
      expect(events(await search({ altid: 'audit-pager', date: [`ge${second.recorded}`, `lt${second.recorded}`] }))).toEqual([]);
    });

    it('reads one AuditEvent by id, only one the organisation may see', async () => {
      const [event] = events(await search({ _count: '1', agent: REGION }));
      if (event?.id === undefined) throw new Error('the region has entries');
      const read = await api().get(`/fhir/AuditEvent/${event.id}`).set(auth()).expect(200);
      expect(read.headers['content-type']).toContain('application/fhir+json');
      expect(read.body).toEqual(event);
      // The region's own search names no plan of Skåne's: Skåne may not see it, and is told only that it is not there.
      const hidden = await api().get(`/fhir/AuditEvent/${event.id}`).set(auth(await bearer(STRANGER))).expect(404);
      expect((hidden.body as OperationOutcome).issue[0]?.code).toBe('not-found');
      await api().get('/fhir/AuditEvent/99999999999').set(auth()).expect(404);
      await api().get('/fhir/AuditEvent/abc').set(auth()).expect(404);
    });

    it('needs system/AuditEvent.read (or .rs), answers bad parameters with 400, and audits reading the log', async () => {
      const readerOfPlans = await bearer(REGION, 'system/CarePlan.read');
      const refused = await api().get('/fhir/AuditEvent').set(auth(readerOfPlans)).expect(403);
      expect((refused.body as OperationOutcome).issue[0]?.diagnostics).toContain('system/AuditEvent.read');
      await api().get('/fhir/AuditEvent/1').set(auth(readerOfPlans)).expect(403);
      await api().get('/fhir/AuditEvent').expect(401);
      const v2 = await issueLocalToken({ org: REGION, subject: 'log-reviewer', scopes: 'system/AuditEvent.rs', ttlSeconds: 3600 }, localKey(), NOW);
      const person = (await server.store.get(PLAN))?.plan.individual.identifier.value ?? '';
      await api().get('/fhir/AuditEvent').query({ 'patient:identifier': person }).set(auth(v2)).expect(200);
      for (const query of [{ date: 'ne2026-01-01' }, { date: '2026-13' }, { colour: 'red' }, { _count: '1000' }, { _cursor: 'x' }, { patient: ['a', 'b'] }, { _total: 'exact' }]) {
        const bad = await api().get('/fhir/AuditEvent').query(query).set(auth()).expect(400);
        expect(bad.headers['content-type']).toContain('application/fhir+json');
      }
      await vi.waitFor(async () => {
        const [entry] = await server.store.auditLog({ agent: 'log-reviewer' });
        expect(entry).toMatchObject({ action: 'search', what: 'GET /fhir/AuditEvent', personIdentifier: person, outcome: 'success', organization: REGION });
      });
      const [reviewed] = await server.store.auditLog({ agent: 'log-reviewer' });
      // The review shows up in the log it reviews.
      expect(events(await search({ altid: 'log-reviewer' })).map((event) => [event.subtype?.[0]?.code, event.action, event.id])).toEqual([['search-type', 'E', reviewed?.id]]);
    });
  });
});
