/**
 * The audit writer's batching (src/store/audit-writer.ts), against a stand-in for the database that
 * holds each INSERT until the test lets it commit: one INSERT at a time, the entries made in one turn
 * of the event loop in one statement, those that arrive while it runs in the next, and no `write`
 * resolved before the statement holding its entry has committed.
 */
import { describe, expect, it } from 'vitest';
import { AUDIT_ROW_COLUMNS, AuditWriter, MAX_BATCH } from '../../src/store/audit-writer.js';
import type { AuditEntry } from '../../src/store/plan-store.js';
import type { SqlQueryable } from '../../src/store/sql-client.js';

interface Statement {
  /** The entries' `what`, as the INSERT's parameters carry them. */
  readonly whats: readonly string[];
  commit(): void;
  fail(error: Error): void;
}

/** A database whose INSERTs wait for the test: `statements` in the order sent, `running` how many are not yet ended. */
function heldDatabase(): { sql: SqlQueryable; statements: Statement[]; running: () => number; mostRunning: () => number } {
  const statements: Statement[] = [];
  let running = 0;
  let mostRunning = 0;
  const sql: SqlQueryable = {
    query<Row extends object>(_text: string, params: readonly unknown[] = []): Promise<Row[]> {
      running++;
      mostRunning = Math.max(mostRunning, running);
      const whatColumn = AUDIT_ROW_COLUMNS.findIndex((column) => column.name === 'what');
      const whats = params[whatColumn] as string[];
      return new Promise<Row[]>((resolve, reject) => {
        statements.push({
          whats,
          commit: () => {
            running--;
            resolve([]);
          },
          fail: (error) => {
            running--;
            reject(error);
          },
        });
      });
    },
  };
  return { sql, statements, running: () => running, mostRunning: () => mostRunning };
}

const entry = (what: string): AuditEntry => ({ at: '2026-12-02T08:00:00.000Z', organization: 'SE2321000180-1000', action: 'read', what, outcome: 'success', detail: '200' });

/** Lets the event loop turn (setImmediate callbacks run) a few times. */
async function turns(count = 3): Promise<void> {
  for (let index = 0; index < count; index++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('the audit writer', () => {
  it('writes the entries of one turn in one INSERT, those arriving while it runs in the next, one INSERT at a time', async () => {
    const database = heldDatabase();
    const writer = new AuditWriter(database.sql);
    const resolved: string[] = [];
    const write = (what: string): Promise<void> =>
      writer.write(entry(what)).then(() => {
        resolved.push(what);
      });
    const first = ['a1', 'a2', 'a3'].map(write);
    await turns();
    expect(database.statements.map((statement) => statement.whats)).toEqual([['a1', 'a2', 'a3']]);
    // Arriving over several turns while the first INSERT runs: they wait for it, and then go together.
    const second = [write('b1')];
    await turns();
    second.push(write('b2'));
    await turns();
    second.push(write('b3'));
    await turns();
    expect(database.statements).toHaveLength(1);
    expect(resolved).toEqual([]);
    database.statements[0]?.commit();
    await Promise.all(first);
    expect(resolved).toEqual(['a1', 'a2', 'a3']);
    await turns();
    expect(database.statements.map((statement) => statement.whats)).toEqual([
      ['a1', 'a2', 'a3'],
      ['b1', 'b2', 'b3'],
    ]);
    // Not answered before its own INSERT commits.
    expect(resolved).toEqual(['a1', 'a2', 'a3']);
    database.statements[1]?.commit();
    await Promise.all(second);
    expect(resolved).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'b3']);
    expect(database.mostRunning()).toBe(1);
    await writer.drained();
  });

  it('keeps a statement to MAX_BATCH entries and writes the rest next', async () => {
    const database = heldDatabase();
    const writer = new AuditWriter(database.sql);
    const writes = Array.from({ length: MAX_BATCH + 7 }, (_, index) => writer.write(entry(`GET /${String(index)}`)));
    await turns();
    expect(database.statements.map((statement) => statement.whats.length)).toEqual([MAX_BATCH]);
    database.statements[0]?.commit();
    await turns();
    expect(database.statements.map((statement) => statement.whats.length)).toEqual([MAX_BATCH, 7]);
    database.statements[1]?.commit();
    await Promise.all(writes);
    expect(database.mostRunning()).toBe(1);
  });

  it('writes a failed batch again entry by entry, failing only the entry refused, and is drained after', async () => {
    const database = heldDatabase();
    const writer = new AuditWriter(database.sql);
    const outcomes = Promise.allSettled(['x1', 'bad', 'x3'].map((what) => writer.write(entry(what))));
    await turns();
    database.statements[0]?.fail(new Error('refused'));
    // One by one, each after the one before.
    for (const what of ['x1', 'bad', 'x3']) {
      await turns();
      const statement = database.statements.at(-1);
      expect(statement?.whats).toEqual([what]);
      if (what === 'bad') statement?.fail(new Error('refused'));
      else statement?.commit();
    }
    expect((await outcomes).map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    await writer.drained();
    expect(database.running()).toBe(0);
  });

  it('is drained only when every entry handed to it has been written', async () => {
    const database = heldDatabase();
    const writer = new AuditWriter(database.sql);
    const written = writer.write(entry('d1'));
    let drained = false;
    const draining = writer.drained().then(() => {
      drained = true;
    });
    await turns();
    expect(drained).toBe(false);
    database.statements[0]?.commit();
    await written;
    await draining;
    expect(drained).toBe(true);
  });
});
