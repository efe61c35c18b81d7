/**
 * The audit log's writer: entries that arrive while earlier ones are being written go to the
 * database together, as one multi-row INSERT, so a busy server pays one statement and one commit for
 * many entries instead of one each.
 *
 * Nothing is held back to wait for company: an entry is written at once when fewer than
 * {@link MAX_IN_FLIGHT} INSERTs are running, and otherwise with whatever else arrived by the time one
 * of them ends. Each `write` resolves only when its own entry is committed (or rejects when it is
 * not), so a caller that answers after `write` resolves never answers a request whose audit entry
 * could still be lost — the same guarantee as one INSERT per entry, with less work per entry. A batch
 * that fails is written again entry by entry, so one entry PostgreSQL refuses fails alone.
 */
import type { AuditEntry } from './plan-store.js';
import type { SqlQueryable } from './sql-client.js';

/** Most entries in one INSERT (nine parameters each, as arrays: the statement stays one size). */
export const MAX_BATCH = 500;
/** INSERTs running at once: two, so an entry need not wait for a whole earlier commit before its own starts. */
export const MAX_IN_FLIGHT = 2;

/** The audit log's columns an entry fills, with their SQL types, in the order {@link auditRow} gives the values. */
export const AUDIT_ROW_COLUMNS: readonly { readonly name: string; readonly type: 'timestamptz' | 'text' }[] = [
  { name: 'at', type: 'timestamptz' },
  ...['organization', 'agent', 'plan_id', 'person_identifier', 'action', 'what', 'outcome', 'detail'].map((name) => ({ name, type: 'text' as const })),
];

/** An entry's values for {@link AUDIT_ROW_COLUMNS}, absent ones as null. */
export function auditRow(entry: AuditEntry): (string | null)[] {
  return [entry.at, entry.organization, entry.agent ?? null, entry.planId ?? null, entry.personIdentifier ?? null, entry.action, entry.what, entry.outcome, entry.detail ?? null];
}

const INSERT_MANY = `INSERT INTO audit_log (${AUDIT_ROW_COLUMNS.map((column) => column.name).join(', ')})
  SELECT * FROM unnest(${AUDIT_ROW_COLUMNS.map((column, index) => `$${String(index + 1)}::${column.type}[]`).join(', ')})`;

interface Pending {
  readonly entry: AuditEntry;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class AuditWriter {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private idle: (() => void)[] = [];

  constructor(private readonly sql: SqlQueryable) {}

  /** Resolves when the entry is committed to the audit log. */
  write(entry: AuditEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.pump();
    });
  }

  /** Resolves when every entry handed to `write` so far has been written or has failed. */
  drained(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.inFlight++;
      void this.flush(batch).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.queue.length === 0 && this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
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
    // One array per column: the statement stays one size whatever the batch.
    const rows = entries.map(auditRow);
    await this.sql.query(
      INSERT_MANY,
      AUDIT_ROW_COLUMNS.map((_column, index) => rows.map((row) => row[index] ?? null)),
    );
  }
}
