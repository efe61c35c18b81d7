/**
 * The journey issue #11 asks of the service, end to end over HTTP on a loopback port, on the
 * embedded store and on the machine's PostgreSQL: every example plan created through the SIP API and
 * read back as FHIR; both principals approving (the light turns green) and an edit turning the edited
 * part's light back; searches for overdue follow-ups and for consents that end soon.
 *
 * The expected plans, lights and search hits below were read off the example files by hand.
 */
import type { Bundle } from 'fhir/r4.js';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueLocalToken } from '../../src/http/auth/index.js';
import { IDENTIFIER_SYSTEM, bundleToPlan, fhirNormalForm } from '../../src/fhir/index.js';
import type { SipPlan } from '../../src/sip/index.js';
import { exampleFiles, readExample } from '../support/examples.js';
import { DRIVERS, NOW, startTestServer, type TestServer } from '../support/http-server.js';

interface PlanAnswer {
  version: number;
  status: string;
  trafficLight: string;
  plan?: SipPlan;
}

/** An example as a new plan: version 1, not approved (the examples' approvals name later versions). */
function asNewPlan(example: SipPlan): SipPlan {
  return { ...example, version: 1, approvals: [] };
}

describe.each(DRIVERS)('a plan through the service on %s', (_name, driver) => {
  let running: TestServer;
  /** The server's clock: NOW, but for a read that must happen while a later consent is in force. */
  let now = NOW;

  const api = () => request(running.url);
  const auth = () => ({ Authorization: `Bearer ${running.token}` });
  /** A token of the organisation with this HSA-id, with every scope, signed by the server's own key, issued now. */
  const authOf = async (hsaId: string) => {
    const { authenticator } = running.server;
    if (authenticator.mode !== 'local') throw new Error('the test server signs its own tokens');
    return { Authorization: `Bearer ${await issueLocalToken({ org: hsaId, scopes: 'system/*.*', ttlSeconds: 3600 }, authenticator.localKey, now)}` };
  };
  /** The HSA-id of the plan's region: the caller who records and reads it. */
  const regionOf = (plan: SipPlan): string => {
    const hsaId = plan.principals.find((principal) => principal.kind === 'region')?.hsaId;
    if (hsaId === undefined) throw new Error(`${plan.id} names its region's HSA-id`);
    return hsaId;
  };

  beforeAll(async () => {
    running = await startTestServer(driver, { clock: () => now });
  }, 60_000);
  afterAll(async () => {
    await running.close();
  });

  it('creates every example through POST /sip/plans and reads each back as FHIR with the plan it holds', async () => {
    for (const file of exampleFiles) {
      const plan = asNewPlan(readExample(file));
      let region = await authOf(regionOf(plan));
      await api().post('/sip/plans').set(region).send(plan).expect(201);
      // The protected-identity plan's consent is given from 2026-04-07: before then nothing of it
      // may be sent (consent.missing), from then on it is read like the others.
      if (file === 'protected-identity.json') {
        const early = await api().get('/fhir/CarePlan').query({ identifier: plan.id }).set(region).expect(403);
        expect(JSON.stringify(early.body)).toContain('consent.missing');
        now = new Date('2026-04-08T09:00:00+02:00');
        region = await authOf(regionOf(plan));
      }
      const search = api().get('/fhir/CarePlan').query({ identifier: `${IDENTIFIER_SYSTEM.sipPlan}|${plan.id}`, _include: '*', _revinclude: '*' }).set(region);
      if (file === 'closed-consent-withdrawn.json') {
        // The person withdrew their consent (consent-1 has a withdrawal): the plan is stored but never sent.
        const refused = await search.expect(403);
        expect(JSON.stringify(refused.body)).toContain('consent.withdrawn');
        continue;
      }
      let answer: Awaited<typeof search>;
      try {
        answer = await search;
      } finally {
        now = NOW;
      }
      expect(answer.status, `${file}: ${JSON.stringify(answer.body)}`).toBe(200);
      const bundle = answer.body as Bundle;
      expect(bundle.total, file).toBe(1);
      const read = bundleToPlan(bundle);
      if (!read.ok) throw new Error(`${file}: ${JSON.stringify(read.outcome)}`);
      // Up to the mapping's documented normal form (a birth date from the personnummer, nothing of a
      // protected person's whereabouts): src/fhir/normal-form.ts.
      expect(read.plan, file).toEqual(fhirNormalForm(plan));
    }
  });

  it("turns the light green when both principals approve, and back to yellow when one principal's part is edited", async () => {
    const plan = { ...asNewPlan(readExample('adult-psychiatry-addiction.json')), id: 'sip-journey-approvals' };
    plan.consents = plan.consents.map((consent) => ({ ...consent, planId: plan.id }));
    const created = (await api().post('/sip/plans').set(auth()).send(plan).expect(201)).body as PlanAnswer;
    expect(created).toMatchObject({ version: 1, trafficLight: 'red', status: 'draft' });

    const region = (await api().post(`/sip/plans/${plan.id}/approvals`).set(auth()).send({ principal: 'region-dalarna', approvedBy: 'prof-erik-berg' }).expect(201)).body as PlanAnswer;
    expect(region).toMatchObject({ version: 2, trafficLight: 'yellow', status: 'draft' });
    const both = (await api().post(`/sip/plans/${plan.id}/approvals`).set(auth()).send({ principal: 'falu-kommun', approvedBy: 'prof-lars-nyman' }).expect(201)).body as PlanAnswer;
    expect(both).toMatchObject({ version: 3, trafficLight: 'green', status: 'active' });

    // int-1 (medication at the psychiatric clinic) is the region's: editing it withdraws the region's
    // approval only, so the light goes back to yellow and the plan back to draft.
    const current = both.plan;
    if (current === undefined) throw new Error('the approved plan is sent with its answer');
    const edited = { ...current, interventions: current.interventions.map((item) => (item.id === 'int-1' ? { ...item, description: `${item.description} Dosen ses över i maj.` } : item)) };
    const afterEdit = (await api().put(`/sip/plans/${plan.id}`).set(auth()).set('If-Match', 'W/"3"').send(edited).expect(200)).body as PlanAnswer;
    expect(afterEdit).toMatchObject({ version: 4, trafficLight: 'yellow', status: 'draft' });

    // The municipality's part (int-4, boendestöd) did not change: one new approval by the region is enough.
    const again = (await api().post(`/sip/plans/${plan.id}/approvals`).set(auth()).send({ principal: 'region-dalarna', approvedBy: 'prof-erik-berg' }).expect(201)).body as PlanAnswer;
    expect(again).toMatchObject({ version: 5, trafficLight: 'green', status: 'active' });
  });

  it('finds overdue follow-ups and consents that end before a date', async () => {
    // A search finds only the plans the caller may see: ask as each example's region, and gather.
    const regions = exampleFiles.map((file) => regionOf(readExample(file)));
    const ids = async (query: Record<string, string>): Promise<string[]> => {
      const found: PlanAnswer[] = [];
      for (const region of regions) found.push(...((await api().get('/sip/plans').query(query).set(await authOf(region)).expect(200)).body as { plans: PlanAnswer[] }).plans);
      return found.map((answer) => answer.plan?.id ?? '').sort();
    };
    // At 2026-04-01 (the test clock) the open plans with an unheld follow-up dated before it are
    // Linköping's (2026-03-19) and Örebro's (2026-01-22); Malmö's (2026-03-10) plan is closed.
    expect(await ids({ overdue: 'true' })).toEqual(['sip-linkoping-2026-0077', 'sip-orebro-2025-0219']);
    // Consents not withdrawn ending by 2026-10-31: Umeå (2026-08-24) and Örebro (2026-10-05);
    // Malmö's ends 2026-10-26 but was withdrawn.
    expect(await ids({ consentEndsBy: '2026-10-31' })).toEqual(['sip-orebro-2025-0219', 'sip-umea-2025-0318']);
    expect(await ids({ consentEndsBy: '2026-08-23' })).toEqual([]);
  });
});
