/**
 * A SIP read (`GET /sip/plans/{id}`) answers the plan's stored JSON text spliced into its body instead
 * of serialising the parsed plan again (`documentTextOf`, src/store/plan-rows.ts; `sendPlanBody`,
 * src/http/sip-routes.ts). Differential, on the machine's PostgreSQL: two apps over one store, the same
 * clock and callers — one as the server runs, one whose store hands out a copy of each version (which
 * has no text, so its body is `response.json` of the plan as before). Every example, a version an other
 * actor reads narrowed, and generated plans, by every HSA-id a plan names, one issued under each
 * organisationsnummer it names and a stranger, at instants before, during and after the consents: the
 * status, the body's bytes, ETag and Content-Type, and the audit entry of each request are equal.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planResourceIds } from '../../src/fhir/index.js';
import { derivedVersion } from '../../src/http/derived-view.js';
import { parsePlan, type SipPlan } from '../../src/sip/index.js';
import { documentTextOf } from '../../src/store/index.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, readExample } from '../support/examples.js';
import { INSTANTS, NARROWED, callersOf, readLanes, withHsaIds } from '../support/read-differential.js';

describe('a SIP read answered with the stored text of its plan', () => {
  /** Versions the text lane's store handed out with their text. */
  let withText = 0;

  /** The store as a lane's app sees it: `text` as the server's, `json` a copy of each version (its plan read, no text). */
  const lanes = readLanes(['text', 'json'], {
    headers: ['etag', 'content-type'],
    seen: (store, lane) => ({
      get: async (...args: Parameters<typeof store.get>) => {
        const stored = await store.get(...args);
        if (stored === undefined) return undefined;
        if (lane === 'text') {
          if (documentTextOf(stored) !== undefined) withText += 1;
          return stored;
        }
        return { ...stored };
      },
    }),
  });

  const compare = async (plan: SipPlan, at: Date): Promise<void> => {
    for (const who of callersOf(plan)) {
      lanes.as(who, at);
      const path = `/sip/plans/${plan.id}`;
      expect(await lanes.ask('text', path), `${path} by ${who} at ${at.toISOString()}`).toEqual(await lanes.ask('json', path));
    }
  };

  it('answers every example, and a plan an other actor reads narrowed, as response.json did, by every caller, at every instant', async () => {
    for (const plan of [...exampleFiles.map(readExample), NARROWED]) for (const at of INSTANTS) await compare(plan, at);
    await compare({ ...NARROWED, id: 'sip-no-such-plan' }, INSTANTS[1] ?? new Date());
    const statuses = new Set(lanes.audits.text.map((entry) => Number(entry.detail)));
    expect([...statuses]).toEqual(expect.arrayContaining([200, 403, 404]));
    expect(withText).toBeGreaterThan(50);
  }, 300_000);

  it('answers generated plans as response.json did', async () => {
    const before = withText;
    const entriesBefore = lanes.audits.text.length;
    await fc.assert(
      fc.asyncProperty(mappablePlanArbitrary, fc.uuid(), async (json, suffix) => {
        const parsed = parsePlan({ ...json, id: `sip-text-${suffix}` });
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        const plan = withHsaIds(parsed.plan);
        await lanes.store.create(plan, 'system', planResourceIds(plan), { derived: derivedVersion(plan) });
        for (const at of [new Date(plan.updatedAt), INSTANTS[3] ?? new Date()]) await compare(plan, at);
      }),
      { numRuns: 40 },
    );
    expect(withText - before).toBeGreaterThan(40);
    const answered = lanes.audits.text.slice(entriesBefore).filter((entry) => entry.detail === '200').length;
    expect(answered).toBeGreaterThan(20);
  }, 300_000);
});
