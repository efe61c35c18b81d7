/**
 * What the PostgreSQL benches (pg-tx-split.ts, pg-plan-cache.ts) share: a new plan's write as
 * `POST /fhir` records it, and a client that captures the statements `SqlPlanStore` sends for it
 * instead of running them, so a bench runs exactly the store's SQL.
 */
import { DEFAULT_MAPPING_OPTIONS, planEntries, resourceIdsOf } from '../src/fhir/index.js';
import { derivedVersion } from '../src/http/derived-view.js';
import { checkPlanWithBasis, type SipPlan } from '../src/sip/index.js';
import type { AuditEntry, PlanResource, VersionWriteOptions } from '../src/store/index.js';
import type { SqlClient } from '../src/store/sql-client.js';
import { newStoredPlan, personnummer } from './support.js';

/** One statement as the store sends it. */
export interface Statement {
  readonly text: string;
  readonly values: readonly unknown[];
}

/** A new plan's write: the plan, its resources, its derived data and the call's audit entry. */
export interface TransactionWrite {
  readonly plan: SipPlan;
  readonly resources: readonly PlanResource[];
  readonly options: VersionWriteOptions & { readonly audit: AuditEntry };
}

/** Plan `serial` (its id `${prefix}-${serial}`, its own person) as `POST /fhir` records it, for `organization`. */
export function transactionWrite(prefix: string, serial: number, organization: string): TransactionWrite {
  const plan = newStoredPlan(`${prefix}-${String(serial)}`, personnummer(serial));
  const view = planEntries(plan, DEFAULT_MAPPING_OPTIONS);
  const checked = checkPlanWithBasis(plan);
  const audit: AuditEntry = { at: new Date().toISOString(), organization, agent: 'bench', planId: plan.id, personIdentifier: plan.individual.identifier.value, action: 'create', what: 'POST /fhir', outcome: 'success', detail: '200' };
  return { plan, resources: resourceIdsOf(view), options: { derived: derivedVersion(plan, view, checked.basis), audit } };
}

/**
 * A SqlClient that runs nothing: it keeps the statements the store sent until `take` hands them over
 * (so a bench takes them after every call), and answers as PostgreSQL would for a new plan — a read
 * finds nothing, the version's statement returns its row.
 */
export function capturingClient(): { client: SqlClient; take: () => Statement[] } {
  let sent: Statement[] = [];
  const client: SqlClient = {
    driver: 'pg',
    query<Row extends object>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
      sent.push({ text: sql, values: params });
      return Promise.resolve((sql.trimStart().startsWith('SELECT') ? [] : [{ recorded_at: new Date() }]) as unknown as Row[]);
    },
    transaction: (work) => work(client),
    close: () => Promise.resolve(),
  };
  return {
    client,
    take: () => {
      const taken = sent;
      sent = [];
      return taken;
    },
  };
}
