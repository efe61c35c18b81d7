/**
 * The CarePlan search's three ways to a page held to one another on a store where some plans may not
 * be sent (their consent withdrawn): the counted walk's one page of every match (`_total=accurate`),
 * pages at `_offset`, and pages reached by following `next` links (`_cursor`, a store page of
 * `_count` + 1 plans at a time). Whatever the filter and the page size, they give the same plans in the
 * same order, and a total only when they know it.
 */
import type { Bundle, CarePlan } from 'fhir/r4.js';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPlan, startTestServer, type TestServer } from '../support/http-server.js';

const PLANS = Array.from({ length: 9 }, (_, index) => `sip-paging-${String(index + 1).padStart(2, '0')}`);
/** Their consent withdrawn: found by a search, never sent. */
const WITHDRAWN = new Set(['sip-paging-01', 'sip-paging-04', 'sip-paging-05', 'sip-paging-09']);
const QUERIES = ['', 'status=draft', 'status=draft,active', 'status=active,completed,revoked', 'status=revoked', 'date=sa2026-01-01', 'date=lt2000-01-01'];

describe.each(['pglite', 'postgres'] as const)('CarePlan search pages on %s', (driver) => {
  let test: TestServer;

  beforeAll(async () => {
    test = await startTestServer(driver);
    for (const id of PLANS) await request(test.url).post('/sip/plans').set('Authorization', `Bearer ${test.token}`).send(freshPlan(id)).expect(201);
    for (const id of WITHDRAWN) {
      await request(test.url).post(`/sip/plans/${id}/consents/consent-1/withdrawal`).set('Authorization', `Bearer ${test.token}`).send({ withdrawnBy: 'individual', recordedBy: 'prof-anna-lind' }).expect(201);
    }
  }, 120_000);

  afterAll(async () => {
    await test.close();
  });

  const ask = async (query: string): Promise<{ status: number; bundle: Bundle }> => {
    const response = await request(test.url).get(`/fhir/CarePlan?${query}`).set('Authorization', `Bearer ${test.token}`);
    return { status: response.status, bundle: response.body as Bundle };
  };
  const matches = (bundle: Bundle): string[] => (bundle.entry ?? []).filter((entry) => entry.search?.mode === 'match').map((entry) => (entry.resource as CarePlan).identifier?.[0]?.value ?? '?');
  const next = (bundle: Bundle): string | undefined => bundle.link?.find((link) => link.relation === 'next')?.url;
  const and = (query: string, more: string): string => (query === '' ? more : `${query}&${more}`);

  it('gives the same plans by a counted page, by offsets and by following the links, for every filter and page size', async () => {
    let compared = 0;
    for (const query of QUERIES) {
      const all = await ask(and(query, '_count=200&_total=accurate'));
      for (const count of [1, 2, 3, 4]) {
        if (all.status !== 200) {
          // Every plan found may not be sent: each way answers the refusal alike.
          expect((await ask(and(query, `_count=${String(count)}`))).status, query).toBe(all.status);
          continue;
        }
        const expected = matches(all.bundle);
        expect(all.bundle.total, query).toBe(expected.length);
        for (const id of expected) expect(WITHDRAWN.has(id), `${id} may not be sent`).toBe(false);
        // By following the next links.
        const followed: string[] = [];
        let url: string | undefined = `/fhir/CarePlan?${and(query, `_count=${String(count)}`)}`;
        for (let pages = 0; url !== undefined && pages < 20; pages++) {
          const { status, bundle } = await ask(url.slice(url.indexOf('?') + 1));
          expect(status, url).toBe(200);
          followed.push(...matches(bundle));
          url = next(bundle);
        }
        expect(followed, `${query} _count=${String(count)} by next links`).toEqual(expected);
        // At each offset.
        for (let offset = 0; offset <= expected.length; offset += count) {
          const { bundle } = await ask(and(query, `_count=${String(count)}&_offset=${String(offset)}`));
          expect(matches(bundle), `${query} _count=${String(count)}&_offset=${String(offset)}`).toEqual(expected.slice(offset, offset + count));
          // A total only when the walk saw every match; a next link exactly when more follow.
          if (bundle.total !== undefined) expect(bundle.total).toBe(expected.length);
          expect(next(bundle) !== undefined, `${query} _offset=${String(offset)}: a next link`).toBe(offset + count < expected.length);
        }
        compared += 1;
      }
    }
    expect(compared).toBeGreaterThan(12);
  });
});
