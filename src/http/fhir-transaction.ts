/**
 * The pure half of the FHIR facade's write side (`POST /fhir` with a transaction Bundle): when an
 * incoming plan is "the same" as the stored one, what a plan new to the adapter is recorded as, and
 * which resource of the recorded plan each entry of the request became, for the
 * `transaction-response` (https://hl7.org/fhir/R4/http.html#transaction-response).
 */
import type { Bundle, BundleEntry, FhirResource, Identifier } from 'fhir/r4.js';
import canonicalize from 'canonicalize';
import { DEFAULT_MAPPING_OPTIONS, IDENTIFIER_SYSTEM, PROTECTED_LOCATION_TEXT, fhirNormalForm, planEntries, type PlanEntry } from '../fhir/index.js';
import { ownValue, withVersionFields, type SipPlan } from '../sip/index.js';
import { resourceIdOf, type ResourceId } from '../fhir/index.js';
import { BundleIndex, type IndexedEntry } from '../fhir/read/bundle-index.js';
import type { StoredPlan } from '../store/plan-store.js';
import { storedSendRefusal } from './derived-view.js';
import { viewOf } from './fhir-routes.js';
import { narrowedRead } from './narrowing.js';
import { HttpError } from './problem.js';
import type { Admission } from './reserved-acts.js';

/**
 * `value` with every `reference` anywhere in it rewritten by `rewrite`. What holds no rewritten
 * reference is returned as it is, not copied: a Bundle `to-fhir` wrote refers by fullUrl already, and
 * copying its every object was a tenth of a transaction's time outside validation. An object's
 * members are visited through `Object.keys` (the same own enumerable names in the same order as
 * `Object.entries`, without a pair array per member) and an array's items by index, holes skipped as
 * `forEach` skips them.
 */
function mapReferences(value: unknown, rewrite: (reference: string) => string): unknown {
  if (Array.isArray(value)) {
    const items: readonly unknown[] = value;
    let copy: unknown[] | undefined;
    for (let index = 0; index < items.length; index++) {
      if (!(index in items)) continue;
      const item = items[index];
      const mapped = mapReferences(item, rewrite);
      if (mapped === item) continue;
      copy ??= [...items];
      copy[index] = mapped;
    }
    return copy ?? items;
  }
  if (typeof value !== 'object' || value === null) return value;
  const object = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(object)) {
    const item = object[key];
    const mapped = key === 'reference' && typeof item === 'string' ? rewrite(item) : mapReferences(item, rewrite);
    if (mapped === item) continue;
    copy ??= { ...object };
    copy[key] = mapped;
  }
  return copy ?? value;
}

/**
 * Whether `reference` resolves, in an index of entries whose fullUrls are `fullUrls`, to an entry
 * whose fullUrl is `reference` itself, so that rewriting it gives it back: it is an entry's fullUrl
 * and neither a conditional reference (no `?`), a version of one (no `/_history/`) nor a fragment
 * (`#…`), which `BundleIndex.resolve` reads otherwise. Its first entry with that fullUrl is then the
 * one `resolve` finds. Every reference of a Bundle `to-fhir` wrote is such a reference; looking each
 * up through `resolve` (a regular expression or two and a search of the entries) was half of
 * {@link withBundleReferences}.
 */
function isOwnFullUrl(reference: string, fullUrls: ReadonlySet<string | undefined>): boolean {
  return fullUrls.has(reference) && !reference.startsWith('#') && !reference.includes('?') && !reference.includes('/_history/');
}

/**
 * The Bundle with every literal reference that resolves to one of its entries
 * (https://hl7.org/fhir/R4/bundle.html#references: `Patient/p1` against the entry's RESTful fullUrl,
 * a conditional `Patient?identifier=…`) written as that entry's fullUrl. The SIP Bundle profile's
 * cross-resource rules join references to fullUrls literally (profiles/input/fsh/bundle.fsh), so
 * without this a client that refers relatively — as FHIR allows, and as the reader follows — would be
 * refused for a consent or a care team it did send. Nothing else changes, so every FHIRPath location
 * stays that of the Bundle as sent. What needs no rewriting is shared with `bundle`, not copied.
 */
export function withBundleReferences(bundle: Bundle): Bundle {
  // The Bundle is parsed JSON that has not been validated yet: an entry that is not the shape FHIR
  // gives it (null, a resource that is not an object, a fullUrl that is not a string) is left as it
  // is, for the validator to report where it is wrong.
  const given: unknown = bundle.entry;
  if (!Array.isArray(given)) return bundle;
  const all = given as unknown[];
  const entries: IndexedEntry[] = [];
  all.forEach((entry, index) => {
    if (!isWellFormedEntry(entry)) return;
    entries.push({ index, fullUrl: entry.fullUrl, resource: entry.resource, path: `Bundle.entry[${String(index)}].resource` });
  });
  const index = new BundleIndex(entries);
  const byIndex = new Map(entries.map((entry) => [entry.index, entry]));
  const fullUrls = new Set(entries.map((entry) => entry.fullUrl));
  const entry = (all as BundleEntry[]).map((given, position) => {
    const from = byIndex.get(position);
    if (from === undefined) return given;
    const resource = mapReferences(given.resource, (reference) => (isOwnFullUrl(reference, fullUrls) ? reference : (index.resolve({ reference }, from)?.fullUrl ?? reference))) as FhirResource;
    return resource === given.resource ? given : { ...given, resource };
  });
  // Unchanged, the Bundle is returned as sent (nothing here changes it later).
  return entry.every((mapped, position) => mapped === all[position]) ? bundle : { ...bundle, entry };
}

/** An entry with a resource object naming its type, and a fullUrl that is a string when present. */
function isWellFormedEntry(entry: unknown): entry is BundleEntry & { resource: FhirResource } {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return false;
  const { resource, fullUrl } = entry as { resource?: unknown; fullUrl?: unknown };
  if (fullUrl !== undefined && typeof fullUrl !== 'string') return false;
  return typeof resource === 'object' && resource !== null && !Array.isArray(resource) && typeof (resource as { resourceType?: unknown }).resourceType === 'string';
}

/**
 * The plan as compared for "nothing changed": in the mapping's normal form (what survives SIP → FHIR
 * → SIP, src/fhir/normal-form.ts), without what records a version rather than states the plan —
 * `version` and `updatedAt`, which the adapter assigns — and without `approvals` and `closure`,
 * which a write of the plan never changes (`revisePlan` keeps the stored ones; a principal approves,
 * and a plan is closed, through their own steps on the SIP API).
 */
function comparable(plan: SipPlan): string {
  const { version: _version, updatedAt: _updatedAt, approvals: _approvals, closure: _closure, ...content } = fhirNormalForm(plan);
  return canonicalize(content) ?? '';
}

/**
 * Whether recording `incoming` over `current` would state nothing new: the two are equal in
 * everything but version, record time, approvals and closure (compared as RFC 8785 canonical JSON,
 * so member order does not matter and array order does). Replaying a Bundle is then answered with
 * the current version and records nothing.
 */
export function samePlanContent(current: SipPlan, incoming: SipPlan): boolean {
  return comparable(current) === comparable(incoming);
}

/** Whether the two plans state the same closure (or both none). */
export function sameClosure(current: SipPlan, incoming: SipPlan): boolean {
  return canonicalize(current.closure ?? null) === canonicalize(incoming.closure ?? null);
}

/**
 * The incoming edit with what FHIR never carries of a person with protected identity put back from
 * the stored plan (src/fhir/normal-form.ts): the postal addresses of their related persons and the
 * place of each meeting, which the writer replaces by {@link PROTECTED_LOCATION_TEXT}. Without this,
 * an edit made through FHIR would record the placeholder as the meeting's place and lose the
 * addresses, though the sender never saw them. Only what the sender could not have sent is taken
 * over: a place the sender did write, and a related person the sender left out, stay as sent.
 */
export function keepWithheld(current: SipPlan, incoming: SipPlan): SipPlan {
  if (incoming.individual.protectedIdentity === 'none') return incoming;
  const meetings = new Map(current.meetings.map((meeting) => [meeting.id, meeting]));
  const persons = new Map(current.relatedPersons.map((person) => [person.id, person]));
  return {
    ...incoming,
    relatedPersons: incoming.relatedPersons.map((person) => {
      const address = persons.get(person.id)?.contact?.address;
      return address === undefined || person.contact?.address !== undefined ? person : { ...person, contact: { ...person.contact, address } };
    }),
    meetings: incoming.meetings.map((meeting) => {
      const location = meetings.get(meeting.id)?.summons?.location;
      return meeting.summons?.location !== PROTECTED_LOCATION_TEXT || location === undefined ? meeting : { ...meeting, summons: { ...meeting.summons, location } };
    }),
  };
}

/**
 * The plan as the adapter records a plan it does not hold yet: version 1, recorded at `at`. Its
 * approvals stay only when they name the version the sender numbered it (then they name 1): an
 * approval names a version, and the adapter has no other version of this plan for it to name.
 * Returns undefined when an approval names an earlier version, which the caller refuses.
 */
export function asFirstVersion(plan: SipPlan, at: Date): SipPlan | undefined {
  if (plan.approvals.some((approval) => approval.version !== plan.version)) return undefined;
  // Built with withVersionFields, so a plan the reader parsed stays one the store need not parse again.
  return withVersionFields(plan, { version: 1, updatedAt: at.toISOString(), approvals: plan.approvals.map((approval) => ({ ...approval, version: 1 })) });
}

/** Identifier systems that name the same thing: RIV-TA's HSA-id OID is read as the HSA-id. */
const SAME_SYSTEM: Readonly<Record<string, string>> = { [IDENTIFIER_SYSTEM.hsaIdRivta]: IDENTIFIER_SYSTEM.hsaId };

/** `keys` with the match key of an identifier (`value` given) appended: type, system (RIV-TA's HSA-id OID as the HSA-id) and value. */
function pushIdentifierKey(keys: string[], type: string, system: string | undefined, value: string | undefined): void {
  if (value !== undefined) keys.push(`${type}|${ownValue(SAME_SYSTEM, system) ?? system ?? ''}|${value}`);
}

/**
 * The match keys of a resource's business identifiers (and of a Provenance's `meta.tag`), in that
 * order. Built in one loop: the spread lists and `flatMap` it was written with were a third of
 * {@link matchEntries} (docs/performance.md, branch `i11-tx8`).
 */
function identifierKeys(type: string, resource: FhirResource): string[] {
  const identifiers = (resource as { identifier?: Identifier | Identifier[] }).identifier;
  const keys: string[] = [];
  if (Array.isArray(identifiers)) {
    for (const identifier of identifiers) pushIdentifierKey(keys, type, identifier.system, identifier.value);
  } else if (identifiers !== undefined) {
    pushIdentifierKey(keys, type, identifiers.system, identifiers.value);
  }
  if (type === 'Provenance') for (const tag of resource.meta?.tag ?? []) pushIdentifierKey(keys, type, tag.system, tag.code);
  return keys;
}

/** What makes `URLSearchParams` do more than split a query: percent-escapes, `+` for a space, and surrogates (a lone one becomes U+FFFD). */
const FORM_ENCODED = /[%+\uD800-\uDFFF]/;

/**
 * The name-value pairs of a query as `[...new URLSearchParams(query)]` gives them
 * (https://url.spec.whatwg.org/#concept-urlencoded-parser). A query with nothing to decode (no `%`,
 * no `+`, no surrogate) is split as that parser splits it — one leading `?` dropped, sequences
 * between `&`, empty ones skipped, the name before the first `=` — without the URLSearchParams
 * object and its iterator; anything else, and a value that is not a string, goes through
 * URLSearchParams itself.
 */
export function queryPairs(query: unknown): [string, string][] {
  if (typeof query !== 'string' || FORM_ENCODED.test(query)) return [...new URLSearchParams(query as string)];
  const pairs: [string, string][] = [];
  for (const sequence of (query.startsWith('?') ? query.slice(1) : query).split('&')) {
    if (sequence === '') continue;
    const equals = sequence.indexOf('=');
    pairs.push(equals < 0 ? [sequence, ''] : [sequence.slice(0, equals), sequence.slice(equals + 1)]);
  }
  return pairs;
}

/** The business identifiers a conditional request names: `identifier=system|value` or `_tag=system|code`. */
function conditionalKeys(type: string, entry: BundleEntry): string[] {
  const queries = [entry.request?.ifNoneExist, entry.request?.url.includes('?') === true ? entry.request.url.slice(entry.request.url.indexOf('?') + 1) : undefined];
  const keys: string[] = [];
  for (const query of queries) {
    if (query === undefined) continue;
    for (const [name, value] of queryPairs(query)) {
      if (name !== 'identifier' && name !== '_tag') continue;
      const bar = value.indexOf('|');
      const system = bar < 0 ? '' : value.slice(0, bar);
      keys.push(`${type}|${ownValue(SAME_SYSTEM, system) ?? system}|${bar < 0 ? value : value.slice(bar + 1)}`);
    }
  }
  return keys;
}

/** What a resource of the request may have been given as its local id by the reader (src/fhir/read/read-context.ts). */
function localIdCandidates(entry: BundleEntry, resource: FhirResource): string[] {
  const fromUrl = entry.fullUrl?.startsWith('urn:uuid:') === true ? entry.fullUrl.slice('urn:uuid:'.length) : undefined;
  const type = resource.resourceType.toLowerCase();
  return [resource.id, fromUrl].flatMap((candidate) => (candidate === undefined ? [] : [candidate, `${type}-${candidate}`]));
}

/** One resource of the recorded plan's FHIR view. */
interface ViewResource extends ResourceId {
  readonly keys: readonly string[];
}

/**
 * The types whose resource carries business identifiers besides its key: an Organization its
 * organisation number and county or municipality code, a RelatedPerson their personnummer. A
 * resource of any other type carries its key alone, so its keys are known without mapping it
 * (test/http/fhir-transaction.test.ts holds this over every example and generated plans).
 */
export const IDENTIFIED_BEYOND_KEY: ReadonlySet<string> = new Set(['Organization', 'RelatedPerson']);

/** The match key of a resource's key: its business identifier, or for a Provenance its `meta.tag`. */
function keyOf(key: PlanEntry['key']): string {
  const { system, value } = key.identifier;
  return `${key.resourceType}|${ownValue(SAME_SYSTEM, system) ?? system}|${value}`;
}

/**
 * The plan's FHIR view as matching needs it: each resource's type, id and the business identifiers
 * it carries. Only the types in {@link IDENTIFIED_BEYOND_KEY} are mapped (cheap ones); the rest —
 * the CarePlan, its activities, the appointments and consents, most of what `planToBundle` costs —
 * are known from their keys. They are mapped in the facade's reference form
 * (`PlanEntry.facadeResource`), whose identifiers are the Bundle form's: the version's derived texts
 * (src/http/derived-view.ts) are written from the same resources, so a write maps them once.
 */
function viewResources(view: readonly PlanEntry[]): ViewResource[] {
  return view.flatMap((planEntry) => {
    const id = resourceIdOf(planEntry.key.fullUrl);
    if (id === undefined) return [];
    const type = planEntry.resourceType;
    const resource = IDENTIFIED_BEYOND_KEY.has(type) ? planEntry.facadeResource() : undefined;
    return [{ resourceType: type, id, keys: resource === undefined ? [keyOf(planEntry.key)] : identifierKeys(type, resource) }];
  });
}

/** How many ways {@link matchEntries} tries in turn. */
const MATCH_STEPS = 4;

/** Whether the candidate carries one of `keys`. */
function carriesAny(candidate: ViewResource, keys: readonly string[]): boolean {
  for (const key of candidate.keys) if (keys.includes(key)) return true;
  return false;
}

/**
 * What {@link matchEntries} needs of one entry of the request, taken from it at once: the route keeps
 * these instead of the parsed Bundle while the plan is recorded. Held across the store's round trips,
 * the Bundle (some 2,000 JSON values) outlived scavenges and was promoted with every transaction in
 * flight: the largest share of what a transaction left in the old space (docs/performance.md, "What a
 * transaction leaves behind").
 */
export interface EntryFacts {
  readonly resourceType: string;
  /** Step 0: the match keys of the resource's business identifiers (a Provenance's tags), then of those its conditional request names. */
  readonly keys: readonly string[];
  /** Step 1: the entry's fullUrl UUID and the resource's id. */
  readonly ids: readonly unknown[];
  /** Step 2: the local ids the reader may have given the resource. */
  readonly localIds: readonly string[];
}

/** The {@link EntryFacts} of each entry of a request, in its order; undefined for an entry without a resource (which no step matches). */
export function entryFacts(entries: readonly BundleEntry[]): (EntryFacts | undefined)[] {
  return entries.map((entry) => {
    const resource = entry.resource;
    if (resource === undefined) return undefined;
    const type = resource.resourceType;
    return { resourceType: type, keys: [...identifierKeys(type, resource), ...conditionalKeys(type, entry)], ids: [resourceIdOf(entry.fullUrl), resource.id], localIds: localIdCandidates(entry, resource) };
  });
}

/**
 * The first of `candidates` (one type's resources of the view, in the view's order) not yet `taken`
 * that step `step` of {@link matchEntries} accepts for the entry: 0, a business identifier both carry
 * or the entry's conditional request names; 1, the entry's fullUrl UUID or resource id as the
 * candidate's id; 2, a plan-scoped identifier of a local id the reader may have given it; 3, any.
 */
function firstFree(step: number, facts: EntryFacts, plan: SipPlan, candidates: readonly ViewResource[], taken: ReadonlySet<ViewResource>): ViewResource | undefined {
  let keys: readonly string[] | undefined;
  let ids: readonly unknown[] | undefined;
  if (step === 0) keys = facts.keys;
  else if (step === 1) ids = facts.ids;
  else if (step === 2) keys = facts.localIds.map((localId) => `${facts.resourceType}|${IDENTIFIER_SYSTEM.sipEntity}|${plan.id}/${localId}`);
  for (const candidate of candidates) {
    if (taken.has(candidate)) continue;
    if (keys !== undefined ? carriesAny(candidate, keys) : ids === undefined || ids.includes(candidate.id)) return candidate;
  }
  return undefined;
}

export type EntryMatch = { readonly ok: true; readonly ids: readonly ResourceId[] } | { readonly ok: false; readonly unmatched: readonly number[] };

/**
 * Which resource of `plan`'s FHIR view each entry of the request became, in the request's order,
 * each view resource at most once. Tried in turn:
 * 1. a business identifier both carry (the shape `to-fhir` writes; shared master data by its national
 *    identifier), or the one the entry's conditional URL or `ifNoneExist` names;
 * 2. the entry's fullUrl UUID or resource id, which is the facade's id for resources it wrote;
 * 3. the plan-scoped identifier the reader gave it (`<plan id>/<local id>`, the local id taken from
 *    the resource's id or fullUrl);
 * 4. what is left of one type, paired in order: another client's CareTeam, Location or Task has no
 *    key the plan keeps, and it stands for the plan's one of that type.
 * `planView` is `planEntries(plan)`, for a caller that needs it too (the resource ids the store keeps).
 * An entry matched by none has no place in the plan (a type a SIP does not map, or more resources of
 * a type than the plan has): the indexes of such entries are returned, and nothing is recorded.
 */
export function matchEntries(entries: readonly BundleEntry[], plan: SipPlan, planView?: readonly PlanEntry[]): EntryMatch {
  return matchEntryFacts(entryFacts(entries), plan, planView);
}

/** {@link matchEntries} of the entries' {@link EntryFacts}, taken from them beforehand. */
export function matchEntryFacts(entries: readonly (EntryFacts | undefined)[], plan: SipPlan, planView: readonly PlanEntry[] = planEntries(plan, DEFAULT_MAPPING_OPTIONS)): EntryMatch {
  const view = viewResources(planView);
  const taken = new Set<ViewResource>();
  const found: (ViewResource | undefined)[] = entries.map(() => undefined);
  // The view's resources of each type, in the view's order: the first one free (not taken) that a
  // step accepts is searched in its type's own few, without a list of the free ones made for every
  // entry at every step.
  const ofType = new Map<string, ViewResource[]>();
  for (const candidate of view) {
    const list = ofType.get(candidate.resourceType);
    if (list === undefined) ofType.set(candidate.resourceType, [candidate]);
    else list.push(candidate);
  }
  for (let step = 0; step < MATCH_STEPS; step++) {
    entries.forEach((facts, index) => {
      if (facts === undefined || found[index] !== undefined) return;
      const candidate = firstFree(step, facts, plan, ofType.get(facts.resourceType) ?? [], taken);
      if (candidate === undefined) return;
      taken.add(candidate);
      found[index] = candidate;
    });
  }
  const unmatched = found.flatMap((match, index) => (match === undefined ? [index] : []));
  if (unmatched.length > 0) return { ok: false, unmatched };
  return { ok: true, ids: found.map((match) => ({ resourceType: match?.resourceType ?? '', id: match?.id ?? '' })) };
}

/** How each entry of the request ended, for its `response`. */
export interface EntryOutcome extends ResourceId {
  readonly created: boolean;
}

/**
 * The `transaction-response` Bundle: one entry per request entry, in the request's order, each with
 * its status (`201 Created` when the resource is new to the plan, else `200 OK`), its location
 * `Type/id/_history/n` and ETag `W/"n"` at the plan version n that holds it, and when that version
 * was recorded (https://hl7.org/fhir/R4/bundle-definitions.html#Bundle.entry.response). The
 * OperationOutcome of the write (warnings of the profiles, the reader and the rules) travels in the
 * CarePlan's entry. `resources`, in the entries' order, are what `Prefer: return=representation`
 * returns (https://hl7.org/fhir/R4/http.html#ops): each entry's resource as the version maps it.
 */
export function transactionResponse(
  outcomes: readonly EntryOutcome[],
  version: number,
  recordedAt: string,
  outcome: FhirResource | undefined,
  resources: readonly (FhirResource | undefined)[] = [],
): Bundle {
  let outcomeGiven = false;
  return {
    resourceType: 'Bundle',
    type: 'transaction-response',
    entry: outcomes.map((entry, index) => {
      const withOutcome = outcome !== undefined && !outcomeGiven && entry.resourceType === 'CarePlan';
      if (withOutcome) outcomeGiven = true;
      const resource = resources[index];
      return {
        ...(resource === undefined ? {} : { resource }),
        response: {
          status: entry.created ? '201 Created' : '200 OK',
          location: `${entry.resourceType}/${entry.id}/_history/${String(version)}`,
          etag: `W/"${String(version)}"`,
          lastModified: recordedAt,
          ...(withOutcome ? { outcome } : {}),
        },
      };
    }),
  };
}

/**
 * The entries' resources as the caller now reads the recorded version, for `Prefer:
 * return=representation`, in the order of `outcomes`: judged as a read is — an other actor's narrowed
 * (src/http/narrowing.ts), none when the plan may not be sent now (consent is judged when data leaves,
 * and this answer is data leaving), with the reason to tell instead.
 */
export function transactionRepresentation(
  stored: StoredPlan,
  outcomes: readonly ResourceId[],
  mayAccess: (plan: SipPlan, at: Date) => Admission | { readonly allowed: false; readonly reason: string },
  at: Date,
): { readonly resources?: (FhirResource | undefined)[]; readonly withheld?: string } {
  const access = mayAccess(stored.plan, at);
  if (!access.allowed) return { withheld: access.reason };
  const read = narrowedRead(stored, access.role, at);
  const refusal = read instanceof HttpError ? read : storedSendRefusal(read, at);
  if (refusal !== undefined || read instanceof HttpError) {
    const codes = [...new Set((refusal?.problems ?? []).map((problem) => problem.code))];
    return { withheld: `${refusal?.detail ?? 'refused'}${codes.length === 0 ? '' : `: ${codes.join(', ')}`}` };
  }
  const entries = viewOf(read, at).entries;
  return { resources: outcomes.map((outcome) => entries.find((entry) => entry.type === outcome.resourceType && entry.id === outcome.id)?.resource) };
}
