/**
 * Reads of one event-loop turn sent to PostgreSQL together (`dataloader`, its batch started after the
 * turn with `setImmediate`, nothing kept between batches): the keys of a turn alike by `groupOf` go as
 * one statement (`many`), a group of one as the read's own statement (`one`). Under load many requests
 * reach the store in one turn — at 2,000 FHIR reads/s on two cores, 2–64 at once — and each statement
 * of its own costs a round trip: a socket write that wakes a PostgreSQL backend, its parse, bind and
 * execute, its answer and the server's wake-up to read it (docs/performance.md "The reads of a turn in
 * one statement"). Used by kept-reads.ts and person-reads.ts.
 */
import DataLoader from 'dataloader';
import type { StoredVersionHead } from './plan-store.js';
import { toHead, type HeadRow } from './plan-rows.js';

/** A row of a batched statement: the place (from 1) of the key it answers among the keys sent, and the row. */
export type Placed<R> = R & { n: string | number };

/** A row of a batched statement of heads. */
export type PlacedHeadRow = Placed<HeadRow>;

/** How the keys of a turn are read: alone, or several of a group in one statement whose rows are made into results. */
export interface CoalescedRows<K, R, T> {
  /** Keys that may share a statement have the same group. */
  readonly groupOf: (key: K) => string;
  /** A key's results in a statement of its own. */
  readonly one: (key: K) => Promise<T[]>;
  /** The rows of several keys of one group, each placed by its key; a key's rows in their order. */
  readonly many: (keys: readonly K[]) => Promise<Placed<R>[]>;
  /** A row of {@link many} as a result. */
  readonly result: (row: R) => T;
}

/** {@link CoalescedRows} of version heads. */
export type CoalescedReads<K> = Omit<CoalescedRows<K, HeadRow, StoredVersionHead>, 'result'>;

/** Most keys in one statement: their arrays are one parameter each whatever the count, so only the rows bound it. */
export const MAX_BATCH = 200;

/** Reads the keys, a statement per group; each key's results in the order its statement gives them. */
async function readCoalescedRows<K, R, T>(keys: readonly K[], reads: CoalescedRows<K, R, T>): Promise<T[][]> {
  const results: T[][] = keys.map(() => []);
  const groups = new Map<string, number[]>();
  keys.forEach((key, index) => {
    const group = reads.groupOf(key);
    const places = groups.get(group);
    if (places === undefined) groups.set(group, [index]);
    else places.push(index);
  });
  await Promise.all(
    [...groups.values()].map(async (places) => {
      const wanted = places.map((index) => keys[index]).filter((key) => key !== undefined);
      const [first] = wanted;
      if (first === undefined) return;
      if (wanted.length === 1) {
        results[places[0] ?? 0] = await reads.one(first);
        return;
      }
      for (const row of await reads.many(wanted)) {
        const index = places[Number(row.n) - 1];
        if (index !== undefined) results[index]?.push(reads.result(row));
      }
    }),
  );
  return results;
}

/** A loader that reads the keys asked for in one turn of the event loop together; nothing is remembered. */
export function coalescedRowsLoader<K, R, T>(reads: CoalescedRows<K, R, T>): DataLoader<K, T[]> {
  return new DataLoader<K, T[]>((keys) => readCoalescedRows(keys, reads), {
    cache: false,
    maxBatchSize: MAX_BATCH,
    batchScheduleFn: (callback) => setImmediate(callback),
  });
}

/** {@link coalescedRowsLoader} of version heads. */
export function coalescedLoader<K>(reads: CoalescedReads<K>): DataLoader<K, StoredVersionHead[]> {
  return coalescedRowsLoader({ ...reads, result: toHead });
}
