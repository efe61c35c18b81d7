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
 *   serialising it;
 * - the **judging summary** (src/sip/plan-summary.ts, migration 8): what access and the rules that read
 *   the instant need of the plan, so a read judges without parsing the plan document;
 * - the version's **traffic light and status** (migration 11), so a SIP read or search answers the
 *   plan's stored text without parsing it either (src/http/sip-routes.ts `planBodyText`).
 *
 * The store keeps it under {@link currentDeriver}, which names the model, the mapping and the rules
 * that computed it; a server running others does not find it and derives anew. A version written
 * before migration 6 (or under another deriver) is derived by its first read and kept then.
 */
import { createHash } from 'node:crypto';
import type { FhirResource } from 'fhir/r4.js';
import { ARTEFACT_VERSION, DEFAULT_MAPPING_OPTIONS, planEntries, resourceIdOf, type PlanEntry } from '../fhir/index.js';
import { RULE_SET_SIGNATURE, judgeSendAndRecorded, judgeSendAndRecordedWith, judgeSendWith, planModelVersion, planStatus, sendBasisOf, trafficLight, type SendAndRecordedJudgement, type SendBasis, type SipPlan } from '../sip/index.js';
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

/**
 * A resource of a plan's view as the facade answers it: its id and the version's meta put in the
 * resource the mapping wrote with the facade's references ({@link PlanEntry.facadeResource}, `Type/id`;
 * src/fhir/write/context.ts `keyReference`), as the kept texts are ({@link facadeParts}).
 *
 * The resource is a shallow copy with a `meta` of its own: its other members are the entry's kept
 * facade resource's, which the entry answers again to whoever asks it next (a second read of the
 * view, {@link facadeParts}), so neither it nor they are changed here, and no reader of a
 * view changes them in place: `_summary` / `_elements` (src/http/fhir-subset.ts) copy what they keep,
 * `_include` and the search parameters only read. fhirpath.js marks the objects its expressions
 * return with a non-enumerable `__path__`, which neither JSON nor a spread sees, as it marked the
 * former path's copies.
 *
 * test/http/view-resource-facade.test.ts holds it byte for byte to the former path (the entry mapped
 * with the Bundle's fullUrls, every `reference` rewritten in a deep copy) and the served resource
 * apart from the kept one; test/http/view-resource-readers.test.ts holds every reader of the view
 * over HTTP to leaving the kept resources as mapped.
 */
export function viewResource(planEntry: PlanEntry, id: string, versionId: string, lastUpdated: string): FhirResource {
  const { resourceType, meta, ...rest } = planEntry.facadeResource();
  return { resourceType, id, meta: { ...meta, versionId, lastUpdated }, ...rest } as FhirResource;
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
 * The text of a resource the mapping wrote as `{"resourceType":…,"meta":{…},…}`, with `id` put in,
 * cut where the version's meta members go: `before` ends inside the meta object (after `{` or `,`),
 * `after` begins with the `}` that closes it. Undefined for a resource of any other shape.
 *
 * This splices `id` and the meta into the text of the resource as it is, instead of stringifying a
 * copy with them put first, which took V8 twice as long as the text itself (docs/performance.md
 * "Derived texts in one pass"). The mapping's resources are shared with the plan's other readers
 * ({@link PlanEntry.facadeResource} keeps them), so they are not changed in place.
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

/** The text of a copy of `mapped` with `id` and the version's meta put first: a resource of a shape {@link splicePieces} does not cut. */
function copiedText(mapped: FhirResource, id: string, versionId: string, lastUpdated: string): string {
  const { resourceType, meta, ...rest } = mapped;
  return JSON.stringify({ resourceType, id, meta: { ...meta, versionId, lastUpdated }, ...rest });
}

const VERSION_MARK = 'sip-derived-version-id';
const UPDATED_MARK = 'sip-derived-last-updated';
/** Where the version's meta goes in a derived text. JSON.stringify escapes quotes in values, so this can only be the keys themselves. */
const MARK_TEXT = `"versionId":"${VERSION_MARK}","lastUpdated":"${UPDATED_MARK}"`;

/**
 * `JSON.stringify(viewResource(planEntry, id, VERSION_MARK, UPDATED_MARK))` split where
 * {@link MARK_TEXT} is, or undefined when it is not found there exactly once (a meta of the mapping's
 * own naming versionId: the read maps such a resource). The mapping wrote the references as the
 * facade's `Type/id` ({@link PlanEntry.facadeResource}), so the text is written once and nothing in
 * it is searched for but the mark. A resource of the mapping's shape is cut in two pieces either side
 * of the mark ({@link splicePieces}): the mark occurs once in the whole exactly when neither piece
 * holds it (no suffix of the mark is a prefix of it, so it cannot overlap itself).
 *
 * Held to the texts' former path (the entry mapped with the Bundle's fullUrls, its text's references
 * rewritten to `Type/id`, test/support/former-reference-rewrite.ts) by
 * test/http/derived-facade-texts.test.ts over every example and generated plans, and on resources
 * of every shape by test/http/derived-text-one-pass.test.ts.
 */
export function facadeParts(planEntry: PlanEntry, id: string): { head: string; tail: string } | undefined {
  const mapped = planEntry.facadeResource();
  const pieces = splicePieces(mapped, id);
  if (pieces !== undefined) {
    const { before: head, after: tail } = pieces;
    return head.includes(MARK_TEXT) || tail.includes(MARK_TEXT) ? undefined : { head, tail };
  }
  const text = copiedText(mapped, id, VERSION_MARK, UPDATED_MARK);
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
  return {
    deriver: currentDeriver(),
    basis: JSON.stringify(basis),
    summary: JSON.stringify(judgingSummaryOf(plan)),
    standing: { trafficLight: trafficLight(plan), status: planStatus(plan) },
    texts,
  };
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
  // The parsed-JSON boundary, as for the basis: the text judgingSummaryOf wrote under the same deriver —
  // its parties, consents and person with only the members the judgements read (a `JudgingSummary`),
  // or, for a version kept before the summary was made lean, those members whole. Either is judged as a
  // SipPlan by the functions that judge a plan; test/sip/plan-summary-lean.test.ts holds both to the
  // whole plan's judgements.
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
 * (only the rules that read the instant run, at `at` and at the version's instant, on the judging
 * summary when one was kept: test/sip/plan-summary.test.ts holds both judgements to the whole plan's),
 * else every rule.
 */
export function storedSendAndRecorded(stored: StoredPlan, at: Date): SendAndRecordedJudgement {
  const { derived } = stored;
  return derived === undefined ? judgeSendAndRecorded(stored.plan, at) : judgeSendAndRecordedWith(judgingPlanOf(stored), parsedDerivation(derived).basis, at);
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
