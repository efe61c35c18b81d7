/**
 * Claiming and settling several deliveries at once (src/store/outbox.ts `deliverBatch`), on PGlite and
 * on PostgreSQL: a batch records each settlement exactly as the one-row statements it replaced did
 * (a differential test against a copy of them, over generated settlements with and without their
 * audit entries), never holds two versions of one plan to one receiver, never hands one row to two
 * claims, and an attempt that throws leaves only its own row pending.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { AUDIT_ROW_COLUMNS, auditRow } from '../../src/store/audit-writer.js';
import type { AuditEntry, ClaimedDelivery, Settlement } from '../../src/store/index.js';
import { SqlOutboxStore } from '../../src/store/outbox.js';
import type { SqlClient, SqlQueryable } from '../../src/store/sql-client.js';
import { openStore, writeVersions, type Driver, type OpenedStore } from '../exchange/outbox-support.js';

const AT = new Date('2030-01-01T00:00:00Z');
const RECEIVER = 'kommun-falun';

/**
 * The settlement statements of the session's start (56f2ea3), one row at a time, kept here as the
 * reference the batch statement must equal.
 */
async function settleOneAsBefore(sql: SqlQueryable, id: string, settlement: Settlement): Promise<void> {
  const update = ((): { sql: string; params: unknown[] } => {
    switch (settlement.kind) {
      case 'delivered':
        return {
          sql: `UPDATE outbox SET state = 'delivered', attempts = attempts + 1, not_before = NULL, last_status = $2, last_error = $3, updated_at = now(), ended_at = now() WHERE id = $1::bigint`,
          params: [settlement.status ?? null, settlement.detail ?? null],
        };
      case 'withheld':
        return {
          sql: `UPDATE outbox SET state = 'withheld', not_before = NULL, last_status = NULL, last_error = $2, updated_at = now(), ended_at = now() WHERE id = $1::bigint`,
          params: [settlement.reason],
        };
      case 'retry':
        return {
          sql: `UPDATE outbox SET attempts = attempts + 1, not_before = $2::timestamptz, last_status = $3, last_error = $4, updated_at = now() WHERE id = $1::bigint`,
          params: [settlement.notBefore.toISOString(), settlement.status ?? null, settlement.reason],
        };
      case 'dead':
        return {
          sql: `UPDATE outbox SET state = 'dead', attempts = attempts + 1, not_before = NULL, last_status = $2, last_error = $3, updated_at = now(), ended_at = now() WHERE id = $1::bigint`,
          params: [settlement.status ?? null, settlement.reason],
        };
    }
  })();
  const entry = settlement.audit;
  if (entry === undefined) {
    await sql.query(update.sql, [id, ...update.params]);
    return;
  }
  const first = update.params.length + 2;
  const values = AUDIT_ROW_COLUMNS.map((column, index) => `$${String(first + index)}::${column.type}`);
  const columns = AUDIT_ROW_COLUMNS.map((column) => column.name).join(', ');
  await sql.query(`WITH settled AS (${update.sql} RETURNING id) INSERT INTO audit_log (${columns}) SELECT ${values.join(', ')} FROM settled`, [id, ...update.params, ...auditRow(entry)]);
}

const text = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('', 'ö "quoted" \\ {json}', 'x'.repeat(300)));
const status = fc.option(fc.integer({ min: 100, max: 599 }), { nil: undefined });
const audit: fc.Arbitrary<AuditEntry | undefined> = fc.option(
  fc.record(
    {
      at: fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2035-01-01T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString()),
      organization: fc.constantFrom('202100-5521', 'SE2321000180-1000'),
      agent: fc.constant('sip-fhir-adapter/outbox'),
      planId: fc.constantFrom('sip-a', 'sip-b'),
      personIdentifier: fc.constantFrom('191212121212', '199001012384'),
      action: fc.constant('execute' as const),
      what: text,
      outcome: fc.constantFrom('success' as const, 'refused' as const, 'failed' as const),
      detail: text,
    },
    { requiredKeys: ['at', 'organization', 'action', 'what', 'outcome'] },
  ),
  { nil: undefined },
);
const settlement: fc.Arbitrary<Settlement> = fc
  .tuple(
    fc.oneof(
      fc.record({ kind: fc.constant('delivered' as const), status, detail: fc.option(text, { nil: undefined }) }),
      fc.record({ kind: fc.constant('withheld' as const), reason: text }),
      fc.record({ kind: fc.constant('retry' as const), reason: text, status, notBefore: fc.date({ min: new Date('2030-01-01T00:00:00Z'), max: new Date('2031-01-01T00:00:00Z'), noInvalidDate: true }) }),
      fc.record({ kind: fc.constant('dead' as const), reason: text, status }),
    ),
    audit,
  )
  // Absent optional fields as the worker leaves them: not there at all.
  .map(([result, entry]) => JSON.parse(JSON.stringify(entry === undefined ? result : { ...result, audit: entry }), (key, value: unknown) => (key === 'notBefore' && typeof value === 'string' ? new Date(value) : value)) as Settlement);

interface OutboxRow {
  id: string;
  plan_id: string;
  state: string;
  attempts: number;
  not_before: string | null;
  last_status: number | null;
  last_error: string | null;
  ended: boolean;
}

async function rowsOf(sql: SqlQueryable, planIds: readonly string[]): Promise<OutboxRow[]> {
  const rows = await sql.query<OutboxRow>(
    `SELECT id::text AS id, plan_id, state, attempts, to_char(not_before AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS not_before, last_status, last_error, ended_at IS NOT NULL AS ended
     FROM outbox WHERE plan_id = ANY($1::text[]) ORDER BY id`,
    [planIds],
  );
  return rows;
}

async function auditOf(sql: SqlQueryable, planIds: readonly string[]): Promise<Record<string, unknown>[]> {
  // The entries name the pair's plan in `what`'s prefix, set below.
  return sql.query(
    `SELECT split_part(what, '|', 1) AS pair, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS at, organization, agent, plan_id, person_identifier, action, split_part(what, '|', 2) AS what, outcome, detail
     FROM audit_log WHERE split_part(what, '|', 1) = ANY($1::text[]) ORDER BY 1`,
    [planIds],
  );
}

describe.each<Driver>(['pglite', 'postgres'])('a batch of deliveries on %s', (driver) => {
  let opened: OpenedStore | undefined;
  afterEach(async () => {
    await opened?.dispose();
    opened = undefined;
  }, 60_000);

  it('records each settlement as the one-row statements did, with its audit entry or without', async () => {
    opened = await openStore(driver);
    const { store, sql } = opened;
    const batches = fc.sample(fc.array(settlement, { minLength: 1, maxLength: 6 }), { numRuns: 8, seed: 14 });
    let compared = 0;
    for (const [b, settlements] of batches.entries()) {
      const ids = settlements.map((_s, i) => `sip-batch-${String(b)}-${String(i)}`);
      // Written first: the rows the batch claims (the first due, by id); then their twins for the old path.
      for (const id of ids) await writeVersions(store, id, 1, [RECEIVER]);
      for (const id of ids) await writeVersions(store, `${id}-old`, 1, [RECEIVER]);
      const tagged = (id: string, s: Settlement): Settlement => (s.audit === undefined ? s : { ...s, audit: { ...s.audit, what: `${id}|${s.audit.what}` } });
      const claimed = await store.outbox.deliverBatch(AT, settlements.length, (claim: ClaimedDelivery) => {
        const index = ids.indexOf(claim.delivery.planId);
        const chosen = settlements[index];
        if (chosen === undefined) throw new Error(`claimed ${claim.delivery.planId}, not of this batch`);
        return Promise.resolve(tagged(claim.delivery.planId, chosen));
      });
      expect(claimed).toBe(settlements.length);
      const olds = await rowsOf(sql, ids.map((id) => `${id}-old`));
      for (const [i, row] of olds.entries()) {
        const chosen = settlements[i];
        if (chosen === undefined) throw new Error('no settlement');
        await settleOneAsBefore(sql, row.id, tagged(`${ids[i] ?? ''}-old`, chosen));
      }
      const strip = ({ id: _id, plan_id: _plan, ...rest }: OutboxRow): Omit<OutboxRow, 'id' | 'plan_id'> => rest;
      expect((await rowsOf(sql, ids)).map(strip)).toEqual((await rowsOf(sql, ids.map((id) => `${id}-old`))).map(strip));
      const unpair = (rows: Record<string, unknown>[], suffix: string): Record<string, unknown>[] => rows.map((row) => ({ ...row, pair: String(row.pair).slice(0, String(row.pair).length - suffix.length) }));
      const audited = await auditOf(sql, ids);
      expect(audited).toEqual(unpair(await auditOf(sql, ids.map((id) => `${id}-old`)), '-old'));
      expect(audited).toHaveLength(settlements.filter((s) => s.audit !== undefined).length);
      compared += settlements.length;
    }
    expect(compared).toBeGreaterThan(10);
  }, 300_000);

  it('claims rows of several plans together, never two versions of one plan to one receiver', async () => {
    opened = await openStore(driver);
    const { store } = opened;
    await writeVersions(store, 'sip-order-x', 3, [RECEIVER]);
    await writeVersions(store, 'sip-order-y', 1, [RECEIVER, 'region-dalarna']);
    const rounds: string[][] = [];
    for (;;) {
      const claimed: string[] = [];
      const count = await store.outbox.deliverBatch(AT, 8, (claim) => {
        claimed.push(`${claim.delivery.planId}/${String(claim.delivery.version)}/${claim.delivery.receiverId}`);
        return Promise.resolve({ kind: 'delivered', status: 200 });
      });
      if (count === 0) break;
      rounds.push(claimed.sort());
    }
    expect(rounds).toEqual([['sip-order-x/1/kommun-falun', 'sip-order-y/1/kommun-falun', 'sip-order-y/1/region-dalarna'], ['sip-order-x/2/kommun-falun'], ['sip-order-x/3/kommun-falun']]);
  }, 120_000);

  it('hands each row to one of two claims asking at once', async () => {
    opened = await openStore(driver);
    const { store } = opened;
    for (let n = 0; n < 5; n++) await writeVersions(store, `sip-twice-${String(n)}`, 1, [RECEIVER]);
    const claimed: string[] = [];
    const attempt = async (claim: ClaimedDelivery): Promise<Settlement> => {
      claimed.push(claim.delivery.id);
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { kind: 'delivered', status: 200 };
    };
    const counts = await Promise.all([store.outbox.deliverBatch(AT, 3, attempt), store.outbox.deliverBatch(AT, 3, attempt)]);
    expect(counts.reduce((sum, count) => sum + count, 0)).toBe(5);
    expect(new Set(claimed).size).toBe(5);
    expect(claimed).toHaveLength(5);
  }, 120_000);

  it('records the others when one attempt throws, leaves that one pending, and passes its error on', async () => {
    opened = await openStore(driver);
    const { store } = opened;
    for (const id of ['sip-throw-a', 'sip-throw-b', 'sip-throw-c']) await writeVersions(store, id, 1, [RECEIVER]);
    await expect(
      store.outbox.deliverBatch(AT, 3, (claim) => (claim.delivery.planId === 'sip-throw-b' ? Promise.reject(new Error('the attempt broke')) : Promise.resolve({ kind: 'delivered', status: 201 }))),
    ).rejects.toThrow('the attempt broke');
    expect((await store.outbox.list()).map((delivery) => [delivery.planId, delivery.state, delivery.attempts])).toEqual([
      ['sip-throw-a', 'delivered', 1],
      ['sip-throw-b', 'pending', 0],
      ['sip-throw-c', 'delivered', 1],
    ]);
  }, 120_000);

  it('costs a claim, a read, a settlement and one transaction per batch, not per delivery', async () => {
    opened = await openStore(driver);
    const { store, sql } = opened;
    for (let n = 0; n < 4; n++) await writeVersions(store, `sip-count-${String(n)}`, 1, [RECEIVER]);
    const counted = { statements: 0, transactions: 0 };
    const counting = (queryable: SqlQueryable): SqlQueryable => ({
      query: (text, params) => {
        counted.statements++;
        return queryable.query(text, params);
      },
    });
    // The store's client, every statement counted (BEGIN and COMMIT as one transaction).
    const client: SqlClient = {
      ...sql,
      driver: sql.driver,
      ...counting(sql),
      transaction: (work, options) => {
        counted.transactions++;
        return sql.transaction((tx) => work(counting(tx)), options);
      },
      close: () => Promise.resolve(),
    };
    const outbox = new SqlOutboxStore(client);
    const claimed = await outbox.deliverBatch(AT, 4, () => Promise.resolve({ kind: 'delivered', status: 200, audit: { at: AT.toISOString(), organization: '202100-5521', action: 'execute', what: 'deliver', outcome: 'success' } }));
    expect(claimed).toBe(4);
    // The claim with the versions of all four (PostgreSQL: one statement, CLAIM_AND_READ; PGlite: the
    // claim in memory, then the versions), the four settlements with their audit entries.
    expect(counted.statements).toBe(driver === 'postgres' ? 2 : 3);
    // PGlite's claim is in memory, outside a transaction (src/store/outbox.ts).
    expect(counted.transactions).toBe(driver === 'postgres' ? 1 : 0);
    expect((await store.outbox.list()).map((delivery) => delivery.state)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
    expect((await sql.query<{ n: string }>(`SELECT count(*)::text AS n FROM audit_log WHERE what = 'deliver'`))[0]?.n).toBe('4');
  }, 120_000);

  it('refuses a claim of no rows or of more than it allows', async () => {
    opened = await openStore(driver);
    const attempt = (): Promise<Settlement> => Promise.resolve({ kind: 'delivered' });
    await expect(opened.store.outbox.deliverBatch(AT, 0, attempt)).rejects.toThrow(RangeError);
    await expect(opened.store.outbox.deliverBatch(AT, 65, attempt)).rejects.toThrow(RangeError);
  }, 60_000);
});
