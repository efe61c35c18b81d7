/**
 * `_sort` on the CarePlan search (https://hl7.org/fhir/R4/search.html#sort): the bounded selection
 * of the first plans held equal to sorting them all, and the search over HTTP with plans whose
 * recording instants and initiation days a human chose to disagree.
 */
import fc from 'fast-check';
import type { Bundle, CarePlan, OperationOutcome } from 'fhir/r4.js';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareRanked, sortOf, TopRanked, type Ranked, type SortBy } from '../../src/http/fhir-sort.js';
import { HttpError } from '../../src/http/problem.js';
import { freshPlan, NOW, startTestServer, type TestServer } from '../support/http-server.js';

describe('TopRanked', () => {
  const sortsArbitrary = fc.array(fc.record({ key: fc.constantFrom('_lastUpdated' as const, 'date' as const), descending: fc.boolean() }), { minLength: 1, maxLength: 2 });
  const rankedArbitrary = (width: number) =>
    fc.uniqueArray(
      fc.record({ values: fc.array(fc.constantFrom(-Infinity, 1, 2, 3, Infinity), { minLength: width, maxLength: width }), planId: fc.stringMatching(/^[a-e]{1,3}$/) }),
      { selector: (ranked) => ranked.planId, maxLength: 40 },
    );

  it('keeps what sorting every plan and taking the first would give, for any order of offers', () => {
    fc.assert(
      fc.property(
        sortsArbitrary.chain((sorts) => fc.tuple(fc.constant(sorts as SortBy[]), rankedArbitrary(sorts.length), fc.nat(45))),
        ([sorts, offered, limit]) => {
          const top = new TopRanked(sorts, limit);
          for (const ranked of offered) top.offer(ranked);
          const expected = [...offered].sort((a, b) => compareRanked(sorts, a, b)).slice(0, limit);
          expect(top.ranked).toEqual(expected);
        },
      ),
    );
  });

  it('orders by each key in turn, descending where asked, then by plan id', () => {
    const sorts: SortBy[] = [
      { key: 'date', descending: true },
      { key: '_lastUpdated', descending: false },
    ];
    const plans: Ranked[] = [
      { values: [1, 5], planId: 'b' },
      { values: [2, 9], planId: 'a' },
      { values: [1, 5], planId: 'a' },
      { values: [1, 3], planId: 'c' },
      { values: [-Infinity, 0], planId: 'd' },
    ];
    const top = new TopRanked(sorts, 4);
    for (const ranked of plans) top.offer(ranked);
    expect(top.ranked.map((ranked) => ranked.planId)).toEqual(['a', 'c', 'a', 'b']);
    expect(top.ranked[0]?.values).toEqual([2, 9]);
  });

  it('reads _sort and refuses a parameter it cannot sort by', () => {
    expect(sortOf([])).toBeUndefined();
    expect(sortOf(['-_lastUpdated', 'date'])).toEqual([
      { key: '_lastUpdated', descending: true },
      { key: 'date', descending: false },
    ]);
    expect(() => sortOf(['status'])).toThrow(HttpError);
    expect(() => sortOf(['-title'])).toThrow(/_sort=-title/);
  });
});

describe.each(['pglite', 'postgres'] as const)('GET /fhir/CarePlan?_sort on %s', (driver) => {
  let test: TestServer;
  // Recorded one second apart, in the order a, b, c, d; initiated on other days: d, a, c, b.
  const initiated: Readonly<Record<string, string>> = { 'sip-sort-a': '2026-02-08', 'sip-sort-b': '2026-02-10', 'sip-sort-c': '2026-02-09', 'sip-sort-d': '2026-02-07' };

  beforeAll(async () => {
    let tick = NOW.getTime();
    test = await startTestServer(driver, { clock: () => new Date((tick += 1000)) });
    for (const [id, day] of Object.entries(initiated)) {
      await request(test.url).post('/sip/plans').set('Authorization', `Bearer ${test.token}`).send({ ...freshPlan(id), initiatedAt: day }).expect(201);
    }
  }, 120_000);

  afterAll(async () => {
    await test.close();
  });

  const ids = async (query: string): Promise<string[]> => {
    const response = await request(test.url).get(`/fhir/CarePlan?${query}`).set('Authorization', `Bearer ${test.token}`).expect(200);
    return ((response.body as Bundle).entry ?? []).filter((entry) => entry.search?.mode === 'match').map((entry) => (entry.resource as CarePlan).identifier?.[0]?.value ?? '?');
  };

  it('sorts by _lastUpdated and date, either way, and pages through the order', async () => {
    expect(await ids('')).toEqual(['sip-sort-a', 'sip-sort-b', 'sip-sort-c', 'sip-sort-d']);
    expect(await ids('_sort=-_lastUpdated')).toEqual(['sip-sort-d', 'sip-sort-c', 'sip-sort-b', 'sip-sort-a']);
    expect(await ids('_sort=date')).toEqual(['sip-sort-d', 'sip-sort-a', 'sip-sort-c', 'sip-sort-b']);
    expect(await ids('_sort=-date')).toEqual(['sip-sort-b', 'sip-sort-c', 'sip-sort-a', 'sip-sort-d']);
    expect(await ids('_sort=-date&_count=2')).toEqual(['sip-sort-b', 'sip-sort-c']);
    expect(await ids('_sort=-date&_count=2&_offset=2')).toEqual(['sip-sort-a', 'sip-sort-d']);
    expect(await ids('_sort=-date&_count=2&_offset=4')).toEqual([]);
    expect(await ids('_sort=-date&date=sa2026-02-08&_include=*')).toEqual(['sip-sort-b', 'sip-sort-c']);
  });

  it('walks on past plans a filter leaves out to fill a page and to find the next (a store page of _count + 1 plans at a time)', async () => {
    // Initiated after 2026-02-08 (sa): b and c; a, read first, is left out.
    const first = (await request(test.url).get('/fhir/CarePlan?date=sa2026-02-08&_count=1').set('Authorization', `Bearer ${test.token}`).expect(200)).body as Bundle;
    expect(first.entry?.map((entry) => (entry.resource as CarePlan).identifier?.[0]?.value)).toEqual(['sip-sort-b']);
    const next = first.link?.find((link) => link.relation === 'next')?.url;
    expect(next).toBeDefined();
    expect(await ids(new URL(next ?? 'http://none').search.slice(1))).toEqual(['sip-sort-c']);
  });

  it('keeps _sort in the paging links and refuses a parameter it cannot sort by', async () => {
    const page = (await request(test.url).get('/fhir/CarePlan?_sort=date&_count=1').set('Authorization', `Bearer ${test.token}`).expect(200)).body as Bundle;
    expect(page.total).toBe(4);
    const next = page.link?.find((link) => link.relation === 'next')?.url ?? '';
    expect(new URL(next).searchParams.get('_sort')).toBe('date');
    expect(new URL(next).searchParams.get('_offset')).toBe('1');
    const refused = await request(test.url).get('/fhir/CarePlan?_sort=status').set('Authorization', `Bearer ${test.token}`).expect(400);
    expect((refused.body as OperationOutcome).issue[0]?.diagnostics).toContain('_sort=status');
  });
});
