/**
 * The transaction Bundle a FHIR receiver is sent (issue #14), as JSON text, written from the resource
 * texts kept with the version when it was written (migration 6, src/http/derived-view.ts) instead of
 * mapping the whole plan again: mapping was some 55 % of a delivery's CPU (docs/performance.md, "The
 * exchange").
 *
 * A kept text is the resource as the facade answers it: `{"resourceType":…,"id":…,"meta":{…` with the
 * facade's `id`, the version's `versionId` and `lastUpdated` where the text is split (at the end of
 * `meta`), and references relative (`Type/id`). The Bundle has the resource as the mapping wrote it:
 * no `id`, the mapping's own `meta` (none when it wrote none), and references to the entries'
 * `urn:uuid` fullUrls. {@link bundleResourceText} undoes the three on the text, without parsing it:
 * in JSON text an unescaped `"reference":"` can only be a key, and the head's opening is checked to
 * be exactly what derived-view.ts writes (else the entry is mapped). What is not kept — the entries'
 * fullUrls and requests (from the plan's keys), and every resource whose mapping reads the instant
 * (Consent) or whose text is missing — comes from `planEntries` as `planToBundle` makes it.
 *
 * The text is `JSON.stringify(planToBundle(plan, options, at))` to the byte (test/exchange/
 * transaction-bundle.test.ts, over every example and generated plans, at several instants). Only for
 * the plan as recorded, or that plan with the consents' exclusion descriptions taken out (only the
 * Consents' mapping reads them, and Consents are always mapped) — a plan from which consent removed
 * information is mapped in full, as the kept texts hold what was removed — and only under the default
 * mapping options the texts were derived with.
 */
import { DEFAULT_MAPPING_OPTIONS, PROFILE, planEntries, planToBundle, requestFor, resourceIdOf, type FhirMappingOptions, type PlanEntry } from '../fhir/index.js';
import { stockholmInstant, type SipPlan } from '../sip/index.js';
import type { ResourceText } from './delivery.js';

/** The Bundle as JSON text, and how many entries it has. */
export interface TransactionBundleText {
  readonly text: string;
  readonly entries: number;
}

/** A `reference` key and the opening of its value, in JSON text (an unescaped `"` cannot be inside a string). */
const REFERENCE_KEY = '"reference":"';

/**
 * What a reference of a kept text is rewritten to: the whole member `"reference":"<fullUrl>"` of the
 * entry it names, if it names one — written once per entry, not once per reference to it.
 */
type ReferenceTo = (reference: string) => string | undefined;

/**
 * Pushes `text` from `from` on onto `parts` with every `"reference":"Type/id"` whose value names an
 * entry written as `"reference":"<its fullUrl>"`: the matches of `/"reference":"([^"\\]*)"/g` in
 * `text.slice(from)` replaced, as `String.prototype.replace` with that expression did (a value holding
 * an escape is left as it is, and the search goes on from the next character), by `indexOf` and slices
 * that the Bundle's parts copy once — the expression's replace over ≈ 60 kB of text a delivery, and
 * the copies of each resource it made, were ≈ a third of building the Bundle (docs/performance.md,
 * "The exchange, fourth round").
 */
function pushRewritten(parts: string[], text: string, referenceTo: ReferenceTo, from = 0): void {
  let copied = from;
  let at = text.indexOf(REFERENCE_KEY, from);
  while (at >= 0) {
    const start = at + REFERENCE_KEY.length;
    const end = text.indexOf('"', start);
    if (end < 0) break;
    const reference = text.slice(start, end);
    if (reference.includes('\\')) {
      at = text.indexOf(REFERENCE_KEY, at + 1);
      continue;
    }
    const member = referenceTo(reference);
    if (member !== undefined) {
      parts.push(text.slice(copied, at), member);
      copied = end + 1;
    }
    at = text.indexOf(REFERENCE_KEY, end + 1);
  }
  parts.push(copied === 0 ? text : text.slice(copied));
}

/** `"reference":"<fullUrl>"`, the member a reference to the entry of `fullUrl` is written as. */
function referenceMember(fullUrl: string): string {
  return `"reference":${JSON.stringify(fullUrl)}`;
}

/**
 * Pushes the resource's JSON text as the mapping writes it into the Bundle, from its kept text, onto
 * `parts`: the facade's `id` and the version's meta taken out (`meta` with them, when the mapping wrote
 * none), references to entries as their fullUrls. False, and nothing pushed, when the text does not
 * open as a kept text of this entry does.
 */
function pushBundleResource(parts: string[], text: ResourceText, referenceTo: ReferenceTo): boolean {
  const type = `{"resourceType":${JSON.stringify(text.resourceType)}`;
  const opening = `${type},"id":${JSON.stringify(text.id)},"meta":{`;
  if (!text.head.startsWith(opening) || !text.tail.startsWith('}')) return false;
  // What the mapping put in meta: nothing, or its members and the comma before the version's.
  const meta = text.head.slice(opening.length);
  if (meta !== '' && !meta.endsWith(',')) return false;
  const opened = `${type}${meta === '' ? '' : `,"meta":{${meta.slice(0, -1)}}`}`;
  // The resource is `opened` and then the tail after its `}`. When no `"reference":"` begins in
  // `opened`, nor across its end, every one of the resource's is in the tail, which is then scanned
  // where it lies, not copied after `opened` into one string first; else that copy, as before.
  const across = opened.slice(1 - REFERENCE_KEY.length) + text.tail.slice(1, REFERENCE_KEY.length);
  if (opened.includes(REFERENCE_KEY) || across.includes(REFERENCE_KEY)) {
    pushRewritten(parts, `${opened}${text.tail.slice(1)}`, referenceTo);
  } else {
    parts.push(opened);
    pushRewritten(parts, text.tail, referenceTo, 1);
  }
  return true;
}

/**
 * The resource's JSON text as the mapping writes it into the Bundle, from its kept text (see
 * {@link pushBundleResource}). Undefined when the text does not open as a kept text of this entry does.
 */
export function bundleResourceText(text: ResourceText, fullUrls: ReadonlyMap<string, string>): string | undefined {
  const parts: string[] = [];
  const referenceTo: ReferenceTo = (reference) => {
    const fullUrl = fullUrls.get(reference);
    return fullUrl === undefined ? undefined : referenceMember(fullUrl);
  };
  return pushBundleResource(parts, text, referenceTo) ? parts.join('') : undefined;
}

/** The Bundle's JSON text as parts, in order, and how many entries it has. */
interface TransactionBundleParts {
  readonly parts: readonly string[];
  readonly entries: number;
}

/**
 * `JSON.stringify(planToBundle(plan, options, at))` as parts to be joined, with every resource that
 * has a kept text written from it. `texts` must be of this very plan version as recorded; `plan` may
 * be it with the consents' exclusion descriptions taken out (`withoutExclusionDescriptions`).
 */
function transactionBundleParts(plan: SipPlan, options: FhirMappingOptions, at: Date, texts: readonly ResourceText[] | undefined): TransactionBundleParts {
  if (texts === undefined || texts.length === 0 || options !== DEFAULT_MAPPING_OPTIONS) {
    const bundle = planToBundle(plan, options, at);
    return { parts: [JSON.stringify(bundle)], entries: bundle.entry?.length ?? 0 };
  }
  const entries = planEntries(plan, options, at);
  // Each entry by its id (a kept text's is its type's and this id), and by `Type/id`, the relative
  // reference a kept text names it by, with the member a reference to it is written as. A text is
  // found by its id and then checked to be of the entry's type, not looked up by a `Type/id` made for
  // it (a new string, hashed whole, for every text of every delivery). Should two entries share an id,
  // the first's text is not found and that entry is mapped: the same Bundle.
  const byId = new Map<string, PlanEntry>();
  const members = new Map<string, string>();
  for (const planEntry of entries) {
    const id = resourceIdOf(planEntry.key.fullUrl);
    if (id === undefined) continue;
    byId.set(id, planEntry);
    members.set(`${planEntry.resourceType}/${id}`, referenceMember(planEntry.key.fullUrl));
  }
  const referenceTo: ReferenceTo = (reference) => members.get(reference);
  const kept = new Map<PlanEntry, ResourceText>();
  for (const text of texts) {
    const planEntry = byId.get(text.id);
    if (planEntry !== undefined && planEntry.resourceType === text.resourceType) kept.set(planEntry, text);
  }
  const head = JSON.stringify({ resourceType: 'Bundle', meta: { profile: [PROFILE.bundle] }, type: 'transaction', timestamp: stockholmInstant(at) });
  const parts: string[] = [head.slice(0, -1), ',"entry":['];
  for (const [index, planEntry] of entries.entries()) {
    if (index > 0) parts.push(',');
    const text = kept.get(planEntry);
    // The entry around it, as entryFor writes it: fullUrl, resource, request (which depends on the key alone).
    const opened = parts.length;
    parts.push(`{"fullUrl":${JSON.stringify(planEntry.key.fullUrl)},"resource":`);
    if (text !== undefined && pushBundleResource(parts, text, referenceTo)) {
      parts.push(`,"request":${JSON.stringify(requestFor(planEntry.key))}}`);
    } else {
      parts.length = opened;
      parts.push(JSON.stringify(planEntry.entry()));
    }
  }
  parts.push(']}');
  return { parts, entries: entries.length };
}

/**
 * `JSON.stringify(planToBundle(plan, options, at))`, with every resource that has a kept text written
 * from it. `texts` must be of this very plan version as recorded; `plan` may be it with the consents'
 * exclusion descriptions taken out (`withoutExclusionDescriptions`). The text is gathered as parts and
 * joined once.
 */
export function transactionBundleText(plan: SipPlan, options: FhirMappingOptions, at: Date, texts: readonly ResourceText[] | undefined): TransactionBundleText {
  const { parts, entries } = transactionBundleParts(plan, options, at, texts);
  return { text: parts.join(''), entries };
}

/** The Bundle as the UTF-8 bytes sent, and how many entries it has. */
export interface TransactionBundleBytes {
  readonly bytes: Buffer;
  readonly entries: number;
}

/**
 * The UTF-8 of `parts.join('')`, each part written in turn into one buffer — not joined into one
 * string that the HTTP client then encodes: the ≈ 70 kB text of a Bundle holds a few characters above
 * U+00FF (a dash, say), which makes the joined string two bytes a character, and the join and the
 * encoding of it were each a copy of the whole (≈ 0.35 ms a Bundle against ≈ 0.08 ms written part by
 * part; docs/performance.md, "The exchange, fifth round"). A part that ends in the first half of a
 * surrogate pair would be encoded apart from its second half (as two replacement characters instead of
 * the one character); the Bundle's parts are never cut there (every cut is next to an ASCII character),
 * and should one be, the text is joined and encoded whole.
 */
export function utf8Of(parts: readonly string[]): Buffer {
  let length = 0;
  for (const part of parts) {
    const last = part.charCodeAt(part.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) return Buffer.from(parts.join(''), 'utf8');
    length += part.length;
  }
  // A UTF-16 code unit is at most three bytes of UTF-8 (a pair of them, four), but a Bundle's text is
  // nearly all ASCII: the buffer is sized for that, with some room, and grown only should a part not
  // fit — not three times the text's length, most of it never written (≈ 190 kB of memory outside
  // the heap a delivery for ≈ 64 kB sent, which the collector is told of and answers).
  let bytes: Buffer = Buffer.allocUnsafe(length + (length >> 4) + 64);
  let written = 0;
  for (const part of parts) {
    const room = bytes.length - written;
    if (part.length * 3 > room) {
      const needed = Buffer.byteLength(part, 'utf8');
      if (needed > room) bytes = grown(bytes, written, written + needed + (length >> 2));
    }
    written += bytes.write(part, written, 'utf8');
  }
  return bytes.subarray(0, written);
}

/** A buffer of `size` bytes holding the first `written` bytes of `bytes`. */
function grown(bytes: Buffer, written: number, size: number): Buffer {
  const larger = Buffer.allocUnsafe(size);
  bytes.copy(larger, 0, 0, written);
  return larger;
}

/**
 * The bytes of {@link transactionBundleText}'s text in UTF-8 — what the connector sends — written
 * from its parts ({@link utf8Of}).
 */
export function transactionBundleBytes(plan: SipPlan, options: FhirMappingOptions, at: Date, texts: readonly ResourceText[] | undefined): TransactionBundleBytes {
  const { parts, entries } = transactionBundleParts(plan, options, at, texts);
  return { bytes: utf8Of(parts), entries };
}
