/**
 * What a read of a plan version derives from the plan alone, computed once when the version is
 * written and kept with it in the store (migration 6), so that a read runs only what depends on the
 * moment of the read (docs/performance.md, "Sixth run"):
 *
 * - the **send basis** (src/sip/rules/index.ts `sendBasisOf`): the findings of the SIP rules that do
 *   not read the instant, and which rules do. A read runs those again at its own instant
 *   (`judgeSendWith`): consent in force, overdue follow-ups … are judged at every read, never stored;
 * - the **JSON text of each FHIR resource** of the version's view whose mapping does not depend on
 *   the instant: every type but Consent, whose status and narrative are judged at the moment it is
 *   sent (src/fhir/write/consent.ts, resource-narratives.ts). The text is split where the read puts the
 *   version's `meta.versionId` and `meta.lastUpdated`, so a read answers it without parsing or
 *   serialising it.
 *
 * The store keeps it under {@link currentDeriver}, which names the model, the mapping and the rules
 * that computed it; a server running others does not find it and derives anew. A version written
 * before migration 6 (or under another deriver) is derived by its first read and kept then.
 */
import { createHash } from 'node:crypto';
import type { FhirResource } from 'fhir/r4.js';
import { ARTEFACT_VERSION, DEFAULT_MAPPING_OPTIONS, planEntries, resourceIdOf, type PlanEntry } from '../fhir/index.js';
import { RULE_SET_SIGNATURE, judgeSendAndRecorded, judgeSendAndRecordedWith, judgeSendWith, planModelVersion, sendBasisOf, type SendAndRecordedJudgement, type SendBasis, type SipPlan } from '../sip/index.js';
import { judgingSummaryOf, SUMMARY_RULES } from '../sip/plan-summary.js';
import type { DerivedText, DerivedVersion, StoredDerivation, StoredPlan, StoredVersionHead } from '../store/plan-store.js';
import type { HttpError } from './problem.js';
import { refusalOf, sendRefusal } from './sending.js';

/**
 * Raise when what is derived changes without the model, the artefact version or the rule set
 * changing: a change of the mapping's output, of how a text is split, of the basis's form.
 */
export const DERIVATION_REVISION = 1;

/** Resource types whose mapping reads the instant of sending (`WriteContext.at`): never derived. */
export const TIME_DEPENDENT_TYPES: ReadonlySet<string> = new Set(['Consent']);

let deriver: string | undefined;

/** The name under which this server keeps and finds derived data: a hash of everything that computes it. */
export function currentDeriver(): string {
  deriver ??= `${String(DERIVATION_REVISION)}:${createHash('sha256')
    .update(JSON.stringify([ARTEFACT_VERSION, planModelVersion(), DEFAULT_MAPPING_OPTIONS, RULE_SET_SIGNATURE]))
    .digest('hex')
    .slice(0, 32)}`;
  return deriver;
}

/** `reference` values rewritten from the Bundle's `urn:uuid` fullUrls to `Type/id`, everywhere in a resource. */
function relativeReferences(value: unknown, targets: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => relativeReferences(item, targets));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, key === 'reference' && typeof item === 'string' ? (targets.get(item) ?? item) : relativeReferences(item, targets)]),
  );
}

/** The `Type/id` each entry's fullUrl stands for on the facade. */
export function referenceTargets(entries: readonly PlanEntry[]): Map<string, string> {
  const targets = new Map<string, string>();
  for (const { key } of entries) {
    const id = resourceIdOf(key.fullUrl);
    if (id !== undefined) targets.set(key.fullUrl, `${key.resourceType}/${id}`);
  }
  return targets;
}

/** A resource of a plan's view as the facade answers it: its id, the version's meta, references relative. */
export function viewResource(planEntry: PlanEntry, id: string, targets: ReadonlyMap<string, string>, versionId: string, lastUpdated: string): FhirResource {
  const mapped = planEntry.entry().resource;
  if (mapped === undefined) throw new Error(`the mapping wrote no resource for ${planEntry.resourceType}/${id}`);
  const { resourceType, meta, ...rest } = relativeReferences(mapped, targets) as FhirResource;
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
 * same, without the replacer, which takes V8 off its fast path for the whole object (≈ 3× slower).
 *
 * A property is `"reference":"` right after `{` or `,`: in text `JSON.stringify` wrote a `"` inside a
 * string is always written `\"`, so such a match cannot start inside a string, nor inside a key that
 * merely ends in `\"reference`. The openings are found with `indexOf` (the lookbehind regular
 * expression this replaces tried every offset of the text, a tenth of a transaction's derived texts;
 * docs/performance.md "Derived texts in one pass"), and each is read as that expression read it:
 * held equal to it on any text (test/http/derived-text-one-pass.test.ts), and to the replacer on
 * generated JSON (test/http/derived-view.test.ts).
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

/** Whether a member of a resource is an object with members (not null, not an array): the meta a mapping writes. */
function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How `JSON.stringify` begins the text of a resource whose first keys are `resourceType` and `meta`, as every mapping writes them. */
function openingOf(resourceType: string): string {
  return `{"resourceType":${JSON.stringify(resourceType)},"meta":`;
}

/**
 * `JSON.stringify(viewResource(…))` without copying the resource: the references are rewritten in the
 * text as written ({@link withReferencesRewritten}: the same key, `reference`, the same string
 * values), and `id` and the version's meta are spliced into the text of the mapped resource as it is
 * (`{"resourceType":…,"meta":{…},…}`, the shape every mapping writes), instead of stringifying a copy
 * with them put first, which took V8 twice as long as the text itself. A resource of any other shape
 * (an `id` of its own, no `meta` object second, a meta naming `versionId` or `lastUpdated`) is copied
 * as before. The mapping's resources are shared with the plan's other readers ({@link PlanEntry.entry}
 * keeps them), so they are not changed in place. test/http/derived-text-one-pass.test.ts holds the
 * texts equal to the copy's, test/http/derived-view.test.ts to the facade's.
 */
export function viewResourceText(planEntry: PlanEntry, id: string, targets: ReadonlyMap<string, string>, versionId: string, lastUpdated: string): string {
  const mapped = mappedResource(planEntry, id);
  const pieces = splicePieces(mapped, id);
  if (pieces === undefined) return copiedResourceText(mapped, id, targets, versionId, lastUpdated);
  return withReferencesRewritten(`${pieces.before}"versionId":${JSON.stringify(versionId)},"lastUpdated":${JSON.stringify(lastUpdated)}${pieces.after}`, targets);
}

function mappedResource(planEntry: PlanEntry, id: string): FhirResource {
  const mapped = planEntry.entry().resource;
  if (mapped === undefined) throw new Error(`the mapping wrote no resource for ${planEntry.resourceType}/${id}`);
  return mapped;
}

/**
 * The text of a resource the mapping wrote as `{"resourceType":…,"meta":{…},…}`, with `id` put in,
 * cut where the version's meta members go: `before` ends inside the meta object (after `{` or `,`),
 * `after` begins with the `}` that closes it. Undefined for a resource of any other shape.
 */
function splicePieces(mapped: FhirResource, id: string): { before: string; after: string } | undefined {
  const { resourceType, meta } = mapped;
  if ('id' in mapped || !isObject(meta) || 'versionId' in meta || 'lastUpdated' in meta) return undefined;
  const text = JSON.stringify(mapped);
  const opening = openingOf(resourceType);
  const metaText = JSON.stringify(meta);
  if (!text.startsWith(opening) || !text.startsWith(metaText, opening.length)) return undefined;
  return {
    before: `{"resourceType":${JSON.stringify(resourceType)},"id":${JSON.stringify(id)},"meta":${metaText === '{}' ? '{' : `${metaText.slice(0, -1)},`}`,
    // The meta's closing `}` and what follows it, cut from the text as written: a slice shares the
    // text's characters, where `}` + the rest made a string of two parts that the mark's search, or
    // pg's write of the kept text, copied whole (≈ 55 kB a version).
    after: text.slice(opening.length + metaText.length - 1),
  };
}

/** The text of a copy of `mapped` with `id` and the version's meta put first, as every resource's was before the splice. */
export function copiedResourceText(mapped: FhirResource, id: string, targets: ReadonlyMap<string, string>, versionId: string, lastUpdated: string): string {
  return withReferencesRewritten(copiedText(mapped, id, versionId, lastUpdated), targets);
}

/** {@link copiedResourceText} with the references as `mapped` has them. */
function copiedText(mapped: FhirResource, id: string, versionId: string, lastUpdated: string): string {
  const { resourceType, meta, ...rest } = mapped;
  return JSON.stringify({ resourceType, id, meta: { ...meta, versionId, lastUpdated }, ...rest });
}

const VERSION_MARK = 'sip-derived-version-id';
const UPDATED_MARK = 'sip-derived-last-updated';
/** Where the version's meta goes in a derived text. JSON.stringify escapes quotes in values, so this can only be the keys themselves. */
const MARK_TEXT = `"versionId":"${VERSION_MARK}","lastUpdated":"${UPDATED_MARK}"`;

/**
 * `viewResourceText(planEntry, id, targets, VERSION_MARK, UPDATED_MARK)` split where {@link MARK_TEXT}
 * is, or undefined when it is not found there exactly once (a meta of the mapping's own naming
 * versionId: the read maps such a resource). A resource of the mapping's shape is rewritten in its
 * two pieces, either side of the mark, instead of as one text then searched for the mark: the pieces
 * are cut outside any string of the JSON text and the mark holds no reference, so the rewrite finds
 * the same references in them, and the mark occurs once in the whole exactly when neither piece holds
 * it (no suffix of the mark is a prefix of it, so it cannot overlap itself). Held equal to the split
 * text by test/http/derived-text-one-pass.test.ts.
 *
 * This is the texts' former path, from the entry mapped with the Bundle's fullUrls; `derivedVersion`
 * takes {@link facadeParts}, held to this by test/http/derived-facade-texts.test.ts.
 */
export function derivedParts(planEntry: PlanEntry, id: string, targets: ReadonlyMap<string, string>): { head: string; tail: string } | undefined {
  return partsOf(mappedResource(planEntry, id), id, (text) => withReferencesRewritten(text, targets));
}

/**
 * {@link derivedParts} of the entry's resource as the facade serves it ({@link PlanEntry.facadeResource}):
 * the mapping wrote its references as the facade's `Type/id`, which is what the rewrite of the
 * entry's fullUrl references gives (each fullUrl of the plan's entries to its entry's `Type/id`,
 * {@link referenceTargets}), so the text is written once and nothing in it is searched for but the
 * mark. Equal to {@link derivedParts} for every resource the mapping writes: held by
 * test/http/derived-facade-texts.test.ts over every example and generated plans.
 */
export function facadeParts(planEntry: PlanEntry, id: string): { head: string; tail: string } | undefined {
  return partsOf(planEntry.facadeResource(), id, (text) => text);
}

/** The text of `mapped` for the view with the mark where the version's meta goes, references as `rewrite` leaves them, split at the mark. */
function partsOf(mapped: FhirResource, id: string, rewrite: (text: string) => string): { head: string; tail: string } | undefined {
  const pieces = splicePieces(mapped, id);
  if (pieces !== undefined) {
    const head = rewrite(pieces.before);
    const tail = rewrite(pieces.after);
    return head.includes(MARK_TEXT) || tail.includes(MARK_TEXT) ? undefined : { head, tail };
  }
  const text = rewrite(copiedText(mapped, id, VERSION_MARK, UPDATED_MARK));
  const at = text.indexOf(MARK_TEXT);
  if (at < 0 || text.includes(MARK_TEXT, at + 1)) return undefined;
  return { head: text.slice(0, at), tail: text.slice(at + MARK_TEXT.length) };
}

/**
 * What a read derives from `plan` alone, to keep with its version. `entries` are the plan's
 * `planEntries`, and `basis` its `sendBasisOf`, when the writer has them already (a writer that
 * checks the version with `checkPlanWithBasis` has both). The plan must be as `parsePlan` returns it.
 * The texts are of each entry's {@link PlanEntry.facadeResource}: an entry the writer mapped for the
 * Bundle's form (`entry()`) is mapped again in the facade's.
 */
export function derivedVersion(plan: SipPlan, entries: readonly PlanEntry[] = planEntries(plan, DEFAULT_MAPPING_OPTIONS), basis: SendBasis = sendBasisOf(plan)): DerivedVersion {
  const texts = entries.flatMap((planEntry): DerivedText[] => {
    if (TIME_DEPENDENT_TYPES.has(planEntry.resourceType)) return [];
    const id = resourceIdOf(planEntry.key.fullUrl);
    if (id === undefined) return [];
    const parts = facadeParts(planEntry, id);
    return parts === undefined ? [] : [{ resourceType: planEntry.resourceType, id, head: parts.head, tail: parts.tail }];
  });
  return { deriver: currentDeriver(), basis: JSON.stringify(basis), summary: JSON.stringify(judgingSummaryOf(plan)), texts };
}

/** The answer's JSON text of a derived resource of a stored version: its text with the version's meta spliced in. */
export function derivedResourceText(stored: Pick<StoredPlan, 'version' | 'recordedAt'>, text: DerivedText): string {
  return `${text.head}"versionId":${JSON.stringify(String(stored.version))},"lastUpdated":${JSON.stringify(stored.recordedAt)}${text.tail}`;
}

/** The derived text of `type/id` that came with a stored version, if it did. */
export function derivedTextOf(stored: Pick<StoredPlan, 'derived'>, type: string, id?: string): DerivedText | undefined {
  return stored.derived?.texts.find((text) => text.resourceType === type && (id === undefined || text.id === id));
}

function basisOf(text: string): SendBasis {
  // The parsed-JSON boundary: the store hands back the text this module wrote under the same deriver.
  const parsed = JSON.parse(text) as SendBasis;
  if (!Array.isArray(parsed.rules)) throw new Error('a derived send basis without rules');
  return parsed;
}

/** A derivation's basis and summary as parsed, each once per derivation object (one read's): access and the rules share them. */
interface ParsedDerivation {
  readonly basis: SendBasis;
  /** The judging summary, when one was kept and it carries every rule the basis marks timed. */
  readonly summary?: SipPlan;
}

/**
 * Where {@link parsedDerivation} keeps a derivation as parsed: on the derivation object the store made
 * for one read, under a symbol (not enumerable). Not in a module-level `WeakMap`, whose values V8's
 * scavenger promotes to the old space when their key was alive at one scavenge (a read still in flight):
 * every read's parsed summary would then be old-space garbage (src/sip/plan-index.ts `INDEX` says how).
 */
const PARSED: unique symbol = Symbol('parsedDerivation');

interface Parsed {
  [PARSED]?: ParsedDerivation;
}

function summaryOf(text: string): SipPlan {
  // The parsed-JSON boundary, as for the basis: the text judgingSummaryOf wrote under the same deriver.
  const parsed = JSON.parse(text) as SipPlan;
  if (typeof parsed.id !== 'string' || !Array.isArray(parsed.consents) || !Array.isArray(parsed.principals)) throw new Error('a derived judging summary without a plan id, consents or principals');
  return parsed;
}

function parsedDerivation(derived: StoredDerivation): ParsedDerivation {
  const kept = (derived as Parsed)[PARSED];
  if (kept !== undefined) return kept;
  const basis = basisOf(derived.basis);
  // A rule the summary was not made for, timed in this basis (a rule added since): judge from the whole plan.
  const served = basis.rules.every((rule) => !('timed' in rule) || SUMMARY_RULES.has(rule.code));
  const parsed = served && derived.summary !== undefined ? { basis, summary: summaryOf(derived.summary) } : { basis };
  if (Object.isExtensible(derived)) Object.defineProperty(derived, PARSED, { value: parsed });
  return parsed;
}

/**
 * The plan to judge access and the instant's rules on for a stored version: the judging summary kept
 * with it (src/sip/plan-summary.ts), when there is one that serves, else the whole plan. It is not the
 * plan: only `mayAccess`, {@link storedSendRefusal} and what names the plan and its person (its `id`,
 * `individual`) may read it. A read that answers a kept text thus never parses the plan document.
 */
export function judgingPlanOf(stored: StoredPlan): SipPlan {
  const { derived } = stored;
  return (derived === undefined ? undefined : parsedDerivation(derived).summary) ?? stored.plan;
}

/**
 * Why the stored version may not be sent at `at` (a 403 naming the rules), or undefined when it may:
 * `sendRefusal(plan, at)`, from the version's send basis when it came with one (only the rules that
 * read the instant run, on the judging summary when one was kept), else every rule.
 */
export function storedSendRefusal(stored: StoredPlan, at: Date): HttpError | undefined {
  const { derived } = stored;
  if (derived === undefined) return sendRefusal(stored.plan, at);
  const plan = judgingPlanOf(stored);
  return refusalOf(plan, judgeSendWith(plan, parsedDerivation(derived).basis, at));
}

/**
 * `judgeSendAndRecorded(plan, at)` of the stored version — whether it may be sent at `at`, and what
 * was found in it as recorded, for a SIP read's warnings — from its send basis when it came with one
 * (only the rules that read the instant run, at `at` and at the version's instant), else every rule.
 */
export function storedSendAndRecorded(stored: StoredPlan, at: Date): SendAndRecordedJudgement {
  const { derived } = stored;
  return derived === undefined ? judgeSendAndRecorded(stored.plan, at) : judgeSendAndRecordedWith(stored.plan, parsedDerivation(derived).basis, at);
}

/**
 * A version read without its plan ({@link StoredVersionHead}) whose kept derivation serves the judging
 * of it: the judging summary that access and the instant's rules are judged on (as
 * {@link judgingPlanOf} gives it for the version read with its plan) and the derivation it came with.
 */
export interface KeptJudging {
  readonly head: StoredVersionHead;
  readonly derived: StoredDerivation;
  /** The judging summary: only what {@link judgingPlanOf} allows may read it. */
  readonly judged: SipPlan;
}

/** A {@link KeptJudging} that also serves a read of one resource whole: with the kept text of the resource. */
export interface KeptRead extends KeptJudging {
  readonly text: DerivedText;
}

/**
 * The kept judging of a version without its plan, or undefined when judging it needs the plan: nothing
 * derived under the deriver asked for, or no judging summary that serves (`judgingPlanOf` would judge
 * on the whole plan).
 */
export function keptJudging(head: StoredVersionHead): KeptJudging | undefined {
  const { derived } = head;
  if (derived === undefined) return undefined;
  const judged = parsedDerivation(derived).summary;
  return judged === undefined ? undefined : { head, derived, judged };
}

/**
 * The kept read of `type/id` (without `id`: of the version's resource of that type that came with it, a
 * search's CarePlan) from a version without its plan, or undefined when the read needs the plan:
 * no {@link keptJudging}, or no kept text of that resource (the read would map it).
 */
export function keptRead(head: StoredVersionHead, type: string, id?: string): KeptRead | undefined {
  const kept = keptJudging(head);
  const text = derivedTextOf(head, type, id);
  return kept === undefined || text === undefined ? undefined : { ...kept, text };
}

/** {@link storedSendRefusal} of the version a kept judging stands for: its instant's rules run on the judging summary with the kept basis. */
export function keptSendRefusal(kept: KeptJudging, at: Date): HttpError | undefined {
  return refusalOf(kept.judged, judgeSendWith(kept.judged, parsedDerivation(kept.derived).basis, at));
}
