/**
 * The history of every CarePlan the caller may be sent, `GET /fhir/CarePlan/_history`
 * (https://hl7.org/fhir/R4/http.html#history, the `history-type` interaction): the versions of all
 * those plans in one `history` Bundle, newest first — what an EHR asks for to learn what changed in the
 * plans it takes part in since it last looked (`_since`).
 *
 * A CarePlan's versions are its plan's (src/http/fhir-history-routes.ts), and each plan has one
 * CarePlan, so an entry is a plan version, its CarePlan as that version maps it: POST for the first,
 * PUT for the next. Only CarePlan has a history of its whole type: the other resource types are parts
 * of a plan or shared master data, which several plans show under one id, each with version numbers of
 * its own; their histories are asked for one resource at a time.
 *
 * What is judged, when the data leaves, as for one CarePlan's history: a plan is in it only when the
 * caller may see it (access on its current version), when its current version may be sent now
 * (`storedSendRefusal`: a withdrawal the older versions do not know of), and then only the versions
 * whose own consent allows sending them now; an other actor gets each version narrowed for it.
 *
 * Paging. The store gives the versions of every plan newest first (`PlanStore.recentVersions`, on an
 * index); `_count` entries a page (default {@link HISTORY_DEFAULT_COUNT}, at most
 * {@link HISTORY_MAX_COUNT}) and a `next` link whose `_cursor` names the plan version the page ended
 * at, so a page does not shift when versions are recorded meanwhile. A page reads at most
 * {@link TYPE_HISTORY_SCAN} versions: a caller that may see few of many plans gets a page with fewer
 * entries and a `next` link to go on from where it stopped, and the cost of a page stays bounded.
 * `Bundle.total` is not given, as for one resource's history. `_since` (an instant) keeps the versions
 * recorded at or after it; `_at` is not supported here (400).
 */
import type { Bundle, BundleEntry, BundleLink } from 'fhir/r4.js';
import type { Request } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import { planResourceIds } from '../fhir/index.js';
import type { RecordedVersion, StoredPlan } from '../store/plan-store.js';
import type { AppDependencies, Caller } from './app.js';
import { auditedRoutes } from './audited-route.js';
import { currentDeriver, storedSendRefusal } from './derived-view.js';
import { baseUrl, sendFhirText } from './fhir-routes.js';
import { HISTORY_DEFAULT_COUNT, HISTORY_MAX_COUNT, historyCount, parseSince, RESPONSE_STATUS, VersionReader, type HistoryEntry } from './fhir-history-routes.js';
import { narrowedVersion } from './narrowing.js';
import type { AccessRole } from './auth/access.js';
import { HttpError } from './problem.js';
import { single } from './query-params.js';
import { etagOf } from './sip-routes.js';

/** The parameters `GET /fhir/CarePlan/_history` takes. */
export const TYPE_HISTORY_PARAMS: readonly string[] = ['_count', '_since', '_cursor'];

/** Most plan versions one page reads, whatever the caller may see of them. */
export const TYPE_HISTORY_SCAN = 500;

/** Versions asked of the store at a time. */
const BATCH = 100;

/** What the CapabilityStatement says of CarePlan's `history-type` (src/http/fhir-routes.ts). */
export const TYPE_HISTORY_DOCUMENTATION =
  `The versions of every plan the caller may be sent, newest first, each its CarePlan as that version maps it. Parameters _count (default ${String(HISTORY_DEFAULT_COUNT)}, ` +
  `at most ${String(HISTORY_MAX_COUNT)}) and _since (an instant: versions recorded at or after it); the link next pages on; a page reads at most ${String(TYPE_HISTORY_SCAN)} versions and may hold fewer entries than _count. ` +
  'No Bundle.total; _at is not supported here.';

/** A `_cursor`: the plan version a page ended at, as base64url JSON `[planId, version]`. */
const cursorSchema = z.tuple([z.string().min(1).max(200), z.number().int().min(1).max(999_999_999)]);

type Position = Pick<RecordedVersion, 'planId' | 'version'>;

function cursorText(position: Position): string {
  return Buffer.from(JSON.stringify([position.planId, position.version]), 'utf8').toString('base64url');
}

function parseCursor(text: string | undefined): Position | undefined {
  if (text === undefined) return undefined;
  const bad = new HttpError(400, 'Bad Request', `_cursor=${text}: give the _cursor of a next link`);
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(text)) throw bad;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad;
  }
  const parsed = cursorSchema.safeParse(decoded);
  if (!parsed.success) throw bad;
  return { planId: parsed.data[0], version: parsed.data[1] };
}

/** A plan as this request judged it: not for the caller, or its current version, the caller's role and its CarePlan's id. */
type Judged = { readonly admitted: false } | { readonly admitted: true; readonly current: StoredPlan; readonly role?: AccessRole; readonly carePlanId: string };

interface PageEntry {
  readonly carePlanId: string;
  readonly planId: string;
  readonly person: string;
  readonly entry: HistoryEntry;
  readonly text?: string;
}

/** Registers these routes on `router` (a new Router when not given; the app gives the FHIR read side's one Router, src/http/app.ts) and answers it. */
export function fhirTypeHistoryRouter(dependencies: AppDependencies, router: Router = Router()): Router {
  const { store, clock } = dependencies;
  const route = auditedRoutes(dependencies);

  /** Whether the caller may be sent the plan's CarePlan now: access and the current version's consent, judged once a request. */
  async function judge(planId: string, caller: Caller, at: Date, judged: Map<string, Judged>): Promise<Judged> {
    const known = judged.get(planId);
    if (known !== undefined) return known;
    const current = await store.get(planId, undefined, { derived: { deriver: currentDeriver() } });
    let decision: Judged = { admitted: false };
    if (current !== undefined) {
      const access = dependencies.mayAccess(current.plan, caller, at);
      const carePlan = planResourceIds(current.plan).find((resource) => resource.resourceType === 'CarePlan');
      if (access.allowed && carePlan !== undefined && storedSendRefusal(current, at) === undefined) {
        decision = access.role === undefined ? { admitted: true, current, carePlanId: carePlan.id } : { admitted: true, current, role: access.role, carePlanId: carePlan.id };
      }
    }
    judged.set(planId, decision);
    return decision;
  }

  // The history of the whole system (R4 http.html#history, GET [base]/_history) is not served: a plan
  // version changes several resources at once, and every CarePlan's history already lists each version.
  router.get('/_history', () => {
    throw new HttpError(404, 'Not Found', 'The history of the whole system is not served; every plan version is in GET /fhir/CarePlan/_history, and one resource\'s in GET /fhir/{type}/{id}/_history');
  });

  router.get(
    '/CarePlan/_history',
    route('search', async (request, response, caller, subject) => {
      const unknown = Object.keys(request.query).filter((name) => !TYPE_HISTORY_PARAMS.includes(name));
      if (unknown.length > 0) throw new HttpError(400, 'Bad Request', `Not supported on the history of every CarePlan: ${unknown.join(', ')} (${TYPE_HISTORY_PARAMS.join(', ')} are)`);
      const sinceText = single(request, '_since');
      const since = sinceText === undefined ? undefined : parseSince(sinceText);
      const cursor = parseCursor(single(request, '_cursor'));
      const n = historyCount(request);
      const at = clock();

      // The request's judgements of the plans it met: at most TYPE_HISTORY_SCAN, each with its current version.
      const judged = new Map<string, Judged>();
      const page: PageEntry[] = [];
      let after = cursor;
      let scanned = 0;
      let next: Position | undefined;
      walk: while (n > 0) {
        const wanted = Math.min(BATCH, TYPE_HISTORY_SCAN - scanned);
        if (wanted === 0) {
          // Read as much as a page may: the next page goes on from here.
          next = after;
          break;
        }
        const batch = await store.recentVersions({ limit: wanted, ...(since === undefined ? {} : { since }), ...(after === undefined ? {} : { after }) });
        for (const version of batch) {
          scanned += 1;
          const plan = await judge(version.planId, caller, at, judged);
          after = version;
          // A version recorded after the plan was judged waits for the next request.
          if (!plan.admitted || version.version > plan.current.version) continue;
          const { current, role, carePlanId } = plan;
          const reader = new VersionReader(store, version.planId, 'CarePlan', carePlanId, current.version, 1, at, (stored) => narrowedVersion(stored, role, at, current.plan));
          const entry = await reader.entryAt(version.version, -1);
          if (entry === undefined || !reader.maySend(entry.stored)) continue;
          const last = page.at(-1);
          if (page.length === n && last !== undefined) {
            // One more may be sent: the next page starts after this page's last entry.
            next = { planId: last.planId, version: last.entry.stored.version };
            break walk;
          }
          page.push({
            carePlanId,
            planId: version.planId,
            person: current.plan.individual.identifier.value,
            entry,
            ...(entry.method === 'DELETE' ? {} : { text: reader.resourceText(entry.stored) }),
          });
        }
        if (batch.length < wanted) break;
      }

      // The audit entry names the plan and person when the page shows one plan's versions, as a search does.
      const plans = new Set(page.map((entry) => entry.planId));
      const [only] = page;
      if (plans.size === 1 && only !== undefined) Object.assign(subject, { planId: only.planId, person: only.person });

      const base = baseUrl(request);
      const links: BundleLink[] = [{ relation: 'self', url: typeHistoryLink(request, n, cursor) }];
      if (next !== undefined) links.push({ relation: 'next', url: typeHistoryLink(request, n, next) });
      const entries = page.map(({ carePlanId, entry: { stored, method }, text }) => {
        const entry: BundleEntry = {
          fullUrl: `${base}/CarePlan/${carePlanId}`,
          request: { method, url: method === 'POST' ? 'CarePlan' : `CarePlan/${carePlanId}` },
          response: { status: RESPONSE_STATUS[method], etag: etagOf(stored.version), lastModified: stored.recordedAt },
        };
        const head = JSON.stringify(entry);
        return text === undefined ? head : `${head.slice(0, -1)},"resource":${text}}`;
      });
      const bundle: Bundle = { resourceType: 'Bundle', type: 'history', link: links, entry: [] };
      const empty = JSON.stringify(bundle);
      sendFhirText(response, `${empty.slice(0, -'[]}'.length)}[${entries.join(',')}]}`);
    }),
  );

  return router;
}

/** A link to a page of every CarePlan's history as the request asked for it (its `_since` as given), absolute. */
function typeHistoryLink(request: Request, count: number, cursor: Position | undefined): string {
  const query = new URLSearchParams();
  const since = single(request, '_since');
  if (since !== undefined) query.set('_since', since);
  query.set('_count', String(count));
  if (cursor !== undefined) query.set('_cursor', cursorText(cursor));
  return `${baseUrl(request)}/CarePlan/_history?${query.toString()}`;
}
