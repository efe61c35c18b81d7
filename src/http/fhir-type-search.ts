/**
 * Search of the facade's other resource types by the person a plan is about:
 * `GET /fhir/{type}?patient=…` (and `subject`, `patient:identifier`, `_id`; `Patient?identifier=…`),
 * and the same by POST to `/fhir/{type}/_search` (https://hl7.org/fhir/R4/search.html).
 *
 * An EHR that knows a person, not a plan, asks for that person's appointments, consents, goals or
 * tasks directly; CarePlan keeps its own, wider search (src/http/fhir-routes.ts). The parameters a
 * type takes, and the elements each one reads, are the official R4 definitions'
 * (src/http/fhir-search-parameters.ts).
 *
 * Every search here names a person or resource ids, so it reads the few plans of one person or of
 * those resources, never the whole store: a search of every plan's parts is refused with 400 and
 * pointed at the CarePlan search, which pages through the store. Each plan found is judged as a read
 * is, at the moment of the answer: access (an other actor's plan narrowed), then whether the plan may
 * be sent now (consent in force, not withdrawn). A resource that several plans show (the Patient, a
 * RelatedPerson) is answered once, as the plan recorded last maps it, as a read answers it.
 */
import type { Bundle, BundleEntry, FhirResource, Identifier, OperationOutcomeIssue } from 'fhir/r4.js';
import type { NextFunction, Request, Response } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import { personIdentifier } from '../fhir/write/patient.js';
import type { StoredPlan } from '../store/plan-store.js';
import { MAX_LIMIT } from '../store/sql-plan-store.js';
import type { AppDependencies, Caller } from './app.js';
import { auditedRoutes } from './audited-route.js';
import { judgingPlanOf, storedSendRefusal } from './derived-view.js';
import { FHIR_ID, KNOWN_TYPES, baseUrl, judgedView, queryValues, sendFhirText, token, type ViewEntry } from './fhir-routes.js';
import { filterSearchParameters, includeParameters, patientSearchParameters, searchableTypes, typeSearchParameters, type FilterSearchParameter, type IncludeParameter, type PatientSearchParameter } from './fhir-search-parameters.js';
import { datePeriodFilter, valueRange, type TimeRange } from './fhir-date-search.js';
import { checkElementNames, requestedSubset, subsetResource } from './fhir-subset.js';
import { narrowedRead } from './narrowing.js';
import { searchedPersonToken } from './person-search.js';
import { HttpError } from './problem.js';
import { ignoredParameters, occurrences, single } from './query-params.js';
import { parseSince } from './fhir-history-routes.js';

/** Most resources a page holds, and how many when `_count` is not given (as on CarePlan). */
const MAX_COUNT = 200;
const DEFAULT_COUNT = 50;
const countSchema = z.coerce.number().int().min(0).max(MAX_COUNT);
const offsetSchema = z.coerce.number().int().min(0);
const TOTALS: ReadonlySet<string> = new Set(['none', 'estimate', 'accurate']);
/** The refusals a searchset's OperationOutcome names one by one; more are counted in one issue. */
const MAX_REFUSALS_TOLD = 20;
/** The parameters of Patient/$everything this server takes. */
const EVERYTHING_PARAMETERS: ReadonlySet<string> = new Set(['start', 'end', '_since', '_type', '_count', '_offset']);
/** The result parameters every type here takes. */
const RESULT_PARAMETERS = ['_count', '_offset', '_total', '_summary', '_elements', '_include', '_sort'] as const;

/** A reference search value: `Type/id`, an absolute URL ending so, or an id alone (any type the parameter allows). */
interface ReferenceValue {
  readonly type: string | undefined;
  readonly id: string;
}

function referenceValue(name: string, text: string, defaultType: string | undefined): ReferenceValue {
  const parts = text.split('/');
  const id = parts.at(-1) ?? '';
  const type = parts.length >= 2 ? parts.at(-2) : defaultType;
  if (!FHIR_ID.test(id) || (type !== undefined && !/^[A-Z][A-Za-z]+$/.test(type))) throw new HttpError(400, 'Bad Request', `${name}=${text}: a reference Patient/<id> or an id`);
  return { type, id };
}

/** The person a `:identifier` or Patient `identifier` token names, as the store keeps it. */
interface PersonToken {
  readonly system?: string;
  readonly value: string;
}

function samePerson(written: Identifier & { system: string; value: string }, asked: PersonToken): boolean {
  return written.value === asked.value && (asked.system === undefined || asked.system === '' || asked.system === written.system);
}

/** What one search asks, read from its parameters (400 for a malformed one). */
interface TypeQuery {
  readonly ids: readonly string[] | undefined;
  /** Per reference parameter given: the references any of which must match ("or" within, "and" across). */
  readonly references: readonly { readonly parameter: PatientSearchParameter; readonly values: readonly ReferenceValue[] }[];
  /** Per `:identifier` (or Patient `identifier`) given: the persons any of which must match. */
  readonly persons: readonly { readonly parameter: PatientSearchParameter | undefined; readonly tokens: readonly PersonToken[] }[];
  /** The `date` and status parameters given, each a test of a resource's values. */
  readonly filters: readonly { readonly parameter: FilterSearchParameter; readonly holds: (values: readonly unknown[]) => boolean }[];
}

function readQuery(request: Request, type: string): TypeQuery {
  const once = (name: string): string[] => {
    if (occurrences(request, name).length > 1) throw new HttpError(400, 'Bad Request', `Give ${name} once (a comma inside it means "or")`);
    return queryValues(request, name);
  };
  const ids = once('_id');
  for (const id of ids) if (!FHIR_ID.test(id)) throw new HttpError(400, 'Bad Request', `_id=${id}: not a FHIR id`);
  const references: TypeQuery['references'][number][] = [];
  const persons: TypeQuery['persons'][number][] = [];
  for (const parameter of patientSearchParameters(type)) {
    const given = once(parameter.code);
    if (given.length > 0) references.push({ parameter, values: given.map((text) => referenceValue(parameter.code, text, parameter.code === 'patient' ? 'Patient' : undefined)) });
    const name = `${parameter.code}:identifier`;
    const tokens = once(name);
    if (tokens.length > 0) persons.push({ parameter, tokens: tokens.map((text) => searchedPersonToken(name, token(text))) });
  }
  const filters: TypeQuery['filters'][number][] = [];
  for (const parameter of filterSearchParameters(type)) {
    const given = occurrences(request, parameter.code);
    if (given.length === 0) continue;
    filters.push({ parameter, holds: parameter.type === 'date' ? dateFilter(parameter.code, given) : codeFilter(given) });
  }
  if (type === 'Patient') {
    const tokens = once('identifier');
    if (tokens.length > 0) persons.push({ parameter: undefined, tokens: tokens.map((text) => searchedPersonToken('identifier', token(text))) });
  }
  if (ids.length === 0 && references.length === 0 && persons.length === 0) {
    const names = typeSearchParameters(type)
      .filter((parameter) => parameter.type === 'reference' || parameter.name === '_id' || parameter.name === 'identifier')
      .map((parameter) => parameter.name);
    throw new HttpError(400, 'Bad Request', `Search ${type} by ${names.join(', ')}: a search here names a person or ids. To search across plans, search CarePlan (GET /fhir/CarePlan), with _revinclude or _include for its parts`);
  }
  return { ids: ids.length > 0 ? ids : undefined, references, persons, filters };
}

/**
 * A `date` parameter's test (https://hl7.org/fhir/R4/search.html#date): some value of the resource —
 * a date, dateTime or instant at its own precision, or a Period, open where it has no end — matches
 * every occurrence given (two for a span). A resource without a value does not match.
 */
function dateFilter(name: string, given: readonly string[]): (values: readonly unknown[]) => boolean {
  const matches = datePeriodFilter(name, given);
  return (values) =>
    values.some((value) => {
      const range = typeof value === 'string' ? valueRange(value) : periodOf(value);
      return range !== undefined && matches(range);
    });
}

/** The range a Period covers; undefined for anything else. */
function periodOf(value: unknown): TimeRange | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { start, end } = value as { start?: unknown; end?: unknown };
  if (typeof start !== 'string' && typeof end !== 'string') return undefined;
  return {
    start: typeof start === 'string' ? (valueRange(start)?.start ?? -Infinity) : -Infinity,
    end: typeof end === 'string' ? (valueRange(end)?.end ?? Infinity) : Infinity,
  };
}

/**
 * A status parameter's test: each occurrence (repeated: "and") names codes, comma-separated ("or"),
 * one of which the resource's code is. A `system|` before a code is not compared: a status element is
 * a `code`, whose system its required ValueSet fixes.
 */
function codeFilter(given: readonly string[]): (values: readonly unknown[]) => boolean {
  const occurrencesOfCodes = given.map((text) => text.split(',').map((code) => token(code).value));
  return (values) => occurrencesOfCodes.every((codes) => values.some((value) => typeof value === 'string' && codes.includes(value)));
}

/**
 * `start` and `end` of Patient/$everything, "care dates, not record currency dates"
 * (https://hl7.org/fhir/R4/patient-operation-everything.html), as a test of one resource; undefined
 * when neither is given. A resource is kept when the value of its type's official `date` search
 * parameter (the clinical date: CarePlan.period, Appointment.start, Consent.dateTime, CareTeam.period
 * …) reaches into the range — as `date=ge{start}&date=le{end}` would find it (search.html#prefix, a
 * Period open where it has no end). A resource whose type has no such parameter (Patient,
 * Organization, Goal, Task …) or that has no value of it names no care date outside the range and is
 * kept, as the context of what is. 400 for a value that is not a date or dateTime.
 */
function careDateFilter(request: Request): ((entry: ViewEntry) => boolean) | undefined {
  const start = single(request, 'start');
  const end = single(request, 'end');
  if (start === undefined && end === undefined) return undefined;
  for (const [name, text] of [['start', start], ['end', end]] as const) {
    if (text !== undefined && (!/^\d{4}(-\d{2}(-\d{2}(T.+)?)?)?$/.test(text) || valueRange(text) === undefined)) {
      throw new HttpError(400, 'Bad Request', `${name}=${text}: a date (YYYY, YYYY-MM, YYYY-MM-DD) or a dateTime with its time zone`);
    }
  }
  const matches = dateFilter('start/end', [...(start === undefined ? [] : [`ge${start}`]), ...(end === undefined ? [] : [`le${end}`])]);
  return (entry) => {
    const parameter = filterSearchParameters(entry.type).find((candidate) => candidate.code === 'date');
    if (parameter === undefined) return true;
    const values = parameter.values(entry.resource);
    const dated = values.some((value) => (typeof value === 'string' ? valueRange(value) : periodOf(value)) !== undefined);
    return !dated || matches(values);
  };
}

/** One `_include` asked: a reference parameter of the searched type, and the one type of its targets asked for, if one is. */
interface Include {
  readonly parameter: IncludeParameter;
  readonly target: string | undefined;
}

/**
 * `_include={type}:{parameter}[:{target type}]` (https://hl7.org/fhir/R4/search.html#include): a
 * reference search parameter of the searched type, as the official definitions give them. 400 for
 * another type's, an unknown one, or a target type the parameter cannot point at.
 */
function readIncludes(request: Request, type: string): Include[] {
  return queryValues(request, '_include').map((value) => {
    const [source, code, target, ...rest] = value.split(':');
    const parameter = source === type && rest.length === 0 ? includeParameters(type).find((candidate) => candidate.code === code) : undefined;
    if (parameter === undefined || (target !== undefined && !parameter.targets.includes(target))) {
      const codes = includeParameters(type).map((candidate) => candidate.code);
      throw new HttpError(400, 'Bad Request', `_include=${value}: ${type}:<parameter>[:<type>], with a reference parameter of ${type} (${codes.join(', ')}) and a type it may point at`);
    }
    return { parameter, target };
  });
}

/**
 * The resources the matches of a page refer to by the parameters of `_include`, each once and none
 * that is a match of the page: found in the view of the plan each match was found in, so as that
 * plan may be sent now (narrowed, its consent judged) — a reference to what the plan does not show
 * includes nothing. The references the mapping writes are relative, `Type/id`.
 */
function includedBy(page: readonly ViewEntry[], viewOf: ReadonlyMap<ViewEntry, readonly ViewEntry[]>, includes: readonly Include[]): ViewEntry[] {
  const taken = new Set(page.map((entry) => `${entry.type}/${entry.id}`));
  const included: ViewEntry[] = [];
  for (const match of page) {
    const view = viewOf.get(match) ?? [];
    for (const { parameter, target } of includes) {
      for (const { reference } of parameter.references(match.resource)) {
        const [referredType, id, ...rest] = reference?.split('/') ?? [];
        if (referredType === undefined || id === undefined || rest.length > 0 || !parameter.targets.includes(referredType) || (target !== undefined && target !== referredType)) continue;
        const key = `${referredType}/${id}`;
        if (taken.has(key)) continue;
        const found = view.find((entry) => entry.type === referredType && entry.id === id);
        if (found === undefined) continue;
        taken.add(key);
        included.push(found);
      }
    }
  }
  return included;
}

/** What a match is sorted by: when the plan version showing it was recorded, and the value of the type's `date` parameter. */
interface Sortable {
  readonly recordedAt: number;
  readonly entry: ViewEntry;
}

/**
 * `_sort` on a type's search (https://hl7.org/fhir/R4/search.html#sort): comma-separated keys, each
 * ascending or, with `-`, descending, later ones breaking the ties of earlier ones and the id the
 * rest: `_lastUpdated` (when the plan version showing the resource was recorded), `_id`, and `date`
 * where the type has one (its official expression's value; a Period by its start, as on CarePlan).
 * A resource without a date comes after those with one, either way. 400 for another key.
 */
function readSort(request: Request, type: string): ((a: Sortable, b: Sortable) => number) | undefined {
  const values = queryValues(request, '_sort');
  if (values.length === 0) return undefined;
  const date = filterSearchParameters(type).find((parameter) => parameter.code === 'date');
  const keys = ['_lastUpdated', '_id', ...(date === undefined ? [] : ['date'])];
  const sorts = values.map((value) => {
    const descending = value.startsWith('-');
    const key = descending ? value.slice(1) : value;
    if (!keys.includes(key)) throw new HttpError(400, 'Bad Request', `_sort=${value}: ${type} sorts by ${keys.join(', ')}, each with - before it for descending`);
    return { key, descending };
  });
  /** The start of the first value of the date parameter, or undefined for none. */
  const dateOf = (entry: ViewEntry): number | undefined => {
    for (const value of date?.values(entry.resource) ?? []) {
      const range = typeof value === 'string' ? valueRange(value) : periodOf(value);
      if (range !== undefined) return range.start;
    }
    return undefined;
  };
  return (a, b) => {
    for (const { key, descending } of sorts) {
      const [x, y] = key === '_lastUpdated' ? [a.recordedAt, b.recordedAt] : key === '_id' ? [a.entry.id, b.entry.id] : [dateOf(a.entry), dateOf(b.entry)];
      if (x === y) continue;
      if (x === undefined || y === undefined) return x === undefined ? 1 : -1;
      return (x < y ? -1 : 1) * (descending ? -1 : 1);
    }
    return a.entry.id < b.entry.id ? -1 : a.entry.id > b.entry.id ? 1 : 0;
  };
}

/** Registers these routes on `router` (a new Router when not given; the app gives the FHIR read side's one Router, src/http/app.ts) and answers it. */
export function fhirTypeSearchRouter(dependencies: AppDependencies, router: Router = Router()): Router {
  const { store, clock } = dependencies;
  const route = auditedRoutes(dependencies);

  /** The ids of the plans that may hold a match: each condition given narrows the last. */
  async function candidatePlans(type: string, query: TypeQuery): Promise<StoredPlan[]> {
    let planIds: ReadonlySet<string> | undefined;
    const narrow = (found: Iterable<string>): void => {
      const next = new Set(found);
      planIds = planIds === undefined ? next : new Set([...planIds].filter((planId) => next.has(planId)));
    };
    if (query.ids !== undefined) narrow((await Promise.all(query.ids.map((id) => store.plansWithResource(type, id)))).flat());
    for (const { values } of query.references) {
      // The plans that show the Patient named; a reference to another type (subject=Group/…) names none of ours.
      narrow((await Promise.all(values.map((value) => (value.type === undefined || value.type === 'Patient' ? store.plansWithResource('Patient', value.id) : Promise.resolve([]))))).flat());
    }
    for (const { tokens } of query.persons) narrow((await Promise.all(tokens.map((asked) => plansOfPerson(asked.value)))).flat());
    const found = (await Promise.all([...(planIds ?? [])].map((planId) => store.get(planId)))).filter((stored) => stored !== undefined);
    // The plan recorded last first: a resource several plans show is answered as it maps it.
    return found.sort((a, b) => b.recordedAt.localeCompare(a.recordedAt) || judgingPlanOf(a).id.localeCompare(judgingPlanOf(b).id));
  }

  /** The ids of one person's plans, a store page at a time. */
  async function plansOfPerson(personValue: string): Promise<string[]> {
    const planIds: string[] = [];
    let afterPlanId: string | undefined;
    for (;;) {
      const { plans } = await store.search({ personIdentifier: personValue, limit: MAX_LIMIT, total: false, ...(afterPlanId === undefined ? {} : { afterPlanId }) });
      for (const stored of plans) planIds.push(judgingPlanOf(stored).id);
      const last = plans.at(-1);
      if (plans.length < MAX_LIMIT || last === undefined) return planIds;
      afterPlanId = judgingPlanOf(last).id;
    }
  }

  /** Does `entry`, in a plan about the person `patient` (its Patient's id and identifier), match every condition of the query? */
  function matches(entry: ViewEntry, query: TypeQuery, patient: { readonly id: string | undefined; readonly identifier: Identifier & { system: string; value: string } }): boolean {
    if (query.ids !== undefined && !query.ids.includes(entry.id)) return false;
    for (const { parameter, holds } of query.filters) if (!holds(parameter.values(entry.resource))) return false;
    const points = (parameter: PatientSearchParameter | undefined, wanted: (type: string, id: string) => boolean): boolean => {
      // Patient's own identifier: the entry is the Patient.
      if (parameter === undefined) return wanted('Patient', entry.id);
      return parameter.references(entry.resource).some(({ reference }) => {
        const [type, id] = reference?.split('/') ?? [];
        return type !== undefined && id !== undefined && (parameter.targetType === undefined || parameter.targetType === type) && wanted(type, id);
      });
    };
    for (const { parameter, values } of query.references) {
      if (!points(parameter, (type, id) => values.some((value) => value.id === id && (value.type === undefined || value.type === type)))) return false;
    }
    for (const { parameter, tokens } of query.persons) {
      // The person a plan is about is its Patient: a reference to that Patient names the person.
      if (!tokens.some((asked) => samePerson(patient.identifier, asked))) return false;
      if (!points(parameter, (type, id) => type === 'Patient' && id === patient.id)) return false;
    }
    return true;
  }

  const search = route('search', async (request, response, caller: Caller, subject) => {
    const type = String(request.params.type);
    const parameters = typeSearchParameters(type);
    const known = new Set<string>([...RESULT_PARAMETERS, ...parameters.flatMap((parameter) => (parameter.type === 'reference' ? [parameter.name, `${parameter.name}:identifier`] : [parameter.name]))]);
    // date and status narrow; a search still names a person or ids (readQuery).
    const ignored = ignoredParameters(request, known, type);
    const total = single(request, '_total');
    if (total !== undefined && !TOTALS.has(total)) throw new HttpError(400, 'Bad Request', `_total=${total}: none, estimate or accurate`);
    const summary = single(request, '_summary');
    const subset = requestedSubset(request, { search: true });
    checkElementNames(subset, type);
    const count = countSchema.safeParse(request.query._count ?? DEFAULT_COUNT);
    const offset = offsetSchema.safeParse(request.query._offset ?? 0);
    if (!count.success || !offset.success) throw new HttpError(400, 'Bad Request', `_count must be a whole number from 0 to ${String(MAX_COUNT)}, and _offset a whole number from 0`);
    const query = readQuery(request, type);
    const includes = readIncludes(request, type);
    const sort = readSort(request, type);

    const at = clock();
    const found: ViewEntry[] = [];
    /** The view of the plan each match was found in, for what it includes, and when that plan version was recorded, for _sort. */
    const viewOf = new Map<ViewEntry, readonly ViewEntry[]>();
    const recordedAtOf = new Map<ViewEntry, number>();
    const seen = new Set<string>();
    const refusals: HttpError[] = [];
    let refusedCount = 0;
    const allowed: StoredPlan[] = [];
    for (const stored of await candidatePlans(type, query)) {
      const judged = judgingPlanOf(stored);
      const access = dependencies.mayAccess(judged, caller, at);
      if (!access.allowed) continue;
      allowed.push(stored);
      const read = narrowedRead(stored, access.role, at);
      const refused = read instanceof HttpError ? read : storedSendRefusal(read, at);
      if (refused !== undefined || read instanceof HttpError) {
        refusedCount += 1;
        if (refused !== undefined && refusals.length < MAX_REFUSALS_TOLD) refusals.push(refused);
        continue;
      }
      const view = judgedView(read, at);
      const patient = { id: view.entries.find((entry) => entry.type === 'Patient')?.id, identifier: personIdentifier(judgingPlanOf(read).individual.identifier) };
      for (const entry of view.entries) {
        if (entry.type !== type || seen.has(entry.id) || !matches(entry, query, patient)) continue;
        seen.add(entry.id);
        found.push(entry);
        viewOf.set(entry, view.entries);
        recordedAtOf.set(entry, Date.parse(read.recordedAt));
      }
    }
    const [only] = allowed;
    if (only !== undefined && allowed.length === 1) {
      subject.planId = judgingPlanOf(only).id;
      subject.person = judgingPlanOf(only).individual.identifier.value;
    }
    const [refusal] = refusals;
    if (found.length === 0 && refusal !== undefined) throw refusal;
    if (sort !== undefined) {
      const sorted = found.map((entry) => ({ entry, recordedAt: recordedAtOf.get(entry) ?? 0 })).sort(sort);
      found.splice(0, found.length, ...sorted.map(({ entry }) => entry));
    }

    const base = baseUrl(request);
    const link = (pageOffset: number): string => {
      const search = new URLSearchParams(request.originalUrl.includes('?') ? request.originalUrl.slice(request.originalUrl.indexOf('?') + 1) : '');
      for (const name of ignored) search.delete(name);
      search.set('_offset', String(pageOffset));
      search.set('_count', String(count.data));
      return `${base}/${type}?${search.toString()}`;
    };
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      total: found.length,
      link: [
        { relation: 'self', url: link(offset.data) },
        ...(summary !== 'count' && count.data > 0 && offset.data + count.data < found.length ? [{ relation: 'next', url: link(offset.data + count.data) }] : []),
      ],
    };
    if (summary !== 'count') {
      const page = found.slice(offset.data, offset.data + count.data);
      // _elements shapes the matches alone; _summary the included resources too (as on CarePlan).
      const includedSubset = subset?.kind === 'summary' ? subset : undefined;
      const entries: BundleEntry[] = [
        ...page.map((entry): BundleEntry => ({
          fullUrl: `${base}/${type}/${entry.id}`,
          resource: subset === undefined ? entry.resource : subsetResource(entry.resource, subset),
          search: { mode: 'match' },
        })),
        ...includedBy(page, viewOf, includes).map((entry): BundleEntry => ({
          fullUrl: `${base}/${entry.type}/${entry.id}`,
          resource: includedSubset === undefined ? entry.resource : subsetResource(entry.resource, includedSubset),
          search: { mode: 'include' },
        })),
      ];
      if (refusals.length > 0) entries.push({ resource: refusalOutcome(refusals, refusedCount), search: { mode: 'outcome' } });
      bundle.entry = entries;
    }
    sendFhirText(response, JSON.stringify(bundle));
  });
  /**
   * `Patient/{id}/$everything` (https://hl7.org/fhir/R4/patient-operation-everything.html): every
   * resource of the plans about the person the caller may read and be sent now, each plan's whole
   * FHIR view (its resources in the patient's compartment and what they refer to), the Patient first,
   * a resource several plans show once, as the plan recorded last maps it. `_type` keeps some types,
   * `start` and `end` the resources whose care date reaches into that range ({@link careDateFilter}),
   * `_since` the resources of plan versions recorded at or after it; `_count` pages.
   */
  const everything = route('search', async (request, response, caller: Caller, subject) => {
    if (request.method === 'POST') takeParameters(request);
    const id = String(request.params.id);
    const ignored = ignoredParameters(request, EVERYTHING_PARAMETERS, 'Patient/$everything');
    const count = countSchema.safeParse(request.query._count ?? DEFAULT_COUNT);
    const offset = offsetSchema.safeParse(request.query._offset ?? 0);
    if (!count.success || !offset.success) throw new HttpError(400, 'Bad Request', `_count must be a whole number from 0 to ${String(MAX_COUNT)}, and _offset a whole number from 0`);
    const types = queryValues(request, '_type');
    const unknownTypes = types.filter((type) => !KNOWN_TYPES.has(type));
    if (unknownTypes.length > 0) throw new HttpError(400, 'Bad Request', `_type: no resource type ${unknownTypes.join(', ')} here (see GET /fhir/metadata)`);
    const sinceText = single(request, '_since');
    const since = sinceText === undefined ? -Infinity : parseSince(sinceText).getTime();
    const inCareDates = careDateFilter(request);

    const planIds = FHIR_ID.test(id) ? await store.plansWithResource('Patient', id) : [];
    const plans = (await Promise.all(planIds.map((planId) => store.get(planId)))).filter((stored) => stored !== undefined);
    plans.sort((a, b) => b.recordedAt.localeCompare(a.recordedAt) || judgingPlanOf(a).id.localeCompare(judgingPlanOf(b).id));
    if (plans.length === 0) throw new HttpError(404, 'Not Found', `No Patient/${id}`);
    const at = clock();
    /** The first plan the caller may not see, and the first it sees but may not be sent now. */
    let hidden: HttpError | undefined;
    let withheld: HttpError | undefined;
    let sendable = 0;
    const allowed: StoredPlan[] = [];
    const found: ViewEntry[] = [];
    const seen = new Set<string>();
    for (const stored of plans) {
      const judged = judgingPlanOf(stored);
      const access = dependencies.mayAccess(judged, caller, at);
      if (!access.allowed) {
        hidden ??= new HttpError(403, 'Forbidden', `Organisation ${caller.organization} may not see Patient/${id}: ${access.reason}`);
        continue;
      }
      allowed.push(stored);
      const read = narrowedRead(stored, access.role, at);
      const refused = read instanceof HttpError ? read : storedSendRefusal(read, at);
      if (refused !== undefined || read instanceof HttpError) {
        withheld ??= refused;
        continue;
      }
      sendable += 1;
      // A resource's meta.lastUpdated is when the plan version showing it was recorded.
      if (Date.parse(read.recordedAt) < since) continue;
      for (const entry of judgedView(read, at).entries) {
        const key = `${entry.type}/${entry.id}`;
        if (seen.has(key) || (types.length > 0 && !types.includes(entry.type)) || (inCareDates !== undefined && !inCareDates(entry))) continue;
        seen.add(key);
        found.push(entry);
      }
    }
    const [only] = allowed;
    if (only !== undefined) {
      if (allowed.length === 1) subject.planId = judgingPlanOf(only).id;
      subject.person = judgingPlanOf(only).individual.identifier.value;
    }
    // Nothing may be sent: why (each plan's consent withdrawn or ended, or an organisation of none of the person's plans).
    const refusal = withheld ?? hidden;
    if (sendable === 0 && refusal !== undefined) throw refusal;
    // The Patient first, as the operation's readers expect the focus of the Bundle first; otherwise as the plans map them.
    found.sort((a, b) => Number(b.type === 'Patient' && b.id === id) - Number(a.type === 'Patient' && a.id === id));

    const base = baseUrl(request);
    const link = (pageOffset: number): string => {
      const query = new URLSearchParams(request.originalUrl.includes('?') ? request.originalUrl.slice(request.originalUrl.indexOf('?') + 1) : '');
      for (const name of ignored) query.delete(name);
      query.set('_offset', String(pageOffset));
      query.set('_count', String(count.data));
      return `${base}/Patient/${id}/$everything?${query.toString()}`;
    };
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      total: found.length,
      link: [{ relation: 'self', url: link(offset.data) }, ...(count.data > 0 && offset.data + count.data < found.length ? [{ relation: 'next', url: link(offset.data + count.data) }] : [])],
      entry: found.slice(offset.data, offset.data + count.data).map((entry) => ({ fullUrl: `${base}/${entry.type}/${entry.id}`, resource: entry.resource, search: { mode: 'match' } })),
    };
    sendFhirText(response, JSON.stringify(bundle));
  });
  const handleOperation = async (request: Request, response: Response, next: NextFunction): Promise<void> => {
    if (request.params.operation === '$everything') await everything(request, response);
    else next();
  };
  router.get('/Patient/:id/:operation', handleOperation);
  router.post('/Patient/:id/:operation', handleOperation);

  // Types not searched here (CarePlan, AuditEvent, unknown names) go on to the routes after this one.
  const searchable: ReadonlySet<string> = new Set(searchableTypes());
  const handle = async (request: Request, response: Response, next: NextFunction): Promise<void> => {
    if (searchable.has(String(request.params.type))) await search(request, response);
    else next();
  };
  router.get('/:type', handle);
  // Search by POST (https://hl7.org/fhir/R4/http.html#search): the form's parameters were merged into the URL's (src/http/fhir-post-search.ts).
  router.post('/:type/_search', handle);
  return router;
}

/** The searchset's OperationOutcome naming the plans found that may not be sent now. */
function refusalOutcome(refusals: readonly HttpError[], refusedCount: number): FhirResource {
  const issue: OperationOutcomeIssue[] = refusals.map((refused) => ({
    severity: 'warning',
    code: 'forbidden',
    diagnostics: `${refused.detail}: ${[...new Set(refused.problems.map((problem) => problem.code))].join(', ')}`,
  }));
  if (refusedCount > refusals.length) issue.push({ severity: 'warning', code: 'forbidden', diagnostics: `${String(refusedCount - refusals.length)} more plans found may not be sent now` });
  return { resourceType: 'OperationOutcome', issue };
}

/**
 * An operation invoked by POST carries its parameters in a `Parameters` resource
 * (https://hl7.org/fhir/R4/operations.html#request): each primitive one is appended to the URL's
 * query, and the request's URL rewritten to carry them, so the operation reads one query whichever way
 * it came (as a search by POST does, src/http/fhir-post-search.ts). 400 for another body or a
 * parameter without a primitive value, naming it.
 */
function takeParameters(request: Request): void {
  const body: unknown = request.body;
  if (typeof body !== 'object' || body === null || (body as { resourceType?: unknown }).resourceType !== 'Parameters') {
    throw new HttpError(400, 'Bad Request', 'POST an operation with a Parameters resource as its body ({"resourceType":"Parameters"} for none), or use GET');
  }
  const parameters: unknown = (body as { parameter?: unknown }).parameter ?? [];
  if (!Array.isArray(parameters)) throw new HttpError(400, 'Bad Request', 'Parameters.parameter: an array');
  const query = new URLSearchParams(request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '');
  parameters.forEach((parameter: unknown, index) => {
    const where = `Parameters.parameter[${String(index)}]`;
    if (typeof parameter !== 'object' || parameter === null) throw new HttpError(400, 'Bad Request', `${where}: an object with name and a value`);
    const { name } = parameter as { name?: unknown };
    const values = Object.entries(parameter).filter(([key, value]) => key.startsWith('value') && ['string', 'number', 'boolean'].includes(typeof value));
    const [value] = values;
    if (typeof name !== 'string' || value === undefined || values.length > 1) throw new HttpError(400, 'Bad Request', `${where}: a name and one primitive value[x] (valueString, valueInstant, valueInteger …)`);
    query.append(name, String(value[1]));
  });
  const search = query.toString();
  request.url = `${request.path}${search === '' ? '' : `?${search}`}`;
  request.originalUrl = `${request.baseUrl}${request.url}`;
}
