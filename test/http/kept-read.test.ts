/**
 * A FHIR read by id answered without the plan document (`PlanStore.keptWithResource`, the kept read of
 * src/http/fhir-routes.ts): when the version's judging summary and the resource's kept text serve, access
 * and the instant's rules are judged on the summary and the text answered, and the plan is never brought;
 * otherwise the version is read again with its plan and judged as before.
 *
 * Differential, on the machine's PostgreSQL: two apps over one store, the same clock and the same
 * callers — one as the server runs, one whose store hands every version out without what was derived
 * from it, so that every candidate takes the read with the plan (the read as it was before the kept
 * read). Every resource of every example's view (and shared master data, which several plans have) and
 * of generated plans, by every HSA-id a plan names (principals, units, other actors), one issued under
 * each organisationsnummer it names, and a stranger, at instants before, during and after the consents:
 * the status, the body, ETag, Last-Modified and the content type, and the audit entry of each request
 * are equal. The kept read must have answered most of the principals' reads without a `get`.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { planResourceIds } from '../../src/fhir/index.js';
import { derivedVersion } from '../../src/http/derived-view.js';
import { parsePlan, type SipPlan } from '../../src/sip/index.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, readExample } from '../support/examples.js';
import { INSTANTS, NARROWED, STRANGER, callersOf, readLanes, withHsaIds } from '../support/read-differential.js';

describe('a FHIR read answered from the kept summary and text, without the plan document', () => {
  const now = INSTANTS[1] ?? new Date();
  const gets = { kept: 0, withPlan: 0 };
  const compared = { examples: 0, generated: 0, keptGenerated: 0 };

  /** The store as a lane's app sees it: `get` counted, and for `withPlan` no derived data on the versions without plan. */
  const lanes = readLanes(['kept', 'withPlan'], {
    headers: ['etag', 'last-modified', 'content-type'],
    seen: (store, lane) => ({
      get: (...args: Parameters<typeof store.get>) => {
        gets[lane] += 1;
        return store.get(...args);
      },
      keptWithResource: async (...args: Parameters<typeof store.keptWithResource>) => {
        const heads = await store.keptWithResource(...args);
        return lane === 'kept' ? heads : heads.map(({ derived: _derived, ...head }) => head);
      },
    }),
  });

  /** Asks both apps as `who` at `at`; true when the kept app answered without reading a version with its plan. */
  const compare = async (path: string, who: string, at: Date): Promise<boolean> => {
    lanes.as(who, at);
    const keptGets = gets.kept;
    const kept = await lanes.ask('kept', path);
    const withPlan = await lanes.ask('withPlan', path);
    expect(kept, `${path} by ${who} at ${at.toISOString()}`).toEqual(withPlan);
    return gets.kept === keptGets;
  };

  it('answers every resource of every example as the read with the plan does, by every caller, at every instant', async () => {
    let withoutPlan = 0;
    const resources = new Map<string, SipPlan[]>();
    const plans = [...exampleFiles.map(readExample), NARROWED];
    for (const plan of plans) for (const { resourceType, id } of planResourceIds(plan)) resources.set(`${resourceType}/${id}`, [...(resources.get(`${resourceType}/${id}`) ?? []), plan]);
    for (const [key, having] of resources) {
      const callers = [...new Set(having.flatMap(callersOf))];
      // Every instant for the CarePlans; the consent in force and expired for the rest (the requests are many).
      const instants = key.startsWith('CarePlan/') ? INSTANTS : INSTANTS.slice(1, 3);
      for (const who of callers) {
        for (const at of instants) {
          if (await compare(`/fhir/${key}`, who, at)) withoutPlan += 1;
        }
      }
      if (key.startsWith('CarePlan/')) {
        for (const who of callers) {
          await compare(`/fhir/${key}?_summary=true`, who, INSTANTS[1] ?? now);
          await compare(`/fhir/${key}?_elements=status,subject`, who, INSTANTS[1] ?? now);
        }
      }
    }
    await compare('/fhir/CarePlan/no-such-careplan', STRANGER, INSTANTS[1] ?? now);
    await compare('/fhir/NoSuchType/x', STRANGER, INSTANTS[1] ?? now);
    const statuses = new Set(lanes.audits.kept.map((entry) => Number(entry.detail)));
    compared.examples = lanes.audits.kept.length;
    // Answered, refused for access and for consent, and not found all occurred; most reads were kept reads.
    expect([...statuses].sort()).toEqual(expect.arrayContaining([200, 403, 404]));
    expect(lanes.audits.kept.some((entry) => entry.outcome === 'refused' && entry.planId !== undefined)).toBe(true);
    expect(withoutPlan).toBeGreaterThan(100);
    expect(gets.withPlan).toBeGreaterThan(gets.kept);
  }, 600_000);

  it('answers generated plans as the read with the plan does', async () => {
    let withoutPlan = 0;
    const entriesBefore = lanes.audits.kept.length;
    await fc.assert(
      fc.asyncProperty(mappablePlanArbitrary, fc.uuid(), async (json, suffix) => {
        const parsed = parsePlan({ ...json, id: `sip-kept-${suffix}` });
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        const plan = withHsaIds(parsed.plan);
        const resources = planResourceIds(plan);
        await lanes.store.create(plan, 'system', resources, { derived: derivedVersion(plan) });
        const wanted = resources.filter((resource) => resource.resourceType === 'CarePlan' || resource.resourceType === 'Consent' || resource.resourceType === 'Goal');
        for (const { resourceType, id } of wanted) {
          for (const who of callersOf(plan)) {
            for (const at of [new Date(plan.updatedAt), INSTANTS[3] ?? now]) if (await compare(`/fhir/${resourceType}/${id}`, who, at)) withoutPlan += 1;
          }
        }
      }),
      { numRuns: 12 },
    );
    expect(withoutPlan).toBeGreaterThan(0);
    expect(lanes.audits.kept.slice(entriesBefore).filter((entry) => entry.detail === '200').length).toBeGreaterThan(20);
    compared.generated = lanes.audits.kept.length - compared.examples;
    compared.keptGenerated = withoutPlan;
  }, 600_000);

  afterAll(() => {
    // How many reads were compared, for the record of a run.
    console.log(`kept-read: ${JSON.stringify(compared)}`);
  });
});
