/**
 * The claim and the claimed rows' versions in one statement on PostgreSQL (src/store/outbox.ts
 * `CLAIM_AND_READ`, docs/performance.md "The exchange, sixth round"): a differential test against a
 * copy of the two statements it replaced (the claim, then `CURRENT_OF` with its `held` check, and the
 * version to deliver read apart when it is not the current one). Over generated outboxes — plans of
 * one to three versions, one or two receivers, earlier versions delivered, withheld or dead, versions
 * with and without derived data — every claim of 1 to 8 must hand the attempts the same deliveries,
 * in the same order, with the same version to deliver and current version (plan, derived basis and
 * kept texts, wherever kept: src/store/kept-texts.ts), and the same sharing of one object when the two are one version.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derivedVersion } from '../../src/http/derived-view.js';
import type { ClaimedDelivery, StoredPlan } from '../../src/store/index.js';
import { CLAIM_DUE, CLAIM_SETTINGS, keptTexts } from '../../src/store/outbox.js';
import { toStored, type VersionRow } from '../../src/store/plan-rows.js';
import type { SqlQueryable } from '../../src/store/sql-client.js';
import { openStore, type OpenedStore } from '../exchange/outbox-support.js';
import { freshPlan } from '../support/http-server.js';

const AT = new Date('2030-01-01T00:00:00Z');
const WRITER = 'SE2321000180-1000';
const RECEIVERS = ['fk-a', 'fk-b'] as const;

// ——— the start's statements (9cb44ca), kept here as the reference ———
const VERSION_COLUMNS = 'v.plan_id, v.version, v.plan, v.document, v.model, v.recorded_at, v.recorded_by';
// But for the texts packed on the derived row since migration 12, aggregated here with the rows, cut
// out as that migration's comment describes the columns (text i's head the bytes from bounds[2i−1] to
// bounds[2i], its tail from there to bounds[2i+1]).
const derivedColumns = (version: string, deriver: string): string => `, d.basis,
  CASE WHEN v.version = ${version} THEN (SELECT string_agg(t.resource_type || chr(31) || t.resource_id || chr(31) || t.head || chr(31) || t.tail, chr(30)) FROM (
      SELECT t.resource_type, t.resource_id, t.head, t.tail FROM plan_version_texts t WHERE t.plan_id = v.plan_id AND t.version = v.version AND t.deriver = ${deriver}
      UNION ALL
      SELECT d.text_types[s.i], d.text_ids[s.i],
        convert_from(substring(d.texts FROM d.text_bounds[2 * s.i - 1] + 1 FOR d.text_bounds[2 * s.i] - d.text_bounds[2 * s.i - 1]), 'UTF8'),
        convert_from(substring(d.texts FROM d.text_bounds[2 * s.i] + 1 FOR d.text_bounds[2 * s.i + 1] - d.text_bounds[2 * s.i]), 'UTF8')
      FROM generate_subscripts(d.text_types, 1) AS s (i)
    ) AS t (resource_type, resource_id, head, tail)) END AS texts`;
const derivedJoin = (deriver: string): string => `LEFT JOIN plan_version_derived d ON d.plan_id = v.plan_id AND d.version = v.version AND d.deriver = ${deriver}`;
const VERSION_OF = `SELECT ${VERSION_COLUMNS}${derivedColumns('$2', '$3')} FROM plan_versions v ${derivedJoin('$3')} WHERE v.plan_id = $1 AND v.version = $2`;
const CURRENT_OF = `SELECT c.ord, cur.*,
  EXISTS (SELECT 1 FROM outbox e WHERE e.plan_id = c.plan_id AND e.receiver_id = c.receiver_id AND e.version < c.version AND e.state IN ('pending', 'dead')) AS held
  FROM unnest($1::text[], $2::text[], $3::integer[]) WITH ORDINALITY AS c (plan_id, receiver_id, version, ord)
  CROSS JOIN LATERAL (SELECT ${VERSION_COLUMNS}${derivedColumns('c.version', '$4')}
    FROM plans p JOIN plan_versions v ON v.plan_id = p.plan_id AND v.version = p.version ${derivedJoin('$4')} WHERE p.plan_id = c.plan_id LIMIT 1) cur`;

interface Row extends VersionRow {
  basis: string | null;
  texts: string | null;
  held?: boolean;
  ord?: string | number;
}
interface DeliveryRow {
  id: string;
  plan_id: string;
  version: number;
  receiver_id: string;
}

function versionAsBefore(row: Row): StoredPlan {
  const { basis, texts, held: _held, ord: _ord, ...version } = row;
  const stored = toStored(version);
  return basis === null ? stored : { ...stored, derived: { basis, texts: keptTexts(texts) } };
}

/** The start's claim and read, in a transaction rolled back: what the attempts were handed (undefined: held back). */
async function claimAsBefore(sql: SqlQueryable, limit: number, deriver: string): Promise<(View | undefined)[]> {
  const rows = await sql.query<DeliveryRow>(CLAIM_DUE, [AT.toISOString(), limit]);
  if (rows.length === 0) return [];
  const currents = await sql.query<Row>(CURRENT_OF, [rows.map((row) => row.plan_id), rows.map((row) => row.receiver_id), rows.map((row) => row.version), deriver]);
  const byPlace = new Map(currents.map((current) => [Number(current.ord), current]));
  const views: (View | undefined)[] = [];
  for (const [index, row] of rows.entries()) {
    const current = byPlace.get(index + 1);
    if (current?.held === true) {
      views.push(undefined);
      continue;
    }
    const [version] = current !== undefined && current.version === row.version ? [current] : await sql.query<Row>(VERSION_OF, [row.plan_id, row.version, deriver]);
    if (version === undefined || current === undefined) throw new Error(`no version for delivery ${row.id}`);
    const stored = versionAsBefore(version);
    views.push(view({ id: row.id, planId: row.plan_id, version: row.version, receiverId: row.receiver_id }, stored, version === current ? stored : versionAsBefore(current)));
  }
  return views;
}

interface View {
  readonly delivery: { readonly id: string; readonly planId: string; readonly version: number; readonly receiverId: string };
  readonly stored: unknown;
  readonly current: unknown;
  readonly oneObject: boolean;
}

/** A version as the attempts see it; its kept texts in the order of their keys (neither reading promises an order). */
const versionView = (stored: StoredPlan): unknown => ({
  version: stored.version,
  recordedAt: stored.recordedAt,
  recordedBy: stored.recordedBy,
  plan: stored.plan,
  derived: stored.derived === undefined ? undefined : { ...stored.derived, texts: [...stored.derived.texts].sort((a, b) => `${a.resourceType}/${a.id}`.localeCompare(`${b.resourceType}/${b.id}`)) },
});
function view(delivery: View['delivery'], stored: StoredPlan, current: StoredPlan): View {
  return { delivery, stored: versionView(stored), current: versionView(current), oneObject: stored === current };
}
const claimedView = (claim: ClaimedDelivery): View =>
  view({ id: claim.delivery.id, planId: claim.delivery.planId, version: claim.delivery.version, receiverId: claim.delivery.receiverId }, claim.stored, claim.current);

/** A plan of the generated outbox: its versions, which have derived data, its receivers, and how its earlier versions ended. */
const planShape = fc.record({
  versions: fc.integer({ min: 1, max: 3 }),
  derived: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  receivers: fc.constantFrom([RECEIVERS[0]], [RECEIVERS[1]], [...RECEIVERS]),
  /** Per version (from 1), what its rows became before the claim: still pending, or ended so. */
  ended: fc.array(fc.constantFrom('pending', 'delivered', 'withheld', 'dead', 'skipped'), { minLength: 3, maxLength: 3 }),
});

describe('the claim and its versions in one statement on PostgreSQL', () => {
  let opened: OpenedStore | undefined;
  beforeAll(async () => {
    opened = await openStore('postgres');
  }, 60_000);
  afterAll(async () => {
    await opened?.dispose();
  }, 60_000);

  it('hands the attempts what the claim and the read after it did', async () => {
    if (opened === undefined) throw new Error('no store');
    const { store, sql } = opened;
    let run = 0;
    let compared = 0;
    let notCurrent = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(planShape, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 8 }), async (shapes, limit) => {
        run++;
        // Only this run's rows may be due.
        await sql.query(`UPDATE outbox SET state = 'delivered', ended_at = now() WHERE state IN ('pending', 'dead')`);
        let deriver = '';
        for (const [index, shape] of shapes.entries()) {
          let plan = freshPlan(`sip-claim-read-${String(run)}-${String(index)}`);
          for (let version = 1; version <= shape.versions; version++) {
            plan = { ...plan, version, notes: `version ${String(version)}` };
            const derived = shape.derived[version - 1] === true ? derivedVersion(plan) : undefined;
            if (derived !== undefined) deriver = derived.deriver;
            const options = { deliverTo: shape.receivers, ...(derived === undefined ? {} : { derived }) };
            if (version === 1) await store.create(plan, WRITER, [], options);
            else await store.update(plan, version - 1, WRITER, [], options);
          }
          for (let version = 1; version <= shape.versions; version++) {
            const state = shape.ended[version - 1] ?? 'pending';
            if (state !== 'pending') await sql.query(`UPDATE outbox SET state = $3, ended_at = now() WHERE plan_id = $1 AND version = $2`, [plan.id, version, state]);
          }
        }
        if (deriver === '') deriver = derivedVersion(freshPlan('sip-claim-read-deriver')).deriver;
        // The start's two statements, rolled back, then the store's claim, whose attempts all throw so that nothing is recorded.
        let before: (View | undefined)[] = [];
        await sql
          .transaction(async (tx) => {
            before = await claimAsBefore(tx, limit, deriver);
            throw new Error('roll back');
          }, { settings: CLAIM_SETTINGS })
          .catch((error: unknown) => {
            if (!(error instanceof Error) || error.message !== 'roll back') throw error;
          });
        const now: View[] = [];
        const claimed = await store.outbox
          .deliverBatch(
            AT,
            limit,
            (claim) => {
              now.push(claimedView(claim));
              return Promise.reject(new Error('not recorded'));
            },
            { deriver },
          )
          .catch((error: unknown) => {
            if (!(error instanceof Error) || error.message !== 'not recorded') throw error;
            return now.length;
          });
        expect(claimed).toBe(before.length);
        expect(now).toEqual(before);
        compared += now.length;
        notCurrent += now.filter((claim) => !claim.oneObject).length;
      }),
      {
        numRuns: 40,
        // First, an outbox where both kinds are sure to be claimed: version 2 of a plan at version 3
        // (version 1 delivered) to two receivers, and a plan of one version.
        examples: [
          [
            [
              { versions: 3, derived: [true, true, true], receivers: [...RECEIVERS], ended: ['delivered', 'pending', 'pending'] },
              { versions: 1, derived: [true, false, false], receivers: [RECEIVERS[0]], ended: ['pending', 'pending', 'pending'] },
            ],
            8,
          ],
        ],
      },
    );
    // The outboxes did claim, and some versions to deliver were not the current one.
    expect(compared).toBeGreaterThanOrEqual(3);
    expect(notCurrent).toBeGreaterThanOrEqual(2);
  }, 600_000);
});
