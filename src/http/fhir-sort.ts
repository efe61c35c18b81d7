/**
 * `_sort` on the CarePlan search (https://hl7.org/fhir/R4/search.html#sort): a comma-separated list
 * of parameter names, each ascending or, with a leading `-`, descending; later names break the ties
 * of earlier ones, and the plan id breaks what is left, so pages never overlap.
 *
 * The search walks every match anyway (to count `total` and judge each plan now); with `_sort` it
 * keeps, of the plans that may be sent, only the `_offset + _count` first by the order asked — their
 * keys and plan ids, not the plans — so its memory is bounded by the page asked for, not by the store.
 */
import { HttpError } from './problem.js';

/** A key a CarePlan can be sorted by: a number (an instant in ms, ±Infinity for an open end) per sort parameter. */
export type SortKeyName = '_lastUpdated' | 'date';

export const SORT_KEYS: readonly SortKeyName[] = ['_lastUpdated', 'date'];

export interface SortBy {
  readonly key: SortKeyName;
  readonly descending: boolean;
}

/** The `_sort` asked for, or undefined; 400 naming a parameter this search cannot sort by. */
export function sortOf(values: readonly string[]): readonly SortBy[] | undefined {
  if (values.length === 0) return undefined;
  const sorts = values.map((value) => {
    const descending = value.startsWith('-');
    const key = descending ? value.slice(1) : value;
    if (!(SORT_KEYS as readonly string[]).includes(key)) {
      throw new HttpError(400, 'Bad Request', `_sort=${value}: CarePlans sort by ${SORT_KEYS.join(' or ')}, each with - before it for descending`);
    }
    return { key: key as SortKeyName, descending };
  });
  return sorts;
}

/** One plan as ranked: its sort values in the order of the `_sort` list, and its id. */
export interface Ranked {
  readonly values: readonly number[];
  readonly planId: string;
}

/** Negative when `a` comes first by `sorts`, then by plan id. */
export function compareRanked(sorts: readonly SortBy[], a: Ranked, b: Ranked): number {
  for (const [index, sort] of sorts.entries()) {
    const [x, y] = [a.values[index] ?? 0, b.values[index] ?? 0];
    if (x !== y) return (x < y ? -1 : 1) * (sort.descending ? -1 : 1);
  }
  return a.planId < b.planId ? -1 : a.planId > b.planId ? 1 : 0;
}

/**
 * The first `limit` plans by `sorts` among those offered one by one: a sorted array kept at most
 * `limit` long, each offer placed by binary search.
 */
export class TopRanked {
  readonly #kept: Ranked[] = [];

  constructor(
    private readonly sorts: readonly SortBy[],
    private readonly limit: number,
  ) {}

  offer(ranked: Ranked): void {
    if (this.limit === 0) return;
    const kept = this.#kept;
    const last = kept.at(-1);
    if (kept.length >= this.limit && last !== undefined && compareRanked(this.sorts, ranked, last) >= 0) return;
    let low = 0;
    let high = kept.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const there = kept[middle];
      if (there !== undefined && compareRanked(this.sorts, there, ranked) <= 0) low = middle + 1;
      else high = middle;
    }
    kept.splice(low, 0, ranked);
    if (kept.length > this.limit) kept.pop();
  }

  /** The plans kept, first first. */
  get ranked(): readonly Ranked[] {
    return this.#kept;
  }
}
