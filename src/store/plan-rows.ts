/** A stored plan version as its row holds it, and as the store hands it out (shared by the plan store and the outbox). */
import { parsePlan, planModelVersion, type SipPlan } from '../sip/index.js';
import { UnreadablePlanError, type DerivedText, type StoredPlan } from './plan-store.js';

export interface VersionRow {
  plan_id: string;
  version: number;
  /** The version as written before migration 4 (jsonb), else null. */
  plan: unknown;
  /** The version as the SIP model wrote it (json), else null. */
  document: unknown;
  /** The model that wrote `document` (src/sip/model-version.ts). */
  model: string | null;
  recorded_at: Date | string;
  recorded_by: string;
  /** With a derived request (migration 6): the basis kept under the deriver asked for, else null. */
  basis?: string | null;
  /** And the text of the resource asked for, when it was derived (both null otherwise). */
  text_type?: string | null;
  text_id?: string | null;
  head?: string | null;
  tail?: string | null;
}

export function isoInstant(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/**
 * The stored version as a plan. One the model running now wrote is the plan as that model parsed it
 * (it was parsed before it was stored, and rows are immutable), so it is not parsed again: that was a
 * fifth of a read's CPU. Any other is parsed, and one that no longer parses is an UnreadablePlanError.
 */
export function toStored(row: VersionRow): StoredPlan {
  const plan = row.document !== null && row.model === planModelVersion() ? (row.document as SipPlan) : parsedRow(row);
  const stored: StoredPlan = { plan, version: row.version, recordedAt: isoInstant(row.recorded_at), recordedBy: row.recorded_by };
  if (row.basis === undefined || row.basis === null) return stored;
  const texts: DerivedText[] =
    row.text_type === undefined || row.text_type === null || row.text_id === undefined || row.text_id === null || typeof row.head !== 'string' || typeof row.tail !== 'string'
      ? []
      : [{ resourceType: row.text_type, id: row.text_id, head: row.head, tail: row.tail }];
  return { ...stored, derived: { basis: row.basis, texts } };
}

function parsedRow(row: VersionRow): SipPlan {
  const result = parsePlan(row.document ?? row.plan);
  if (!result.ok) throw new UnreadablePlanError(row.plan_id, row.version, result.problems);
  return result.plan;
}

