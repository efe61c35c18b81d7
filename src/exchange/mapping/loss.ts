/**
 * What a translation cannot carry. Both directions are checked the same way, by a round trip: the
 * result is translated back and compared with what came in; every value that does not come back is
 * named by its JSON pointer. Nothing is dropped silently (issue #12, "Errors name their place").
 */
import type { NotCarried } from './types.js';
import { toPointer } from '../../sip/index.js';

/** Pointers of `original` whose values are missing from, or differ in, `returned`. */
export function lostPointers(original: unknown, returned: unknown, pointer = ''): string[] {
  if (typeof original !== 'object' || original === null) {
    return original === returned ? [] : [pointer];
  }
  if (typeof returned !== 'object' || returned === null || Array.isArray(original) !== Array.isArray(returned)) return [pointer];
  const entries: [string, unknown][] = Array.isArray(original) ? original.map((item, index) => [String(index), item]) : Object.entries(original);
  const other = returned as Record<string, unknown>;
  return entries.flatMap(([key, value]) => {
    const child = `${pointer}${toPointer([key])}`;
    if (!(key in other)) return isEmpty(value) ? [] : [child];
    return lostPointers(value, other[key], child);
  });
}

/** Empty arrays and objects carry nothing, and are left out by the rules. */
function isEmpty(value: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}

/** Whether `pointer` is at or below a `notCarried` pattern (`*` matches one segment). */
export function matchesPattern(pattern: string, pointer: string): boolean {
  const want = pattern.split('/');
  const have = pointer.split('/');
  if (have.length < want.length) return false;
  return want.every((segment, index) => segment === '*' || segment === have[index]);
}

/** The declared reason a pointer is not carried, if it has one. */
export function declaredReason(notCarried: readonly NotCarried[], pointer: string): NotCarried | undefined {
  return notCarried.find((entry) => matchesPattern(entry.pointer, pointer));
}
