/**
 * A read is data leaving (issue #11; "Consent is judged at the moment data leaves"): an organisation
 * admitted as a covered other actor reads the plan as a send to it would carry it, on every read
 * surface of `/sip` and `/fhir`, end to end over HTTP with tokens the server signs itself, on the
 * embedded store (PGlite) and on PostgreSQL.
 *
 * The plan is the adult example (examples/adult-psychiatry-addiction.json; version 3, one consent in
 * force 2026-02-12 – 2027-02-11 covering Region Dalarna, Falu kommun and Försäkringskassan and
 * excluding the class familySituation, "Uppgifter om tidigare relation och vårdnadstvist."). Region
 * Dalarna, a principal, records version 4 through `PUT /sip/plans/{id}`: goal-2 and int-4 tagged
 * familySituation with {@link ITEM_MARK} in their words, goal-3 tagged financialSituation (no consent
 * excludes it) with {@link KEPT_MARK}, and the consent's description of the exclusion holding
 * {@link DESCRIPTION_MARK}. Försäkringskassan (recorded by organisationsnummer only; its caller's
 * HSA-id is issued under it) is the covered other actor: no byte of what it is answered holds the item
 * mark or the description mark (of version 4 or of the example's own description, older versions
 * included), it still reads goal-3, and a resource narrowing removed is a 404. Region Dalarna reading
 * the same plan sees both marks: the control. Writes: the other actor's `PUT` of the plan and its
 * `POST /fhir` transaction are refused (what it was not shown would be lost); a change recorded as the
 * next version (a meeting) is made on the whole plan and answered narrowed.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDENTIFIER_SYSTEM, planResourceIds, planToBundle } from '../../src/fhir/index.js';
import type { RunningServer } from '../../src/http/server.js';
import type { SipPlan } from '../../src/sip/index.js';
import { readExample } from '../support/examples.js';
import { startTestServer, type TestServer } from '../support/http-server.js';

const PLAN = 'sip-falun-2026-0142';
/** Försäkringskassan as its caller names it: an HSA-id issued under 202100-5521, the organisationsnummer the plan records. */
const FK = 'SE2021005521-FK01';

/** In the words of the items tagged familySituation, which the consent excludes. */
const ITEM_MARK = 'UNDANTAGET-MARK-91c2e7';
/** In the person's own description of the exclusion. */
const DESCRIPTION_MARK = 'BESKRIVNING-MARK-3d8a40';
/** The example's own description, in versions 1–3. */
const EXAMPLE_DESCRIPTION = 'tidigare relation och vårdnadstvist';
/** In an item tagged with a class no consent excludes. */
const KEPT_MARK = 'BEHALLET-MARK-5f17b2';

const ADULT = readExample('adult-psychiatry-addiction.json');

/** Version 4 as Region Dalarna records it. */
const EDITED: SipPlan = {
  ...ADULT,
  consents: ADULT.consents.map((consent) => ({
    ...consent,
    excludedInformation: consent.excludedInformation.map((excluded) => ({ ...excluded, description: `Min vårdnadstvist (${DESCRIPTION_MARK})` })),
  })),
  goals: ADULT.goals.map((goal) =>
    goal.id === 'goal-2'
      ? { ...goal, description: `${goal.description} (${ITEM_MARK})`, informationClasses: ['familySituation' as const] }
      : goal.id === 'goal-3'
        ? { ...goal, description: `${goal.description} (${KEPT_MARK})`, informationClasses: ['financialSituation' as const] }
        : goal,
  ),
  interventions: ADULT.interventions.map((intervention) =>
    intervention.id === 'int-4' ? { ...intervention, description: `Boendestöd med hänsyn till ${ITEM_MARK}.`, informationClasses: ['familySituation' as const] } : intervention,
  ),
};

describe.each([
  ['the embedded store (PGlite)', 'pglite'],
  ['PostgreSQL', 'postgres'],
] as const)('reads narrowed for a covered other actor on %s', (_name, driver) => {
  let test: TestServer;
  let server: RunningServer;
  let region: string;
  let fk: string;
  /** The facade ids of the plan's resources, and of goal-2 (removed for FK) and goal-3 (kept). */
  let ids: { carePlan: string; consent: string; patient: string; removedGoal: string; keptGoal: string };

  const api = () => request(server.url);
  const as = (token: string) => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    test = await startTestServer(driver, { settings: { loadExamples: true } });
    server = test.server;
    // The server's clock (test/support/http-server.ts NOW) stands while the example's consent is in force, after its version 3; Region Dalarna is a principal.
    region = test.token;
    fk = await test.bearer(FK);
    await api().put(`/sip/plans/${PLAN}`).set(as(region)).set('If-Match', 'W/"3"').send(EDITED).expect(200);

    const stored = await server.store.get(PLAN);
    if (stored?.version !== 4) throw new Error('version 4 was recorded');
    const resources = planResourceIds(stored.plan);
    const idOf = (type: string): string => {
      const found = resources.find((resource) => resource.resourceType === type);
      if (found === undefined) throw new Error(`no ${type}`);
      return found.id;
    };
    // Which Goal is which, as the principal reads them.
    const goals = await Promise.all(
      resources.filter((resource) => resource.resourceType === 'Goal').map(async (resource) => ({ id: resource.id, text: (await api().get(`/fhir/Goal/${resource.id}`).set(as(region)).expect(200)).text })),
    );
    const goalWith = (mark: string): string => {
      const found = goals.find((goal) => goal.text.includes(mark));
      if (found === undefined) throw new Error(`no Goal holds ${mark}`);
      return found.id;
    };
    ids = { carePlan: idOf('CarePlan'), consent: idOf('Consent'), patient: idOf('Patient'), removedGoal: goalWith(ITEM_MARK), keptGoal: goalWith(KEPT_MARK) };
  }, 180_000);

  afterAll(() => test.close());

  /**
   * Every read surface that answers plan data, as a path with its query, and the marks the
   * principal's answer holds there: each surface is shown to carry what the other actor must not get.
   */
  const surfaces = (): readonly (readonly [string, readonly string[]])[] => {
    const identifier = encodeURIComponent(`${IDENTIFIER_SYSTEM.sipPlan}|${PLAN}`);
    return [
      [`/sip/plans/${PLAN}`, [ITEM_MARK, DESCRIPTION_MARK]],
      [`/sip/plans?person=${encodeURIComponent(ADULT.individual.identifier.value)}`, [ITEM_MARK, DESCRIPTION_MARK]],
      ['/sip/plans?limit=200', [ITEM_MARK, DESCRIPTION_MARK]],
      [`/sip/plans/${PLAN}/_history`, [ITEM_MARK, DESCRIPTION_MARK, EXAMPLE_DESCRIPTION]],
      [`/sip/plans/${PLAN}/_history/4`, [ITEM_MARK, DESCRIPTION_MARK]],
      [`/sip/plans/${PLAN}/_history/2`, [EXAMPLE_DESCRIPTION]],
      [`/fhir/CarePlan/${ids.carePlan}`, [ITEM_MARK]],
      [`/fhir/Consent/${ids.consent}`, [DESCRIPTION_MARK]],
      [`/fhir/CarePlan?identifier=${identifier}`, [ITEM_MARK]],
      [`/fhir/CarePlan?identifier=${identifier}&_include=*&_revinclude=*`, [ITEM_MARK, DESCRIPTION_MARK]],
      [`/fhir/CarePlan?patient=Patient/${ids.patient}&_include=CarePlan:goal&_revinclude=Consent:data`, [ITEM_MARK, DESCRIPTION_MARK]],
      ['/fhir/CarePlan?_include=*&_revinclude=*&_count=200', [ITEM_MARK, DESCRIPTION_MARK]],
      [`/fhir/CarePlan/${ids.carePlan}/_history`, [ITEM_MARK]],
      [`/fhir/CarePlan/${ids.carePlan}/_history/4`, [ITEM_MARK]],
      [`/fhir/Consent/${ids.consent}/_history`, [DESCRIPTION_MARK, EXAMPLE_DESCRIPTION]],
      [`/fhir/Consent/${ids.consent}/_history/4`, [DESCRIPTION_MARK]],
      [`/fhir/Consent/${ids.consent}/_history/1`, [EXAMPLE_DESCRIPTION]],
      [`/fhir/Goal/${ids.removedGoal}/_history`, [ITEM_MARK]],
      [`/fhir/Goal/${ids.keptGoal}`, [KEPT_MARK]],
    ];
  };

  it('answers the principal every surface whole: the excluded item and the person’s description are there (the control)', async () => {
    for (const [path, marks] of surfaces()) {
      const response = await api().get(path).set(as(region));
      expect(response.status, path).toBe(200);
      for (const mark of marks) expect(response.text, `${path} holds ${mark}`).toContain(mark);
    }
    expect((await api().get(`/fhir/Goal/${ids.removedGoal}`).set(as(region)).expect(200)).text).toContain(ITEM_MARK);
    expect((await api().get(`/fhir/Goal/${ids.removedGoal}/_history/4`).set(as(region)).expect(200)).text).toContain(ITEM_MARK);
  });

  it('answers the covered other actor every surface with no byte of an excluded item or of an exclusion’s description', async () => {
    for (const [path] of surfaces()) {
      const response = await api().get(path).set(as(fk));
      expect(response.status, path).toBe(200);
      expect(response.text, path).not.toContain(ITEM_MARK);
      expect(response.text, path).not.toContain(DESCRIPTION_MARK);
      expect(response.text, path).not.toContain(EXAMPLE_DESCRIPTION);
    }
  });

  it('still answers the other actor what no consent excludes, the excluded class’s code, and the version’s ETag', async () => {
    const sip = await api().get(`/sip/plans/${PLAN}`).set(as(fk)).expect(200);
    expect(sip.headers.etag).toBe('W/"4"');
    const plan = (sip.body as { plan: SipPlan; version: number }).plan;
    expect((sip.body as { version: number }).version).toBe(4);
    expect(plan.goals.map((goal) => goal.id)).toEqual(['goal-1', 'goal-3']);
    expect(plan.interventions.map((intervention) => intervention.id)).not.toContain('int-4');
    expect(plan.consents[0]?.excludedInformation).toEqual([{ class: 'familySituation' }]);
    expect(sip.text).toContain(KEPT_MARK);

    const kept = await api().get(`/fhir/Goal/${ids.keptGoal}`).set(as(fk)).expect(200);
    expect(kept.text).toContain(KEPT_MARK);
    expect(kept.headers.etag).toBe('W/"4"');
    expect(kept.body).toMatchObject({ meta: { versionId: '4' } });
    const carePlan = await api().get(`/fhir/CarePlan/${ids.carePlan}`).set(as(fk)).expect(200);
    expect(carePlan.headers.etag).toBe('W/"4"');
    expect(carePlan.text).not.toContain(ids.removedGoal);
    expect(carePlan.text).toContain(ids.keptGoal);
    const consent = await api().get(`/fhir/Consent/${ids.consent}`).set(as(fk)).expect(200);
    // The class travels, by its code, in the deny provision; the person's words do not.
    expect(consent.text).toContain('familySituation');
  });

  it('answers 404 to the other actor for a resource narrowing removed, on read and vread, and lists its removal in the history', async () => {
    await api().get(`/fhir/Goal/${ids.removedGoal}`).set(as(fk)).expect(404);
    await api().get(`/fhir/Goal/${ids.removedGoal}/_history/4`).set(as(fk)).expect(404);
    // Version 3 had goal-2 untagged: it is read as it was then (no mark was in it).
    const before = await api().get(`/fhir/Goal/${ids.removedGoal}/_history/3`).set(as(fk)).expect(200);
    expect(before.text).not.toContain(ITEM_MARK);
    const history = (await api().get(`/fhir/Goal/${ids.removedGoal}/_history`).set(as(fk)).expect(200)).body as { entry: { request: { method: string }; response: { etag: string } }[] };
    expect(history.entry[0]).toMatchObject({ request: { method: 'DELETE' }, response: { etag: 'W/"4"' } });
  });

  it('refuses the other actor a whole-plan write that would lose what it was not shown, on /sip and POST /fhir; nothing is recorded', async () => {
    const read = (await api().get(`/sip/plans/${PLAN}`).set(as(fk)).expect(200)).body as { plan: SipPlan };
    const refused = await api().put(`/sip/plans/${PLAN}`).set(as(fk)).set('If-Match', 'W/"4"').send(read.plan).expect(403);
    expect(refused.text).toContain('may not replace the plan whole');
    const transaction = await api().post('/fhir').set(as(fk)).set('Content-Type', 'application/fhir+json').send(JSON.stringify(planToBundle(read.plan)));
    expect(transaction.status).toBe(403);
    expect(transaction.text).toContain('may not replace the plan whole');
    expect((await server.store.get(PLAN))?.version).toBe(4);
    const stored = await server.store.get(PLAN);
    expect(JSON.stringify(stored?.plan)).toContain(ITEM_MARK);
    expect(JSON.stringify(stored?.plan)).toContain(DESCRIPTION_MARK);
  });

  it('takes a change the other actor records as the next version, made on the whole plan, and answers it narrowed', async () => {
    const response = await api().post(`/sip/plans/${PLAN}/meetings`).set(as(fk)).send({ id: 'meeting-fk', kind: 'followUp' }).expect(201);
    expect(response.headers.etag).toBe('W/"5"');
    expect(response.text).not.toContain(ITEM_MARK);
    expect(response.text).not.toContain(DESCRIPTION_MARK);
    expect(response.text).toContain('meeting-fk');
    const stored = await server.store.get(PLAN);
    expect(stored?.version).toBe(5);
    expect(JSON.stringify(stored?.plan)).toContain(ITEM_MARK);
    expect(JSON.stringify(stored?.plan)).toContain(DESCRIPTION_MARK);
  });
});
