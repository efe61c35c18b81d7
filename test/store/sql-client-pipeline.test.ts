/**
 * A transaction's BEGIN and COMMIT sharing a write with a statement on PostgreSQL (src/store/sql-client.ts,
 * pg's pipeline mode; docs/performance.md "The exchange, seventh round"): `firstStatementReadOnly` sends
 * BEGIN with the first statement, `queryAndCommit` sends COMMIT with the last — and the transaction means
 * what it meant: committed when everything succeeded, nothing of it when a statement failed, the error
 * passed on, the connection fit for the next user. The writes are counted on the sockets to the server
 * (`_writeGeneric`, which node's `_write` and `_writev` both call).
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { openPg, type SqlClient } from '../../src/store/sql-client.js';
import { createScratchDatabase, type ScratchDatabase } from './postgres-scratch.js';

let scratch: ScratchDatabase;
let sql: SqlClient;

beforeAll(async () => {
  scratch = await createScratchDatabase();
  // One connection, so every transaction below takes the one the one before gave back.
  sql = openPg(scratch.url, { maxConnections: 1 });
  await sql.query('CREATE TABLE t (id integer PRIMARY KEY, v text NOT NULL)');
}, 60_000);

afterAll(async () => {
  await sql.close();
  await scratch.drop();
});

afterEach(async () => {
  vi.restoreAllMocks();
  await sql.query('DELETE FROM t');
});

/** Counts the writes to PostgreSQL's socket while `run` runs. */
async function writesDuring<T>(run: () => Promise<T>): Promise<{ result: T; writes: number }> {
  const port = Number(new URL(scratch.url).port || '5432');
  const proto = net.Socket.prototype as unknown as { _writeGeneric: (...args: unknown[]) => unknown };
  const original = proto._writeGeneric;
  let writes = 0;
  vi.spyOn(proto, '_writeGeneric').mockImplementation(function (this: net.Socket, ...args: unknown[]) {
    if (this.remotePort === port) writes++;
    return original.apply(this, args);
  });
  const result = await run();
  return { result, writes };
}

const rows = async (): Promise<unknown[]> => sql.query('SELECT id, v FROM t ORDER BY id');

describe('a transaction on PostgreSQL, BEGIN and COMMIT written with a statement', () => {
  it('writes BEGIN with a read-only first statement and COMMIT with the last: two writes for four commands', async () => {
    await sql.query('SELECT 1'); // the connection open before counting
    const { result, writes } = await writesDuring(() =>
      sql.transaction(
        async (tx) => {
          const [read] = await tx.query<{ n: number }>('SELECT $1::integer AS n', [7]);
          await tx.queryAndCommit('INSERT INTO t (id, v) VALUES ($1, $2)', [read?.n, 'seven']);
          return read?.n;
        },
        { firstStatementReadOnly: true, settings: { enable_sort: 'off' } },
      ),
    );
    expect(result).toBe(7);
    expect(writes).toBe(2);
    expect(await rows()).toEqual([{ id: 7, v: 'seven' }]);
  });

  it('still writes BEGIN on its own, and COMMIT after the work, when not asked otherwise', async () => {
    await sql.query('SELECT 1');
    const { writes } = await writesDuring(() =>
      sql.transaction(async (tx) => {
        await tx.query('INSERT INTO t (id, v) VALUES ($1, $2)', [1, 'one']);
        await tx.query('INSERT INTO t (id, v) VALUES ($1, $2)', [2, 'two']);
      }),
    );
    expect(writes).toBe(4);
    expect(await rows()).toEqual([
      { id: 1, v: 'one' },
      { id: 2, v: 'two' },
    ]);
  });

  it('keeps nothing of the transaction when the statement sent with COMMIT fails, and passes its error on', async () => {
    const failed = sql.transaction(
      async (tx) => {
        await tx.query('SELECT $1::integer AS n', [1]);
        await tx.query('INSERT INTO t (id, v) VALUES ($1, $2)', [1, 'kept?']);
        // A duplicate key: the statement fails, the COMMIT behind it only ends the failed transaction.
        await tx.queryAndCommit('INSERT INTO t (id, v) VALUES ($1, $2)', [1, 'again']);
      },
      { firstStatementReadOnly: true },
    );
    await expect(failed).rejects.toMatchObject({ code: '23505' });
    expect(await rows()).toEqual([]);
    // The connection went back to the pool fit for use: no transaction left open on it.
    await sql.transaction(async (tx) => tx.queryAndCommit('INSERT INTO t (id, v) VALUES ($1, $2)', [3, 'three']));
    expect(await rows()).toEqual([{ id: 3, v: 'three' }]);
  });

  it('rolls back when the work throws after a pipelined first statement, and sends nothing when it throws before one', async () => {
    await expect(
      sql.transaction(
        async (tx) => {
          await tx.query('SELECT $1::integer AS n', [1]);
          await tx.query('INSERT INTO t (id, v) VALUES ($1, $2)', [5, 'five']);
          throw new Error('the work broke');
        },
        { firstStatementReadOnly: true },
      ),
    ).rejects.toThrow('the work broke');
    expect(await rows()).toEqual([]);
    await sql.query('SELECT 1');
    const { writes } = await writesDuring(() =>
      expect(
        sql.transaction(
          () => {
            throw new Error('before any statement');
          },
          { firstStatementReadOnly: true },
        ),
      ).rejects.toThrow('before any statement'),
    );
    expect(writes).toBe(0);
  });

  it('fails a first statement that fails, with its error, and rolls back', async () => {
    await expect(sql.transaction(async (tx) => tx.query('SELECT 1 / $1::integer', [0]), { firstStatementReadOnly: true })).rejects.toMatchObject({ code: '22012' });
    expect(await sql.query<{ n: number }>('SELECT 1 AS n')).toEqual([{ n: 1 }]);
  });

  it('refuses a statement after queryAndCommit, and does not commit twice', async () => {
    await expect(
      sql.transaction(async (tx) => {
        await tx.queryAndCommit('INSERT INTO t (id, v) VALUES ($1, $2)', [8, 'eight']);
        await tx.query('INSERT INTO t (id, v) VALUES ($1, $2)', [9, 'nine']);
      }),
    ).rejects.toThrow('no statement may follow');
    expect(await rows()).toEqual([{ id: 8, v: 'eight' }]);
  });

  it('holds a read-only first statement’s row locks until the COMMIT: another transaction skips the locked row meanwhile', async () => {
    const two = openPg(scratch.url, { maxConnections: 1 });
    try {
      await sql.query('INSERT INTO t (id, v) VALUES (1, $1), (2, $2)', ['one', 'two']);
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let locked: (value: unknown) => void = () => undefined;
      const claimed = new Promise((resolve) => {
        locked = resolve;
      });
      const first = sql.transaction(
        async (tx) => {
          const mine = await tx.query<{ id: number }>('SELECT id FROM t WHERE id >= $1 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED', [1]);
          locked(mine);
          await held;
          await tx.queryAndCommit('UPDATE t SET v = $1 WHERE id = $2', ['taken', mine[0]?.id]);
        },
        { firstStatementReadOnly: true },
      );
      expect(await claimed).toEqual([{ id: 1 }]);
      const other = await two.transaction(async (tx) => tx.query<{ id: number }>('SELECT id FROM t WHERE id >= $1 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED', [1]), { firstStatementReadOnly: true });
      expect(other).toEqual([{ id: 2 }]);
      release();
      await first;
      expect(await rows()).toEqual([
        { id: 1, v: 'taken' },
        { id: 2, v: 'two' },
      ]);
    } finally {
      await two.close();
    }
  });
});
