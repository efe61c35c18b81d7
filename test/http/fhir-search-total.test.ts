/**
 * The CarePlan search's `total` and its walk (src/http/fhir-routes.ts): a search that needs every match
 * — `_total=accurate`, `_summary=count`, `_count=0`, `_sort` — counts them all; any other stops at the
 * first sendable plan after its page, which shows there is a next page, and gives no total unless the
 * walk ended by itself (Bundle.total is 0..1, and without `_total` the server chooses:
 * https://hl7.org/fhir/R4/search.html#total). Its `next` link pages after the page's last plan
 * (`_cursor`), and following the links gives every plan once.
 */
import type { Bundle, CarePlan } from 'fhir/r4.js';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPlan, startTestServer, type TestServer } from '../support/http-server.js';

const PLANS = ['sip-total-a', 'sip-total-b', 'sip-total-c', 'sip-total-d', 'sip-total-e'];

describe.each(['pglite', 'postgres'] as const)('the CarePlan search\'s total on %s', (driver) => {
  let test: TestServer;

  beforeAll(async () => {
    test = await startTestServer(driver);
    for (const id of PLANS) await request(test.url).post('/sip/plans').set('Authorization', `Bearer ${test.token}`).send(freshPlan(id)).expect(201);
  }, 120_000);

  afterAll(async () => {
    await test.close();
  });

  const searchset = async (pathAndQuery: string): Promise<Bundle> => {
    const response = await request(test.url).get(pathAndQuery).set('Authorization', `Bearer ${test.token}`).expect(200);
    return response.body as Bundle;
  };
  const matches = (bundle: Bundle): string[] => (bundle.entry ?? []).filter((entry) => entry.search?.mode === 'match').map((entry) => (entry.resource as CarePlan).identifier?.[0]?.value ?? '?');
  const next = (bundle: Bundle): string | undefined => bundle.link?.find((link) => link.relation === 'next')?.url;

  it('gives no total for a page with more after it, and a next link', async () => {
    const first = await searchset('/fhir/CarePlan?_count=2');
    expect(matches(first)).toEqual(PLANS.slice(0, 2));
    expect(first.total).toBeUndefined();
    // The next page is after the page's last plan, not at an offset.
    const link = new URL(next(first) ?? 'http://none');
    expect(link.searchParams.get('_cursor')).toBe('sip-total-b');
    expect(link.searchParams.get('_offset')).toBeNull();
    expect(link.searchParams.get('_count')).toBe('2');
    const threeOfFive = await searchset('/fhir/CarePlan?_count=3');
    expect(threeOfFive.total).toBeUndefined();
    expect(next(threeOfFive)).toBeDefined();
    // The one plan after the page is the last: the walk, taking it to show a next page, ended by itself.
    const fourOfFive = await searchset('/fhir/CarePlan?_count=4');
    expect(fourOfFive.total).toBe(5);
    expect(next(fourOfFive)).toBeDefined();
  });

  it('gives the total when the walk reached the end by itself: the last page, or a page that holds every match', async () => {
    const last = await searchset('/fhir/CarePlan?_count=2&_offset=4');
    expect(matches(last)).toEqual(PLANS.slice(4));
    expect(last.total).toBe(5);
    expect(next(last)).toBeUndefined();
    expect((await searchset('/fhir/CarePlan?_count=5')).total).toBe(5);
    expect((await searchset('/fhir/CarePlan?_count=2&_offset=9')).total).toBe(5);
  });

  it('counts every match when asked to: _total=accurate, _summary=count, _count=0, _sort', async () => {
    const accurate = await searchset('/fhir/CarePlan?_count=2&_total=accurate');
    expect(matches(accurate)).toEqual(PLANS.slice(0, 2));
    expect(accurate.total).toBe(5);
    expect((await searchset('/fhir/CarePlan?_summary=count')).total).toBe(5);
    expect((await searchset('/fhir/CarePlan?_count=0')).total).toBe(5);
    expect((await searchset('/fhir/CarePlan?_count=2&_sort=-_lastUpdated')).total).toBe(5);
    expect((await searchset('/fhir/CarePlan?_count=2&_total=none')).total).toBeUndefined();
  });

  it('pages after a cursor: the plans after it, no total, 400 for a malformed one or one beside a count', async () => {
    const after = await searchset('/fhir/CarePlan?_cursor=sip-total-c&_count=1');
    expect(matches(after)).toEqual(['sip-total-d']);
    expect(after.total).toBeUndefined();
    expect(new URL(next(after) ?? 'http://none').searchParams.get('_cursor')).toBe('sip-total-d');
    expect(matches(await searchset('/fhir/CarePlan?_cursor=sip-total-c&_offset=1&_count=5'))).toEqual(['sip-total-e']);
    // The end: nothing after the last plan, and no next link.
    const end = await searchset('/fhir/CarePlan?_cursor=sip-total-e');
    expect(matches(end)).toEqual([]);
    expect(next(end)).toBeUndefined();
    // A cursor need not be a plan that is there: the plans after it in order.
    expect(matches(await searchset('/fhir/CarePlan?_cursor=sip-total-bb&_count=1'))).toEqual(['sip-total-c']);
    // The same on the few plans of one _id or patient, read at once rather than walked.
    const carePlanIds = (await searchset('/fhir/CarePlan?_count=5')).entry?.map((entry) => entry.resource?.id ?? '?') ?? [];
    expect(matches(await searchset(`/fhir/CarePlan?_id=${carePlanIds.join(',')}&_cursor=sip-total-c`))).toEqual(['sip-total-d', 'sip-total-e']);
    for (const query of ['_cursor=a%20b', '_cursor=sip-total-c&_total=accurate', '_cursor=sip-total-c&_sort=date', '_cursor=sip-total-c&_summary=count']) {
      const refused = await request(test.url).get(`/fhir/CarePlan?${query}`).set('Authorization', `Bearer ${test.token}`).expect(400);
      expect(JSON.stringify(refused.body)).toContain('_cursor');
    }
  });

  it('gives every plan once, in order, to a client that follows the next links', async () => {
    const seen: string[] = [];
    let url: string | undefined = `${test.url}/fhir/CarePlan?_count=2`;
    let pages = 0;
    while (url !== undefined && pages < 10) {
      const bundle = await searchset(url.slice(test.url.length));
      seen.push(...matches(bundle));
      url = next(bundle);
      pages += 1;
    }
    expect(seen).toEqual(PLANS);
    expect(pages).toBe(3);
  });

  // Last: it records a plan the others do not expect.
  it('keeps the next page where it was when a plan is recorded before it meanwhile', async () => {
    const first = await searchset('/fhir/CarePlan?_count=2');
    await request(test.url).post('/sip/plans').set('Authorization', `Bearer ${test.token}`).send(freshPlan('sip-total-aa')).expect(201);
    const second = await searchset((next(first) ?? '').slice(test.url.length));
    expect(matches(second)).toEqual(['sip-total-c', 'sip-total-d']);
  });

  // Last too: it withdraws consents.
  it('answers a page after a cursor whose plans may no longer be sent with an empty page and the outcome, not a refusal', async () => {
    for (const id of ['sip-total-d', 'sip-total-e']) {
      await request(test.url).post(`/sip/plans/${id}/consents/consent-1/withdrawal`).set('Authorization', `Bearer ${test.token}`).send({ withdrawnBy: 'individual', recordedBy: 'prof-anna-lind' }).expect(201);
    }
    const after = await searchset('/fhir/CarePlan?_cursor=sip-total-c');
    expect(matches(after)).toEqual([]);
    expect(after.entry?.filter((entry) => entry.search?.mode === 'outcome')).toHaveLength(1);
    const all = await searchset('/fhir/CarePlan?_count=10');
    expect(matches(all)).toEqual(['sip-total-a', 'sip-total-aa', 'sip-total-b', 'sip-total-c']);
    expect(all.total).toBe(4);
  });
});
