/**
 * A new version written in one statement of data-modifying `WITH` queries (src/store/sql-plan-store.ts
 * `insertVersion`, docs/performance.md branch `i11-tx7`) against the statements it replaces, kept here
 * verbatim as the reference (`formerCreate`, `formerUpdate`): the same plans, resources, derived data
 * and deliveries written both ways, each into a scratch PostgreSQL database of its own, must leave the
 * same rows in every table the write touches (all columns but the ones the server fills with the time
 * or an identity). Covered: every example plan and generated ones, as a new plan and as a second
 * version; without derived data, with no texts, with thousands of texts; with and without receivers;
 * one statement text whatever the number of texts; and the refusals (a plan created twice, a version that is not the next).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planEntries, resourceIdsOf } from '../../src/fhir/index.js';
import { derivedVersion } from '../../src/http/derived-view.js';
import { parsePlan, planModelVersion, type SipPlan } from '../../src/sip/index.js';
import { enqueueDeliveries } from '../../src/store/outbox.js';
import type { DerivedVersion, PlanResource, PlanStore, VersionWriteOptions } from '../../src/store/plan-store.js';
import { searchColumns } from '../../src/store/search-columns.js';
import { openPg, type SqlClient, type SqlQueryable } from '../../src/store/sql-client.js';
import { SqlPlanStore } from '../../src/store/sql-plan-store.js';
import { validPlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, readExample } from '../support/examples.js';
import { createScratchDatabase, type ScratchDatabase } from './postgres-scratch.js';

// The former statements, verbatim but for their names and the derived row's two columns of migration 11 (its traffic light and status).
async function formerInsertDerived(tx: SqlQueryable, planId: string, version: number, derived: DerivedVersion): Promise<void> {
  const [kept] = await tx.query<{ plan_id: string }>(
    'INSERT INTO plan_version_derived (plan_id, version, deriver, basis, summary, traffic_light, plan_status) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING plan_id',
    [planId, version, derived.deriver, derived.basis, derived.summary ?? null, derived.standing?.trafficLight ?? null, derived.standing?.status ?? null],
  );
  if (kept === undefined) return;
  for (let from = 0; from < derived.texts.length; from += 1_000) {
    const texts = derived.texts.slice(from, from + 1_000);
    const params: unknown[] = [planId, version, derived.deriver];
    const rows = texts.map((text) => {
      const at = params.push(text.resourceType, text.id, text.head, text.tail);
      return `($1, $2, $3, $${String(at - 3)}, $${String(at - 2)}, $${String(at - 1)}, $${String(at)})`;
    });
    await tx.query(`INSERT INTO plan_version_texts (plan_id, version, deriver, resource_type, resource_id, head, tail) VALUES ${rows.join(', ')} ON CONFLICT DO NOTHING`, params);
  }
}
async function formerInsertVersion(tx: SqlQueryable, plan: SipPlan, recordedBy: string, resources: readonly PlanResource[], options: VersionWriteOptions): Promise<void> {
  await tx.query('INSERT INTO plan_versions (plan_id, version, document, model, recorded_by) VALUES ($1, $2, $3::json, $4, $5) RETURNING recorded_at', [plan.id, plan.version, JSON.stringify(plan), planModelVersion(), recordedBy]);
  await tx.query(
    `INSERT INTO plan_resources (resource_type, resource_id, plan_id)
     SELECT resource_type, resource_id, $3 FROM unnest($1::text[], $2::text[]) AS r (resource_type, resource_id)
     ON CONFLICT DO NOTHING`,
    [resources.map((id) => id.resourceType), resources.map((id) => id.id), plan.id],
  );
  await enqueueDeliveries(tx, plan.id, plan.version, options.deliverTo ?? []);
  if (options.derived !== undefined) await formerInsertDerived(tx, plan.id, plan.version, options.derived);
}
function columnValues(plan: SipPlan): unknown[] {
  const columns = searchColumns(plan);
  return [plan.id, plan.version, columns.personIdentifier, columns.status, columns.principalKeys, columns.nextFollowUp, columns.consentEnds, columns.closed];
}
async function formerCreate(client: SqlClient, plan: SipPlan, recordedBy: string, resources: readonly PlanResource[], options: VersionWriteOptions): Promise<void> {
  await client.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO plans (plan_id, version, person_identifier, status, principal_keys, next_follow_up, consent_ends, closed)
           VALUES ($1, $2, $3, $4, $5::text[], $6::date, $7::date, $8)`,
      columnValues(plan),
    );
    await formerInsertVersion(tx, plan, recordedBy, resources, options);
  });
}
async function formerUpdate(client: SqlClient, plan: SipPlan, recordedBy: string, resources: readonly PlanResource[], options: VersionWriteOptions): Promise<void> {
  await client.transaction(async (tx) => {
    await tx.query('SELECT version FROM plans WHERE plan_id = $1 FOR UPDATE', [plan.id]);
    await formerInsertVersion(tx, plan, recordedBy, resources, options);
    await tx.query(
      `UPDATE plans SET version = $2, person_identifier = $3, status = $4, principal_keys = $5::text[],
           next_follow_up = $6::date, consent_ends = $7::date, closed = $8
         WHERE plan_id = $1`,
      columnValues(plan),
    );
  });
}

/**
 * Every kept text of every version, wherever it is kept: a row of plan_version_texts (the former
 * statements kept every text so), or packed on the derived row (migration 12, src/store/kept-texts.ts:
 * text i's head is the bytes from offset bounds[2i−1] to bounds[2i], its tail from there to bounds[2i+1]),
 * cut out here as that migration's comment describes the columns.
 */
const KEPT_TEXTS = `SELECT plan_id, version, deriver, resource_type, resource_id, head, tail FROM plan_version_texts
  UNION ALL
  SELECT d.plan_id, d.version, d.deriver, d.text_types[s.i], d.text_ids[s.i],
    convert_from(substring(d.texts FROM d.text_bounds[2 * s.i - 1] + 1 FOR d.text_bounds[2 * s.i] - d.text_bounds[2 * s.i - 1]), 'UTF8'),
    convert_from(substring(d.texts FROM d.text_bounds[2 * s.i] + 1 FOR d.text_bounds[2 * s.i + 1] - d.text_bounds[2 * s.i]), 'UTF8')
  FROM plan_version_derived d CROSS JOIN generate_subscripts(d.text_types, 1) AS s (i)`;

/** Every row a write leaves, but the columns the server fills with the time or an identity; the texts as {@link KEPT_TEXTS}. */
const DUMPS = [
  'SELECT * FROM plans ORDER BY plan_id',
  'SELECT plan_id, version, plan::text AS plan, document::text AS document, model, recorded_by FROM plan_versions ORDER BY plan_id, version',
  'SELECT * FROM plan_resources ORDER BY plan_id, resource_type, resource_id',
  'SELECT plan_id, version, deriver, basis, summary, traffic_light, plan_status FROM plan_version_derived ORDER BY plan_id, version, deriver',
  `SELECT * FROM (${KEPT_TEXTS}) AS t ORDER BY plan_id, version, deriver, resource_type, resource_id`,
  'SELECT plan_id, version, receiver_id, state, attempts, not_before, last_status, last_error, ended_at FROM outbox ORDER BY plan_id, version, receiver_id',
];

async function dump(client: SqlClient): Promise<unknown[][]> {
  const tables: unknown[][] = [];
  for (const sql of DUMPS) tables.push(await client.query(sql));
  return tables;
}

/** A write's outcome: done, or the SQLSTATE-free name of the error it threw. */
async function outcome(write: () => Promise<unknown>): Promise<string> {
  try {
    await write();
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.constructor.name : 'thrown';
  }
}

let databases: ScratchDatabase[] = [];
let now: { client: SqlClient; store: PlanStore };
let former: SqlClient;

beforeAll(async () => {
  databases = [await createScratchDatabase(), await createScratchDatabase()];
  const [mine, theirs] = databases;
  if (mine === undefined || theirs === undefined) throw new Error('no scratch databases');
  const client = openPg(mine.url, { maxConnections: 2 });
  const store = new SqlPlanStore(client);
  await store.migrate();
  now = { client, store };
  former = openPg(theirs.url, { maxConnections: 2 });
  await new SqlPlanStore(former).migrate();
}, 120_000);

afterAll(async () => {
  await now.store.close();
  await former.close();
  for (const database of databases) await database.drop();
});

/** What a plan's write carries, in one of several shapes chosen by `variant`. */
function writeOf(plan: SipPlan, variant: number): { resources: PlanResource[]; options: VersionWriteOptions } {
  const view = planEntries(plan);
  const resources = variant % 5 === 4 ? [] : resourceIdsOf(view);
  const derived = derivedVersion(plan, view);
  const deliverTo = variant % 3 === 0 ? [] : variant % 3 === 1 ? ['region-dalarna'] : ['region-dalarna', 'falun.kommun:care'];
  const options: VersionWriteOptions[] = [
    { derived, deliverTo },
    { deliverTo },
    { derived: { ...derived, texts: [] }, deliverTo },
    { derived: { ...derived, summary: undefined }, deliverTo },
    { derived },
    { derived: { ...derived, standing: undefined }, deliverTo },
  ];
  return { resources, options: options[variant % options.length] ?? {} };
}

function parsed(json: unknown): SipPlan {
  const result = parsePlan(json);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.plan;
}

/** Writes `plan` both ways as a new plan, then (for most) as its second version, each write's outcome the same. */
async function writeBoth(plan: SipPlan, variant: number): Promise<void> {
  const first = { ...plan, version: 1 };
  const { resources, options } = writeOf(first, variant);
  expect(await outcome(() => now.store.create(first, 'SE2321000180-1000', resources, options))).toBe('ok');
  expect(await outcome(() => formerCreate(former, first, 'SE2321000180-1000', resources, options))).toBe('ok');
  if (variant % 4 === 3) return;
  const second = { ...plan, version: 2, updatedAt: '2026-11-30T10:00:00+01:00' };
  const next = writeOf(second, variant + 1);
  expect(await outcome(() => now.store.update(second, 1, 'SE2321000180-2000', next.resources, next.options))).toBe('ok');
  expect(await outcome(() => formerUpdate(former, second, 'SE2321000180-2000', next.resources, next.options))).toBe('ok');
}

describe('a version written in one statement, against the statements it replaces', () => {
  it('leaves the same rows for every example plan, new and as a second version, in each shape of write', async () => {
    let variant = 0;
    for (const file of exampleFiles) {
      const plan = readExample(file);
      for (let shape = 0; shape < 3; shape++) {
        variant += 1;
        await writeBoth({ ...plan, id: `${plan.id}-w${String(variant)}` }, variant);
      }
    }
    expect(await dump(now.client)).toEqual(await dump(former));
    // Kept as rows: the CarePlans' texts alone; every other text packed on its version's derived row.
    expect(await now.client.query('SELECT DISTINCT resource_type FROM plan_version_texts')).toEqual([{ resource_type: 'CarePlan' }]);
    const [packed] = await now.client.query<{ n: number }>('SELECT sum(cardinality(text_types))::integer AS n FROM plan_version_derived');
    const [others] = await now.client.query<{ n: number }>(`SELECT count(*)::integer AS n FROM (${KEPT_TEXTS}) AS t WHERE resource_type <> 'CarePlan'`);
    expect(packed?.n).toBeGreaterThan(100);
    expect(packed?.n).toBe(others?.n);
    expect(await former.query('SELECT count(*)::integer AS n FROM plan_version_derived WHERE texts IS NOT NULL')).toEqual([{ n: 0 }]);
  }, 120_000);

  it('leaves the same rows for generated plans', async () => {
    let variant = 100;
    await fc.assert(
      fc.asyncProperty(validPlanArbitrary, async (json) => {
        variant += 1;
        const plan = parsed(json);
        await writeBoth({ ...plan, id: `gen-${String(variant)}` }, variant);
      }),
      { numRuns: 40 },
    );
    expect(await dump(now.client)).toEqual(await dump(former));
  }, 300_000);

  it('sends one statement text for a create whatever the number of texts, so the pool prepares it once for every shape of plan', async () => {
    const sent: string[] = [];
    const recording: SqlClient = {
      driver: now.client.driver,
      query: (sql, params) => {
        sent.push(sql);
        return now.client.query(sql, params);
      },
      transaction: (work, options) => now.client.transaction(work, options),
      close: () => Promise.resolve(),
    };
    const store = new SqlPlanStore(recording);
    const texts = new Set<number>();
    for (const [index, file] of exampleFiles.entries()) {
      const plan = { ...readExample(file), id: `one-text-${String(index)}`, version: 1 };
      const { resources, options } = writeOf(plan, 4);
      texts.add(options.derived?.texts.length ?? 0);
      await store.create(plan, 'SE2321000180-1000', resources, options);
      await formerCreate(former, plan, 'SE2321000180-1000', resources, options);
    }
    // The examples differ in their number of texts, and each create was one statement of the same text.
    expect(texts.size).toBeGreaterThan(1);
    expect(sent).toHaveLength(exampleFiles.length);
    expect(new Set(sent).size).toBe(1);
    expect(await dump(now.client)).toEqual(await dump(former));
  });

  it('writes thousands of texts, and refuses a plan created twice and a version out of turn, as before', async () => {
    const plan = { ...readExample(exampleFiles[0] ?? ''), id: 'many-texts', version: 1 };
    const { resources, options } = writeOf(plan, 0);
    const derived = options.derived;
    if (derived === undefined) throw new Error('no derived data');
    const many = Array.from({ length: 2_345 }, (_, index) => ({ resourceType: 'Goal', id: `goal-${String(index)}`, head: `{"n":${String(index)},`, tail: `}` }));
    const big: VersionWriteOptions = { ...options, derived: { ...derived, texts: [...derived.texts, ...many] } };
    expect(await outcome(() => now.store.create(plan, 'SE2321000180-1000', resources, big))).toBe('ok');
    await formerCreate(former, plan, 'SE2321000180-1000', resources, big);
    // The same plan again: refused both ways, nothing written.
    expect(await outcome(() => now.store.create(plan, 'SE2321000180-1000', resources, options))).toBe('PlanExistsError');
    expect(await outcome(() => formerCreate(former, plan, 'SE2321000180-1000', resources, options))).not.toBe('ok');
    expect(await outcome(() => now.store.update({ ...plan, version: 3 }, 1, 'SE2321000180-1000', resources, options))).toBe('VersionConflictError');
    // A create the database refuses part of (a text PostgreSQL cannot keep: the CarePlan's, a row) leaves
    // nothing, with and without deliveries; a create of thousands of texts, one of them refused, too.
    // The same text among the packed ones (a Goal's) is refused by the store before anything is sent.
    for (const [deliverTo, more, refusedType] of [[[], 0, 'CarePlan'], [['region-dalarna'], 0, 'CarePlan'], [[], 1_200, 'CarePlan'], [[], 1_200, 'Goal']] as const) {
      const broken = { ...plan, id: `broken-${String(deliverTo.length)}-${String(more)}-${refusedType}` };
      const write = writeOf(broken, 0);
      const texts = [...(write.options.derived?.texts ?? []), ...many.slice(0, more)];
      const at = texts.findIndex((text) => text.resourceType === refusedType);
      const withNul = texts.map((text, index) => (index === at ? { ...text, tail: 'nul \u0000' } : text));
      const refused: VersionWriteOptions = { deliverTo: [...deliverTo], ...(write.options.derived === undefined ? {} : { derived: { ...write.options.derived, texts: withNul } }) };
      const got = await outcome(() => now.store.create(broken, 'SE2321000180-1000', write.resources, refused));
      expect(got).not.toBe('ok');
      expect(got === 'RangeError').toBe(refusedType === 'Goal');
      expect(await outcome(() => formerCreate(former, broken, 'SE2321000180-1000', write.resources, refused))).not.toBe('ok');
    }
    expect(await dump(now.client)).toEqual(await dump(former));
    const [count] = await now.client.query<{ n: number }>(`SELECT count(*)::integer AS n FROM (${KEPT_TEXTS}) AS t WHERE plan_id = 'many-texts'`);
    expect(count?.n).toBe(derived.texts.length + many.length);
  }, 120_000);
});
