/**
 * A FHIR CarePlan search walked without the plan documents (`PlanStore.searchHeads`, the kept walk of
 * src/http/fhir-routes.ts): when every version of a store page has a judging summary that serves and
 * the caller does not read it narrowed, access and the instant's rules are judged on the summaries and
 * the matches answered from the CarePlans' kept texts; otherwise the page is read with its plans and
 * judged as before.
 *
 * Differential, on the machine's PostgreSQL: two apps over one store, the same clock and the same
 * callers — one as the server runs, one whose store hands every head out without what was derived from
 * it, so that every page is read with its plans (the search as it was before the kept walk). Searches by
 * each example's person (and of generated plans), over every plan, paged, counted, subsetted, sorted,
 * by date, by `_lastUpdated` and by status (as recorded with each version) — and, read with their plans
 * in both, with `_include` —
 * by every HSA-id the plans name (principals, units, other actors, among them one that reads a plan
 * narrowed), one issued under each organisationsnummer they name, and a stranger, at instants before,
 * during and after the consents: the status, the body, the content type and the audit entry of each
 * request are equal. The kept walk must have answered most searches without reading a plan.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { planResourceIds } from '../../src/fhir/index.js';
import { personIdentifier } from '../../src/fhir/write/patient.js';
import { derivedVersion } from '../../src/http/derived-view.js';
import { parsePlan, type SipPlan } from '../../src/sip/index.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, readExample } from '../support/examples.js';
import { INSTANTS, NARROWED, callersOf, readLanes, withHsaIds } from '../support/read-differential.js';

/** Searches over every plan, asked of each caller: plain, paged, counted, subsetted, sorted, by date and update. */
const OVER_EVERY_PLAN = [
  '/fhir/CarePlan',
  '/fhir/CarePlan?_count=2&_offset=1',
  '/fhir/CarePlan?_summary=count',
  '/fhir/CarePlan?_summary=true',
  '/fhir/CarePlan?_elements=status,subject',
  '/fhir/CarePlan?_sort=-_lastUpdated&_count=3',
  '/fhir/CarePlan?_sort=date,-_lastUpdated',
  '/fhir/CarePlan?date=ge2026-01-01',
  '/fhir/CarePlan?_lastUpdated=ge2020-01-01&_count=4',
  // By the status recorded with each version (filtered in SQL, one or several, and again on the heads).
  '/fhir/CarePlan?status=active',
  '/fhir/CarePlan?status=draft,active',
  '/fhir/CarePlan?status=revoked,completed&_count=2',
  // Read with its plans in both apps: an include maps the plan.
  '/fhir/CarePlan?_include=CarePlan:subject',
];

/** Searches by one person. */
function byPerson(plan: SipPlan): string[] {
  const { system, value } = personIdentifier(plan.individual.identifier);
  const person = `patient:identifier=${encodeURIComponent(`${system}|${value}`)}`;
  return [
    `/fhir/CarePlan?${person}`,
    `/fhir/CarePlan?${person}&_summary=true`,
    `/fhir/CarePlan?${person}&_revinclude=*`,
    `/fhir/CarePlan?${person}&status=active`,
    `/fhir/CarePlan?${person}&status=draft,revoked,completed`,
  ];
}

describe('a FHIR CarePlan search walked from the kept summaries and texts, without the plan documents', () => {
  /** Store calls that bring plan documents: `search` pages and `get`s. */
  const withPlans = { kept: 0, withPlan: 0 };
  const compared = { searches: 0, withoutPlans: 0 };

  /** The store as a lane's app sees it: reads with plans counted, and for `withPlan` no derived data on the heads. */
  const lanes = readLanes(['kept', 'withPlan'], {
    headers: ['etag', 'last-modified', 'content-type'],
    seen: (store, lane) => ({
      get: (...args: Parameters<typeof store.get>) => {
        withPlans[lane] += 1;
        return store.get(...args);
      },
      search: (...args: Parameters<typeof store.search>) => {
        withPlans[lane] += 1;
        // A walk counts what it judges itself: a count of the store on each of its pages would make it quadratic.
        expect(args[0].total, 'a FHIR search walks the store uncounted').toBe(false);
        return store.search(...args);
      },
      searchHeads: async (...args: Parameters<typeof store.searchHeads>) => {
        expect(args[0].total, 'a FHIR search walks the store uncounted').toBe(false);
        // A walk over the store judges on the summaries; the texts are read for the page alone (keptTexts).
        // A person's few plans are read with their texts, which are the page.
        if (args[0].personIdentifier === undefined) expect(args[0].derived?.text, 'a FHIR search walks the store\'s summaries without the texts').toBe(false);
        else expect(args[0].derived?.text, 'a person\'s plans are read with their texts').toBeUndefined();
        const { total, plans } = await store.searchHeads(...args);
        return { total, plans: lane === 'kept' ? plans : plans.map(({ derived: _derived, ...head }) => head) };
      },
    }),
  });

  /** Asks both apps as `who` at `at`; true when the kept app answered without reading a plan. */
  const compare = async (path: string, who: string, at: Date): Promise<boolean> => {
    lanes.as(who, at);
    const before = withPlans.kept;
    const kept = await lanes.ask('kept', path);
    const withPlan = await lanes.ask('withPlan', path);
    expect(kept, `${path} by ${who} at ${at.toISOString()}`).toEqual(withPlan);
    compared.searches += 1;
    const withoutPlans = withPlans.kept === before;
    if (withoutPlans) compared.withoutPlans += 1;
    return withoutPlans;
  };

  it('answers every search of the examples as the walk with the plans does, by every caller, at every instant', async () => {
    const plans = [...exampleFiles.map(readExample), NARROWED];
    // A plan recorded without derived data: the kept walk reads its page with the plans (and the first search derives it).
    const bare = { ...NARROWED, id: 'sip-kept-bare', consents: NARROWED.consents.map((consent) => ({ ...consent, planId: 'sip-kept-bare' })) };
    await lanes.store.create(bare, 'system', planResourceIds(bare));
    plans.push(bare);
    const callers = [...new Set(plans.flatMap(callersOf))];
    let keptWalks = 0;
    let keptByStatus = 0;
    for (const plan of plans) {
      for (const path of byPerson(plan)) {
        for (const who of callersOf(plan)) {
          for (const at of INSTANTS) {
            if (!(await compare(path, who, at))) continue;
            keptWalks += 1;
            if (path.includes('&status=')) keptByStatus += 1;
          }
        }
      }
    }
    for (const path of OVER_EVERY_PLAN) {
      for (const who of callers) {
        for (const at of INSTANTS.slice(1, 3)) await compare(path, who, at);
      }
    }
    const statuses = new Set(lanes.audits.kept.map((entry) => Number(entry.detail)));
    // Answered and refused (the consent expired) both occurred; most searches by a person were kept walks.
    expect([...statuses].sort()).toEqual(expect.arrayContaining([200, 403]));
    expect(keptWalks).toBeGreaterThan(100);
    // Searches by status walked the kept versions too (a status is recorded with each version).
    expect(keptByStatus).toBeGreaterThan(40);
    expect(withPlans.withPlan).toBeGreaterThan(withPlans.kept);
  }, 600_000);

  it('answers searches of generated plans as the walk with the plans does', async () => {
    const before = compared.withoutPlans;
    await fc.assert(
      fc.asyncProperty(mappablePlanArbitrary, fc.uuid(), async (json, suffix) => {
        const parsed = parsePlan({ ...json, id: `sip-kept-search-${suffix}` });
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        const plan = withHsaIds(parsed.plan);
        await lanes.store.create(plan, 'system', planResourceIds(plan), { derived: derivedVersion(plan) });
        for (const path of [...byPerson(plan), '/fhir/CarePlan?_sort=-_lastUpdated&_count=5']) {
          for (const who of callersOf(plan)) {
            for (const at of [new Date(plan.updatedAt), INSTANTS[3] ?? new Date()]) await compare(path, who, at);
          }
        }
      }),
      { numRuns: 12 },
    );
    expect(compared.withoutPlans - before).toBeGreaterThan(20);
  }, 600_000);

  afterAll(() => {
    // How many searches were compared, for the record of a run.
    console.log(`kept-search: ${JSON.stringify(compared)}`);
  });
});
