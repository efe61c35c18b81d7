/**
 * Versions on the FHIR facade: vread, `GET /fhir/{type}/{id}/_history/{vid}`
 * (https://hl7.org/fhir/R4/http.html#vread), and the history of a resource,
 * `GET /fhir/{type}/{id}/_history` (https://hl7.org/fhir/R4/http.html#history).
 *
 * A resource's versions are its plan's: `meta.versionId` is the version of the plan it was mapped
 * from, as on a read, so a resource has a version for every plan version that has it, whether or not
 * its own content changed, and its version ids may skip numbers. A version in which a resource that
 * an earlier version had is gone is listed as a DELETE, and a vread of it is a 404.
 *
 * Which plan. A resource's id leads to its plan (src/fhir/resource-ids.ts); shared master data (a
 * Patient, an Organization, a Practitioner) leads to every plan naming it, and its history is that of
 * the one plan a read would answer from: the most recently recorded that the caller may see and send
 * now. Versions of different plans are never mixed: their numbers would collide, and each plan has its
 * own consent.
 *
 * Consent, when the data leaves. The plan's current version must pass `judgeSend(plan, now)` (it
 * knows of a withdrawal the older versions do not), and so must every version sent: an old version
 * whose own consent has since expired is left out of the history, and its vread is a 403 naming the
 * rule. Access by organisation is judged on the current version, as for a read; both are audited as
 * reads.
 *
 * Paging (https://hl7.org/fhir/R4/http.html#history, search.html#count). A page is chosen from the
 * versions' numbers and recording instants alone (`PlanStore.versionTimes`); only the versions a page
 * needs are read, judged and, for those on it, mapped: the cost of a page does not grow with the length
 * of the history. `_count` (default {@link HISTORY_DEFAULT_COUNT}, at most {@link HISTORY_MAX_COUNT})
 * entries a page, newest first; the links `next` (older) and `previous` (newer) carry a `_cursor`
 * naming a plan version, so a page's content does not shift when versions are recorded meanwhile,
 * and a cursor past either end gives an empty page. `Bundle.total` is not given: R4 asks for it in a
 * searchset (bundle.html#Bundle.total), not in a history, and counting the versions the caller may be
 * sent would judge every version's consent on every page.
 *
 * Filters: `_since` (an instant, to the second with a time zone) keeps the versions recorded at or
 * after it; `_at` (a date, dateTime or instant, its precision making it a period; without a time
 * zone read in Europe/Stockholm as a date search is) keeps the versions that were current at some
 * moment of that period: a resource version is current from when it was recorded until the next
 * version of its plan was. Both together keep what both keep.
 */
import type { Bundle, BundleEntry, BundleLink } from 'fhir/r4.js';
import type { Request } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import { DEFAULT_MAPPING_OPTIONS, planEntries, planResourceIds, resourceIdOf, type PlanEntry } from '../fhir/index.js';
import type { PlanStore, StoredPlan, VersionTime } from '../store/plan-store.js';
import type { AppDependencies, Caller } from './app.js';
import { auditedRoutes, type AuditSubject } from './audited-route.js';
import { currentDeriver, derivedResourceText, derivedTextOf, storedSendRefusal, viewResource } from './derived-view.js';
import { dateSearchRange } from './fhir-date-search.js';
import { baseUrl, plansWithResource, sendFhir, sendFhirText, viewOf } from './fhir-routes.js';
import { checkElementNames, requestedSubset, subsetResource } from './fhir-subset.js';
import { HttpError } from './problem.js';
import { narrowedRead, narrowedVersion } from './narrowing.js';
import type { AccessRole } from './auth/access.js';
import { single } from './query-params.js';
import { etagOf } from './sip-routes.js';

/** Most entries a history page holds, and how many when `_count` is not given. */
export const HISTORY_MAX_COUNT = 200;
export const HISTORY_DEFAULT_COUNT = 50;

/** The parameters `GET /fhir/{type}/{id}/_history` takes: R4's `_count`, `_since`, `_at`, and the `_cursor` of a link. */
export const HISTORY_PARAMS: readonly string[] = ['_count', '_since', '_at', '_cursor'];

/** What the CapabilityStatement says of `history-instance` (src/http/fhir-routes.ts). */
export const HISTORY_DOCUMENTATION =
  `Parameters _count (default ${String(HISTORY_DEFAULT_COUNT)}, at most ${String(HISTORY_MAX_COUNT)}), _since (an instant: versions recorded at or after it) and _at ` +
  '(a date, dateTime or instant: versions current at some moment of it); newest first, the links next and previous page through it; no Bundle.total. ' +
  "A resource's versions are its plan's; versions whose consent does not allow sending them now are left out.";

const countSchema = z.coerce.number().int().min(0).max(HISTORY_MAX_COUNT);

/** A history request's `_count`: {@link HISTORY_DEFAULT_COUNT} when not given, 400 when not a whole number from 0 to {@link HISTORY_MAX_COUNT}. */
export function historyCount(request: Request): number {
  const text = single(request, '_count');
  const count = countSchema.safeParse(text ?? HISTORY_DEFAULT_COUNT);
  if (!count.success) throw new HttpError(400, 'Bad Request', `_count=${text ?? ''}: a whole number from 0 to ${String(HISTORY_MAX_COUNT)}`);
  return count.data;
}
/** A plan version: what a vread's `vid` names. */
const versionSchema = z.string().regex(/^[1-9]\d{0,8}$/).transform(Number);
/** A page's `_cursor`: the versions older than a version (`before-N`) or newer than it (`after-N`). */
const CURSOR = /^(before|after)-(0|[1-9]\d{0,8})$/;
/** An R4 instant (https://hl7.org/fhir/R4/datatypes.html#instant): to the second at least, with a time zone. */
const INSTANT = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

export type Method = 'POST' | 'PUT' | 'DELETE';

/** One entry of a resource's history: the plan version, and what it did to the resource. */
export interface HistoryEntry {
  readonly stored: StoredPlan;
  readonly method: Method;
}

/** The HTTP status a history entry's `response` records for each method (https://hl7.org/fhir/R4/http.html#history). */
export const RESPONSE_STATUS: Readonly<Record<Method, string>> = { POST: '201 Created', PUT: '200 OK', DELETE: '204 No Content' };

interface Cursor {
  readonly direction: 'before' | 'after';
  readonly version: number;
}

/** `_since`: an instant, as R4 has it for this parameter; a `+` sent unescaped in a query reads as a space, and is taken as the `+` it was. */
export function parseSince(text: string): Date {
  const value = text.replace(/ (\d{2}:\d{2})$/, '+$1');
  const match = INSTANT.exec(value);
  const bad = (): HttpError =>
    new HttpError(400, 'Bad Request', `_since=${text}: not an instant; give YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm), to the second and with a time zone (https://hl7.org/fhir/R4/http.html#history)`);
  if (match === null) throw bad();
  const [, seconds, fraction, zone] = match;
  // Milliseconds are what the store's instants keep.
  const { since } = dateSearchRange('_since', [`${seconds ?? ''}${fraction === undefined ? '' : `.${fraction.slice(0, 3)}`}${zone ?? ''}`]);
  if (since === undefined) throw bad();
  return since;
}

/** `_at`: a date, dateTime or instant without a prefix, the period its precision gives ([since, before)). */
export function parseAt(text: string): { since: Date; before: Date } {
  if (/^[a-z]/.test(text)) throw new HttpError(400, 'Bad Request', `_at=${text}: a date, dateTime or instant without a prefix (https://hl7.org/fhir/R4/http.html#history)`);
  const { since, before } = dateSearchRange('_at', [text]);
  if (since === undefined || before === undefined) throw new HttpError(400, 'Bad Request', `_at=${text}: not a date`);
  return { since, before };
}

function parseCursor(text: string | undefined): Cursor | undefined {
  if (text === undefined) return undefined;
  const match = CURSOR.exec(text);
  if (match === null) throw new HttpError(400, 'Bad Request', `_cursor=${text}: give the _cursor of a next or previous link (before-N or after-N)`);
  return { direction: match[1] === 'after' ? 'after' : 'before', version: Number(match[2]) };
}

/**
 * The versions of one plan that a history request reads, each read once and only when needed: in
 * chunks of about a page, in the direction the page is walked. `type/id` is the resource.
 */
export class VersionReader {
  private readonly loaded = new Map<number, StoredPlan>();
  private readonly presence = new Map<number, boolean>();
  private readonly entries = new Map<number, PlanEntry[]>();
  private readonly sendable = new Map<number, boolean>();

  constructor(
    private readonly store: PlanStore,
    private readonly planId: string,
    private readonly type: string,
    private readonly id: string,
    private readonly last: number,
    private readonly chunk: number,
    private readonly at: Date,
    /** Each version as the caller reads it (src/http/narrowing.ts), not yet judged. */
    private readonly asRead: (stored: StoredPlan) => StoredPlan = (stored) => stored,
  ) {}

  /** Version `version`, reading it with the next versions the walk (`step`) will ask for when it is not read yet. */
  async stored(version: number, step: 1 | -1): Promise<StoredPlan> {
    const known = this.loaded.get(version);
    if (known !== undefined) return known;
    // With the version below, which tells whether the resource was there before.
    const low = step < 0 ? Math.max(1, version - this.chunk) : Math.max(1, version - 1);
    const high = step < 0 ? version : Math.min(this.last, version + this.chunk);
    const wanted = Array.from({ length: high - low + 1 }, (_, index) => low + index).filter((candidate) => !this.loaded.has(candidate));
    const derived = { deriver: currentDeriver(), resourceType: this.type, resourceId: this.id };
    for (const stored of await this.store.versions(this.planId, wanted, { derived })) {
      const read = this.asRead(stored);
      // A version narrowing changed is sent only if the whole version may be sent now, as decideSend judges it, and what is left may be (maySend).
      if (read !== stored && storedSendRefusal(stored, this.at) !== undefined) this.sendable.set(stored.version, false);
      this.loaded.set(stored.version, read);
    }
    const found = this.loaded.get(version);
    if (found === undefined) throw new Error(`plan ${this.planId} has no version ${String(version)}`);
    return found;
  }

  /** The plan entries (keys) of a version, made once. */
  entriesOf(stored: StoredPlan): PlanEntry[] {
    let entries = this.entries.get(stored.version);
    if (entries === undefined) {
      entries = planEntries(stored.plan, DEFAULT_MAPPING_OPTIONS, this.at);
      this.entries.set(stored.version, entries);
    }
    return entries;
  }

  /** Whether the version's FHIR view has the resource: its derived text says so when there is one, else its keys. */
  async present(version: number, step: 1 | -1): Promise<boolean> {
    if (version < 1) return false;
    const known = this.presence.get(version);
    if (known !== undefined) return known;
    const stored = await this.stored(version, step);
    const present = derivedTextOf(stored, this.type, this.id) !== undefined || this.entriesOf(stored).some((entry) => entry.resourceType === this.type && resourceIdOf(entry.key.fullUrl) === this.id);
    this.presence.set(version, present);
    return present;
  }

  /** What the version did to the resource, when it is an entry of its history: created (again), changed, or removed it. */
  async entryAt(version: number, step: 1 | -1): Promise<HistoryEntry | undefined> {
    const present = await this.present(version, step);
    const before = await this.present(version - 1, step);
    if (!present && !before) return undefined;
    const method: Method = present ? (before ? 'PUT' : 'POST') : 'DELETE';
    return { stored: await this.stored(version, step), method };
  }

  /** Whether the version may be sent at the moment of the request (its own consent), judged once. */
  maySend(stored: StoredPlan): boolean {
    let judged = this.sendable.get(stored.version);
    if (judged === undefined) {
      judged = storedSendRefusal(stored, this.at) === undefined;
      this.sendable.set(stored.version, judged);
    }
    return judged;
  }

  /**
   * The entries of versions `from` to `to` (inclusive; `step` -1 walks down) that may be sent, at most
   * `limit`, in the order walked.
   */
  async walk(from: number, to: number, step: 1 | -1, limit: number): Promise<HistoryEntry[]> {
    const found: HistoryEntry[] = [];
    for (let version = from; step < 0 ? version >= to : version <= to; version += step) {
      if (found.length >= limit) break;
      const entry = await this.entryAt(version, step);
      if (entry !== undefined && this.maySend(entry.stored)) found.push(entry);
    }
    return found;
  }

  /** The JSON text of the resource as the version has it: its derived text when kept, else mapped now. */
  resourceText(stored: StoredPlan): string {
    const derived = derivedTextOf(stored, this.type, this.id);
    if (derived !== undefined) return derivedResourceText(stored, derived);
    const entries = this.entriesOf(stored);
    const planEntry = entries.find((entry) => entry.resourceType === this.type && resourceIdOf(entry.key.fullUrl) === this.id);
    if (planEntry === undefined) throw new Error(`${this.type}/${this.id} is not in version ${String(stored.version)} of plan ${this.planId}`);
    return JSON.stringify(viewResource(planEntry, this.id, String(stored.version), stored.recordedAt));
  }
}

/**
 * The plan versions whose entries a history request may list, lowest and highest: `_since` keeps those
 * recorded at or after it; `_at` those whose time as the plan's current version meets its period, and
 * below them the version that removed the resource when the lowest of them does not have it (a
 * removal is current until the resource comes back). Empty when `low` > `high`.
 */
async function versionRange(
  times: readonly VersionTime[],
  current: number,
  filters: { readonly since?: Date; readonly at?: { since: Date; before: Date } },
  reader: VersionReader,
): Promise<{ low: number; high: number }> {
  let low = 1;
  let high = current;
  const recorded = times.filter((time) => time.version <= current).map((time) => ({ version: time.version, at: Date.parse(time.recordedAt) }));
  if (filters.since !== undefined) {
    const since = filters.since.getTime();
    low = recorded.find((time) => time.at >= since)?.version ?? current + 1;
  }
  if (filters.at !== undefined) {
    const { since, before } = { since: filters.at.since.getTime(), before: filters.at.before.getTime() };
    const overlapping = recorded.filter((time, index) => {
      const next = recorded[index + 1];
      return time.at < before && (next === undefined || next.at > since);
    });
    const first = overlapping[0]?.version;
    const last = overlapping.at(-1)?.version;
    if (first === undefined || last === undefined) return { low: 1, high: 0 };
    let atLow = first;
    if (!(await reader.present(first, -1))) {
      // Walk down to the removal still in force at `first`, if the resource was ever there.
      for (let version = first; version >= 1; version--) {
        if (await reader.present(version - 1, -1)) {
          atLow = version;
          break;
        }
      }
    }
    low = Math.max(low, atLow);
    high = Math.min(high, last);
  }
  return { low, high };
}

/** A link to a page of the history as the request asked for it (its `_since` and `_at` as given), absolute. */
function historyLink(request: Request, type: string, id: string, count: number, cursor: Cursor | undefined): string {
  const query = new URLSearchParams();
  for (const name of ['_since', '_at']) {
    const value = single(request, name);
    if (value !== undefined) query.set(name, value);
  }
  query.set('_count', String(count));
  if (cursor !== undefined) query.set('_cursor', `${cursor.direction}-${String(cursor.version)}`);
  return `${baseUrl(request)}/${type}/${id}/_history?${query.toString()}`;
}

/** Registers these routes on `router` (a new Router when not given; the app gives the FHIR read side's one Router, src/http/app.ts) and answers it. */
export function fhirHistoryRouter(dependencies: AppDependencies, router: Router = Router()): Router {
  const { store, clock } = dependencies;
  const route = auditedRoutes(dependencies);

  /**
   * The current version of the plan whose versions `type/id` has: of the plans the id leads to, the
   * most recently recorded that the caller may see and that may be sent at `at`, and whose current
   * version still has the resource, as a read chooses; when none still has it, the first of them.
   * 404 for an unknown type or id; else the refusal of the last plan judged, 403.
   */
  async function planOf(type: string, id: string, caller: Caller, subject: AuditSubject, at: Date): Promise<{ stored: StoredPlan; role?: AccessRole }> {
    // With the derived basis, so that judging the current version runs only the rules that read the instant (derived-view.ts).
    const candidates = await plansWithResource(store, type, id, { deriver: currentDeriver() });
    let refusal: HttpError | undefined;
    let fallback: { stored: StoredPlan; role?: AccessRole } | undefined;
    for (const stored of candidates) {
      const concerned: AuditSubject = { planId: stored.plan.id, person: stored.plan.individual.identifier.value };
      const access = dependencies.mayAccess(stored.plan, caller, at);
      if (!access.allowed) {
        if (refusal === undefined) {
          refusal = new HttpError(403, 'Forbidden', `Organisation ${caller.organization} may not see ${type}/${id}: ${access.reason}`);
          Object.assign(subject, concerned);
        }
        continue;
      }
      Object.assign(subject, concerned);
      const refused = storedSendRefusal(stored, at);
      if (refused !== undefined) {
        refusal = refused;
        continue;
      }
      // Only shared master data leads to several plans; whether one still has the resource takes a mapping.
      const admitted = access.role === undefined ? { stored } : { stored, role: access.role };
      if (candidates.length === 1 || planResourceIds(stored.plan).some((resource) => resource.resourceType === type && resource.id === id)) return admitted;
      fallback ??= admitted;
    }
    if (fallback !== undefined) {
      Object.assign(subject, { planId: fallback.stored.plan.id, person: fallback.stored.plan.individual.identifier.value });
      return fallback;
    }
    throw refusal ?? new HttpError(404, 'Not Found', `No ${type}/${id}`);
  }

  // GET /fhir/CarePlan/_history is served before this router (src/http/fhir-type-history.ts).
  router.get('/:type/_history', (request) => {
    throw new HttpError(
      404,
      'Not Found',
      `The history of a whole type is served for CarePlan only (GET /fhir/CarePlan/_history); ask for one resource's: GET /fhir/${request.params.type}/{id}/_history`,
    );
  });

  router.get(
    '/:type/:id/_history',
    route('read', async (request, response, caller, subject) => {
      const type = String(request.params.type);
      const id = String(request.params.id);
      const unknown = Object.keys(request.query).filter((name) => !HISTORY_PARAMS.includes(name));
      if (unknown.length > 0) throw new HttpError(400, 'Bad Request', `Not supported on _history: ${unknown.join(', ')} (${HISTORY_PARAMS.join(', ')} are)`);
      const n = historyCount(request);
      const sinceText = single(request, '_since');
      const atText = single(request, '_at');
      const filters = {
        ...(sinceText === undefined ? {} : { since: parseSince(sinceText) }),
        ...(atText === undefined ? {} : { at: parseAt(atText) }),
      };
      const cursor = parseCursor(single(request, '_cursor'));

      const at = clock();
      const { stored: current, role } = await planOf(type, id, caller, subject, at);
      // An other actor's history is that of the versions as it reads them: a resource narrowing removed is not there.
      const reader = new VersionReader(store, current.plan.id, type, id, current.version, n + 2, at, (stored) => narrowedVersion(stored, role, at, current.plan));
      const { low, high } = await versionRange(await store.versionTimes(current.plan.id), current.version, filters, reader);

      const links: BundleLink[] = [{ relation: 'self', url: historyLink(request, type, id, n, cursor) }];
      let page: HistoryEntry[] = [];
      if (n > 0 && low <= high) {
        if (cursor?.direction === 'after') {
          // Newer than the cursor: walked up, shown newest first.
          const bottom = Math.max(low, cursor.version + 1);
          const found = await reader.walk(bottom, high, 1, n + 1);
          page = found.slice(0, n).reverse();
          const newest = page[0];
          if (found.length > n && newest !== undefined) links.push({ relation: 'previous', url: historyLink(request, type, id, n, { direction: 'after', version: newest.stored.version }) });
          if ((await reader.walk(bottom - 1, low, -1, 1)).length > 0) links.push({ relation: 'next', url: historyLink(request, type, id, n, { direction: 'before', version: page.at(-1)?.stored.version ?? bottom }) });
        } else {
          const top = cursor === undefined ? high : Math.min(high, cursor.version - 1);
          const found = await reader.walk(top, low, -1, n + 1);
          page = found.slice(0, n);
          const oldest = page.at(-1);
          if (found.length > n && oldest !== undefined) links.push({ relation: 'next', url: historyLink(request, type, id, n, { direction: 'before', version: oldest.stored.version }) });
          if (cursor !== undefined && (await reader.walk(top + 1, high, 1, 1)).length > 0) links.push({ relation: 'previous', url: historyLink(request, type, id, n, { direction: 'after', version: page[0]?.stored.version ?? top }) });
        }
      }

      const base = baseUrl(request);
      const fullUrl = `${base}/${type}/${id}`;
      // The entries as JSON text: a derived resource is spliced in as kept, not parsed and serialised again.
      const entries = page.map(({ stored, method }) => {
        const entry: BundleEntry = {
          fullUrl,
          request: { method, url: method === 'POST' ? type : `${type}/${id}` },
          response: { status: RESPONSE_STATUS[method], etag: etagOf(stored.version), lastModified: stored.recordedAt },
        };
        const text = JSON.stringify(entry);
        return method === 'DELETE' ? text : `${text.slice(0, -1)},"resource":${reader.resourceText(stored)}}`;
      });
      const bundle: Bundle = { resourceType: 'Bundle', type: 'history', link: links, entry: [] };
      const empty = JSON.stringify(bundle);
      sendFhirText(response, `${empty.slice(0, -'[]}'.length)}[${entries.join(',')}]}`);
    }),
  );

  router.get(
    '/:type/:id/_history/:vid',
    route('read', async (request, response, caller, subject) => {
      const type = String(request.params.type);
      const id = String(request.params.id);
      const vid = versionSchema.safeParse(String(request.params.vid));
      const subset = requestedSubset(request, { search: false });
      const at = clock();
      const { stored: current, role } = await planOf(type, id, caller, subject, at);
      checkElementNames(subset, type);
      const found = !vid.success ? undefined : vid.data === current.version ? current : await store.get(current.plan.id, vid.data);
      if (found === undefined) throw new HttpError(404, 'Not Found', `${type}/${id} has no version ${String(request.params.vid)}`);
      // As the caller reads that version: for an other actor narrowed, and a resource narrowing removed is a 404 (src/http/narrowing.ts).
      const stored = narrowedRead(found, role, at, current.plan);
      if (stored instanceof HttpError) throw stored;
      // The version itself must be sendable now (its own consent), besides the current one.
      const entry = viewOf(stored, at).entries.find((candidate) => candidate.type === type && candidate.id === id);
      if (entry === undefined) throw new HttpError(404, 'Not Found', `${type}/${id} is not in version ${String(stored.version)} of its plan`);
      sendFhir(response, subset === undefined ? entry.resource : subsetResource(entry.resource, subset), { ETag: etagOf(stored.version), 'Last-Modified': new Date(stored.recordedAt).toUTCString() });
    }),
  );

  return router;
}
