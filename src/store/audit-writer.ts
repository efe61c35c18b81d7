/**
 * The audit log's writer: entries go to the database in batches, one multi-row INSERT (one statement,
 * one commit) for many entries, so a busy server pays one commit for many reads instead of one each.
 * It writes every entry but one kind: the success of a call that records a plan version goes in the
 * version's own transaction instead (`VersionWriteOptions.audit`, src/http/audited-route.ts
 * `VersionAudit`), through the same INSERT ({@link auditInsert}), since the version's commit is then
 * the entry's. A write arrives alone more often than reads do, so in the writer its entry was mostly a
 * commit of its own: 0.9–1.0 audit commits per transaction at a constant 80–100 transactions/s
 * (docs/performance.md, branch `i11-audit-tx`).
 *
 * A commit, not the rows, is most of what an entry costs PostgreSQL: the WAL flush (`fdatasync`) of a
 * synchronous commit. Measured on the machine's PostgreSQL 15, one statement at a time from one
 * connection (bench/pg-read-split.ts, docs/performance.md "Audit commits"): an INSERT of 1 entry
 * 0.38–0.74 ms of backend CPU, of 8 entries 0.50–0.79 ms, of 1 entry with `synchronous_commit = off`
 * 0.19–0.24 ms — while a read's own SELECT is 0.08–0.32 ms. So the writer aims at few commits:
 *
 * - **One INSERT at a time** ({@link MAX_IN_FLIGHT}): every entry that arrives while it runs goes in
 *   the next one, so under load a commit carries as many entries as arrived during the last commit.
 * - **A batch starts after the current turn of the event loop** (`setImmediate`), not at once: the
 *   entries of requests whose statements answered in the same turn (PostgreSQL's replies arrive
 *   together) share it. Nothing waits for a timer: the delay is the rest of one turn.
 *
 * Each `write` resolves only when its own entry is committed (or rejects when it is not), so a caller
 * that answers after `write` resolves never answers a request whose audit entry could still be lost —
 * the same guarantee as one INSERT per entry (test/http/audit-before-answer.test.ts). A batch that
 * fails is written again entry by entry, so one entry PostgreSQL refuses fails alone. What waits is
 * bounded by {@link MAX_BATCH} per statement; the queue holds only entries of requests not yet answered.
 */
import type { AuditEntry } from './plan-store.js';
import type { SqlQueryable } from './sql-client.js';

/** Most entries in one INSERT (nine parameters each, as arrays: the statement stays one size). */
export const MAX_BATCH = 500;
/**
 * INSERTs running at once: one. Two let an entry start its commit without waiting for an earlier one,
 * at the price of 2–3 times the commits under load (bench:http: 0.48–0.82 audit commits per read with two,
 * 0.22–0.36 with one and the turn's batch;
 * docs/performance.md "Audit commits").
 */
export const MAX_IN_FLIGHT = 1;

/** The audit log's columns an entry fills, with their SQL types, in the order {@link auditRow} gives the values. */
export const AUDIT_ROW_COLUMNS: readonly { readonly name: string; readonly type: 'timestamptz' | 'text' }[] = [
  { name: 'at', type: 'timestamptz' },
  ...['organization', 'agent', 'plan_id', 'person_identifier', 'action', 'what', 'outcome', 'detail'].map((name) => ({ name, type: 'text' as const })),
];

/** An entry's values for {@link AUDIT_ROW_COLUMNS}, absent ones as null. */
export function auditRow(entry: AuditEntry): (string | null)[] {
  return [entry.at, entry.organization, entry.agent ?? null, entry.planId ?? null, entry.personIdentifier ?? null, entry.action, entry.what, entry.outcome, entry.detail ?? null];
}

/**
 * The INSERT of `entries` into the audit log: one array per column, so the text is one size whatever
 * the count; `param` binds a value and names its placeholder, so the INSERT can stand alone (the
 * writer's) or as a query of a larger `WITH` statement (a plan version's, src/store/sql-plan-store.ts).
 */
export function auditInsert(entries: readonly AuditEntry[], param: (value: unknown) => string): string {
  const rows = entries.map(auditRow);
  const arrays = AUDIT_ROW_COLUMNS.map((column, index) => `${param(rows.map((row) => row[index] ?? null))}::${column.type}[]`);
  return `INSERT INTO audit_log (${AUDIT_ROW_COLUMNS.map((column) => column.name).join(', ')})
  SELECT * FROM unnest(${arrays.join(', ')})`;
}

interface Pending {
  readonly entry: AuditEntry;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class AuditWriter {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  /** Whether a batch is to start after this turn of the event loop. */
  private scheduled = false;
  private idle: (() => void)[] = [];

  constructor(private readonly sql: SqlQueryable) {}

  /** Resolves when the entry is committed to the audit log. */
  write(entry: AuditEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.schedule();
    });
  }

  /** Starts the next batch after this turn of the event loop, so the entries made in it go together. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /** Resolves when every entry handed to `write` so far has been written or has failed. */
  drained(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0 && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.inFlight++;
      void this.flush(batch).finally(() => {
        this.inFlight--;
        // What arrived during this commit is the next batch; it starts after this turn, with whatever else the turn adds.
        if (this.queue.length > 0) this.schedule();
        else if (this.inFlight === 0 && !this.scheduled) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  private async flush(batch: readonly Pending[]): Promise<void> {
    try {
      await this.insert(batch.map((pending) => pending.entry));
      for (const pending of batch) pending.resolve();
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      // One entry PostgreSQL refuses must not fail the others: write them one by one.
      for (const pending of batch) {
        await this.insert([pending.entry]).then(pending.resolve, pending.reject);
      }
    }
  }

  private async insert(entries: readonly AuditEntry[]): Promise<void> {
    const params: unknown[] = [];
    await this.sql.query(
      auditInsert(entries, (value) => `$${String(params.push(value))}`),
      params,
    );
  }
}
