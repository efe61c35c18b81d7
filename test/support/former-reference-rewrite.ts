/**
 * The facade's former paths to a resource of a plan's view, kept as oracles: the entry mapped with the
 * Bundle's `urn:uuid` fullUrls (`PlanEntry.entry`), then each `reference` to a fullUrl of the plan's
 * entries rewritten to the facade's `Type/id` (the id being the fullUrl's UUID).
 *
 * src/http/derived-view.ts had three ways to the facade's form, and now has one: the mapping writes the
 * facade's references itself (`PlanEntry.facadeResource`, src/fhir/write/context.ts `keyReference`),
 * which `viewResource` and `facadeParts` serve. The two former ways are here, copied from src as they
 * were and sharing no code with it, so that a test holding src to them compares two computations:
 *
 * - the object rewrite: {@link relativeReferences} over a copy ({@link rewrittenViewResource}, the former
 *   `viewResource`), which the reads of `_include`, Consent and versions without kept texts served;
 * - the text rewrite: {@link withReferencesRewritten} over the text as written ({@link viewResourceText},
 *   {@link copiedResourceText}, {@link derivedParts}), which the kept texts were written with until the
 *   mapping wrote the facade's references (docs/performance.md, branch `i11-tx12`).
 *
 * test/http/derived-text-one-pass.test.ts holds the text rewrite to the lookbehind regular expression
 * it replaced, and test/http/derived-view.test.ts to a `JSON.stringify` replacer.
 */
import type { FhirResource } from 'fhir/r4.js';
import { resourceIdOf, type PlanEntry } from '../../src/fhir/index.js';

/** The `Type/id` each entry's fullUrl stands for on the facade. */
export function referenceTargets(entries: readonly PlanEntry[]): Map<string, string> {
  const targets = new Map<string, string>();
  for (const { key } of entries) {
    const id = resourceIdOf(key.fullUrl);
    if (id !== undefined) targets.set(key.fullUrl, `${key.resourceType}/${id}`);
  }
  return targets;
}

/** `reference` values rewritten from the Bundle's `urn:uuid` fullUrls to `Type/id`, everywhere in a resource: a deep copy. */
export function relativeReferences(value: unknown, targets: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => relativeReferences(item, targets));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, key === 'reference' && typeof item === 'string' ? (targets.get(item) ?? item) : relativeReferences(item, targets)]),
  );
}

function mappedResource(planEntry: PlanEntry, id: string): FhirResource {
  const mapped = planEntry.entry().resource;
  if (mapped === undefined) throw new Error(`the mapping wrote no resource for ${planEntry.resourceType}/${id}`);
  return mapped;
}

/** The former `viewResource`: the entry's Bundle resource rewritten as an object, its id and the version's meta put first. */
export function rewrittenViewResource(planEntry: PlanEntry, id: string, targets: ReadonlyMap<string, string>, versionId: string, lastUpdated: string): FhirResource {
  const { resourceType, meta, ...rest } = relativeReferences(mappedResource(planEntry, id), targets) as FhirResource;
  return { resourceType, id, meta: { ...meta, versionId, lastUpdated }, ...rest } as FhirResource;
}

/** What opens a `reference` property with a string value in text `JSON.stringify` wrote. */
const REFERENCE_OPENING = '"reference":"';

/**
 * Where the string value that opens at `start` ends (the offset of its closing quote), read as the
 * former `/(?<=[{,])"reference":"((?:[^"\\]|\\.)*)"/g` read it: a backslash takes the next code unit
 * with it unless that is a line terminator (`.` does not match one), and the value then has no end,
 * as it has none when the text ends first. -1 then.
 */
function stringValueEnd(text: string, start: number): number {
  for (let at = start; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (code === 0x22 /* " */) return at;
    if (code === 0x5c /* \ */) {
      const next = text.charCodeAt(at + 1);
      // NaN past the end; \n, \r, U+2028 and U+2029 are what `.` leaves out.
      if (Number.isNaN(next) || next === 0x0a || next === 0x0d || next === 0x2028 || next === 0x2029) return -1;
      at += 1;
    }
  }
  return -1;
}

/**
 * `text` (written by `JSON.stringify`) with every `reference` property's string value that names a
 * key of `targets` written as that target: the text `JSON.stringify` writes with a replacer doing the
 * same, without the replacer. A property is `"reference":"` right after `{` or `,`: in text
 * `JSON.stringify` wrote a `"` inside a string is always written `\"`, so such a match cannot start
 * inside a string, nor inside a key that merely ends in `\"reference`.
 */
export function withReferencesRewritten(text: string, targets: ReadonlyMap<string, string>): string {
  let opening = text.indexOf(REFERENCE_OPENING);
  if (opening < 0) return text;
  let rewritten = '';
  let copied = 0;
  while (opening >= 0) {
    const before = opening === 0 ? -1 : text.charCodeAt(opening - 1);
    const end = before === 0x7b /* { */ || before === 0x2c /* , */ ? stringValueEnd(text, opening + REFERENCE_OPENING.length) : -1;
    if (end < 0) {
      opening = text.indexOf(REFERENCE_OPENING, opening + 1);
      continue;
    }
    const raw = text.slice(opening + REFERENCE_OPENING.length, end);
    const target = targets.get(raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw);
    if (target !== undefined) {
      rewritten += `${text.slice(copied, opening)}"reference":${JSON.stringify(target)}`;
      copied = end + 1;
    }
    opening = text.indexOf(REFERENCE_OPENING, end + 1);
  }
  return copied === 0 ? text : rewritten + text.slice(copied);
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The text of a resource written as `{"resourceType":…,"meta":{…},…}`, with `id` put in, cut where the
 * version's meta members go; undefined for a resource of any other shape (the former src's, copied).
 */
function splicePieces(mapped: FhirResource, id: string): { before: string; after: string } | undefined {
  const { resourceType, meta } = mapped;
  if ('id' in mapped || !isObject(meta) || 'versionId' in meta || 'lastUpdated' in meta) return undefined;
  const text = JSON.stringify(mapped);
  const opening = `{"resourceType":${JSON.stringify(resourceType)},"meta":`;
  const metaText = JSON.stringify(meta);
  if (!text.startsWith(opening) || !text.startsWith(metaText, opening.length)) return undefined;
  return {
    before: `{"resourceType":${JSON.stringify(resourceType)},"id":${JSON.stringify(id)},"meta":${metaText === '{}' ? '{' : `${metaText.slice(0, -1)},`}`,
    after: text.slice(opening.length + metaText.length - 1),
  };
}

function copiedText(mapped: FhirResource, id: string, versionId: string, lastUpdated: string): string {
  const { resourceType, meta, ...rest } = mapped;
  return JSON.stringify({ resourceType, id, meta: { ...meta, versionId, lastUpdated }, ...rest });
}

/** The text of a copy of `mapped` with `id` and the version's meta put first, its references rewritten. */
export function copiedResourceText(mapped: FhirResource, id: string, targets: ReadonlyMap<string, string>, versionId: string, lastUpdated: string): string {
  return withReferencesRewritten(copiedText(mapped, id, versionId, lastUpdated), targets);
}

/** `JSON.stringify(rewrittenViewResource(…))` by the text rewrite: `id` and meta spliced into the Bundle resource's text, its references rewritten. */
export function viewResourceText(planEntry: PlanEntry, id: string, targets: ReadonlyMap<string, string>, versionId: string, lastUpdated: string): string {
  const mapped = mappedResource(planEntry, id);
  const pieces = splicePieces(mapped, id);
  if (pieces === undefined) return copiedResourceText(mapped, id, targets, versionId, lastUpdated);
  return withReferencesRewritten(`${pieces.before}"versionId":${JSON.stringify(versionId)},"lastUpdated":${JSON.stringify(lastUpdated)}${pieces.after}`, targets);
}

export const VERSION_MARK = 'sip-derived-version-id';
export const UPDATED_MARK = 'sip-derived-last-updated';
/** Where the version's meta goes in a derived text (src/http/derived-view.ts writes the same). */
export const MARK_TEXT = `"versionId":"${VERSION_MARK}","lastUpdated":"${UPDATED_MARK}"`;

/**
 * The kept texts' former split: `viewResourceText(planEntry, id, targets, VERSION_MARK, UPDATED_MARK)`
 * split where {@link MARK_TEXT} is, or undefined when it is not found there exactly once. A resource of
 * the mapping's shape is rewritten in its two pieces either side of the mark: they are cut outside any
 * string of the JSON text and the mark holds no reference, so the rewrite finds the same references.
 */
export function derivedParts(planEntry: PlanEntry, id: string, targets: ReadonlyMap<string, string>): { head: string; tail: string } | undefined {
  const mapped = mappedResource(planEntry, id);
  const pieces = splicePieces(mapped, id);
  if (pieces !== undefined) {
    const head = withReferencesRewritten(pieces.before, targets);
    const tail = withReferencesRewritten(pieces.after, targets);
    return head.includes(MARK_TEXT) || tail.includes(MARK_TEXT) ? undefined : { head, tail };
  }
  const text = withReferencesRewritten(copiedText(mapped, id, VERSION_MARK, UPDATED_MARK), targets);
  const at = text.indexOf(MARK_TEXT);
  if (at < 0 || text.includes(MARK_TEXT, at + 1)) return undefined;
  return { head: text.slice(0, at), tail: text.slice(at + MARK_TEXT.length) };
}
