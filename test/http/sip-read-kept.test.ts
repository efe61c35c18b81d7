/**
 * A SIP read (`GET /sip/plans/{id}`) and search (`GET /sip/plans?…`) of a version whose judging summary,
 * traffic light and status were kept with it (migration 11, src/http/derived-view.ts `derivedVersion`)
 * judge on the summary and answer the plan's stored text with the kept light and status: they parse no
 * plan document (src/http/sip-routes.ts `planBodyText`). Differential, on the machine's PostgreSQL: two
 * apps over one store, the same clock and callers — `kept` as the server runs, `plan` whose store hands
 * out each version with its send basis alone (as a row derived before migration 8), so it judges on the
 * whole plan and computes the light and status from it. Every example and a version an other actor
 * reads narrowed, by every HSA-id a plan names, one issued under each organisationsnummer it names and a
 * stranger, at instants before, during and after the consents, and generated plans: the status, the
 * body's bytes, ETag and Content-Type, and the audit entry of each request are equal. And the `kept`
 * lane reads no version's plan for a principal's (or a unit's) read it answers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planResourceIds } from '../../src/fhir/index.js';
import { derivedVersion } from '../../src/http/derived-view.js';
import { parsePlan, type SipPlan } from '../../src/sip/index.js';
import type { PlanStore, StoredPlan } from '../../src/store/index.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, readExample } from '../support/examples.js';
import { INSTANTS, NARROWED, callersOf, readLanes, withHsaIds } from '../support/read-differential.js';

/** How often the `kept` lane's app read a version's `plan` (which parses its document). */
let planReads = 0;

/** The version as the store gave it, counting the reads of its plan; every other member (and the store's symbols on it) as it is. */
function counted(stored: StoredPlan): StoredPlan {
  return new Proxy(stored, {
    get(target, key) {
      if (key === 'plan') planReads += 1;
      return Reflect.get(target, key, target) as unknown;
    },
  });
}

/** The version with its send basis alone, as a row derived before the summary was kept: read and judged on its plan. */
function basisAlone(stored: StoredPlan): StoredPlan {
  const { derived } = stored;
  if (derived === undefined) return stored;
  return { ...stored, derived: { basis: derived.basis, texts: derived.texts } };
}

const lanes = readLanes(['kept', 'plan'], {
  headers: ['etag', 'content-type'],
  seen: (store: PlanStore, lane) => ({
    get: async (...args: Parameters<PlanStore['get']>) => {
      const stored = await store.get(...args);
      if (stored === undefined) return undefined;
      return lane === 'kept' ? counted(stored) : basisAlone(stored);
    },
    search: async (...args: Parameters<PlanStore['search']>) => {
      const found = await store.search(...args);
      return { ...found, plans: found.plans.map(lane === 'kept' ? counted : basisAlone) };
    },
  }),
});

/** The HSA-ids of the plan's principals and their units: callers who read it whole. */
function wholeReaders(plan: SipPlan): Set<string> {
  return new Set(plan.principals.flatMap((principal) => [principal.hsaId, ...principal.units.map((unit) => unit.hsaId)]).filter((id) => id !== undefined));
}

/** Each caller's read and person search of `plan` at `at`, equal in both lanes; the number of reads the `kept` lane answered a whole reader without reading a plan. */
async function compare(plan: SipPlan, at: Date): Promise<number> {
  let unparsed = 0;
  const whole = wholeReaders(plan);
  for (const who of callersOf(plan)) {
    lanes.as(who, at);
    const path = `/sip/plans/${plan.id}`;
    const before = planReads;
    const kept = await lanes.ask('kept', path);
    const read = planReads - before;
    expect(kept, `${path} by ${who} at ${at.toISOString()}`).toEqual(await lanes.ask('plan', path));
    if (kept.status === 200 && whole.has(who)) {
      expect(read, `${path} by ${who}: the plan read`).toBe(0);
      unparsed += 1;
    }
    const search = `/sip/plans?person=${plan.individual.identifier.value}`;
    expect(await lanes.ask('kept', search), `${search} by ${who} at ${at.toISOString()}`).toEqual(await lanes.ask('plan', search));
  }
  return unparsed;
}

describe('a SIP read and search on the kept summary, traffic light and status', () => {
  it('answer every example, and a plan an other actor reads narrowed, as on the whole plan, by every caller, at every instant, without reading a plan a principal reads', async () => {
    let unparsed = 0;
    for (const plan of [...exampleFiles.map(readExample), NARROWED]) for (const at of INSTANTS) unparsed += await compare(plan, at);
    const statuses = new Set(lanes.audits.kept.map((entry) => Number(entry.detail)));
    expect([...statuses]).toEqual(expect.arrayContaining([200, 403]));
    expect(unparsed).toBeGreaterThan(20);
  }, 300_000);

  it('answer generated plans as on the whole plan', async () => {
    let unparsed = 0;
    await fc.assert(
      fc.asyncProperty(mappablePlanArbitrary, fc.uuid(), async (json, suffix) => {
        const parsed = parsePlan({ ...json, id: `sip-kept-${suffix}` });
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        const plan = withHsaIds(parsed.plan);
        await lanes.store.create(plan, 'system', planResourceIds(plan), { derived: derivedVersion(plan) });
        for (const at of [new Date(plan.updatedAt), INSTANTS[3] ?? new Date()]) unparsed += await compare(plan, at);
      }),
      { numRuns: 40 },
    );
    expect(unparsed).toBeGreaterThan(20);
  }, 300_000);
});
