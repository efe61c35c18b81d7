/** Walking and changing a JSON document by path, for the property tests that replace one value anywhere in it. */

/** Every path to a value in a JSON document, the document itself (`[]`) first. */
export function jsonPaths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return [at, ...value.flatMap((item, index) => jsonPaths(item, [...at, index]))];
  if (typeof value === 'object' && value !== null) return [at, ...Object.entries(value).flatMap(([key, item]) => jsonPaths(item, [...at, key]))];
  return [at];
}

/** A copy of the document with the value at `at` replaced. */
export function replacedAt(document: unknown, at: readonly (string | number)[], value: unknown): unknown {
  if (at.length === 0) return value;
  const copy = structuredClone(document) as Record<string | number, unknown>;
  let parent = copy;
  for (const step of at.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  parent[at[at.length - 1] ?? ''] = value;
  return copy;
}
