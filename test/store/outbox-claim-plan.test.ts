/**
 * The claim's plan on PostgreSQL must not grow with the backlog (issue #14, docs/performance.md "The
 * claim's plan"). A plan made while the outbox was small — here a prepared statement's generic plan,
 * made on the first execution with three rows in the table and kept, as a pooled connection keeps it —
 * is then run with 300 pending rows. The claim must walk the `outbox_pending` index in id order and
 * probe each row's earlier versions through the unique index, reading a few dozen buffers; with the
 * earlier shape (`NOT EXISTS`, a sort allowed) the same plan sorted every pending row after an anti
 * join over all of them (≈ 850 buffers here, 6,600 with 200 pending in bench:exchange).
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { CLAIM_AND_READ, CLAIM_DUE, CLAIM_SETTINGS } from '../../src/store/outbox.js';
import { setLocal } from '../../src/store/sql-client.js';
import { openStore, writeVersions, type OpenedStore } from '../exchange/outbox-support.js';

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

function nodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodes)];
}

describe('the claim on PostgreSQL', () => {
  let opened: OpenedStore | undefined;
  let client: pg.Client | undefined;
  afterEach(async () => {
    await client?.end();
    client = undefined;
    await opened?.dispose();
    opened = undefined;
  }, 60_000);

  // The claim alone, and the claim with the claimed rows' versions (the statement the store sends):
  // the same walk, with at most a few buffers more for each row's version.
  it.each([
    ['the claim', `PREPARE claim (timestamptz, integer) AS ${CLAIM_DUE}`, '', 100],
    ['the claim with its versions', `PREPARE claim (timestamptz, integer, text) AS ${CLAIM_AND_READ}`, `, 'some-deriver'`, 150],
  ])('%s walks the pending rows in id order with a plan made when the outbox was small', async (_name, prepare, deriver, buffers) => {
    opened = await openStore('postgres');
    const { store, databaseUrl } = opened;
    for (const id of ['sip-plan-a', 'sip-plan-b', 'sip-plan-c']) await writeVersions(store, id, 1, ['kommun-falun']);
    client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`SET plan_cache_mode = force_generic_plan`);
    await client.query(prepare);
    const at = `'2030-01-01T00:00:00Z'`;
    const begin = ['BEGIN', ...setLocal(CLAIM_SETTINGS)].join('; ');
    await client.query(begin);
    const first = await client.query<{ plan_id: string }>(`EXECUTE claim (${at}, 1${deriver})`);
    await client.query('ROLLBACK');
    expect(first.rows.map((row) => row.plan_id)).toEqual(['sip-plan-a']);

    for (let n = 0; n < 300; n++) await writeVersions(store, `sip-backlog-${String(n)}`, 1, ['kommun-falun']);

    await client.query(begin);
    const [explained] = (await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE claim (${at}, 8${deriver})`)).rows;
    const claimed = await client.query<{ plan_id: string }>(`EXECUTE claim (${at}, 8${deriver})`);
    await client.query('ROLLBACK');
    const plan = explained?.['QUERY PLAN'][0].Plan;
    if (plan === undefined) throw new Error('no plan');
    const all = nodes(plan);
    expect(all.map((node) => node['Node Type'])).not.toContain('Sort');
    expect(all.some((node) => node['Node Type'] === 'Index Scan' && node['Index Name'] === 'outbox_pending')).toBe(true);
    const read = (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0);
    expect(read).toBeLessThan(buffers);
    // A claim of eight takes the first eight due rows, by id, and stops there.
    expect(claimed.rows.map((row) => row.plan_id)).toEqual(['sip-plan-a', 'sip-plan-b', 'sip-plan-c', ...[0, 1, 2, 3, 4].map((n) => `sip-backlog-${String(n)}`)]);
  }, 180_000);

  it('refuses a transaction setting that would need quoting', () => {
    expect(() => setLocal({ enable_sort: 'off; DROP TABLE outbox' })).toThrow(RangeError);
    expect(setLocal({ enable_sort: 'off' })).toEqual(['SET LOCAL enable_sort = off']);
  });
});
