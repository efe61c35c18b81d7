/**
 * The audit log on the FHIR facade: `GET /fhir/AuditEvent?…` and `GET /fhir/AuditEvent/{id}`, each
 * entry as the AuditEvent `auditEventOf` makes (src/http/audit-event.ts).
 *
 * Who may read it. Patientdatalagen (2008:355) 4 kap. 3 § makes the care provider check, regularly
 * and systematically, who accessed a person's records; in a SIP the plan belongs to both principals.
 * So the token must grant `system/AuditEvent.read` (SMART v2 `system/AuditEvent.rs`, or
 * `system/*.read`), and its organisation sees
 * - every entry it made itself (an organisation may review its own staff's calls), and
 * - as a principal of a plan (its HSA-id on a principal of the plan's current version): every entry
 *   about that plan, whoever made it, refused attempts included, and every entry that names no plan
 *   but the person of that plan (a search by their number).
 * Units and other actors see their own entries only: the review is the principal's duty. An entry the
 * caller may not see is answered as one that does not exist (404, or not found by a search), so ids
 * reveal nothing. Reading the log is itself a call, audited like any other.
 */
import type { Request } from 'express';
import type { Bundle } from 'fhir/r4.js';
import { Router } from 'express';
import { z } from 'zod';
import { IDENTIFIER_SYSTEM } from '../fhir/index.js';
import type { AppDependencies } from './app.js';
import type { AuditQuery } from '../store/plan-store.js';
import { AUDIT_DEFAULT_COUNT, AUDIT_MAX_COUNT, auditEventOf } from './audit-event.js';
import { auditedRoutes } from './audited-route.js';
import { dateSearchRange } from './fhir-date-search.js';
import { FHIR_ID, baseUrl, sendFhir, token } from './fhir-routes.js';
import { HttpError } from './problem.js';
import { searchedPersonToken } from './person-search.js';
import { ignoredParameters, occurrences, single } from './query-params.js';

const SEARCH_PARAMS = new Set(['patient', 'patient:identifier', 'agent', 'agent:identifier', 'altid', 'date', '_count', '_cursor', '_total']);
/**
 * `_total` (https://hl7.org/fhir/R4/search.html#total): `accurate` and `estimate` count every match (an
 * estimate is answered with the exact count), `none` never gives the total. Without it the total is
 * given only where the answer shows it without counting: a first page after which nothing follows.
 * A count reads every entry the caller may review that matches, and the log grows with every request
 * the service answers, so counting on every page made each page of a long log cost the whole log.
 */
const TOTALS = new Set(['none', 'estimate', 'accurate']);
const countSchema = z.coerce.number().int().min(0).max(AUDIT_MAX_COUNT);
const cursorSchema = z.string().regex(/^[1-9]\d{0,18}$/);

/** HSA-id systems an `agent:identifier` may name: the FHIR one and the RIV-TA one (DESIGN.md §4). */
const HSA_SYSTEMS = new Set<string>([IDENTIFIER_SYSTEM.hsaId, IDENTIFIER_SYSTEM.hsaIdRivta]);

/** A filter no entry can match: the search answers an empty page. */
const NOTHING = Symbol('nothing');

/** Registers these routes on `router` (a new Router when not given; the app gives the FHIR read side's one Router, src/http/app.ts) and answers it. */
export function auditEventRouter(dependencies: AppDependencies, router: Router = Router()): Router {
  const { store } = dependencies;
  const route = auditedRoutes(dependencies, undefined, 'AuditEvent');

  /** The person a `patient` / `patient:identifier` search names, by their number; NOTHING when it names nobody the store knows. */
  async function person(request: Request): Promise<string | typeof NOTHING | undefined> {
    const byReference = single(request, 'patient');
    const byIdentifier = single(request, 'patient:identifier');
    let value: string | undefined;
    if (byReference !== undefined) {
      // `Patient/{id}` or the id alone: the Patient of the facade, whose id the person's number gives.
      const id = byReference.replace(/^Patient\//, '');
      if (!FHIR_ID.test(id)) return NOTHING;
      const plans = await Promise.all((await store.plansWithResource('Patient', id)).map((planId) => store.get(planId)));
      const people = new Set(plans.flatMap((stored) => (stored === undefined ? [] : [stored.plan.individual.identifier.value])));
      const [only] = people;
      if (only === undefined) return NOTHING;
      value = only;
    }
    if (byIdentifier !== undefined) {
      // The log keeps the number's value only; the system, when given, is not compared.
      const given = searchedPersonToken('patient:identifier', token(byIdentifier)).value;
      if (given === '' || (value !== undefined && value !== given)) return NOTHING;
      value = given;
    }
    return value;
  }

  /** The calling organisation an `agent` / `agent:identifier` search names. */
  function organization(request: Request): string | typeof NOTHING | undefined {
    const values = [single(request, 'agent'), single(request, 'agent:identifier')].filter((value) => value !== undefined).map(token);
    const organizations = new Set<string>();
    for (const { system, value } of values) {
      if (value === '' || (system !== undefined && system !== '' && !HSA_SYSTEMS.has(system))) return NOTHING;
      organizations.add(value);
    }
    if (organizations.size > 1) return NOTHING;
    return [...organizations][0];
  }

  const searchAuditEvents = route(
    'search',
    async (request, response, caller, subject) => {
      const ignored = ignoredParameters(request, SEARCH_PARAMS, 'AuditEvent');
      const count = countSchema.safeParse(single(request, '_count') ?? AUDIT_DEFAULT_COUNT);
      if (!count.success) throw new HttpError(400, 'Bad Request', `_count must be a whole number from 0 to ${String(AUDIT_MAX_COUNT)}`);
      const cursorText = single(request, '_cursor');
      const cursor = cursorText === undefined ? undefined : cursorSchema.safeParse(cursorText);
      if (cursor !== undefined && !cursor.success) throw new HttpError(400, 'Bad Request', '_cursor must be the value a next link gave');
      const totalText = single(request, '_total');
      if (totalText !== undefined && !TOTALS.has(totalText)) throw new HttpError(400, 'Bad Request', `_total=${totalText}: none, estimate or accurate`);
      // Counted when asked, and for `_count=0`, which asks for nothing else.
      const counted = totalText === 'accurate' || totalText === 'estimate' || (totalText === undefined && count.data === 0);
      const range = dateSearchRange('date', occurrences(request, 'date'));
      const altid = single(request, 'altid');
      const agent = altid === undefined ? undefined : token(altid).value;
      const personIdentifier = await person(request);
      if (typeof personIdentifier === 'string') subject.person = personIdentifier;
      const organizationId = organization(request);

      const empty = personIdentifier === NOTHING || organizationId === NOTHING || (range.since !== undefined && range.before !== undefined && range.since >= range.before);
      const query: AuditQuery = {
        visibleTo: caller.organization,
        ...(personIdentifier === undefined || personIdentifier === NOTHING ? {} : { personIdentifier }),
        ...(organizationId === undefined || organizationId === NOTHING ? {} : { organization: organizationId }),
        ...(agent === undefined ? {} : { agent }),
        ...(range.since === undefined ? {} : { since: range.since.toISOString() }),
        ...(range.before === undefined ? {} : { before: range.before.toISOString() }),
      };
      const [entries, matches] = await Promise.all([
        empty || count.data === 0
          ? []
          : store.auditLog({
              ...query,
              ...(cursor?.data === undefined ? {} : { afterId: cursor.data }),
              // One more than the page holds tells whether there is a next page.
              limit: count.data + 1,
            }),
        counted && !empty ? store.auditCount(query) : undefined,
      ]);
      const page = entries.slice(0, count.data);
      // Uncounted, a first page with nothing after it holds every match.
      const total = counted ? (matches ?? 0) : totalText === undefined && cursor === undefined && entries.length <= count.data ? page.length : undefined;
      const base = baseUrl(request);
      const link = (after: string | undefined): string => {
        const query = new URLSearchParams(request.originalUrl.includes('?') ? request.originalUrl.slice(request.originalUrl.indexOf('?') + 1) : '');
        query.delete('_cursor');
        for (const name of ignored) query.delete(name);
        if (after !== undefined) query.set('_cursor', after);
        query.set('_count', String(count.data));
        return `${base}/AuditEvent?${query.toString()}`;
      };
      const last = page.at(-1);
      const bundle: Bundle = {
        resourceType: 'Bundle',
        type: 'searchset',
        ...(total === undefined ? {} : { total }),
        link: [{ relation: 'self', url: link(cursor?.data) }, ...(entries.length > count.data && last !== undefined ? [{ relation: 'next', url: link(last.id) }] : [])],
        entry: page.map((entry) => ({ fullUrl: `${base}/AuditEvent/${entry.id}`, resource: auditEventOf(entry), search: { mode: 'match' } })),
      };
      sendFhir(response, bundle);
    },
  );
  router.get('/AuditEvent', searchAuditEvents);
  // Search by POST (https://hl7.org/fhir/R4/http.html#search): the form's parameters were merged into the URL's (src/http/fhir-post-search.ts).
  router.post('/AuditEvent/_search', searchAuditEvents);

  router.get(
    '/AuditEvent/:id',
    route(
      'read',
      async (request, response, caller, subject) => {
        const id = String(request.params.id);
        const entry = await store.auditEntry(id, { visibleTo: caller.organization });
        if (entry === undefined) throw new HttpError(404, 'Not Found', `No AuditEvent/${id} that organisation ${caller.organization} may see`);
        if (entry.planId !== undefined) subject.planId = entry.planId;
        if (entry.personIdentifier !== undefined) subject.person = entry.personIdentifier;
        sendFhir(response, auditEventOf(entry));
      },
    ),
  );

  return router;
}
