/**
 * The reads of one turn in one statement — a resource's kept text (src/store/kept-reads.ts), a
 * person's plans as the FHIR search and the SIP API read them (src/store/person-reads.ts) and plans'
 * current versions (src/store/current-reads.ts):
 * what each read gets back, batched or alone, on both
 * stores; how many statements a turn's reads cost; and, on PostgreSQL, that each batched statement
 * keeps a generic plan instead of being planned at every call.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { newStoredPlan, personnummer } from '../../bench/support.js';
import { planResourceIds } from '../../src/fhir/index.js';
import { currentDeriver, derivedVersion } from '../../src/http/derived-view.js';
import type { SipPlan } from '../../src/sip/index.js';
import { currentMany } from '../../src/store/current-reads.js';
import { KEPT_MANY, type KeptKey } from '../../src/store/kept-reads.js';
import { personPlansMany, personsMany } from '../../src/store/person-reads.js';
import type { PlanSearch, StoredPlan, StoredVersionHead } from '../../src/store/plan-store.js';
import { openPg, openPglite, type SqlClient } from '../../src/store/sql-client.js';
import { SqlPlanStore } from '../../src/store/sql-plan-store.js';
import { createScratchDatabase, type ScratchDatabase } from './postgres-scratch.js';

const folders: string[] = [];
const databases: ScratchDatabase[] = [];
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
  for (const database of databases) await database.drop();
});

/** A client that counts the statements sent through it. */
function counting(client: SqlClient): { client: SqlClient; statements: string[] } {
  const statements: string[] = [];
  const counted: SqlClient = Object.create(client) as SqlClient;
  counted.query = (sql, params) => {
    statements.push(sql);
    return client.query(sql, params);
  };
  return { client: counted, statements };
}

async function openClient(driver: 'PGlite' | 'PostgreSQL'): Promise<{ client: SqlClient; url?: string }> {
  if (driver === 'PGlite') {
    const folder = await mkdtemp(join(tmpdir(), 'sip-kept-reads-'));
    folders.push(folder);
    return { client: await openPglite(join(folder, 'data')) };
  }
  const database = await createScratchDatabase();
  databases.push(database);
  return { client: openPg(database.url), url: database.url };
}

/**
 * Four persons' plans and two more of the first person: the first person's Patient is in three plans
 * (shared master data keeps one id), each plan's CarePlan in its own.
 */
function plans(): SipPlan[] {
  return [0, 1, 2, 3, 0, 0].map((person, index) => newStoredPlan(`kept-reads-${String(index)}`, personnummer(person)));
}

function idOf(plan: SipPlan, resourceType: string): string {
  const found = planResourceIds(plan).find((resource) => resource.resourceType === resourceType);
  if (found === undefined) throw new Error(`no ${resourceType} in plan ${plan.id}`);
  return found.id;
}

/** A migrated store on a fresh database of the driver, through a counting client, with {@link plans} recorded. */
async function storeOfPlans(driver: 'PGlite' | 'PostgreSQL'): Promise<{ store: SqlPlanStore; statements: string[]; recorded: SipPlan[] }> {
  const { client } = await openClient(driver);
  const { client: counted, statements } = counting(client);
  const store = new SqlPlanStore(counted);
  await store.migrate();
  const recorded = plans();
  for (const plan of recorded) await store.create(plan, 'system', planResourceIds(plan), { derived: derivedVersion(plan) });
  return { store, statements, recorded };
}

/** A migrated store on a fresh database of the driver, through a counting client, with one plan recorded; the count starts after it. */
async function storeOfOnePlan(driver: 'PGlite' | 'PostgreSQL', planId: string, person: number): Promise<{ store: SqlPlanStore; statements: string[]; plan: SipPlan }> {
  const { client } = await openClient(driver);
  const { client: counted, statements } = counting(client);
  const store = new SqlPlanStore(counted);
  await store.migrate();
  const plan = newStoredPlan(planId, personnummer(person));
  await store.create(plan, 'system', planResourceIds(plan), { derived: derivedVersion(plan) });
  statements.length = 0;
  return { store, statements, plan };
}

describe.each(['PGlite', 'PostgreSQL'] as const)('kept reads on %s', (driver) => {
  it('gives each read of a turn what it gets alone, in one statement a deriver', async () => {
    const { store, statements, recorded } = await storeOfPlans(driver);
    try {
      const deriver = currentDeriver();
      const [first] = recorded;
      if (first === undefined) throw new Error('no plans');
      const keys: KeptKey[] = [
        ...recorded.map((plan) => ({ resourceType: 'CarePlan', resourceId: idOf(plan, 'CarePlan'), deriver })),
        { resourceType: 'Patient', resourceId: idOf(first, 'Patient'), deriver },
        { resourceType: 'CarePlan', resourceId: 'no-such-plan', deriver },
        // A resource id asked under another type is not that resource.
        { resourceType: 'Patient', resourceId: idOf(first, 'CarePlan'), deriver },
        { resourceType: 'CarePlan', resourceId: idOf(first, 'CarePlan'), deriver: 'another-deriver' },
      ];

      const alone: StoredVersionHead[][] = [];
      // One at a time, each alone in its turn: the statement of one key.
      for (const key of keys) alone.push(await store.keptWithResource(key.resourceType, key.resourceId, key.deriver));
      statements.length = 0;
      const together = await Promise.all(keys.map((key) => store.keptWithResource(key.resourceType, key.resourceId, key.deriver)));

      // Two derivers among the keys, and under the current one the CarePlans' texts (rows) apart from
      // the Patients' (packed, src/store/kept-texts.ts): three statements, where one a read was ten.
      expect(statements).toHaveLength(3);
      expect(statements.filter((sql) => sql === KEPT_MANY.rows || sql === KEPT_MANY.both)).toHaveLength(2);
      expect(together).toEqual(alone);
      // What each read should get, read off the plans recorded.
      for (const [index, plan] of recorded.entries()) {
        expect(together[index]?.map((head) => head.planId)).toEqual([plan.id]);
        expect(together[index]?.[0]?.derived?.texts[0]?.id).toBe(idOf(plan, 'CarePlan'));
      }
      const sharedPatient = together[recorded.length];
      expect(sharedPatient?.map((head) => head.planId)).toEqual(['kept-reads-0', 'kept-reads-4', 'kept-reads-5']);
      expect(sharedPatient?.every((head) => head.derived?.texts[0]?.id === idOf(first, 'Patient'))).toBe(true);
      expect(together[recorded.length + 1]).toEqual([]);
      expect(together[recorded.length + 2]).toEqual([]);
      const otherDeriver = together[recorded.length + 3];
      expect(otherDeriver?.map((head) => head.planId)).toEqual([first.id]);
      expect(otherDeriver?.[0]?.derived).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('sends a read alone when it is the only one of its turn, and the reads of later turns apart', async () => {
    const { store, statements, plan } = await storeOfOnePlan(driver, 'kept-reads-alone', 7);
    try {
      const id = idOf(plan, 'CarePlan');
      const first = await store.keptWithResource('CarePlan', id, currentDeriver());
      const second = await store.keptWithResource('CarePlan', id, currentDeriver());
      expect(statements).toHaveLength(2);
      expect(statements.some((sql) => sql === KEPT_MANY.rows || sql === KEPT_MANY.both)).toBe(false);
      expect(first.map((head) => head.planId)).toEqual([plan.id]);
      // Nothing is remembered between turns: a new version is read as it is.
      await store.update({ ...plan, version: 2 }, 1, 'system', planResourceIds(plan), { derived: derivedVersion({ ...plan, version: 2 }) });
      const third = await store.keptWithResource('CarePlan', id, currentDeriver());
      expect(second.map((head) => head.version)).toEqual([1]);
      expect(third.map((head) => head.version)).toEqual([2]);
    } finally {
      await store.close();
    }
  });
});

describe('the batched statement on PostgreSQL', () => {
  it.each([
    ['CarePlan', 'rows'],
    ['Goal', 'both'],
  ] as const)('is planned once and kept as a generic plan, whatever the number of keys (%s, its texts read from %s)', async (resourceType, form) => {
    const plansMade = await plansOfTwentyCalls(KEPT_MANY[form], (recorded, call) => {
      const keys = recorded.slice(call, call + 2 + (call % 5)).map((plan) => idOf(plan, resourceType));
      return { values: [keys.map(() => resourceType), keys, currentDeriver()], rows: keys.length };
    });
    // Five custom plans first (PostgreSQL's rule), then the generic one: with `unnest` all 20 were custom.
    expect(plansMade.custom).toBeLessThanOrEqual(5);
    expect(plansMade.generic).toBeGreaterThanOrEqual(15);
  });
});

/**
 * Runs `text` as a prepared statement twenty times on a store of 400 plans, analyzed — enough that a
 * key's lookup costs the planner what it does in service: on a few rows an `unnest`'s custom plans
 * cost so little that the generic plan is kept either way — each call with the values `call` gives
 * and expecting the rows it says; then how many custom and generic plans PostgreSQL made of it.
 */
async function plansOfTwentyCalls(text: string, call: (recorded: readonly SipPlan[], index: number) => { values: unknown[]; rows: number }): Promise<{ custom: number; generic: number }> {
  const { client, url } = await openClient('PostgreSQL');
  const store = new SqlPlanStore(client);
  const direct = new pg.Client({ connectionString: url });
  try {
    await store.migrate();
    const recorded = Array.from({ length: 400 }, (_, index) => newStoredPlan(`generic-plan-${String(index)}`, personnummer(index)));
    for (let from = 0; from < recorded.length; from += 20) {
      await Promise.all(recorded.slice(from, from + 20).map((plan) => store.create(plan, 'system', planResourceIds(plan), { derived: derivedVersion(plan) })));
    }
    await direct.connect();
    await direct.query('ANALYZE');
    for (let index = 0; index < 20; index++) {
      const { values, rows } = call(recorded, index);
      expect((await direct.query({ name: 'twenty-calls', text, values })).rows).toHaveLength(rows);
    }
    const [made] = (await direct.query<{ generic_plans: string; custom_plans: string }>("SELECT generic_plans::text, custom_plans::text FROM pg_prepared_statements WHERE name = 'twenty-calls'")).rows;
    return { custom: Number(made?.custom_plans), generic: Number(made?.generic_plans) };
  } finally {
    await direct.end();
    await store.close();
  }
}

/** A person's identifier as the store keeps it: the personnummer's twelve digits without the hyphen. */
function storedPerson(serial: number): string {
  return personnummer(serial).replace('-', '');
}

describe.each(['PGlite', 'PostgreSQL'] as const)('person searches on %s', (driver) => {
  it('gives each person search of a turn what it gets alone, in one statement for those alike', async () => {
    const { store, statements } = await storeOfPlans(driver);
    try {
      const carePlanText = { deriver: currentDeriver(), resourceType: 'CarePlan' };
      const searches: PlanSearch[] = [
        { personIdentifier: storedPerson(0), limit: 1000, derived: carePlanText, total: false },
        { personIdentifier: storedPerson(1), limit: 1000, derived: carePlanText, total: false },
        { personIdentifier: storedPerson(2), limit: 1000, derived: carePlanText, total: false },
        { personIdentifier: storedPerson(9), limit: 1000, derived: carePlanText, total: false },
        // Alike but for the page's size: a statement of its own.
        { personIdentifier: storedPerson(0), limit: 2, derived: carePlanText, total: false },
        // Narrowed, counted or without the texts: each run as it is.
        { personIdentifier: storedPerson(0), status: ['draft', 'active'], limit: 1000, derived: carePlanText, total: false },
        { personIdentifier: storedPerson(3), limit: 1000, derived: carePlanText },
        { personIdentifier: storedPerson(3), limit: 1000, derived: { ...carePlanText, text: false }, total: false },
      ];
      const alone: { total?: number; plans: StoredVersionHead[] }[] = [];
      for (const search of searches) alone.push(await store.searchHeads(search));
      statements.length = 0;
      const together = await Promise.all(searches.map((search) => store.searchHeads(search)));

      // The first four in one statement, each other one alone: five, where one a search was eight.
      expect(statements).toHaveLength(5);
      expect(statements.filter((sql) => sql === personsMany('CarePlan'))).toHaveLength(1);
      expect(together).toEqual(alone);
      // What each should get, read off the plans recorded: the first person has three, in the order of their ids.
      const ids = together.map(({ plans: found }) => found.map((head) => head.planId));
      expect(ids).toEqual([
        ['kept-reads-0', 'kept-reads-4', 'kept-reads-5'],
        ['kept-reads-1'],
        ['kept-reads-2'],
        [],
        ['kept-reads-0', 'kept-reads-4'],
        ['kept-reads-0', 'kept-reads-4', 'kept-reads-5'],
        ['kept-reads-3'],
        ['kept-reads-3'],
      ]);
      expect(together[0]?.plans.every((head) => head.derived?.texts[0]?.resourceType === 'CarePlan' && head.status !== undefined)).toBe(true);
      expect(together[6]?.total).toBe(1);
      expect(together[7]?.plans[0]?.derived?.texts).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('the batched person search on PostgreSQL', () => {
  it('is planned once and kept as a generic plan, whatever the number of persons', async () => {
    const plansMade = await plansOfTwentyCalls(personsMany('CarePlan'), (_recorded, call) => {
      const persons = Array.from({ length: 2 + (call % 5) }, (_, index) => storedPerson(call + index));
      return { values: [persons, currentDeriver(), 1000], rows: persons.length };
    });
    // With the resource type bound, all 20 were custom.
    expect(plansMade.custom).toBeLessThanOrEqual(5);
    expect(plansMade.generic).toBeGreaterThanOrEqual(15);
  });
});

describe.each(['PGlite', 'PostgreSQL'] as const)('person searches of whole versions on %s', (driver) => {
  it('gives each SIP person search of a turn what it gets alone, in one statement for those alike', async () => {
    const { store, statements } = await storeOfPlans(driver);
    try {
      const basis = { deriver: currentDeriver() };
      const searches: PlanSearch[] = [
        { personIdentifier: storedPerson(0), limit: 100, derived: basis, total: false },
        { personIdentifier: storedPerson(1), limit: 100, derived: basis, total: false },
        { personIdentifier: storedPerson(9), limit: 100, derived: basis, total: false },
        // Alike but for the page's size, or with nothing derived: a statement of their own.
        { personIdentifier: storedPerson(0), limit: 2, derived: basis, total: false },
        { personIdentifier: storedPerson(2), limit: 100, total: false },
        { personIdentifier: storedPerson(3), limit: 100, total: false },
        // Under another deriver: the basis is not found, the versions are.
        { personIdentifier: storedPerson(2), limit: 100, derived: { deriver: 'another-deriver' }, total: false },
        // Narrowed, past the first page, or counted: each run as it is.
        { personIdentifier: storedPerson(0), status: 'draft', limit: 100, derived: basis, total: false },
        { personIdentifier: storedPerson(0), limit: 100, offset: 1, derived: basis, total: false },
        { personIdentifier: storedPerson(3), limit: 100, derived: basis },
      ];
      const alone: { total?: number; plans: StoredPlan[] }[] = [];
      for (const search of searches) alone.push(await store.search(search));
      statements.length = 0;
      const together = await Promise.all(searches.map((search) => store.search(search)));

      // The first three in one statement, the two without a basis in another; each other one alone: seven, where one a search was ten.
      expect(statements).toHaveLength(7);
      expect(statements.filter((sql) => sql === personPlansMany(true))).toHaveLength(1);
      expect(statements.filter((sql) => sql === personPlansMany(false))).toHaveLength(1);
      expect(together).toEqual(alone);
      // What each should get, read off the plans recorded: the first person has three, in the order of their ids.
      expect(together.map(({ plans: found }) => found.map((stored) => stored.plan.id))).toEqual([
        ['kept-reads-0', 'kept-reads-4', 'kept-reads-5'],
        ['kept-reads-1'],
        [],
        ['kept-reads-0', 'kept-reads-4'],
        ['kept-reads-2'],
        ['kept-reads-3'],
        ['kept-reads-2'],
        ['kept-reads-0', 'kept-reads-4', 'kept-reads-5'],
        ['kept-reads-4', 'kept-reads-5'],
        ['kept-reads-3'],
      ]);
      // With the send basis kept under the deriver asked for, and none under another or none asked.
      expect(together[0]?.plans.every((stored) => typeof stored.derived?.basis === 'string' && stored.derived.basis.length > 0)).toBe(true);
      expect(together[4]?.plans[0]?.derived).toBeUndefined();
      expect(together[6]?.plans[0]?.derived).toBeUndefined();
      expect(together[9]?.total).toBe(1);
    } finally {
      await store.close();
    }
  });
});

describe('the batched SIP person search on PostgreSQL', () => {
  it('is planned once and kept as a generic plan, whatever the number of persons', async () => {
    const plansMade = await plansOfTwentyCalls(personPlansMany(true), (_recorded, call) => {
      const persons = Array.from({ length: 2 + (call % 5) }, (_, index) => storedPerson(call + index));
      return { values: [persons, 100, currentDeriver()], rows: persons.length };
    });
    expect(plansMade.custom).toBeLessThanOrEqual(5);
    expect(plansMade.generic).toBeGreaterThanOrEqual(15);
  });
});

describe.each(['PGlite', 'PostgreSQL'] as const)('current versions on %s', (driver) => {
  it('gives each read of a turn what it gets alone, in one statement a deriver asked (or none)', async () => {
    const { store, statements, recorded } = await storeOfPlans(driver);
    try {
      const deriver = currentDeriver();
      const [first, second] = recorded;
      if (first === undefined || second === undefined) throw new Error('no plans');
      // The versions alone, with the send basis kept under the running deriver, and under one that kept none.
      const reads: { planId: string; derived?: { deriver: string } }[] = [
        ...recorded.map((plan) => ({ planId: plan.id })),
        { planId: 'no-such-plan' },
        { planId: first.id },
        ...recorded.map((plan) => ({ planId: plan.id, derived: { deriver } })),
        { planId: 'no-such-plan', derived: { deriver } },
        { planId: second.id, derived: { deriver: 'another-deriver' } },
      ];
      const read = (key: (typeof reads)[number]): Promise<StoredPlan | undefined> => store.get(key.planId, undefined, key.derived === undefined ? {} : { derived: key.derived });

      const alone: (StoredPlan | undefined)[] = [];
      // One at a time, each alone in its turn: the statement of one key.
      for (const key of reads) alone.push(await read(key));
      expect(statements.some((sql) => sql === currentMany(false) || sql === currentMany(true))).toBe(false);
      statements.length = 0;
      const together = await Promise.all(reads.map(read));

      // Three groups (no deriver, the running one, another): three statements, the third a read's own, where one a read was seventeen.
      expect(statements).toHaveLength(3);
      expect(statements.filter((sql) => sql === currentMany(false))).toHaveLength(1);
      expect(statements.filter((sql) => sql === currentMany(true))).toHaveLength(1);
      expect(together).toEqual(alone);
      // What each read should get, read off the plans recorded.
      const count = recorded.length;
      for (const [index, plan] of recorded.entries()) {
        expect(together[index]?.plan).toEqual(plan);
        expect(together[index]?.version).toBe(plan.version);
        expect(together[index]?.derived).toBeUndefined();
        expect(together[count + 2 + index]?.plan.id).toBe(plan.id);
        expect(together[count + 2 + index]?.derived?.basis).toEqual(expect.any(String));
      }
      expect(together[count]).toBeUndefined();
      expect(together[count + 1]?.plan.id).toBe(first.id);
      expect(together[2 * count + 2]).toBeUndefined();
      expect(together[2 * count + 3]?.plan.id).toBe(second.id);
      expect(together[2 * count + 3]?.derived).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('reads a version asked by number, or with a resource\'s text, in its own statement, and nothing is remembered between turns', async () => {
    const { store, statements, plan } = await storeOfOnePlan(driver, 'current-reads-alone', 8);
    try {
      const [byNumber, withText, current] = await Promise.all([
        store.get(plan.id, 1),
        store.get(plan.id, undefined, { derived: { deriver: currentDeriver(), resourceType: 'CarePlan' } }),
        store.get(plan.id),
      ]);
      expect(statements).toHaveLength(3);
      expect(statements.some((sql) => sql === currentMany(false) || sql === currentMany(true))).toBe(false);
      expect([byNumber?.version, withText?.version, current?.version]).toEqual([1, 1, 1]);
      expect(withText?.derived?.texts[0]?.resourceType).toBe('CarePlan');
      // A new version is read as it is in the next turn.
      const next = { ...plan, version: 2 };
      await store.update(next, 1, 'system', planResourceIds(next), { derived: derivedVersion(next) });
      const [again, alsoAgain] = await Promise.all([store.get(plan.id), store.get(plan.id)]);
      expect([again?.version, alsoAgain?.version]).toEqual([2, 2]);
      expect(statements.filter((sql) => sql === currentMany(false))).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});

describe('the batched read of current versions on PostgreSQL', () => {
  it('is planned once and kept as a generic plan, whatever the number of plans', async () => {
    const plansMade = await plansOfTwentyCalls(currentMany(true), (recorded, call) => {
      const ids = recorded.slice(call, call + 2 + (call % 5)).map((plan) => plan.id);
      return { values: [ids, currentDeriver()], rows: ids.length };
    });
    expect(plansMade.custom).toBeLessThanOrEqual(5);
    expect(plansMade.generic).toBeGreaterThanOrEqual(15);
  });
});
