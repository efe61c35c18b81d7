/**
 * The read side of the FHIR R4 facade under `/fhir`: the plans of the store as the mapping
 * (src/fhir/write/) writes them, made when they are asked for.
 *
 * - `GET /fhir/metadata`: what the facade supports (no token needed).
 * - `GET /fhir/{type}/{id}`: one resource of a plan's FHIR view.
 * - `GET /fhir/CarePlan?…`: plans as a `searchset` Bundle, with `_include` / `_revinclude`.
 *   (The other types' search by the person, and `Patient/$everything`: src/http/fhir-type-search.ts.)
 *
 * Sending is judged at the moment the data leaves: every answer that carries plan data maps the plan
 * only after `judgeSend(plan, now)` finds no error, else it answers 403 naming the rule (a consent
 * withdrawn or expired since the version was recorded refuses it). An organisation admitted as an
 * other actor reads every plan narrowed as a send to it would carry it (src/http/narrowing.ts). A resource's id is the UUID of
 * its `urn:uuid` fullUrl, which the mapping derives from the resource's business identifier, so it
 * is the same in every version of the plan; the store records which plans each id belongs to
 * (src/fhir/resource-ids.ts). Access and scopes are checked and every call audited as on `/sip`.
 */
import type { Bundle, BundleEntry, CapabilityStatement, CapabilityStatementRestResource, CarePlan, Consent, Appointment, FhirResource, Provenance, Reference, ServiceRequest } from 'fhir/r4.js';
import type { Request, Response } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import { ARTEFACT_VERSION, DEFAULT_MAPPING_OPTIONS, IDENTIFIER_SYSTEM, WRITTEN_RESOURCE_TYPES, carePlanPeriod, planEntries, resourceIdOf, type PlanEntry } from '../fhir/index.js';
import { TIME_DEPENDENT_TYPES, currentDeriver, derivedResourceText, derivedTextOf, derivedVersion, judgingPlanOf, keptJudging, keptRead, keptSendRefusal, storedSendRefusal, viewResource, type KeptJudging, type KeptRead } from './derived-view.js';
import { PROFILE_OF_TYPE } from '../fhir/profiles/index.js';
import { personIdentifier } from '../fhir/write/patient.js';
import { ownValue, planStatus, type PlanStatus } from '../sip/index.js';
import type { DerivedRequest, DerivedText, PlanStore, UncountedPlanSearch, StoredPlan, StoredVersionHead } from '../store/plan-store.js';
import { MAX_LIMIT } from '../store/sql-plan-store.js';
import type { AppDependencies, Caller } from './app.js';
import type { Admission } from './reserved-acts.js';
import { auditEventCapability } from './audit-event.js';
import { auditedRoutes, type AuditSubject } from './audited-route.js';
import { HttpError } from './problem.js';
import { searchedPersonToken } from './person-search.js';
import { etagOf } from './sip-routes.js';
import { withWriteCapabilities } from './fhir-write-routes.js';
import { HISTORY_DOCUMENTATION } from './fhir-history-routes.js';
import { TYPE_HISTORY_DOCUMENTATION } from './fhir-type-history.js';
import { dateSearchRange, datePeriodFilter, valueRange, type TimeRange } from './fhir-date-search.js';
import { checkElementNames, requestedSubset, subsetResource, subsetText } from './fhir-subset.js';
import { sortOf, TopRanked, type SortKeyName } from './fhir-sort.js';
import { ignoredParameters, occurrences, single } from './query-params.js';
import { isNarrowed, narrowedRead, readsNarrowed } from './narrowing.js';
import { EVERYTHING_DOCUMENTATION, TYPE_SEARCH_DOCUMENTATION, includeParameters, searchableTypes, typeSearchParameters } from './fhir-search-parameters.js';
import { utf8Bytes } from './utf8.js';
import { withTokenEndpoint } from './smart-configuration.js';

export const FHIR_JSON = 'application/fhir+json';

export const KNOWN_TYPES: ReadonlySet<string> = new Set(WRITTEN_RESOURCE_TYPES);

/** A FHIR id (https://hl7.org/fhir/R4/datatypes.html#id). */
export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** `_include` values: the resources a CarePlan refers to by one of its elements. */
const INCLUDES: Readonly<Record<string, (carePlan: CarePlan) => readonly (Reference | undefined)[]>> = {
  'CarePlan:subject': (carePlan) => [carePlan.subject],
  'CarePlan:care-team': (carePlan) => carePlan.careTeam ?? [],
  'CarePlan:goal': (carePlan) => carePlan.goal ?? [],
};

/** `_revinclude` values: resources of a type that refer to the CarePlan by one of their elements. */
const REV_INCLUDES: Readonly<Record<string, { type: string; references: (resource: FhirResource) => readonly (Reference | undefined)[] }>> = {
  'Consent:data': { type: 'Consent', references: (resource) => ((resource as Consent).provision?.data ?? []).map((data) => data.reference) },
  'Appointment:supporting-info': { type: 'Appointment', references: (resource) => (resource as Appointment).supportingInformation ?? [] },
  'Provenance:target': { type: 'Provenance', references: (resource) => (resource as Provenance).target },
  /** A municipal decision (beslut) behind an intervention, written as a ServiceRequest based on the plan. */
  'ServiceRequest:based-on': { type: 'ServiceRequest', references: (resource) => (resource as ServiceRequest).basedOn ?? [] },
};

/** Most CarePlans a searchset page holds, and how many when `_count` is not given. */
const MAX_COUNT = 200;
const DEFAULT_COUNT = 50;

const SEARCH_PARAMS: ReadonlySet<string> = new Set([
  '_id',
  'identifier',
  'patient',
  'subject',
  'patient:identifier',
  'subject:identifier',
  'status',
  'date',
  '_lastUpdated',
  '_include',
  '_revinclude',
  '_count',
  '_offset',
  '_total',
  '_summary',
  '_elements',
  '_sort',
  '_cursor',
]);
const TOTALS: ReadonlySet<string> = new Set(['none', 'estimate', 'accurate']);
/** The refusals a searchset's OperationOutcome names one by one; more are counted in one issue. */
const MAX_REFUSALS_TOLD = 20;

/**
 * A version a CarePlan search walks: read with its plan, or without it when its kept judging summary
 * serves the search (a {@link KeptWalk}).
 */
type Walked = StoredPlan | KeptWalk;

/**
 * A version read without its plan document (`PlanStore.searchHeads`) whose kept judging summary serves
 * the search, with the caller's admission to it at the search's instant already judged on that summary:
 * a caller that may see it and does not read it narrowed (an other actor's narrowed reading is made
 * from the plan, so a page where one would be is read with its plans).
 */
interface KeptWalk extends KeptJudging {
  readonly access: Admission | { readonly allowed: false };
}

/** What a CarePlan search's walk over the store is given (`walkStore` in {@link fhirRouter}). */
interface StoreWalk {
  /** The person searched for, as the store keeps the number; undefined walks every plan. */
  readonly personValue: string | undefined;
  /** The statuses asked for, any of them; none asks for every status. */
  readonly statuses: readonly string[];
  /** The plan id the walk starts after (a `_cursor`). */
  readonly cursor: string | undefined;
  /** Plans read from the store at a time. */
  readonly storePage: number;
  /** Whether a version the store brought matches the search's other parameters. */
  readonly matches: (walked: Walked) => boolean;
  /** Judges a version on its kept summary, when the search can walk without plans. */
  readonly keptWalk: ((kept: KeptJudging) => KeptWalk | undefined) | undefined;
}

/** What a version of a search is judged on: its kept judging summary, or {@link judgingPlanOf} of the version read with its plan. */
function judgedOf(walked: StoredPlan | KeptJudging): StoredPlan['plan'] {
  return 'plan' in walked ? judgingPlanOf(walked) : walked.judged;
}

/**
 * The plan's status (`CarePlan.status`): of the plan read, or as its writer recorded it with the kept
 * version (`plans.status`, which `searchHeads` brings). Both are `planStatus` of the same version's
 * plan — the recorded one computed by the writer that derived the kept texts the walk answers, the
 * CarePlan's among them. A kept head without it cannot be walked (`keptPage` reads such a page with its plans).
 */
function statusOf(walked: Walked): PlanStatus {
  if ('plan' in walked) return planStatus(walked.plan);
  if (walked.head.status === undefined) throw new Error(`the head of ${walked.head.planId} version ${String(walked.head.version)} has no recorded status`);
  return walked.head.status;
}

/** When the version was recorded. */
function recordedAtOf(walked: StoredPlan | KeptJudging): string {
  return 'plan' in walked ? walked.recordedAt : walked.head.recordedAt;
}

/** A stored plan's value for a `_sort` key: when its version was recorded, or when its CarePlan.period starts. */
function sortValue(stored: StoredPlan | KeptJudging, key: SortKeyName): number {
  return key === '_lastUpdated' ? Date.parse(recordedAtOf(stored)) : periodRange(judgedOf(stored)).start;
}

/** The range `CarePlan.period` covers, open where the period is (no end while the plan is not closed). */
function periodRange(plan: StoredPlan['plan']): TimeRange {
  const period = carePlanPeriod(plan);
  return {
    start: period.start === undefined ? -Infinity : (valueRange(period.start)?.start ?? -Infinity),
    end: period.end === undefined ? Infinity : (valueRange(period.end)?.end ?? Infinity),
  };
}
const countSchema = z.coerce.number().int().min(0).max(MAX_COUNT);
const offsetSchema = z.coerce.number().int().min(0);

/** One resource of a plan's FHIR view as the facade answers it. */
export interface ViewEntry {
  readonly type: string;
  readonly id: string;
  readonly resource: FhirResource;
}

/** The FHIR view of a stored plan, mapped at `at`. */
export interface PlanView {
  readonly stored: StoredPlan;
  readonly entries: readonly ViewEntry[];
}

/**
 * A CarePlan search's `_cursor`: the id of the plan the previous page ended at, as its `next` link
 * gives it. 400 for one that is not a plan id, and for one beside a parameter that counts every match
 * (`_total=accurate`, `_summary=count`, `_count=0`, `_sort`), whose links page by `_offset`.
 */
function searchCursor(text: string | undefined, counted: boolean): string | undefined {
  if (text === undefined) return undefined;
  if (!FHIR_ID.test(text)) throw new HttpError(400, 'Bad Request', `_cursor=${text}: give the _cursor of a next link (a plan id)`);
  if (counted) throw new HttpError(400, 'Bad Request', `_cursor=${text}: a search with _total=accurate, _summary=count, _count=0 or _sort pages by _offset; give _cursor without them`);
  return text;
}

/**
 * The plan's FHIR view at `at`: refused with 403 naming the rules when the plan may not be sent at
 * that moment (judgeSend), mapped only after it may.
 *
 * Each resource is mapped in the facade's form (src/fhir/write/plan-entries.ts `facadeResource`, its
 * references `Type/id`; src/http/derived-view.ts `viewResource`) when first asked for: a read
 * answers one resource of the view, a search without _include / _revinclude one per plan, and
 * mapping the whole plan then picking one was a fifth of a FHIR read's CPU (docs/performance.md).
 * The keys of every resource, which give the ids and the references' targets, are known at once.
 */
export function viewOf(stored: StoredPlan, at: Date): PlanView {
  const refusal = storedSendRefusal(stored, at);
  if (refusal !== undefined) throw refusal;
  return judgedView(stored, at);
}

/** {@link viewOf} of a plan already judged sendable at `at` (a search judges each plan once, to leave out those that may not be sent). */
export function judgedView(stored: StoredPlan, at: Date): PlanView {
  const planned = planEntries(stored.plan, DEFAULT_MAPPING_OPTIONS, at);
  const entries = planned.flatMap((planEntry): ViewEntry[] => {
    const id = resourceIdOf(planEntry.key.fullUrl);
    return id === undefined ? [] : [new LazyViewEntry(planEntry, id, stored)];
  });
  return { stored, entries };
}

/**
 * A {@link ViewEntry} whose resource is made when first read. A class, its getter on the prototype: a
 * getter written in an object literal is made anew for each entry, and V8 keeps an accessor's
 * functions in the object's hidden class, so each entry had a map of its own. Maps live in the old
 * space, and each garbage one kept what its getter's closure held (the plan entry, the stored version)
 * through the next scavenges, which promoted it (docs/performance.md, "An accessor made per object").
 */
class LazyViewEntry implements ViewEntry {
  readonly type: string;
  #resource: FhirResource | undefined;

  constructor(
    private readonly planEntry: PlanEntry,
    readonly id: string,
    private readonly stored: StoredPlan,
  ) {
    this.type = planEntry.resourceType;
  }

  get resource(): FhirResource {
    this.#resource ??= viewResource(this.planEntry, this.id, String(this.stored.version), this.stored.recordedAt);
    return this.#resource;
  }
}

/**
 * The current versions of the plans whose FHIR view has, or had, the resource `type/id`, the most
 * recently recorded first: shared master data (one id in every plan naming it) is answered as the
 * plan recorded last maps it. 404 for a type the mapping does not write; none for an unknown id.
 */
export async function plansWithResource(store: PlanStore, type: string, id: string, options: { readonly deriver?: string } = {}): Promise<StoredPlan[]> {
  if (!KNOWN_TYPES.has(type)) throw new HttpError(404, 'Not Found', `No resource type ${type} here (see GET /fhir/metadata)`);
  return (FHIR_ID.test(id) ? await store.currentWithResource(type, id, options) : []).sort((a, b) => b.recordedAt.localeCompare(a.recordedAt) || judgingPlanOf(a).id.localeCompare(judgingPlanOf(b).id));
}

/**
 * {@link plansWithResource} without the plans' documents (`PlanStore.keptWithResource`), in the same
 * order: what a read of one resource answered from a kept text needs.
 */
export async function keptWithResource(store: PlanStore, type: string, id: string, deriver: string): Promise<StoredVersionHead[]> {
  if (!KNOWN_TYPES.has(type)) throw new HttpError(404, 'Not Found', `No resource type ${type} here (see GET /fhir/metadata)`);
  return (FHIR_ID.test(id) ? await store.keptWithResource(type, id, deriver) : []).sort((a, b) => b.recordedAt.localeCompare(a.recordedAt) || a.planId.localeCompare(b.planId));
}

export function sendFhir(response: Response, resource: FhirResource, headers: Readonly<Record<string, string>> = {}): void {
  sendFhirText(response, JSON.stringify(resource), headers);
}

/**
 * Answers 200 with a resource already serialised (a derived text, src/http/derived-view.ts), its
 * UTF-8 written through ICU (src/http/utf8.ts). The Content-Type names the charset as for a text
 * answer: Express's `type` adds it for `application/fhir+json` (test/http/utf8.test.ts).
 */
export function sendFhirText(response: Response, text: string, headers: Readonly<Record<string, string>> = {}): void {
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  response.status(200).type(FHIR_JSON).send(utf8Bytes(text));
}

/** Every value a query parameter was given, repeated or comma-separated. */
export function queryValues(request: Request, name: string): string[] {
  const raw: unknown = request.query[name];
  const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return values.flatMap((value) => (typeof value === 'string' ? value.split(',') : [])).filter((value) => value !== '');
}

/** A token `system|value`, `|value` or `value` (https://hl7.org/fhir/R4/search.html#token). */
export function token(text: string): { system?: string; value: string } {
  const bar = text.indexOf('|');
  return bar < 0 ? { value: text } : { system: text.slice(0, bar), value: text.slice(bar + 1) };
}

/** The base URL of the facade as the caller reached it, for `fullUrl` and links. */
export function baseUrl(request: Request): string {
  return `${request.protocol}://${request.get('host') ?? 'localhost'}${request.baseUrl}`;
}

/** What the facade supports, at `base`, as of `at`; its security names `tokenEndpoint` when the server knows the issuer's (src/http/smart-configuration.ts). */
export function capabilityStatement(base: string, at: Date, tokenEndpoint?: URL): CapabilityStatement {
  const resource = (type: string): CapabilityStatementRestResource => {
    const profile = PROFILE_OF_TYPE[type];
    const carePlan = type === 'CarePlan';
    // The other types' search by the person (src/http/fhir-type-search.ts); none on a type no parameter of which names a person.
    const personSearch = carePlan ? [] : typeSearchParameters(type);
    return {
      type,
      ...(profile === undefined ? {} : { supportedProfile: [profile] }),
      // history-type for CarePlan alone (src/http/fhir-type-history.ts): the other types' GET /fhir/{type}/_history is a 404.
      interaction: [
        { code: 'read' },
        { code: 'vread' },
        { code: 'history-instance', documentation: HISTORY_DOCUMENTATION },
        ...(carePlan ? [{ code: 'history-type' as const, documentation: TYPE_HISTORY_DOCUMENTATION }, { code: 'search-type' as const }] : []),
        ...(personSearch.length > 0 ? [{ code: 'search-type' as const, documentation: TYPE_SEARCH_DOCUMENTATION }] : []),
      ],
      versioning: 'versioned',
      // vread answers past versions (src/http/fhir-history-routes.ts).
      readHistory: true,
      // If-None-Match and If-Modified-Since on a read: 304 once access and consent allow a 200 (Express's req.fresh).
      conditionalRead: 'full-support',
      ...(type === 'Patient' ? { operation: [{ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything', documentation: EVERYTHING_DOCUMENTATION }] } : {}),
      ...(carePlan
        ? {
            searchInclude: [...Object.keys(INCLUDES), '*'],
            searchRevInclude: [...Object.keys(REV_INCLUDES), '*'],
            searchParam: [
              { name: '_id', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/Resource-id', documentation: 'The CarePlan’s id (the same in every version of its plan); several, comma-separated, for any of them' },
              { name: 'identifier', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/clinical-identifier', documentation: `${IDENTIFIER_SYSTEM.sipPlan}|<plan id>` },
              { name: 'patient', type: 'reference', definition: 'http://hl7.org/fhir/SearchParameter/clinical-patient', documentation: 'Patient/<id>, or patient:identifier=<system>|<personnummer …>' },
              { name: 'subject', type: 'reference', definition: 'http://hl7.org/fhir/SearchParameter/CarePlan-subject', documentation: 'As patient' },
              { name: 'status', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/CarePlan-status' },
              {
                name: 'date',
                type: 'date',
                definition: 'http://hl7.org/fhir/SearchParameter/clinical-date',
                documentation: 'CarePlan.period (from the day the plan was initiated until it was closed; open while it is not), with the prefixes eq, ge, gt, le, lt, sa and eb; a value without a time zone is read in Europe/Stockholm',
              },
              { name: '_lastUpdated', type: 'date', definition: 'http://hl7.org/fhir/SearchParameter/Resource-lastUpdated', documentation: 'When the plan version the CarePlan shows was recorded' },
              {
                name: '_sort',
                type: 'special',
                documentation: '_lastUpdated or date (CarePlan.period’s start), comma-separated, each with - before it for descending; ties go by plan id. Without it, plans come in the order of their ids',
              },
              { name: '_count', type: 'number', documentation: `CarePlans a page holds: default ${String(DEFAULT_COUNT)}, at most ${String(MAX_COUNT)}; the next page is the link "next"` },
              {
                name: '_summary',
                type: 'token',
                documentation: 'count: the number of matches (Bundle.total) and no entries; true, text or data: each resource in part, tagged SUBSETTED (also on read and vread); false: whole',
              },
              {
                name: '_elements',
                type: 'string',
                documentation: 'Top-level element names: each matching CarePlan with those, id, meta and its mandatory elements, tagged SUBSETTED (also on read and vread); included resources stay whole',
              },
              {
                name: '_total',
                type: 'token',
                documentation: 'accurate: Bundle.total on every page, counted (so is a search with _summary=count, _count=0 or _sort); none, estimate or no _total: Bundle.total, exact, only when the search walked every match (nothing sendable after the page), and never after _cursor',
              },
            ],
          }
        : personSearch.length > 0
          ? {
              // _include by each official reference parameter of the type (src/http/fhir-type-search.ts), from the plan a match was found in.
              searchInclude: includeParameters(type).map((parameter) => `${type}:${parameter.code}`),
              searchParam: [
                ...personSearch,
                { name: '_count', type: 'number' as const, documentation: `Resources a page holds: default 50, at most 200; the next page is the link "next"` },
                { name: '_summary', type: 'token' as const, documentation: 'count: the number of matches and no entries; true, text or data: each resource in part, tagged SUBSETTED; false: whole' },
                { name: '_elements', type: 'string' as const, documentation: 'Top-level element names: each match with those, id, meta and its mandatory elements, tagged SUBSETTED' },
                { name: '_total', type: 'token' as const, documentation: 'none, estimate or accurate: Bundle.total is always given, and exact' },
                {
                  name: '_sort',
                  type: 'string' as const,
                  documentation: `_lastUpdated, _id${personSearch.some((parameter) => parameter.name === 'date') ? ' or date (a Period by its start; none last)' : ''}, comma-separated, each with - before it for descending; ties go by id`,
                },
              ],
            }
          : {}),
    };
  };
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: at.toISOString(),
    kind: 'instance',
    software: { name: 'sip-fhir-adapter', version: ARTEFACT_VERSION },
    implementation: { description: 'SIP FHIR R4 facade: the plans of the adapter as FHIR with their versions, and its audit log, read only', url: base },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [
      {
        mode: 'server',
        security: withTokenEndpoint(
          {
            service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
            description:
              'Bearer tokens with SMART backend services scopes (system/CarePlan.read or system/*.read; system/AuditEvent.read for the audit log); the organisation the token names must be a party to the plan',
          },
          tokenEndpoint,
        ),
        resource: [...WRITTEN_RESOURCE_TYPES.map(resource), auditEventCapability()],
      },
    ],
  };
}

/** Registers these routes on `router` (a new Router when not given; the app gives the FHIR read side's one Router, src/http/app.ts) and answers it. */
export function fhirRouter(dependencies: AppDependencies, router: Router = Router()): Router {
  const { store, clock } = dependencies;
  const route = auditedRoutes(dependencies);

  /**
   * The plan as the caller reads it at `at` — whole for a principal or a unit, narrowed for an other
   * actor (src/http/narrowing.ts) — or undefined when it may not see it, or the 403 that refuses
   * what an other actor would read.
   */
  const asRead = (stored: StoredPlan, caller: Caller, at: Date): StoredPlan | HttpError | undefined => {
    // Judged on the version's judging summary when one was kept: the plan document is then not parsed (derived-view.ts).
    const access = dependencies.mayAccess(judgingPlanOf(stored), caller, at);
    return access.allowed ? narrowedRead(stored, access.role, at) : undefined;
  };

  /**
   * The stored version with what is derived from it (src/http/derived-view.ts), for a read that asked
   * the store for it and got none: a version written before migration 6 or under another deriver.
   * It is derived now and kept, so the next read finds it; a failure to keep it is logged, and the read
   * goes on with what it derived. `wanted` picks the texts the read uses.
   */
  async function withDerived(stored: StoredPlan, wanted: (type: string, id: string) => boolean): Promise<StoredPlan> {
    // A narrowed reading is mapped from its narrowed plan; what is derived from that is never the version's.
    if (stored.derived !== undefined || isNarrowed(stored)) return stored;
    const derived = derivedVersion(stored.plan);
    try {
      await store.derive(stored.plan.id, stored.version, derived);
    } catch (error) {
      dependencies.logger.warn({ err: error, planId: stored.plan.id, version: stored.version }, 'could not keep what was derived from a plan version');
    }
    return { ...stored, derived: { basis: derived.basis, texts: derived.texts.filter((text) => wanted(text.resourceType, text.id)) } };
  }

  router.get('/metadata', (request, response) => {
    response.status(200).type(FHIR_JSON).send(JSON.stringify(withWriteCapabilities(capabilityStatement(baseUrl(request), clock(), dependencies.tokenEndpoint))));
  });

  const searchCarePlans = route('search', async (request, response, caller, subject) => {
    const ignored = ignoredParameters(request, SEARCH_PARAMS, 'CarePlan');
    const total = single(request, '_total');
    if (total !== undefined && !TOTALS.has(total)) throw new HttpError(400, 'Bad Request', `_total=${total}: none, estimate or accurate`);
    const summary = single(request, '_summary');
    // _summary=true|text|data and _elements (src/http/fhir-subset.ts); _elements shapes the matches alone, not what is included.
    const subset = requestedSubset(request, { search: true });
    checkElementNames(subset, 'CarePlan');
    const includedSubset = subset?.kind === 'summary' ? subset : undefined;
    const includes = queryValues(request, '_include');
    const revIncludes = queryValues(request, '_revinclude');
    const unsupported = [...includes.filter((value) => value !== '*' && !Object.hasOwn(INCLUDES, value)), ...revIncludes.filter((value) => value !== '*' && !Object.hasOwn(REV_INCLUDES, value))];
    if (unsupported.length > 0) throw new HttpError(400, 'Bad Request', `Not supported: ${unsupported.join(', ')} (see GET /fhir/metadata)`);
    const count = countSchema.safeParse(request.query._count ?? DEFAULT_COUNT);
    const offset = offsetSchema.safeParse(request.query._offset ?? 0);
    if (!count.success || !offset.success) throw new HttpError(400, 'Bad Request', `_count must be a whole number from 0 to ${String(MAX_COUNT)}, and _offset a whole number from 0`);
    const sorts = sortOf(queryValues(request, '_sort'));
    // With _sort, the keys of the first _offset + _count sendable plans (src/http/fhir-sort.ts); their plans are read again for the page.
    const top = sorts === undefined ? undefined : new TopRanked(sorts, offset.data + count.data);
    // The walk goes to the end only when the answer needs every match: an accurate total asked for
    // (`_total=accurate`, `_summary=count`, `_count=0`) or a sort, whose page is the top of them all.
    // Otherwise it stops at the first sendable plan after the page, which shows there is a next one, and
    // the searchset gives no total unless the walk ended by itself (Bundle.total is 0..1; without
    // `_total` the server chooses, https://hl7.org/fhir/R4/search.html#total): the first page of a
    // worklist of every open plan then judges 51 plans, not the store.
    const counted = total === 'accurate' || summary === 'count' || count.data === 0 || top !== undefined;
    const cursor = searchCursor(single(request, '_cursor'), counted);

    const at = clock();
    const base = baseUrl(request);
    const plain = includes.length === 0 && revIncludes.length === 0;
    // A search without _include / _revinclude may walk versions without their plans: each admitted here,
    // once, on its kept judging summary, as asRead admits a version read with its plan; an other actor,
    // whose narrowed reading is made from the plan, has the page read with its plans.
    const keptWalk = plain
      ? (kept: KeptJudging): KeptWalk | undefined => {
          const access = dependencies.mayAccess(kept.judged, caller, at);
          return access.allowed && readsNarrowed(access.role) ? undefined : { ...kept, access };
        }
      : undefined;
    // A walk that stops after its page reads the store a page of that size at a time (more when plans are left out).
    const matched = await matchingPlans(request, keptWalk, cursor, counted ? MAX_LIMIT : Math.min(MAX_LIMIT, offset.data + count.data + 1));
    // One walk over the matches: each judged, counted, and kept only when on the page asked for, so
    // the answer's memory is a page's whatever the store holds. Plans that may not be sent now are
    // left out; when every plan found is, the answer is the refusal.
    let allowedCount = 0;
    let onlyAllowed: Walked | undefined;
    let sendableCount = 0;
    let refusedCount = 0;
    const refusals: HttpError[] = [];
    const sendablePage: (StoredPlan | KeptJudging)[] = [];
    let walkedAll = true;
    for await (const walked of matched.plans) {
      if (!counted && sendableCount > offset.data + count.data) {
        walkedAll = false;
        break;
      }
      // The plan as the caller reads it: an other actor's narrowed (src/http/narrowing.ts), or the refusal of what it would read;
      // a kept version as admitted on its summary (never narrowed).
      const read = 'plan' in walked ? asRead(walked, caller, at) : walked.access.allowed ? walked : undefined;
      if (read === undefined) continue;
      allowedCount += 1;
      onlyAllowed = allowedCount === 1 ? walked : undefined;
      const refused = read instanceof HttpError ? read : 'plan' in read ? storedSendRefusal(read, at) : keptSendRefusal(read, at);
      if (refused !== undefined || read instanceof HttpError) {
        refusedCount += 1;
        if (refused !== undefined && refusals.length < MAX_REFUSALS_TOLD) refusals.push(refused);
        continue;
      }
      if (top !== undefined && sorts !== undefined) top.offer({ values: sorts.map((sort) => sortValue(read, sort.key)), planId: judgedOf(read).id });
      else if (sendableCount >= offset.data && sendableCount < offset.data + count.data) sendablePage.push(read);
      sendableCount += 1;
    }
    // The sorted page: each plan read again with its CarePlan's text and judged again now; one recorded
    // or refused since the walk is left out (the page is then short), never shown unjudged.
    let derivedAsked = matched.derivedAsked;
    if (top !== undefined) {
      derivedAsked = true;
      const again = await Promise.all(top.ranked.slice(offset.data).map(({ planId }) => store.get(planId, undefined, { derived: { deriver: currentDeriver(), resourceType: 'CarePlan' } })));
      for (const stored of again) {
        const read = stored === undefined ? undefined : asRead(stored, caller, at);
        if (read !== undefined && !(read instanceof HttpError) && storedSendRefusal(read, at) === undefined) sendablePage.push(read);
      }
    }
    if (onlyAllowed !== undefined) {
      subject.planId = judgedOf(onlyAllowed).id;
      subject.person = judgedOf(onlyAllowed).individual.identifier.value;
    }
    const [refusal] = refusals;
    // After a cursor the plans before it were sendable when the link was made: an empty page with the outcome, not a refusal.
    if (sendableCount === 0 && refusal !== undefined && cursor === undefined) throw refusal;

    // Plans of the page the store was asked to bring derived data with and brought none are derived now (and kept).
    /** A page's link: at an offset, or after a plan (`_cursor`, in place of any offset), with the request's other parameters. */
    const link = (page: { readonly offset: number } | { readonly after: string }): string => {
      const query = new URLSearchParams(request.originalUrl.includes('?') ? request.originalUrl.slice(request.originalUrl.indexOf('?') + 1) : '');
      for (const name of ignored) query.delete(name);
      if ('after' in page) {
        query.delete('_offset');
        query.set('_cursor', page.after);
      } else query.set('_offset', String(page.offset));
      query.set('_count', String(count.data));
      return `${base}/CarePlan?${query.toString()}`;
    };
    /**
     * The next page of a search that is not counted: after the page's last plan (`_cursor`), so a client
     * that follows the links pays for each page's own plans, not for every plan before it, and a plan
     * recorded meanwhile shifts nothing. A counted search walks every match anyway and keeps `_offset`.
     */
    const nextLink = (): string => {
      const last = sendablePage.at(-1);
      return counted || last === undefined ? link({ offset: offset.data + count.data }) : link({ after: judgedOf(last).id });
    };
    if (summary === 'count') {
      const countOnly: Bundle = { resourceType: 'Bundle', type: 'searchset', total: sendableCount, link: [{ relation: 'self', url: link({ offset: offset.data }) }] };
      sendFhir(response, countOnly);
      return;
    }
    const withTexts = await pageTexts(sendablePage);
    const page = await Promise.all(withTexts.map(async (read) => ('plan' in read ? (derivedAsked ? withDerived(read, (type) => type === 'CarePlan') : read) : keptOnPage(read))));
    const seen = new Set<string>();
    // The entries as JSON text: a derived CarePlan is spliced in as kept, not parsed and serialised again.
    const entries: string[] = [];
    const add = (entry: ViewEntry, mode: 'match' | 'include'): void => {
      const key = `${entry.type}/${entry.id}`;
      if (seen.has(key)) return;
      seen.add(key);
      const shape = mode === 'match' ? subset : includedSubset;
      const entryOf: BundleEntry = { fullUrl: `${base}/${key}`, resource: shape === undefined ? entry.resource : subsetResource(entry.resource, shape), search: { mode } };
      entries.push(JSON.stringify(entryOf));
    };
    /** A match answered from the kept text of its CarePlan, spliced in as kept. */
    const addKept = (version: Pick<StoredPlan, 'version' | 'recordedAt'>, derived: DerivedText): void => {
      const key = `CarePlan/${derived.id}`;
      if (seen.has(key)) return;
      seen.add(key);
      entries.push(`{"fullUrl":${JSON.stringify(`${base}/${key}`)},"resource":${subsetText(derivedResourceText(version, derived), subset)},"search":{"mode":"match"}}`);
    };
    for (const read of page) {
      if (!('plan' in read)) {
        addKept(read.head, read.text);
        continue;
      }
      const stored = read;
      const derived = plain ? derivedTextOf(stored, 'CarePlan') : undefined;
      if (derived !== undefined) {
        addKept(stored, derived);
        continue;
      }
      // Judged sendable at `at` above.
      const view = judgedView(stored, at);
      const match = view.entries.find((entry) => entry.type === 'CarePlan');
      if (match === undefined) continue;
      add(match, 'match');
      const carePlanRef = `CarePlan/${match.id}`;
      const wanted = new Set<string>();
      for (const include of includes) {
        for (const reference of include === '*' ? [] : (ownValue(INCLUDES, include)?.(match.resource as CarePlan) ?? [])) if (reference?.reference !== undefined) wanted.add(reference.reference);
      }
      const whole = includes.includes('*') || revIncludes.includes('*');
      for (const entry of view.entries) {
        if (entry === match) continue;
        const reverse = revIncludes.some((name) => {
          const rev = ownValue(REV_INCLUDES, name);
          return rev !== undefined && rev.type === entry.type && rev.references(entry.resource).some((reference) => reference?.reference === carePlanRef);
        });
        if (whole || reverse || wanted.has(`${entry.type}/${entry.id}`)) add(entry, 'include');
      }
    }
    if (refusals.length > 0) {
      const outcome: BundleEntry = {
        resource: {
          resourceType: 'OperationOutcome',
          issue: [
            ...refusals.map((refused) => ({ severity: 'warning' as const, code: 'forbidden' as const, diagnostics: `${refused.detail}: ${[...new Set(refused.problems.map((problem) => problem.code))].join(', ')}` })),
            ...(refusedCount > refusals.length
              ? [{ severity: 'warning' as const, code: 'forbidden' as const, diagnostics: `${String(refusedCount - refusals.length)} more plans found may not be sent now` }]
              : []),
          ],
        },
        search: { mode: 'outcome' },
      };
      entries.push(JSON.stringify(outcome));
    }
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      // After a cursor the walk has not seen the plans before it: no total.
      ...(walkedAll && cursor === undefined ? { total: sendableCount } : {}),
      link: [{ relation: 'self', url: link({ offset: offset.data }) }, ...(count.data > 0 && offset.data + count.data < sendableCount ? [{ relation: 'next', url: nextLink() }] : [])],
      entry: [],
    };
    // JSON.stringify(bundle) with the entries' texts in place of its empty `entry`, its last member.
    const empty = JSON.stringify(bundle);
    sendFhirText(response, `${empty.slice(0, -'[]}'.length)}[${entries.join(',')}]}`);
  });
  router.get('/CarePlan', searchCarePlans);
  // Search by POST (https://hl7.org/fhir/R4/http.html#search): the form's parameters were merged into the URL's (src/http/fhir-post-search.ts).
  router.post('/CarePlan/_search', searchCarePlans);

  /**
   * The plans a CarePlan search names, before access and consent are judged, in the store's order of
   * plan ids; `derivedAsked` when they are read with what is derived from them (the CarePlan's text),
   * so one without was derived from none. The parameters are read (400 for a malformed one) before
   * the store is asked. A search that names no plan or patient walks the store `storePage` plans at a
   * time (at most {@link MAX_LIMIT}), after the last id seen (first after `cursor`), so its memory does
   * not grow with the store and a plan recorded meanwhile shifts nothing.
   */
  async function matchingPlans(
    request: Request,
    keptWalk?: (kept: KeptJudging) => KeptWalk | undefined,
    cursor?: string,
    storePage: number = MAX_LIMIT,
  ): Promise<{ plans: Iterable<Walked> | AsyncIterable<Walked>; derivedAsked: boolean }> {
    const [identifier, ...moreIdentifiers] = queryValues(request, 'identifier').map(token);
    const patients = [...queryValues(request, 'patient'), ...queryValues(request, 'subject')];
    const people = [
      ...queryValues(request, 'patient:identifier').map((value) => searchedPersonToken('patient:identifier', token(value))),
      ...queryValues(request, 'subject:identifier').map((value) => searchedPersonToken('subject:identifier', token(value))),
    ];
    const statuses = queryValues(request, 'status');
    // Without a date, CarePlan.period is not worked out: every plan matches.
    const dates = occurrences(request, 'date');
    const inPeriod = dates.length === 0 ? undefined : datePeriodFilter('date', dates);
    const updated = dateSearchRange('_lastUpdated', occurrences(request, '_lastUpdated'));
    const updatedSince = updated.since?.getTime() ?? -Infinity;
    const updatedBefore = updated.before?.getTime() ?? Infinity;
    if (moreIdentifiers.length > 0 || patients.length > 1 || people.length > 1 || occurrences(request, '_id').length > 1) {
      throw new HttpError(400, 'Bad Request', 'Give identifier, patient, patient:identifier and _id once each');
    }
    const person = people[0];
    // On the judging summary where it serves (the person, the period: src/sip/plan-summary.ts keeps
    // both) and the status recorded with the version, so a search parses no plan document it does not answer.
    const matches = (walked: Walked): boolean => {
      if (statuses.length > 0 && !statuses.includes(statusOf(walked))) return false;
      const judged = judgedOf(walked);
      if (person !== undefined) {
        const written = personIdentifier(judged.individual.identifier);
        if (written.value !== person.value || (person.system !== undefined && person.system !== '' && person.system !== written.system)) return false;
      }
      const recorded = Date.parse(recordedAtOf(walked));
      return updatedSince <= recorded && recorded < updatedBefore && (inPeriod === undefined || inPeriod(periodRange(judged)));
    };
    const compareIds = (first: string, second: string): number => (first < second ? -1 : first > second ? 1 : 0);
    const byId = (a: StoredPlan, b: StoredPlan): number => compareIds(judgingPlanOf(a).id, judgingPlanOf(b).id);

    const patientId = patients[0]?.replace(/^Patient\//, '');
    // _id: the CarePlans' resource ids, any of them (a comma is "or"); stable across a plan's versions.
    const resourceIds = queryValues(request, '_id');
    if (identifier !== undefined || patientId !== undefined || resourceIds.length > 0) {
      // A plan named, the few plans of one patient, or CarePlans by id: their plan ids found at once, each condition narrowing the last.
      let planIds: ReadonlySet<string> | undefined;
      const narrow = (found: Iterable<string>): void => {
        const next = new Set(found);
        planIds = planIds === undefined ? next : new Set([...planIds].filter((planId) => next.has(planId)));
      };
      if (identifier !== undefined) narrow(identifier.system === undefined || identifier.system === '' || identifier.system === IDENTIFIER_SYSTEM.sipPlan ? [identifier.value] : []);
      if (patientId !== undefined) narrow(FHIR_ID.test(patientId) ? await store.plansWithResource('Patient', patientId) : []);
      if (resourceIds.length > 0) narrow((await Promise.all(resourceIds.filter((id) => FHIR_ID.test(id)).map((id) => store.plansWithResource('CarePlan', id)))).flat());
      const found = (await Promise.all([...(planIds ?? [])].map((planId) => store.get(planId)))).filter((stored) => stored !== undefined);
      // After a cursor: the plans after it in the order they are answered in.
      const afterCursor = (stored: StoredPlan): boolean => cursor === undefined || compareIds(cursor, judgingPlanOf(stored).id) < 0;
      return { plans: found.filter(matches).filter(afterCursor).sort(byId), derivedAsked: false };
    }
    return { plans: walkStore({ personValue: person?.value, statuses, cursor, storePage, matches, keptWalk }), derivedAsked: true };
  }

  /**
   * The store's plans a search walks, `walk.storePage` at a time in the store's order (after
   * `walk.cursor`, where the last page ended), those `walk.matches` keeps. Declared once with the
   * routes, not as a generator function in each search: V8 makes a generator function's `prototype`
   * and its generators' hidden class for each function object, so a generator function made per
   * request gave every request's walk a map of its own. Maps live in the old space, and each garbage
   * one kept the function, its closure and so the whole request through the next scavenges, which
   * promoted it: ≈ 40 kB a person search, and scavenge pauses of 8–10 ms (docs/performance.md, "An
   * accessor made per object").
   */
  async function* walkStore(walk: StoreWalk): AsyncGenerator<Walked> {
    const { personValue, statuses, storePage, matches } = walk;
    let kept = walk.keptWalk;
    let afterPlanId: string | undefined = walk.cursor;
    const carePlanText: DerivedRequest = { deriver: currentDeriver(), resourceType: 'CarePlan' };
    // A walk over the store judges on the summaries alone and reads the texts of its page after it
    // (pageTexts): a status worklist of 5,000 plans read every one's text for a page of 20. A person's
    // plans are few, and their texts the page: read with them, one statement instead of two
    // (a person search 0.79× as fast with the second).
    const walkedText: DerivedRequest = personValue === undefined ? { ...carePlanText, text: false } : carePlanText;
    for (;;) {
      const query: UncountedPlanSearch = {
        ...(personValue === undefined ? {} : { personIdentifier: personValue }),
        // The statuses asked for, any of them (a comma is "or"): a worklist of open plans reads no closed one.
        ...(statuses.length > 0 ? { status: statuses } : {}),
        ...(afterPlanId === undefined ? {} : { afterPlanId }),
        limit: storePage,
        derived: carePlanText,
        // The walk counts what it judges sendable itself; a count of the store on every page would read every match after it again.
        total: false,
      };
      const keptPlans = kept === undefined ? undefined : await keptPage({ ...query, derived: walkedText }, kept);
      // A page one version of which could not be walked kept is read again with its plans, and so is the rest of the walk.
      if (keptPlans === undefined) kept = undefined;
      const plans: readonly Walked[] = keptPlans ?? (await store.search(query)).plans;
      for (const walked of plans) if (matches(walked)) yield walked;
      const last = plans.at(-1);
      if (plans.length < storePage || last === undefined) return;
      afterPlanId = judgedOf(last).id;
    }
  }

  /**
   * A page of a search's versions without their plans (`PlanStore.searchHeads`), each judged by `walk`
   * on its kept judging summary; undefined when one cannot be (nothing derived under the current
   * deriver, no summary that serves, a caller who would read it narrowed): the page is then read with its plans.
   */
  async function keptPage(query: UncountedPlanSearch, walk: (kept: KeptJudging) => KeptWalk | undefined): Promise<KeptWalk[] | undefined> {
    const { plans: heads } = await store.searchHeads(query);
    const walked: KeptWalk[] = [];
    for (const head of heads) {
      if (head.status === undefined) return undefined;
      const kept = keptJudging(head);
      const one = kept === undefined ? undefined : walk(kept);
      if (one === undefined) return undefined;
      walked.push(one);
    }
    return walked;
  }

  /**
   * The page's kept versions with the kept texts of their CarePlans, which a walk on the summaries alone
   * did not bring: one statement for the whole page. A version already with its text (or read with its
   * plan) is as it was.
   */
  async function pageTexts(page: readonly (StoredPlan | KeptJudging)[]): Promise<(StoredPlan | KeptJudging)[]> {
    const wantsText = (read: StoredPlan | KeptJudging): read is KeptJudging => !('plan' in read) && !read.derived.texts.some((text) => text.resourceType === 'CarePlan');
    const wanting = page.filter(wantsText);
    if (wanting.length === 0) return [...page];
    const textsOf = new Map<string, DerivedText[]>();
    for (const { planId, version, ...text } of await store.keptTexts(wanting.map(({ head }) => head), currentDeriver(), 'CarePlan')) {
      const key = `${planId}/${String(version)}`;
      textsOf.set(key, [...(textsOf.get(key) ?? []), text]);
    }
    return page.map((read) => {
      if (!wantsText(read)) return read;
      const derived = { ...read.derived, texts: textsOf.get(`${read.head.planId}/${String(read.head.version)}`) ?? [] };
      return { ...read, head: { ...read.head, derived }, derived };
    });
  }

  /**
   * A kept version of a search's page as its match is answered: from the kept text of its CarePlan, or,
   * without one (a CarePlan the mapping wrote in a shape no text is kept of), read again with its plan
   * (the same immutable version) and mapped as before.
   */
  async function keptOnPage(kept: KeptJudging): Promise<KeptRead | StoredPlan> {
    const read = keptRead(kept.head, 'CarePlan');
    if (read !== undefined) return read;
    const { planId, version } = kept.head;
    const stored = await store.get(planId, version, { derived: { deriver: currentDeriver(), resourceType: 'CarePlan' } });
    if (stored === undefined) throw new Error(`version ${String(version)} of plan ${planId} is no longer stored`);
    return stored;
  }

  router.get(
    '/:type/:id',
    route('read', async (request, response, caller, subject) => {
      const type = String(request.params.type);
      const id = String(request.params.id);
      const subset = requestedSubset(request, { search: false });
      const deriver = currentDeriver();
      // The versions without their plan document: one whose kept summary and text serve the read is
      // answered from them, and any other is read again with its plan (the same immutable version).
      // A type never kept as text (mapped at the read's instant) is read with the plan at once, in one statement.
      const withPlan = TIME_DEPENDENT_TYPES.has(type);
      const candidates = withPlan ? await plansWithResource(store, type, id, { deriver }) : await keptWithResource(store, type, id, deriver);
      checkElementNames(subset, type);
      const at = clock();
      let refusal: HttpError | undefined;
      const refuse = (refused: HttpError, concerned: AuditSubject): void => {
        refusal = refused;
        Object.assign(subject, concerned);
      };
      const accessRefusal = (concerned: AuditSubject, reason: string): void => {
        if (refusal === undefined) refuse(new HttpError(403, 'Forbidden', `Organisation ${caller.organization} may not see ${type}/${id}: ${reason}`), concerned);
      };
      const headers = (stored: Pick<StoredPlan, 'version' | 'recordedAt'>): Record<string, string> => ({ ETag: etagOf(stored.version), 'Last-Modified': new Date(stored.recordedAt).toUTCString() });

      /** The read of a version with its plan: true when it answered. */
      const readWithPlan = async (found: StoredPlan): Promise<boolean> => {
        const judged = judgingPlanOf(found);
        const concerned: AuditSubject = { planId: judged.id, person: judged.individual.identifier.value };
        const access = dependencies.mayAccess(judged, caller, at);
        if (!access.allowed) {
          accessRefusal(concerned, access.reason);
          return false;
        }
        // An other actor reads the plan narrowed (src/http/narrowing.ts): a resource narrowing removed is
        // not in its view, and is answered 404 as a resource the version does not have.
        const read = narrowedRead(await withDerived(found, (textType, textId) => textType === type && textId === id), access.role, at);
        if (read instanceof HttpError) {
          refuse(read, concerned);
          return false;
        }
        const stored = read;
        // Judged at the moment of the read: only the rules that read the instant run (derived-view.ts).
        const refused = storedSendRefusal(stored, at);
        if (refused !== undefined) {
          refuse(refused, concerned);
          return false;
        }
        const derived = derivedTextOf(stored, type, id);
        if (derived !== undefined) {
          Object.assign(subject, concerned);
          sendFhirText(response, subsetText(derivedResourceText(stored, derived), subset), headers(stored));
          return true;
        }
        const entry = judgedView(stored, at).entries.find((candidate) => candidate.type === type && candidate.id === id);
        if (entry === undefined) return false;
        Object.assign(subject, concerned);
        sendFhir(response, subset === undefined ? entry.resource : subsetResource(entry.resource, subset), headers(stored));
        return true;
      };

      for (const candidate of candidates) {
        if ('plan' in candidate) {
          if (await readWithPlan(candidate)) return;
          continue;
        }
        const head = candidate;
        const kept = keptRead(head, type, id);
        if (kept !== undefined) {
          // As readWithPlan judges the version, on the same judging summary, with the same kept basis and text.
          const concerned: AuditSubject = { planId: kept.judged.id, person: kept.judged.individual.identifier.value };
          const access = dependencies.mayAccess(kept.judged, caller, at);
          if (!access.allowed) {
            accessRefusal(concerned, access.reason);
            continue;
          }
          // An other actor's narrowed reading is made from the plan: read with it below.
          if (!readsNarrowed(access.role)) {
            const refused = keptSendRefusal(kept, at);
            if (refused !== undefined) {
              refuse(refused, concerned);
              continue;
            }
            Object.assign(subject, concerned);
            sendFhirText(response, subsetText(derivedResourceText(head, kept.text), subset), headers(head));
            return;
          }
        }
        const found = await store.get(head.planId, head.version, { derived: { deriver, resourceType: type, resourceId: id } });
        if (found !== undefined && (await readWithPlan(found))) return;
      }
      throw refusal ?? new HttpError(404, 'Not Found', `No ${type}/${id}`);
    }),
  );

  const noSearch = (request: Request): never => {
    const type = String(request.params.type);
    throw KNOWN_TYPES.has(type)
      ? new HttpError(
          404,
          'Not Found',
          `Search is not supported on ${type}: no search parameter of it names a person (searched: CarePlan, ${searchableTypes().join(', ')}). Read a ${type} by its id (GET /fhir/${type}/{id}) or include it in a CarePlan search`,
        )
      : new HttpError(404, 'Not Found', `No resource type ${type} here (see GET /fhir/metadata)`);
  };
  router.get('/:type', noSearch);
  router.post('/:type/_search', noSearch);

  return router;
}
