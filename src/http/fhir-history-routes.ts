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
 */
import type { Bundle, BundleEntry, FhirResource } from 'fhir/r4.js';
import { Router } from 'express';
import { z } from 'zod';
import { planResourceIds } from '../fhir/index.js';
import type { StoredPlan } from '../store/plan-store.js';
import type { AppDependencies, Caller } from './app.js';
import { auditedRoutes, type AuditSubject } from './audited-route.js';
import { baseUrl, plansWithResource, sendFhir, viewOf, type PlanView } from './fhir-routes.js';
import { HttpError } from './problem.js';
import { single } from './query-params.js';
import { sendRefusal } from './sending.js';
import { etagOf } from './sip-routes.js';

/** Most entries a history page holds, and how many when `_count` is not given. */
export const HISTORY_MAX_COUNT = 200;
export const HISTORY_DEFAULT_COUNT = 50;

const HISTORY_PARAMS = new Set(['_count', '_cursor']);
const countSchema = z.coerce.number().int().min(0).max(HISTORY_MAX_COUNT);
/** A plan version: what a vread's `vid` and a history page's cursor name. */
const versionSchema = z.string().regex(/^[1-9]\d{0,8}$/).transform(Number);

/** One version of a resource: as that plan version maps it, or gone from it. */
interface ResourceVersion {
  readonly stored: StoredPlan;
  readonly method: 'POST' | 'PUT' | 'DELETE';
  readonly resource?: FhirResource;
}

/** The HTTP status a history entry's `response` records for each method (https://hl7.org/fhir/R4/http.html#history). */
const RESPONSE_STATUS: Readonly<Record<ResourceVersion['method'], string>> = { POST: '201 Created', PUT: '200 OK', DELETE: '204 No Content' };

/**
 * The versions of `type/id` in the plan's history (oldest first), each that may be sent at `at`;
 * and the refusals of those that may not.
 */
function resourceVersions(history: readonly StoredPlan[], type: string, id: string, at: Date): { versions: ResourceVersion[]; refusals: HttpError[] } {
  const versions: ResourceVersion[] = [];
  const refusals: HttpError[] = [];
  let present = false;
  for (const stored of history) {
    let view: PlanView;
    try {
      // Judges the version for sending at `at` before it maps it.
      view = viewOf(stored, at);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      refusals.push(error);
      continue;
    }
    const found = view.entries.find((entry) => entry.type === type && entry.id === id);
    if (found !== undefined) {
      versions.push({ stored, method: present ? 'PUT' : 'POST', resource: found.resource });
      present = true;
    } else if (present) {
      versions.push({ stored, method: 'DELETE' });
      present = false;
    }
  }
  return { versions, refusals };
}

export function fhirHistoryRouter(dependencies: AppDependencies): Router {
  const { store, clock } = dependencies;
  const router = Router();
  const route = auditedRoutes(dependencies);

  /**
   * The current version of the plan whose versions `type/id` has: of the plans the id leads to, the
   * most recently recorded that the caller may see and that may be sent at `at`, and whose current
   * version still has the resource, as a read chooses; when none still has it, the first of them.
   * 404 for an unknown type or id; else the refusal of the last plan judged, 403.
   */
  async function planOf(type: string, id: string, caller: Caller, subject: AuditSubject, at: Date): Promise<StoredPlan> {
    const candidates = await plansWithResource(store, type, id);
    let refusal: HttpError | undefined;
    let fallback: StoredPlan | undefined;
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
      const refused = sendRefusal(stored.plan, at);
      if (refused !== undefined) {
        refusal = refused;
        continue;
      }
      // Only shared master data leads to several plans; whether one still has the resource takes a mapping.
      if (candidates.length === 1 || planResourceIds(stored.plan).some((resource) => resource.resourceType === type && resource.id === id)) return stored;
      fallback ??= stored;
    }
    if (fallback !== undefined) {
      Object.assign(subject, { planId: fallback.plan.id, person: fallback.plan.individual.identifier.value });
      return fallback;
    }
    throw refusal ?? new HttpError(404, 'Not Found', `No ${type}/${id}`);
  }

  router.get('/:type/_history', (request) => {
    throw new HttpError(404, 'Not Found', `The history of a whole type is not supported; ask for one resource's: GET /fhir/${request.params.type}/{id}/_history`);
  });

  router.get(
    '/:type/:id/_history',
    route('read', async (request, response, caller, subject) => {
      const type = String(request.params.type);
      const id = String(request.params.id);
      const unknown = Object.keys(request.query).filter((name) => !HISTORY_PARAMS.has(name));
      if (unknown.length > 0) throw new HttpError(400, 'Bad Request', `Not supported on _history: ${unknown.join(', ')} (_count and the _cursor of a next link are)`);
      const count = countSchema.safeParse(single(request, '_count') ?? HISTORY_DEFAULT_COUNT);
      if (!count.success) throw new HttpError(400, 'Bad Request', `_count must be a whole number from 0 to ${String(HISTORY_MAX_COUNT)}`);
      const cursorText = single(request, '_cursor');
      const cursor = cursorText === undefined ? undefined : versionSchema.safeParse(cursorText);
      if (cursor !== undefined && !cursor.success) throw new HttpError(400, 'Bad Request', '_cursor must be the value a next link gave');

      const at = clock();
      const current = await planOf(type, id, caller, subject, at);
      const { versions, refusals } = resourceVersions(await store.history(current.plan.id), type, id, at);
      const [refusal] = refusals;
      if (versions.length === 0) throw refusal ?? new HttpError(404, 'Not Found', `No ${type}/${id}`);

      const newestFirst = versions.reverse();
      const rest = cursor?.data === undefined ? newestFirst : newestFirst.filter((version) => version.stored.version < cursor.data);
      const page = rest.slice(0, count.data);
      const base = baseUrl(request);
      const self = `${base}/${type}/${id}`;
      const link = (before: number | undefined): string => {
        const query = new URLSearchParams({ _count: String(count.data), ...(before === undefined ? {} : { _cursor: String(before) }) });
        return `${self}/_history?${query.toString()}`;
      };
      const last = page.at(-1);
      const entries = page.map(
        ({ stored, method, resource }): BundleEntry => ({
          fullUrl: self,
          ...(resource === undefined ? {} : { resource }),
          request: { method, url: method === 'POST' ? type : `${type}/${id}` },
          response: { status: RESPONSE_STATUS[method], etag: etagOf(stored.version), lastModified: stored.recordedAt },
        }),
      );
      const bundle: Bundle = {
        resourceType: 'Bundle',
        type: 'history',
        total: versions.length,
        link: [{ relation: 'self', url: link(cursor?.data) }, ...(rest.length > page.length && last !== undefined ? [{ relation: 'next', url: link(last.stored.version) }] : [])],
        entry: entries,
      };
      sendFhir(response, bundle);
    }),
  );

  router.get(
    '/:type/:id/_history/:vid',
    route('read', async (request, response, caller, subject) => {
      const type = String(request.params.type);
      const id = String(request.params.id);
      const vid = versionSchema.safeParse(String(request.params.vid));
      const at = clock();
      const current = await planOf(type, id, caller, subject, at);
      const stored = !vid.success ? undefined : vid.data === current.version ? current : await store.get(current.plan.id, vid.data);
      if (stored === undefined) throw new HttpError(404, 'Not Found', `${type}/${id} has no version ${String(request.params.vid)}`);
      // The version itself must be sendable now (its own consent), besides the current one.
      const found = viewOf(stored, at).entries.find((entry) => entry.type === type && entry.id === id);
      if (found === undefined) throw new HttpError(404, 'Not Found', `${type}/${id} is not in version ${String(stored.version)} of its plan`);
      sendFhir(response, found.resource, { ETag: etagOf(stored.version), 'Last-Modified': new Date(stored.recordedAt).toUTCString() });
    }),
  );

  return router;
}
