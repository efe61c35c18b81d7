/**
 * A plan's resource keys as text, kept with its version when it is written (migration 11,
 * src/http/derived-view.ts), and read back into a {@link KeyRegistry} when the version is sent.
 *
 * A key depends on the plan alone — the resource's business identifier, chosen among national
 * identifiers no other resource of the plan took, and its `urn:uuid` fullUrl, a SHA-1 of that
 * identifier — so registering the keys of a version again at every delivery (≈ 40 names hashed, the
 * identifiers built and chosen) was a third of writing its transaction Bundle from the kept texts
 * (docs/performance.md, branch `i14-deliver8`). Nothing in a key reads the instant or a consent:
 * keys restored from the text are those `registerKeys` makes for the version, which test/fhir/
 * kept-keys.test.ts holds for every example and generated plans.
 *
 * The text is a JSON array with one array per entry of `planEntries`, in its order: `[resourceType,
 * localId, identifier system, identifier value, fullUrl, upsert, byTag (1 or 0)]`.
 */
import { WRITTEN_RESOURCE_TYPES } from './bundle.js';
import { KeyRegistry, type ResourceKey, type Upsert } from './context.js';
import type { PlanEntry } from './plan-entries.js';

type KeptKey = readonly [resourceType: string, localId: string, system: string, value: string, fullUrl: string, upsert: Upsert, byTag: 0 | 1];

/** Whether the identifier is `{ system, value }` and nothing else, in that order: what {@link restoredKeys} makes of the two. */
function isPlainIdentifier(identifier: ResourceKey['identifier']): boolean {
  const members = Object.keys(identifier);
  return members.length === 2 && members[0] === 'system' && members[1] === 'value';
}

/**
 * The keys of a plan's entries as kept with its version (see the module's note), or undefined when
 * one cannot be kept as the restored key would be (an identifier with more than a system and a value,
 * which every key has today): nothing is kept then, and a delivery registers the keys anew.
 */
export function keptKeysText(entries: readonly PlanEntry[]): string | undefined {
  const kept: KeptKey[] = [];
  for (const { localId, key } of entries) {
    if (!isPlainIdentifier(key.identifier)) return undefined;
    kept.push([key.resourceType, localId, key.identifier.system, key.identifier.value, key.fullUrl, key.upsert, key.byTag === true ? 1 : 0]);
  }
  return JSON.stringify(kept);
}

const TYPES: ReadonlySet<string> = new Set(WRITTEN_RESOURCE_TYPES);
const UPSERTS: ReadonlySet<unknown> = new Set<Upsert>(['update', 'create-if-none-exist']);

function isKeptKey(value: unknown): value is KeptKey {
  if (!Array.isArray(value) || value.length !== 7) return false;
  const [resourceType, localId, system, key, fullUrl, upsert, byTag] = value as unknown[];
  return (
    typeof resourceType === 'string' &&
    TYPES.has(resourceType) &&
    typeof localId === 'string' &&
    typeof system === 'string' &&
    typeof key === 'string' &&
    typeof fullUrl === 'string' &&
    UPSERTS.has(upsert) &&
    (byTag === 0 || byTag === 1)
  );
}

/**
 * The registry of the keys {@link keptKeysText} wrote, or undefined when the text is not such a list
 * (then the plan's keys are registered anew). It is only as right as the text is of the plan it is
 * used for: the keys kept with that very version.
 */
export function restoredKeys(text: string): KeyRegistry | undefined {
  let parsed: unknown;
  try {
    // The parsed-JSON boundary: the text keptKeysText wrote, checked entry by entry below.
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const keys = new KeyRegistry();
  for (const kept of parsed as unknown[]) {
    if (!isKeptKey(kept)) return undefined;
    const [resourceType, localId, system, value, fullUrl, upsert, byTag] = kept;
    const key: ResourceKey = { resourceType, identifier: { system, value }, fullUrl, upsert, ...(byTag === 1 ? { byTag: true } : {}) };
    if (!keys.restore(localId, key)) return undefined;
  }
  return keys;
}
