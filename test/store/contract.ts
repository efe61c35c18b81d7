/**
 * The PlanStore contract, run against each driver (pglite.test.ts, postgres.test.ts): the same tests,
 * the same SQL. Dates are fixed; nothing depends on today's clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { overdueFollowUps, planModelVersion, planStatus, type SipPlan } from '../../src/sip/index.js';
import {
  InvalidPlanError,
  PlanExistsError,
  PlanNotFoundError,
  UnreadablePlanError,
  VersionConflictError,
  type AuditEntry,
  type AuditQuery,
  type PlanStore,
  type RecordedAuditEntry,
} from '../../src/store/index.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { planResourceIds } from '../../src/fhir/index.js';
import type { SqlQueryable } from '../../src/store/sql-client.js';
import { exampleFiles, readExample } from '../support/examples.js';

/** A migrated store, a way to run SQL on its database beside it, and how to get rid of both. */
export interface OpenedStore {
  readonly store: PlanStore;
  readonly sql: SqlQueryable;
  dispose(): Promise<void>;
}

const HOOK_TIMEOUT = 120_000;

/** The example as its version 1: approvals and closure of later versions are not in it yet. */
function asNew(plan: SipPlan, id: string = plan.id): SipPlan {
  return {
    ...plan,
    id,
    version: 1,
    consents: plan.consents.map((consent) => (consent.planId === plan.id ? { ...consent, planId: id } : consent)),
  };
}

/** Writes as the service does: with the resources of the version's FHIR view (src/fhir/resource-ids.ts). */
const create = (store: PlanStore, plan: SipPlan, recordedBy: string) => store.create(plan, recordedBy, planResourceIds(plan));
const update = (store: PlanStore, plan: SipPlan, expectedVersion: number, recordedBy: string) => store.update(plan, expectedVersion, recordedBy, planResourceIds(plan));

/** Stores the example at its own version: version 1, then the same content as 2, 3 … up to it. */
async function storeAtItsVersion(store: PlanStore, plan: SipPlan): Promise<void> {
  await create(store, { ...plan, version: 1 }, 'system');
  for (let version = 2; version <= plan.version; version++) await update(store, { ...plan, version }, version - 1, 'system');
}

/** Entries as they were handed to `audit`, without the ids the log gave them. */
const withoutIds = (entries: readonly RecordedAuditEntry[]): AuditEntry[] => entries.map(({ id, ...entry }) => entry);

async function settle<T>(attempts: Promise<T>[]): Promise<{ won: T[]; lost: unknown[] }> {
  const results = await Promise.allSettled(attempts);
  return {
    won: results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])),
    lost: results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : [])),
  };
}

/**
 * A store opened before the tests of a group. When opening fails (no PostgreSQL server, say), every
 * test of the group fails with that error, rather than being reported as skipped.
 */
function openedBeforeAll(open: () => Promise<OpenedStore>, fill: (store: PlanStore) => Promise<void> = () => Promise.resolve()): () => OpenedStore {
  let opened: OpenedStore | undefined;
  let failure: unknown;
  beforeAll(async () => {
    try {
      opened = await open();
      await fill(opened.store);
    } catch (error) {
      failure = error;
    }
  }, HOOK_TIMEOUT);
  afterAll(async () => {
    await opened?.dispose();
  }, HOOK_TIMEOUT);
  return () => {
    if (failure instanceof Error) throw failure;
    if (opened === undefined || failure !== undefined) throw new Error(`the store was not opened: ${String(failure)}`);
    return opened;
  };
}

export function planStoreContract(driver: string, open: () => Promise<OpenedStore>): void {
  describe(`PlanStore on ${driver}`, () => {
    const opened = openedBeforeAll(open);
    const base = readExample('adult-psychiatry-addiction.json');

    it('migrates again, and twice at once, without changing anything', async () => {
      await opened().store.migrate();
      await Promise.all([opened().store.migrate(), opened().store.migrate()]);
      const rows = await opened().sql.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      expect(rows.map((row) => row.version)).toEqual(MIGRATIONS.map((migration) => migration.version));
    });

    it('creates a plan and gets it back as it was stored', async () => {
      const plan = asNew(base, 'sip-store-create');
      const created = await create(opened().store, plan, 'SE2321000180-1000');
      expect(created).toMatchObject({ version: 1, recordedBy: 'SE2321000180-1000', plan });
      expect(created.recordedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(await opened().store.get('sip-store-create')).toEqual(created);
      expect(await opened().store.get('sip-store-create', 1)).toEqual(created);
      expect(await opened().store.get('sip-store-create', 2)).toBeUndefined();
      expect(await opened().store.get('sip-store-unknown')).toBeUndefined();
    });

    it('refuses to create a plan whose id is taken', async () => {
      const plan = asNew(base, 'sip-store-taken');
      await create(opened().store, plan, 'system');
      const again = create(opened().store, { ...plan, notes: 'Another plan under the same id' }, 'system');
      await expect(again).rejects.toBeInstanceOf(PlanExistsError);
      await expect(again).rejects.toMatchObject({ planId: 'sip-store-taken' });
      expect((await opened().store.history('sip-store-taken')).map((stored) => stored.plan.notes)).toEqual([plan.notes]);
    });

    it('lets exactly one of 10 racing creates of one id win', async () => {
      const attempts = Array.from({ length: 10 }, (_, index) => create(opened().store, { ...asNew(base, 'sip-store-race'), notes: `create ${String(index)}` }, `creator-${String(index)}`));
      const { won, lost } = await settle(attempts);
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(9);
      for (const reason of lost) expect(reason).toBeInstanceOf(PlanExistsError);
      const history = await opened().store.history('sip-store-race');
      expect(history).toEqual(won);
    });

    it('refuses a create that is not version 1, and a plan the SIP model refuses, writing nothing', async () => {
      await expect(create(opened().store, { ...asNew(base, 'sip-store-v2'), version: 2 }, 'system')).rejects.toBeInstanceOf(VersionConflictError);
      const broken = { ...asNew(base, 'sip-store-broken'), individual: { ...base.individual, identifier: { system: 'personnummer', value: '198503141230' } } } as SipPlan;
      const refused = create(opened().store, broken, 'system');
      await expect(refused).rejects.toBeInstanceOf(InvalidPlanError);
      await expect(refused).rejects.toMatchObject({ planId: 'sip-store-broken', problems: [expect.objectContaining({ pointer: '/individual/identifier/value' })] });
      expect(await opened().store.history('sip-store-v2')).toEqual([]);
      expect(await opened().store.history('sip-store-broken')).toEqual([]);
    });

    it('updates from the current version and refuses a stale one, writing nothing', async () => {
      const plan = asNew(base, 'sip-store-update');
      await create(opened().store, plan, 'system');
      const second = await update(opened().store, { ...plan, version: 2, notes: 'Second version' }, 1, 'SE2321000180-1000');
      expect(second).toMatchObject({ version: 2, recordedBy: 'SE2321000180-1000' });
      expect(await opened().store.get('sip-store-update')).toEqual(second);

      const stale = update(opened().store, { ...plan, version: 2, notes: 'Written from version 1 again' }, 1, 'system');
      await expect(stale).rejects.toBeInstanceOf(VersionConflictError);
      await expect(stale).rejects.toMatchObject({ planId: 'sip-store-update', expected: 1, current: 2 });
      // The right expected version, but a plan that does not say it is the next one.
      await expect(update(opened().store, { ...plan, version: 4 }, 2, 'system')).rejects.toMatchObject({ name: 'VersionConflictError', expected: 3, current: 2 });
      await expect(update(opened().store, { ...plan, version: 3, notes: '' }, 2, 'system')).rejects.toBeInstanceOf(InvalidPlanError);

      expect((await opened().store.history('sip-store-update')).map((stored) => stored.version)).toEqual([1, 2]);
      expect(await opened().store.get('sip-store-update')).toEqual(second);
      await expect(update(opened().store, { ...asNew(base, 'sip-store-nowhere'), version: 2 }, 1, 'system')).rejects.toBeInstanceOf(PlanNotFoundError);
    });

    it('lets exactly one of 10 concurrent updates from the same version win', async () => {
      const plan = asNew(base, 'sip-store-contended');
      await create(opened().store, plan, 'system');
      const attempts = Array.from({ length: 10 }, (_, index) => update(opened().store, { ...plan, version: 2, notes: `update ${String(index)}` }, 1, `writer-${String(index)}`));
      const { won, lost } = await settle(attempts);
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(9);
      for (const reason of lost) expect(reason).toMatchObject({ name: 'VersionConflictError', expected: 1, current: 2 });
      expect((await opened().store.history('sip-store-contended')).map((stored) => stored.version)).toEqual([1, 2]);
      expect(await opened().store.get('sip-store-contended')).toEqual(won[0]);
    });

    it('keeps every version: history oldest first, and any old version by number', async () => {
      const plan = asNew(base, 'sip-store-history');
      await create(opened().store, plan, 'system');
      for (const version of [2, 3, 4]) await update(opened().store, { ...plan, version, notes: `Version ${String(version)}` }, version - 1, 'system');
      const history = await opened().store.history('sip-store-history');
      expect(history.map((stored) => [stored.version, stored.plan.version, stored.plan.notes])).toEqual([
        [1, 1, plan.notes],
        [2, 2, 'Version 2'],
        [3, 3, 'Version 3'],
        [4, 4, 'Version 4'],
      ]);
      expect(await opened().store.get('sip-store-history', 2)).toEqual(history[1]);
      expect((await opened().store.get('sip-store-history'))?.version).toBe(4);
      expect(await opened().store.history('sip-store-unknown')).toEqual([]);
    });

    it('finds a plan by its current version only', async () => {
      const plan = asNew({ ...base, approvals: [] }, 'sip-store-closing');
      await create(opened().store, plan, 'system');
      const ids = async (status: string) => (await opened().store.search({ status, personIdentifier: base.individual.identifier.value })).plans.map((stored) => stored.plan.id);
      expect(await ids('draft')).toContain('sip-store-closing');
      await update(opened().store, { ...plan, version: 2, closure: { reason: 'goalsMet', closedAt: '2026-06-01T10:00:00+02:00', closedBy: 'region-dalarna', informed: [] } }, 1, 'system');
      expect(await ids('draft')).not.toContain('sip-store-closing');
      expect(await ids('completed')).toEqual(['sip-store-closing']);
    });

    it('leads from the id of each FHIR resource of any version to its plan, and from shared master data to every plan naming it', async () => {
      const plan = asNew(base, 'sip-store-resources');
      const other = asNew(base, 'sip-store-resources-other');
      await create(opened().store, plan, 'system');
      await create(opened().store, other, 'system');
      const [dropped, ...kept] = plan.goals;
      if (dropped === undefined) throw new Error('the example has goals');
      await update(opened().store, { ...plan, version: 2, goals: kept, interventions: plan.interventions.filter((intervention) => !intervention.goals.includes(dropped.id)) }, 1, 'system');
      const idOf = (resourceType: string, of: SipPlan = plan) => {
        const found = planResourceIds(of).filter((resource) => resource.resourceType === resourceType);
        if (found[0] === undefined) throw new Error(`no ${resourceType} in the plan's FHIR view`);
        return found;
      };
      const [carePlan] = idOf('CarePlan');
      const [patient] = idOf('Patient');
      const goals = idOf('Goal');
      expect(goals.length).toBe(plan.goals.length);
      if (carePlan === undefined || patient === undefined) throw new Error('unreachable');
      expect(carePlan.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await opened().store.plansWithResource('CarePlan', carePlan.id)).toEqual(['sip-store-resources']);
      // A goal of version 1 only still leads to the plan; every goal does.
      for (const goal of goals) expect(await opened().store.plansWithResource('Goal', goal.id)).toEqual(['sip-store-resources']);
      expect(await opened().store.plansWithResource('Patient', patient.id)).toEqual(expect.arrayContaining(['sip-store-resources', 'sip-store-resources-other']));
      expect(await opened().store.plansWithResource('Goal', carePlan.id)).toEqual([]);
      expect(await opened().store.plansWithResource('CarePlan', '00000000-0000-0000-0000-000000000000')).toEqual([]);
      // The current versions of those plans, in one query: version 2 of the plan, by the goal only version 1 had (the first).
      const current = (type: string, id: string) => opened().store.currentWithResource(type, id).then((found) => found.map((stored) => `${stored.plan.id}@${String(stored.version)}`));
      expect(await current('Goal', goals[0]?.id ?? '')).toEqual(['sip-store-resources@2']);
      expect(await current('Patient', patient.id)).toEqual(expect.arrayContaining(['sip-store-resources@2', 'sip-store-resources-other@1']));
      expect(await current('CarePlan', '00000000-0000-0000-0000-000000000000')).toEqual([]);
      await expect(opened().sql.query(`DELETE FROM plan_resources WHERE plan_id = 'sip-store-resources'`)).rejects.toThrow(/append-only/);
    });

    it('refuses resources that are not a FHIR type and id, writing nothing', async () => {
      const plan = asNew(base, 'sip-store-bad-resources');
      await expect(opened().store.create(plan, 'system', [{ resourceType: 'CarePlan', id: 'not/an id' }])).rejects.toThrow(/FHIR resource type and id, not "CarePlan\/not\/an id"/);
      await expect(opened().store.create(plan, 'system', [{ resourceType: 'careplan', id: 'abc' }])).rejects.toThrow(RangeError);
      expect(await opened().store.history('sip-store-bad-resources')).toEqual([]);
      await create(opened().store, plan, 'system');
      await expect(opened().store.update({ ...plan, version: 2 }, 1, 'system', [{ resourceType: 'Goal', id: '' }])).rejects.toThrow(RangeError);
      expect((await opened().store.history('sip-store-bad-resources')).map((stored) => stored.version)).toEqual([1]);
    });

    it('records on migrate the resources of plans stored without any, when told how to compute them', async () => {
      const plan = asNew(base, 'sip-store-unindexed');
      // As a plan stored before migration 2 recorded resources.
      await opened().store.create(plan, 'system', []);
      const [carePlan] = planResourceIds(plan).filter((resource) => resource.resourceType === 'CarePlan');
      if (carePlan === undefined) throw new Error('the plan has a CarePlan');
      await opened().store.migrate();
      expect(await opened().store.plansWithResource('CarePlan', carePlan.id)).toEqual([]);
      await opened().store.migrate({ resourcesOf: planResourceIds });
      expect(await opened().store.plansWithResource('CarePlan', carePlan.id)).toEqual(['sip-store-unindexed']);
    });

    it('keeps every derived text of a version exactly as given, thousands of them, empty pieces too, and none twice', async () => {
      const plan = asNew(base, 'sip-store-derived-texts');
      // Quotes, backslashes, braces, commas and non-ASCII: what an array literal would have to escape.
      const texts = Array.from({ length: 2_345 }, (_, index) => ({
        resourceType: 'Goal',
        id: `goal-${String(index).padStart(5, '0')}`,
        head: `{"resourceType":"Goal","note":[{"text":"\\ "{a,b}" NULL ${String(index)}"}],"meta":{`,
        tail: `},"description":{"text":"Mål – åäö ${String(index)} 🙂"}}`,
      }));
      // Pieces of no bytes, at the start, between others and at the end of what the statement carries.
      texts.push({ resourceType: 'Goal', id: 'goal-empty-both', head: '', tail: '' }, { resourceType: 'Goal', id: 'goal-empty-head', head: '', tail: '}' }, { resourceType: 'Goal', id: 'goal-empty-tail', head: '{"a":"🙂"', tail: '' });
      const derived = { deriver: 'contract-test', basis: '{"rules":[]}', texts: [...texts, ...texts.slice(0, 3)] };
      await opened().store.create(plan, 'system', planResourceIds(plan), { derived });
      const kept = await opened().store.keptTexts([{ planId: plan.id, version: 1 }], 'contract-test', 'Goal');
      const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
      expect(kept.map(({ planId: _planId, version: _version, ...text }) => text).sort(byId)).toEqual([...texts].sort(byId));
      // And each alone, by its id.
      for (const text of [texts[0], texts[1_234], ...texts.slice(-3)]) {
        if (text === undefined) throw new Error('no such text');
        const read = await opened().store.get(plan.id, 1, { derived: { deriver: 'contract-test', resourceType: 'Goal', resourceId: text.id } });
        expect(read?.derived?.texts).toEqual([text]);
      }
    });

    it('reads a text wherever it is kept: a row, as every text was before migration 12, or packed on the derived row, as all but the CarePlan\'s are since', async () => {
      const packed = asNew(readExample(exampleFiles[1] ?? ''), 'sip-store-texts-packed');
      const asRows = { ...asNew(packed, 'sip-store-texts-rows'), consents: [] };
      const ids = planResourceIds(packed);
      const idOf = (type: string): string => {
        const found = ids.find((resource) => resource.resourceType === type);
        if (found === undefined) throw new Error(`no ${type} in the plan`);
        return found.id;
      };
      const textOf = (planId: string, type: string) => ({ resourceType: type, id: idOf(type), head: `{"resourceType":"${type}","of":"${planId}","meta":{`, tail: '},"text":"åäö 🙂"}' });
      const derivedOf = (planId: string) => ({ deriver: 'both-places', basis: '{"rules":[]}', summary: '{}', texts: ['CarePlan', 'Goal', 'Patient', 'CareTeam'].map((type) => textOf(planId, type)) });
      await opened().store.create(packed, 'system', ids, { derived: derivedOf(packed.id) });
      // As a writer before migration 12 left it: the derived row without packed texts, every text a row.
      await opened().store.create(asRows, 'system', ids);
      await opened().sql.query(`INSERT INTO plan_version_derived (plan_id, version, deriver, basis, summary) VALUES ($1, 1, 'both-places', '{"rules":[]}', '{}')`, [asRows.id]);
      for (const text of derivedOf(asRows.id).texts) {
        await opened().sql.query(`INSERT INTO plan_version_texts (plan_id, version, deriver, resource_type, resource_id, head, tail) VALUES ($1, 1, 'both-places', $2, $3, $4, $5)`, [asRows.id, text.resourceType, text.id, text.head, text.tail]);
      }
      // The table keeps the packed columns together, their arrays of one length.
      for (const [types, ids, bounds, units, bytes] of [
        ['{Goal}', '{g1}', '{0,1,2}', '{0,1,2}', null],
        ['{Goal}', '{g1,g2}', '{0,1,2}', '{0,1,2}', 'ab'],
        ['{Goal}', '{g1}', '{0,1}', '{0,1}', 'ab'],
        ['{Goal}', '{g1}', '{0,1,2}', '{0,1}', 'ab'],
        ['{Goal}', '{g1}', '{0,1,2}', null, 'ab'],
      ]) {
        await expect(
          opened().sql.query(`INSERT INTO plan_version_derived (plan_id, version, deriver, basis, text_types, text_ids, text_bounds, text_units, texts) VALUES ($1, 1, 'packed-check', '{}', $2, $3, $4, $5, convert_to($6, 'UTF8'))`, [asRows.id, types, ids, bounds, units, bytes]),
        ).rejects.toThrow(/plan_version_derived_packed/);
      }
      // Derived after the version was written (`derive`, as a read of an older version keeps what it derived): packed too.
      const derivedLater = { ...asNew(packed, 'sip-store-texts-later'), consents: [] };
      await opened().store.create(derivedLater, 'system', ids);
      await opened().store.derive(derivedLater.id, 1, derivedOf(derivedLater.id));
      for (const planId of [packed.id, derivedLater.id]) {
        const [rowTypes] = await opened().sql.query<{ types: string[] }>(`SELECT array_agg(DISTINCT resource_type ORDER BY resource_type) AS types FROM plan_version_texts WHERE plan_id = $1`, [planId]);
        expect(rowTypes?.types).toEqual(['CarePlan']);
      }
      for (const type of ['CarePlan', 'Goal', 'Patient']) {
        const id = idOf(type);
        for (const planId of [packed.id, asRows.id, derivedLater.id]) {
          const deriver = { deriver: 'both-places', resourceType: type };
          expect((await opened().store.get(planId, 1, { derived: { ...deriver, resourceId: id } }))?.derived?.texts, `${planId} ${type} by id`).toEqual([textOf(planId, type)]);
          expect((await opened().store.get(planId, undefined, { derived: deriver }))?.derived?.texts, `${planId} ${type}`).toEqual([textOf(planId, type)]);
          expect(await opened().store.keptTexts([{ planId, version: 1 }], 'both-places', type), `${planId} ${type} keptTexts`).toEqual([{ planId, version: 1, ...textOf(planId, type) }]);
        }
        // The current versions holding the resource (all three plans name it): alone, and two in one turn, as one statement.
        const expected = [packed.id, asRows.id, derivedLater.id].sort().map((planId) => [planId, [textOf(planId, type)]]);
        const heads = (found: readonly { planId: string; derived?: { texts: readonly unknown[] } }[]) => found.map((head) => [head.planId, head.derived?.texts]);
        expect(heads(await opened().store.keptWithResource(type, id, 'both-places')), `${type} kept alone`).toEqual(expected);
        const together = await Promise.all([opened().store.keptWithResource(type, id, 'both-places'), opened().store.keptWithResource(type, id, 'both-places')]);
        expect(together.map(heads), `${type} kept together`).toEqual([expected, expected]);
        // By the person (all three plans are of one person's), alone and two in one turn.
        const person = { personIdentifier: packed.individual.identifier.value, derived: { deriver: 'both-places', resourceType: type }, total: false } as const;
        const ours = (head: { planId: string }): boolean => [packed.id, asRows.id, derivedLater.id].includes(head.planId);
        const searched = (await opened().store.searchHeads(person)).plans.filter(ours);
        expect(heads(searched), `${type} by person`).toEqual(expected);
        const twice = await Promise.all([opened().store.searchHeads(person), opened().store.searchHeads({ ...person, limit: 99 })]);
        for (const result of twice) expect(heads(result.plans.filter(ours)), `${type} by person, together`).toEqual(expected);
      }
    });

    it('keeps a version\'s judging summary, traffic light and status beside its basis and hands them back as asked; a derived row without them comes back without them', async () => {
      const plan = asNew(base, 'sip-store-derived-summary');
      const [carePlan] = planResourceIds(plan).filter((resource) => resource.resourceType === 'CarePlan');
      if (carePlan === undefined) throw new Error('the plan has a CarePlan');
      const text = { resourceType: 'CarePlan', id: carePlan.id, head: '{"resourceType":"CarePlan","meta":{', tail: '}}' };
      const summary = '{"id":"sip-store-derived-summary","consents":[],"principals":[]}';
      const standing = { trafficLight: 'yellow', status: 'draft' } as const;
      await opened().store.create(plan, 'system', planResourceIds(plan), { derived: { deriver: 'with-summary', basis: '{"rules":[]}', summary, standing, texts: [text] } });
      // As a writer before migration 8 left it: a basis and no summary.
      await opened().store.derive(plan.id, 1, { deriver: 'without-summary', basis: '{"rules":[]}', texts: [text] });
      // As a writer before migration 11 left it: a summary, and no traffic light or status.
      await opened().store.derive(plan.id, 1, { deriver: 'without-standing', basis: '{"rules":[]}', summary, texts: [text] });
      const withSummary = { deriver: 'with-summary' };
      // Without a resource (a SIP read, which answers the plan's stored text): the summary, the traffic light and the status, no text.
      expect((await opened().store.get(plan.id, undefined, { derived: withSummary }))?.derived).toEqual({ basis: '{"rules":[]}', summary, standing, texts: [] });
      expect((await opened().store.get(plan.id, undefined, { derived: { deriver: 'without-standing' } }))?.derived).toEqual({ basis: '{"rules":[]}', summary, texts: [] });
      expect((await opened().store.get(plan.id, undefined, { derived: { deriver: 'without-summary' } }))?.derived).toEqual({ basis: '{"rules":[]}', texts: [] });
      // The same through a SIP search: by the person (batched) and by status (a statement of its own).
      const sipSearched = await opened().store.search({ personIdentifier: plan.individual.identifier.value, derived: withSummary, total: false });
      expect(sipSearched.plans.find((stored) => stored.plan.id === plan.id)?.derived).toEqual({ basis: '{"rules":[]}', summary, standing, texts: [] });
      const byStatus = await opened().store.search({ status: [planStatus(plan)], derived: withSummary, limit: 1_000 });
      expect(byStatus.plans.find((stored) => stored.plan.id === plan.id)?.derived).toEqual({ basis: '{"rules":[]}', summary, standing, texts: [] });
      // The table holds a traffic light only with a status, and only the values the model has.
      await expect(opened().sql.query(`INSERT INTO plan_version_derived (plan_id, version, deriver, basis, traffic_light) VALUES ($1, 1, 'light-alone', '{}', 'red')`, [plan.id])).rejects.toThrow(/plan_version_derived_standing/);
      await expect(opened().sql.query(`INSERT INTO plan_version_derived (plan_id, version, deriver, basis, traffic_light, plan_status) VALUES ($1, 1, 'amber', '{}', 'amber', 'draft')`, [plan.id])).rejects.toThrow(/traffic_light/);
      expect((await opened().store.get(plan.id, undefined, { derived: { ...withSummary, resourceType: 'CarePlan' } }))?.derived).toEqual({ basis: '{"rules":[]}', summary, texts: [text] });
      const [found] = await opened().store.currentWithResource('CarePlan', carePlan.id, withSummary);
      expect(found?.derived?.summary).toBe(summary);
      const searched = await opened().store.search({ personIdentifier: plan.individual.identifier.value, derived: { ...withSummary, resourceType: 'CarePlan' } });
      expect(searched.plans.find((stored) => stored.plan.id === plan.id)?.derived?.summary).toBe(summary);
      const heads = await opened().store.searchHeads({ personIdentifier: plan.individual.identifier.value, derived: { ...withSummary, resourceType: 'CarePlan' } });
      expect(heads.plans.find((head) => head.planId === plan.id)?.derived).toEqual({ basis: '{"rules":[]}', summary, texts: [text] });
      const without = await opened().store.get(plan.id, undefined, { derived: { deriver: 'without-summary', resourceType: 'CarePlan' } });
      expect(without?.derived).toEqual({ basis: '{"rules":[]}', texts: [text] });
      // The plan itself, parsed from its text when first read, is the plan as stored.
      expect(without?.plan).toEqual(plan);
      expect((await opened().store.versions(plan.id, [1], { derived: withSummary }))[0]?.plan).toEqual(plan);
    });

    it('hands out the judging summary without the text when told text: false, and the texts of several versions at once (keptTexts)', async () => {
      const plan = asNew(base, 'sip-store-kept-texts');
      const [carePlan] = planResourceIds(plan).filter((resource) => resource.resourceType === 'CarePlan');
      if (carePlan === undefined) throw new Error('the plan has a CarePlan');
      const textOf = (version: number) => ({ resourceType: 'CarePlan', id: carePlan.id, head: `{"resourceType":"CarePlan","v":${String(version)},"meta":{`, tail: '}}' });
      const goal = { resourceType: 'Goal', id: 'goal-kept', head: '{"resourceType":"Goal","meta":{', tail: '}}' };
      const summary = '{"id":"sip-store-kept-texts","consents":[],"principals":[]}';
      await opened().store.create(plan, 'system', planResourceIds(plan), { derived: { deriver: 'kept-texts', basis: '{"rules":[]}', summary, texts: [textOf(1), goal] } });
      const second = { ...plan, version: 2 };
      await opened().store.update(second, 1, 'system', planResourceIds(second), { derived: { deriver: 'kept-texts', basis: '{"rules":[2]}', summary, texts: [textOf(2)] } });
      const person = plan.individual.identifier.value;
      const summaryOnly = await opened().store.searchHeads({ personIdentifier: person, derived: { deriver: 'kept-texts', resourceType: 'CarePlan', text: false } });
      expect(summaryOnly.plans.find((head) => head.planId === plan.id)?.derived).toEqual({ basis: '{"rules":[2]}', summary, texts: [] });
      const texts = await opened().store.keptTexts(
        [
          { planId: plan.id, version: 1 },
          { planId: plan.id, version: 2 },
          { planId: plan.id, version: 3 },
          { planId: 'sip-store-no-such-plan', version: 1 },
        ],
        'kept-texts',
        'CarePlan',
      );
      expect(texts.sort((a, b) => a.version - b.version)).toEqual([
        { planId: plan.id, version: 1, ...textOf(1) },
        { planId: plan.id, version: 2, ...textOf(2) },
      ]);
      expect(await opened().store.keptTexts([{ planId: plan.id, version: 1 }], 'kept-texts', 'Goal')).toEqual([{ planId: plan.id, version: 1, ...goal }]);
      expect(await opened().store.keptTexts([{ planId: plan.id, version: 1 }], 'another-deriver', 'CarePlan')).toEqual([]);
      expect(await opened().store.keptTexts([], 'kept-texts', 'CarePlan')).toEqual([]);
    });

    it('refuses to change or remove a stored version', async () => {
      await create(opened().store, asNew(base, 'sip-store-immutable'), 'system');
      await expect(opened().sql.query(`UPDATE plan_versions SET recorded_by = 'someone' WHERE plan_id = 'sip-store-immutable'`)).rejects.toThrow(/append-only/);
      await expect(opened().sql.query(`DELETE FROM plan_versions WHERE plan_id = 'sip-store-immutable'`)).rejects.toThrow(/append-only/);
      expect((await opened().store.get('sip-store-immutable'))?.recordedBy).toBe('system');
    });

    it('names the plan and version of a stored row that no longer parses', async () => {
      await create(opened().store, asNew(base, 'sip-store-unreadable'), 'system');
      // A version written outside the store, as an older model might have left it (jsonb, before migration 4).
      await opened().sql.query(
        `INSERT INTO plan_versions (plan_id, version, plan, recorded_by)
         SELECT plan_id, 2, jsonb_set(jsonb_set(document::jsonb, '{version}', '2'), '{goals}', '"none"'), 'elsewhere' FROM plan_versions WHERE plan_id = 'sip-store-unreadable'`,
      );
      await opened().sql.query(`UPDATE plans SET version = 2 WHERE plan_id = 'sip-store-unreadable'`);
      const read = opened().store.get('sip-store-unreadable');
      await expect(read).rejects.toBeInstanceOf(UnreadablePlanError);
      await expect(read).rejects.toThrow(/"sip-store-unreadable" version 2/);
      await expect(opened().store.history('sip-store-unreadable')).rejects.toMatchObject({ planId: 'sip-store-unreadable', version: 2 });
      expect((await opened().store.get('sip-store-unreadable', 1))?.version).toBe(1);
    });

    describe('versions and the model that wrote them', () => {
      /** Inserts version 2 of the plan as `document` (json) with `model`, outside the store, and makes it current. */
      const writeVersion2 = async (planId: string, document: string, model: string | null): Promise<void> => {
        await opened().sql.query(`INSERT INTO plan_versions (plan_id, version, document, model, recorded_by) VALUES ($1, 2, $2::json, $3, 'elsewhere')`, [planId, document, model]);
        await opened().sql.query(`UPDATE plans SET version = 2 WHERE plan_id = $1`, [planId]);
      };
      /** The plan as written by the store, as version 2, without its `relatedPersons` (which the model defaults to []). */
      const withoutDefault = async (planId: string): Promise<string> => {
        const [row] = await opened().sql.query<{ document: string }>(`SELECT document::text AS document FROM plan_versions WHERE plan_id = $1 AND version = 1`, [planId]);
        const { relatedPersons: _left, ...rest } = JSON.parse(row?.document ?? '{}') as SipPlan;
        return JSON.stringify({ ...rest, version: 2 });
      };

      it('keeps a version as the model wrote it, key order included, with the model named', async () => {
        const plan = asNew(base, 'sip-store-document');
        await create(opened().store, plan, 'system');
        const [row] = await opened().sql.query<{ document: string; model: string; plan: unknown }>(
          `SELECT document::text AS document, model, plan FROM plan_versions WHERE plan_id = 'sip-store-document'`,
        );
        expect(row?.plan).toBeNull();
        expect(row?.model).toBe(planModelVersion());
        expect(row?.document).toMatch(/^\{"id":"sip-store-document","version":1,"updatedAt":/);
        expect(JSON.parse(row?.document ?? '')).toEqual((await opened().store.get('sip-store-document'))?.plan);
      });

      it('parses a version another model wrote: defaults filled in, and UnreadablePlanError when it no longer parses', async () => {
        await create(opened().store, asNew(base, 'sip-store-older-model'), 'system');
        await writeVersion2('sip-store-older-model', await withoutDefault('sip-store-older-model'), '0:an older model');
        expect((await opened().store.get('sip-store-older-model'))?.plan.relatedPersons).toEqual([]);

        await create(opened().store, asNew(base, 'sip-store-older-unreadable'), 'system');
        const unreadable = { ...(JSON.parse(await withoutDefault('sip-store-older-unreadable')) as object), goals: 'none' };
        await writeVersion2('sip-store-older-unreadable', JSON.stringify(unreadable), '0:an older model');
        await expect(opened().store.get('sip-store-older-unreadable')).rejects.toMatchObject({ name: 'UnreadablePlanError', planId: 'sip-store-older-unreadable', version: 2 });
        // No model named is an older model too.
        await create(opened().store, asNew(base, 'sip-store-no-model'), 'system');
        await writeVersion2('sip-store-no-model', JSON.stringify(unreadable).replace('sip-store-older-unreadable', 'sip-store-no-model'), null);
        await expect(opened().store.get('sip-store-no-model')).rejects.toBeInstanceOf(UnreadablePlanError);
      });

      it('does not parse again a version the model running now wrote', async () => {
        await create(opened().store, asNew(base, 'sip-store-current-model'), 'system');
        // Written outside the store but naming the current model: trusted as parsed, so the default is not filled in.
        await writeVersion2('sip-store-current-model', await withoutDefault('sip-store-current-model'), planModelVersion());
        const read = await opened().store.get('sip-store-current-model');
        expect(read?.version).toBe(2);
        expect(read?.plan).not.toHaveProperty('relatedPersons');
      });

      it('refuses a row with both forms or neither', async () => {
        await create(opened().store, asNew(base, 'sip-store-two-forms'), 'system');
        await expect(
          opened().sql.query(
            `INSERT INTO plan_versions (plan_id, version, plan, document, recorded_by)
             SELECT plan_id, 2, jsonb_set(document::jsonb, '{version}', '2'), jsonb_set(document::jsonb, '{version}', '2')::json, 'x' FROM plan_versions WHERE plan_id = 'sip-store-two-forms'`,
          ),
        ).rejects.toThrow(/plan_versions_one_form/);
        await expect(opened().sql.query(`INSERT INTO plan_versions (plan_id, version, recorded_by) VALUES ('sip-store-two-forms', 2, 'x')`)).rejects.toThrow(/plan_versions_one_form/);
      });
    });

    describe('audit log', () => {
      const entry = (at: string, organization: string, personIdentifier: string | undefined, what: string): AuditEntry => ({
        at,
        organization,
        agent: 'kurator@falun',
        planId: 'sip-falun-2026-0142',
        ...(personIdentifier === undefined ? {} : { personIdentifier }),
        action: 'read',
        what,
        outcome: 'success',
        detail: '200',
      });

      it('appends entries and returns them newest first, by person, organisation and period', async () => {
        const entries = [
          entry('2026-03-12T09:00:00.000Z', 'SE2321000180-AUD1', '198503141239', 'GET /sip/plans/sip-falun-2026-0142 (1)'),
          entry('2026-03-12T10:00:00.000Z', 'SE2321000180-AUD2', '198503141239', 'GET /sip/plans/sip-falun-2026-0142 (2)'),
          entry('2026-03-12T11:00:00.000Z', 'SE2321000180-AUD1', '197811035240', 'GET /sip/plans/sip-stockholm-2026-1184'),
          { at: '2026-03-12T13:00:00+01:00', organization: 'anonymous', action: 'search', what: 'GET /sip/plans?person=198503141239', outcome: 'refused' } satisfies AuditEntry,
        ];
        for (const each of entries) await opened().store.audit(each);

        const normalised = { ...entries[3], at: '2026-03-12T12:00:00.000Z' };
        const log = async (query: AuditQuery) => withoutIds(await opened().store.auditLog(query));
        expect(await log({ since: '2026-03-12T09:00:00Z', until: '2026-03-12T12:00:00Z' })).toEqual([normalised, entries[2], entries[1], entries[0]]);
        expect(await log({ personIdentifier: '198503141239' })).toEqual([entries[1], entries[0]]);
        expect(await log({ organization: 'SE2321000180-AUD1' })).toEqual([entries[2], entries[0]]);
        expect(await log({ organization: 'SE2321000180-AUD1', since: '2026-03-12T10:30:00+01:00', until: '2026-03-12T12:00:00+01:00' })).toEqual([entries[2]]);
        expect(await log({ since: '2026-03-12T09:00:00Z', until: '2026-03-12T12:00:00Z', limit: 2 })).toEqual([normalised, entries[2]]);
        // `before` leaves out the instant itself; `until` keeps it.
        expect(await log({ since: '2026-03-12T09:00:00Z', before: '2026-03-12T11:00:00Z' })).toEqual([entries[1], entries[0]]);
        expect(await log({ since: '2026-03-12T09:00:00Z', until: '2026-03-12T11:00:00Z' })).toEqual([entries[2], entries[1], entries[0]]);
        await expect(opened().store.auditLog({ before: 'soon' })).rejects.toThrow(RangeError);
        await expect(opened().store.audit({ ...entries[0], at: 'yesterday' } as AuditEntry)).rejects.toThrow(RangeError);
      });

      it('keeps every entry written at once, each committed when its write resolves, and fails only the one it cannot store', async () => {
        const organization = 'SE2321000180-AUD40';
        const at = (minute: number): string => `2026-05-04T08:${String(minute).padStart(2, '0')}:00.000Z`;
        const entries = Array.from({ length: 40 }, (_, index) => entry(at(index), organization, '198503141239', `GET /sip/plans/sip-falun-2026-0142 (${String(index)})`));
        // PostgreSQL cannot store U+0000 in text: this entry is refused, and only this one.
        const refused = { ...entry(at(50), organization, undefined, 'GET /sip/plans/\u0000'), agent: 'kurator@falun' };
        const seenAtFirst: number[] = [];
        const writes = entries.map((each) => opened().store.audit(each));
        // The first write's entry is in the log when that write resolves, whatever else is still running.
        const first = writes[0]?.then(async () => {
          seenAtFirst.push((await opened().store.auditLog({ organization, until: at(0) })).length);
        });
        const outcomes = await Promise.allSettled([...writes, opened().store.audit(refused), first]);
        expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toHaveLength(1);
        expect(outcomes[40]?.status).toBe('rejected');
        expect(seenAtFirst).toEqual([1]);
        expect(withoutIds(await opened().store.auditLog({ organization, limit: 100 }))).toEqual([...entries].reverse());
      });

      it("appends a version's entry in the version's transaction: committed with the version, and not at all when the write fails", async () => {
        const { store, sql } = opened();
        const organization = 'SE2321000180-AUD9';
        const plan = asNew(base, 'sip-store-audit-tx-9');
        const written = (minute: number, action: 'create' | 'update', what: string): AuditEntry => ({
          ...entry(`2033-09-01T08:${String(minute).padStart(2, '0')}:00.000Z`, organization, base.individual.identifier.value, what),
          planId: plan.id,
          action,
          detail: action === 'create' ? '201' : '200',
        });
        const ids = planResourceIds(plan);
        const created = written(0, 'create', 'POST /sip/plans');
        const updated = written(1, 'update', `PUT /sip/plans/${plan.id}`);
        await store.create(plan, organization, ids, { audit: created });
        await store.update({ ...plan, version: 2 }, 1, organization, ids, { audit: updated });
        // Refused by the store: the id taken, a stale version, a malformed instant. None of their entries is kept.
        await expect(store.create(plan, organization, ids, { audit: written(2, 'create', 'POST /sip/plans (taken)') })).rejects.toThrow(PlanExistsError);
        await expect(store.update({ ...plan, version: 3 }, 1, organization, ids, { audit: written(3, 'update', 'PUT (stale)') })).rejects.toThrow(VersionConflictError);
        await expect(store.update({ ...plan, version: 3 }, 2, organization, ids, { audit: { ...written(4, 'update', 'PUT (no instant)'), at: 'soon' } })).rejects.toThrow(RangeError);
        // A database error after the version's statement (its deliveries refused) rolls the entry back with the version.
        await sql.query(`CREATE FUNCTION refuse_delivery() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no delivery of %', NEW.plan_id; END $$`);
        await sql.query(`CREATE TRIGGER refuse_delivery BEFORE INSERT ON outbox FOR EACH ROW WHEN (NEW.plan_id = 'sip-store-audit-tx-9') EXECUTE FUNCTION refuse_delivery()`);
        try {
          await expect(store.update({ ...plan, version: 3 }, 2, organization, ids, { deliverTo: ['kommun-falun'], audit: written(5, 'update', 'PUT (no delivery)') })).rejects.toThrow(/no delivery/);
        } finally {
          await sql.query('DROP TRIGGER refuse_delivery ON outbox');
          await sql.query('DROP FUNCTION refuse_delivery()');
        }
        expect((await store.get(plan.id))?.version).toBe(2);
        expect(withoutIds(await store.auditLog({ organization }))).toEqual([updated, created]);
        // Each entry was committed by its version's transaction: the rows share the transaction id.
        const shared = await sql.query<{ entries: number }>(
          'SELECT count(*)::integer AS entries FROM audit_log a JOIN plan_versions v ON v.xmin::text = a.xmin::text AND v.plan_id = a.plan_id WHERE a.organization = $1',
          [organization],
        );
        expect(shared[0]?.entries).toBe(2);
      });

      it('refuses to change, remove or empty what it recorded', async () => {
        const recorded = entry('2026-04-01T08:00:00.000Z', 'SE2321000180-AUD3', '199104273686', 'GET /sip/plans/sip-goteborg-2026-0415');
        await opened().store.audit(recorded);
        await expect(opened().sql.query(`UPDATE audit_log SET outcome = 'failed' WHERE organization = 'SE2321000180-AUD3'`)).rejects.toThrow(/audit_log is append-only: UPDATE refused/);
        await expect(opened().sql.query(`DELETE FROM audit_log WHERE organization = 'SE2321000180-AUD3'`)).rejects.toThrow(/audit_log is append-only: DELETE refused/);
        await expect(opened().sql.query('TRUNCATE audit_log')).rejects.toThrow(/audit_log is append-only: TRUNCATE refused/);
        expect(withoutIds(await opened().store.auditLog({ organization: 'SE2321000180-AUD3' }))).toEqual([recorded]);
      });

      it('gives every entry an id of its own, in the order appended, and reads an entry by it', async () => {
        const at = '2031-01-01T08:00:00.000Z';
        // Three entries at the same instant: the newest-first order falls back to the order appended.
        for (const what of ['GET /a', 'GET /b', 'GET /c']) await opened().store.audit(entry(at, 'SE2321000180-AUD4', undefined, what));
        const found = await opened().store.auditLog({ organization: 'SE2321000180-AUD4' });
        expect(found.map((each) => each.what)).toEqual(['GET /c', 'GET /b', 'GET /a']);
        const ids = found.map((each) => each.id);
        for (const id of ids) expect(id).toMatch(/^[1-9][0-9]*$/);
        expect(new Set(ids).size).toBe(3);
        expect(ids.map(Number)).toEqual([...ids.map(Number)].sort((a, b) => b - a));
        const [newest] = found;
        if (newest === undefined) throw new Error('three entries were appended');
        expect(await opened().store.auditEntry(newest.id)).toEqual(newest);
        expect(await opened().store.auditEntry('0')).toBeUndefined();
        expect(await opened().store.auditEntry('12abc')).toBeUndefined();
        expect(await opened().store.auditEntry('99999999999')).toBeUndefined();
        expect(await opened().store.auditEntry('99999999999999999999')).toBeUndefined();
      });

      it('finds entries by agent and by plan', async () => {
        await opened().store.audit({ ...entry('2031-02-01T08:00:00.000Z', 'SE2321000180-AUD5', undefined, 'GET /x'), agent: 'kurator-5@falun', planId: 'sip-store-audit-5a' });
        await opened().store.audit({ ...entry('2031-02-01T09:00:00.000Z', 'SE2321000180-AUD5', undefined, 'GET /y'), agent: 'lakare-5@falun', planId: 'sip-store-audit-5b' });
        expect((await opened().store.auditLog({ agent: 'kurator-5@falun' })).map((each) => each.what)).toEqual(['GET /x']);
        expect((await opened().store.auditLog({ planId: 'sip-store-audit-5b' })).map((each) => each.what)).toEqual(['GET /y']);
        expect(await opened().store.auditLog({ agent: 'kurator-5@falun', planId: 'sip-store-audit-5b' })).toEqual([]);
      });

      it('pages newest first after a given entry, and entries appended meanwhile do not shift the next page', async () => {
        const org = 'SE2321000180-AUD6';
        for (const hour of ['08', '09', '10', '11', '12']) await opened().store.audit(entry(`2031-03-01T${hour}:00:00.000Z`, org, undefined, `GET /${hour}`));
        const first = await opened().store.auditLog({ organization: org, limit: 2 });
        expect(first.map((each) => each.what)).toEqual(['GET /12', 'GET /11']);
        // A newer entry arrives between the pages.
        await opened().store.audit(entry('2031-03-01T13:00:00.000Z', org, undefined, 'GET /13'));
        const afterId = first[1]?.id;
        if (afterId === undefined) throw new Error('the first page has two entries');
        const second = await opened().store.auditLog({ organization: org, limit: 2, afterId });
        expect(second.map((each) => each.what)).toEqual(['GET /10', 'GET /09']);
        const last = await opened().store.auditLog({ organization: org, limit: 2, afterId: second[1]?.id ?? '' });
        expect(last.map((each) => each.what)).toEqual(['GET /08']);
        await expect(opened().store.auditLog({ afterId: 'x' })).rejects.toThrow(RangeError);
      });

      it('shows an organisation its own entries, those about plans it is a principal of, and those naming only the person of such a plan', async () => {
        const region = 'SE2321000180-1000';
        const other = 'SE2321000180-AUD7';
        const visiblePlan = asNew(base, 'sip-store-audit-region');
        const foreign = asNew(readExample('awaiting-decision.json'), 'sip-store-audit-stockholm');
        await create(opened().store, visiblePlan, 'system');
        await create(opened().store, foreign, 'system');
        const person = visiblePlan.individual.identifier.value;
        const foreignPerson = foreign.individual.identifier.value;
        expect(person).not.toBe(foreignPerson);
        const at = (minute: number) => `2032-06-01T08:${String(minute).padStart(2, '0')}:00.000Z`;
        const about = (minute: number, organization: string, planId: string | undefined, personIdentifier: string | undefined): AuditEntry => ({
          at: at(minute),
          organization,
          ...(planId === undefined ? {} : { planId }),
          ...(personIdentifier === undefined ? {} : { personIdentifier }),
          action: 'read',
          what: `GET /minute/${String(minute)}`,
          outcome: 'success',
        });
        const entries = [
          about(1, other, visiblePlan.id, person), // about the region's plan: visible
          about(2, region, foreign.id, foreignPerson), // the region's own: visible
          about(3, other, foreign.id, foreignPerson), // another principal's plan: hidden
          about(4, other, undefined, person), // no plan, the person of the region's plan: visible
          about(5, other, undefined, foreignPerson), // no plan, another person: hidden
          about(6, other, 'sip-store-audit-elsewhere', person), // the same person, another plan: hidden
          about(7, other, undefined, undefined), // nothing about anyone, someone else's: hidden
        ];
        for (const each of entries) await opened().store.audit(each);
        const window = { since: at(0), until: at(59) };
        const seen = await opened().store.auditLog({ ...window, visibleTo: region });
        expect(seen.map((each) => each.what)).toEqual(['GET /minute/4', 'GET /minute/2', 'GET /minute/1']);
        expect((await opened().store.auditLog({ ...window, visibleTo: other })).map((each) => each.what)).toEqual(
          ['GET /minute/7', 'GET /minute/6', 'GET /minute/5', 'GET /minute/4', 'GET /minute/3', 'GET /minute/1'],
        );
        const everything = await opened().store.auditLog(window);
        const idOf = (minute: number) => everything.find((each) => each.what === `GET /minute/${String(minute)}`)?.id ?? '';
        expect((await opened().store.auditEntry(idOf(1), { visibleTo: region }))?.what).toBe('GET /minute/1');
        expect(await opened().store.auditEntry(idOf(3), { visibleTo: region })).toBeUndefined();
        expect((await opened().store.auditEntry(idOf(3)))?.what).toBe('GET /minute/3');
      });
    });

    describe('search over the example plans', () => {
      const examples = exampleFiles.map(readExample);
      // A draft: the first example before any principal approved it, under its own id.
      const draft = asNew({ ...base, approvals: [] }, 'sip-falun-2026-0999');
      const searched = openedBeforeAll(open, async (store) => {
        for (const plan of examples) await storeAtItsVersion(store, plan);
        await create(store, draft, 'system');
      });
      const ids = async (query: Parameters<PlanStore['search']>[0]) => (await searched().store.search(query)).plans.map((stored) => stored.plan.id);

      it('finds every plan by plan id, in pages, with the total', async () => {
        const all = [...examples.map((plan) => plan.id), draft.id].sort();
        expect(all).toHaveLength(9);
        const everything = await searched().store.search({});
        expect(everything.total).toBe(9);
        expect(everything.plans.map((stored) => stored.plan.id)).toEqual(all);
        expect(everything.plans.find((stored) => stored.plan.id === 'sip-umea-2025-0318')?.version).toBe(6);
        const page = await searched().store.search({ limit: 2, offset: 2 });
        expect(page.total).toBe(9);
        expect(page.plans.map((stored) => stored.plan.id)).toEqual(all.slice(2, 4));
        expect(await searched().store.search({ offset: 20 })).toEqual({ total: 9, plans: [] });
        expect(await searched().store.search({ limit: 0 })).toEqual({ total: 9, plans: [] });
        expect(await searched().store.search({ personIdentifier: '190001019999' })).toEqual({ total: 0, plans: [] });
        expect((await searched().store.search({ status: 'draft', limit: 5 })).total).toBe(1);
        await expect(searched().store.search({ limit: -1 })).rejects.toThrow(RangeError);
      });

      it('hands out the versions search does without their plans (searchHeads): the same versions, order and total, each with its plan\'s status', async () => {
        const queries: Parameters<PlanStore['search']>[0][] = [
          {},
          { limit: 2, offset: 2 },
          { offset: 20 },
          { limit: 0 },
          { personIdentifier: '198503141239' },
          { status: 'active', afterPlanId: 'sip-falun-2026-0142', limit: 3 },
          { derived: { deriver: 'no-such-deriver', resourceType: 'CarePlan' } },
        ];
        for (const query of queries) {
          const { total, plans } = await searched().store.search(query);
          const heads = await searched().store.searchHeads(query);
          // The status as recorded with the version: planStatus of its plan (src/sip/lifecycle.ts), which a kept CarePlan search matches.
          expect(heads).toEqual({ total, plans: plans.map((stored) => ({ planId: stored.plan.id, version: stored.version, recordedAt: stored.recordedAt, recordedBy: stored.recordedBy, status: planStatus(stored.plan) })) });
          for (const head of heads.plans) expect('plan' in head).toBe(false);
        }
      });

      it('finds the plans of any of several statuses', async () => {
        const byOne = async (status: string) => ids({ status });
        const [drafts, actives, completed] = [await byOne('draft'), await byOne('active'), await byOne('completed')];
        expect(drafts.length).toBeGreaterThan(0);
        expect(actives.length).toBeGreaterThan(0);
        expect(await ids({ status: ['draft', 'active'] })).toEqual([...drafts, ...actives].sort());
        expect(await ids({ status: ['completed', 'no-such-status'] })).toEqual(completed);
        expect(await ids({ status: [] })).toEqual([]);
        expect((await searched().store.search({ status: ['draft', 'active'], limit: 1 })).total).toBe(drafts.length + actives.length);
      });

      it('hands out a page alone when told total: false — the same versions in the same order, and no total', async () => {
        const queries: Parameters<PlanStore['search']>[0][] = [{}, { limit: 2, offset: 2 }, { offset: 20 }, { limit: 0 }, { status: 'active', afterPlanId: 'sip-falun-2026-0142', limit: 3 }];
        for (const query of queries) {
          const counted = await searched().store.search(query);
          const page = await searched().store.search({ ...query, total: false });
          expect(page).toEqual({ plans: counted.plans });
          const heads = await searched().store.searchHeads({ ...query, total: false });
          expect(heads).toEqual({ plans: (await searched().store.searchHeads(query)).plans });
        }
      });

      it('walks the plans after an id, in the same order, a page at a time (afterPlanId)', async () => {
        const all = [...examples.map((plan) => plan.id), draft.id].sort();
        const walked: string[] = [];
        let afterPlanId: string | undefined;
        for (;;) {
          const page = await ids({ limit: 4, ...(afterPlanId === undefined ? {} : { afterPlanId }) });
          walked.push(...page);
          if (page.length < 4) break;
          afterPlanId = page.at(-1);
        }
        expect(walked).toEqual(all);
        expect(await ids({ afterPlanId: all[6] })).toEqual(all.slice(7));
        expect(await ids({ afterPlanId: all.at(-1) })).toEqual([]);
        expect(await ids({ afterPlanId: all[0], status: 'draft' })).toEqual(all.slice(1).filter((id) => id === draft.id));
      });

      it('finds plans by person identifier and by status', async () => {
        expect(await ids({ personIdentifier: '198503141239' })).toEqual(['sip-falun-2026-0142', 'sip-falun-2026-0999']);
        expect(await ids({ personIdentifier: '199807194171' })).toEqual(['sip-malmo-2025-0862']);
        expect(await ids({ personIdentifier: '190001019999' })).toEqual([]);
        expect(await ids({ status: 'draft' })).toEqual(['sip-falun-2026-0999']);
        expect(await ids({ status: 'revoked' })).toEqual(['sip-malmo-2025-0862']);
        expect(await ids({ status: 'active' })).toHaveLength(7);
        expect(await ids({ status: 'active', personIdentifier: '198503141239' })).toEqual(['sip-falun-2026-0142']);
      });

      it('finds plans by principal: local id, HSA-id, organisationsnummer, kommunkod, länskod', async () => {
        expect(await ids({ principal: 'falu-kommun' })).toEqual(['sip-falun-2026-0142', 'sip-falun-2026-0999']);
        expect(await ids({ principal: 'SE2321000016-1000' })).toEqual(['sip-stockholm-2026-1184']);
        expect(await ids({ principal: 'SE2120000449-1000' })).toEqual(['sip-linkoping-2026-0077']);
        expect(await ids({ principal: '212000-0142' })).toEqual(['sip-stockholm-2026-1184']);
        expect(await ids({ principal: '2120000142' })).toEqual(['sip-stockholm-2026-1184']);
        expect(await ids({ principal: '0580' })).toEqual(['sip-linkoping-2026-0077']);
        expect(await ids({ principal: '20', status: 'active' })).toEqual(['sip-falun-2026-0142']);
        // A unit's HSA-id is not a principal's.
        expect(await ids({ principal: 'SE2321000180-4PSY' })).toEqual([]);
      });

      it('finds plans with an unheld follow-up due by a date', async () => {
        expect(await ids({ followUpDueBy: '2026-03-19' })).toEqual(['sip-linkoping-2026-0077', 'sip-malmo-2025-0862', 'sip-orebro-2025-0219']);
        expect(await ids({ followUpDueBy: '2026-03-18' })).toEqual(['sip-malmo-2025-0862', 'sip-orebro-2025-0219']);
        // Umeå's follow-up of 2026-02-10 was held; its next is 2026-06-02.
        expect(await ids({ followUpDueBy: '2026-02-28' })).toEqual(['sip-orebro-2025-0219']);
        expect(await ids({ followUpDueBy: '2026-06-02' })).toContain('sip-umea-2025-0318');
        await expect(searched().store.search({ followUpDueBy: '2026-3-1' })).rejects.toThrow(RangeError);
      });

      it('finds plans whose consent ends by a date; a withdrawn consent ends nothing', async () => {
        expect(await ids({ consentEndsBy: '2026-10-05' })).toEqual(['sip-orebro-2025-0219', 'sip-umea-2025-0318']);
        expect(await ids({ consentEndsBy: '2026-10-04' })).toEqual(['sip-umea-2025-0318']);
        expect(await ids({ consentEndsBy: '2027-01-25' })).toEqual(['sip-linkoping-2026-0077', 'sip-orebro-2025-0219', 'sip-umea-2025-0318', 'sip-uppsala-2026-0031']);
        expect(await ids({ consentEndsBy: '2030-01-01' })).not.toContain('sip-malmo-2025-0862');
      });

      it('finds open plans overdue at an instant, by the calendar in Stockholm, as overdueFollowUps does', async () => {
        // On 2026-03-19 Linköping's follow-up of that day is not yet overdue; Malmö's plan is closed.
        expect(await ids({ overdueAt: new Date('2026-03-19T12:00:00+01:00') })).toEqual(['sip-orebro-2025-0219']);
        // 23:30 UTC is already 2026-03-20 in Stockholm.
        expect(await ids({ overdueAt: new Date('2026-03-19T23:30:00Z') })).toEqual(['sip-linkoping-2026-0077', 'sip-orebro-2025-0219']);
        expect(await ids({ overdueAt: new Date('2026-01-01T00:00:00+01:00') })).toEqual([]);
        const all = [...examples, draft];
        for (const at of ['2026-01-23T08:00:00+01:00', '2026-05-08T08:00:00+02:00', '2026-06-30T08:00:00+02:00', '2027-01-01T08:00:00+01:00']) {
          const instant = new Date(at);
          const expected = all.filter((plan) => overdueFollowUps(plan, instant).length > 0).map((plan) => plan.id).sort();
          expect(await ids({ overdueAt: instant }), at).toEqual(expected);
        }
        expect(await ids({ overdueAt: new Date('2026-06-30T08:00:00+02:00'), principal: 'SE2321000131-1000' })).toEqual(['sip-goteborg-2026-0415']);
      });
    });
  });
}
