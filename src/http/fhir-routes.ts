/**
 * The read side of the FHIR R4 facade under `/fhir`: the plans of the store as the mapping
 * (src/fhir/write/) writes them, made when they are asked for.
 *
 * - `GET /fhir/metadata`: what the facade supports (no token needed).
 * - `GET /fhir/{type}/{id}`: one resource of a plan's FHIR view.
 * - `GET /fhir/CarePlan?…`: plans as a `searchset` Bundle, with `_include` / `_revinclude`.
 *
 * Sending is judged at the moment the data leaves: every answer that carries plan data maps the plan
 * only after `judgeSend(plan, now)` finds no error, else it answers 403 naming the rule (a consent
 * withdrawn or expired since the version was recorded refuses it). A resource's id is the UUID of
 * its `urn:uuid` fullUrl, which the mapping derives from the resource's business identifier, so it
 * is the same in every version of the plan; the store records which plans each id belongs to
 * (src/fhir/resource-ids.ts). Access and scopes are checked and every call audited as on `/sip`.
 */
import type { Bundle, BundleEntry, CapabilityStatement, CapabilityStatementRestResource, CarePlan, Consent, Appointment, FhirResource, Provenance, Reference, ServiceRequest } from 'fhir/r4.js';
import type { Request, Response } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import { ARTEFACT_VERSION, DEFAULT_MAPPING_OPTIONS, IDENTIFIER_SYSTEM, WRITTEN_RESOURCE_TYPES, planEntries, resourceIdOf } from '../fhir/index.js';
import { currentDeriver, derivedResourceText, derivedTextOf, derivedVersion, judgingPlanOf, referenceTargets, storedSendRefusal, viewResource } from './derived-view.js';
import { PROFILE_OF_TYPE } from '../fhir/profiles/index.js';
import { personIdentifier } from '../fhir/write/patient.js';
import { planStatus } from '../sip/index.js';
import type { PlanStore, StoredPlan } from '../store/plan-store.js';
import { MAX_LIMIT } from '../store/sql-plan-store.js';
import type { AppDependencies, Caller } from './app.js';
import { auditEventCapability } from './audit-event.js';
import { auditedRoutes, type AuditSubject } from './audited-route.js';
import { HttpError } from './problem.js';
import { searchedPersonToken } from './person-search.js';
import { etagOf } from './sip-routes.js';
import { withWriteCapabilities } from './fhir-write-routes.js';
import { HISTORY_DOCUMENTATION } from './fhir-history-routes.js';

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

const SEARCH_PARAMS = new Set(['identifier', 'patient', 'subject', 'patient:identifier', 'subject:identifier', 'status', '_include', '_revinclude', '_count', '_offset']);
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
 * The plan's FHIR view at `at`: refused with 403 naming the rules when the plan may not be sent at
 * that moment (judgeSend), mapped only after it may.
 *
 * Each resource is mapped (src/fhir/write/plan-entries.ts) and rewritten when first asked for: a read
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
function judgedView(stored: StoredPlan, at: Date): PlanView {
  const planned = planEntries(stored.plan, DEFAULT_MAPPING_OPTIONS, at);
  const targets = referenceTargets(planned);
  const entries = planned.flatMap((planEntry): ViewEntry[] => {
    const id = resourceIdOf(planEntry.key.fullUrl);
    if (id === undefined) return [];
    let resource: FhirResource | undefined;
    return [
      {
        type: planEntry.resourceType,
        id,
        get resource(): FhirResource {
          resource ??= viewResource(planEntry, id, targets, String(stored.version), stored.recordedAt);
          return resource;
        },
      },
    ];
  });
  return { stored, entries };
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

export function sendFhir(response: Response, resource: FhirResource, headers: Readonly<Record<string, string>> = {}): void {
  sendFhirText(response, JSON.stringify(resource), headers);
}

/** Answers 200 with a resource already serialised (a derived text, src/http/derived-view.ts). */
export function sendFhirText(response: Response, text: string, headers: Readonly<Record<string, string>> = {}): void {
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  response.status(200).type(FHIR_JSON).send(text);
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

export function capabilityStatement(base: string, at: Date): CapabilityStatement {
  const resource = (type: string): CapabilityStatementRestResource => {
    const profile = PROFILE_OF_TYPE[type];
    const carePlan = type === 'CarePlan';
    return {
      type,
      ...(profile === undefined ? {} : { supportedProfile: [profile] }),
      // No history-type: GET /fhir/{type}/_history is not served (src/http/fhir-history-routes.ts).
      interaction: [{ code: 'read' }, { code: 'vread' }, { code: 'history-instance', documentation: HISTORY_DOCUMENTATION }, ...(carePlan ? [{ code: 'search-type' as const }] : [])],
      versioning: 'versioned',
      // vread answers past versions (src/http/fhir-history-routes.ts).
      readHistory: true,
      ...(carePlan
        ? {
            searchInclude: [...Object.keys(INCLUDES), '*'],
            searchRevInclude: [...Object.keys(REV_INCLUDES), '*'],
            searchParam: [
              { name: 'identifier', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/clinical-identifier', documentation: `${IDENTIFIER_SYSTEM.sipPlan}|<plan id>` },
              { name: 'patient', type: 'reference', definition: 'http://hl7.org/fhir/SearchParameter/clinical-patient', documentation: 'Patient/<id>, or patient:identifier=<system>|<personnummer …>' },
              { name: 'subject', type: 'reference', definition: 'http://hl7.org/fhir/SearchParameter/CarePlan-subject', documentation: 'As patient' },
              { name: 'status', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/CarePlan-status' },
              { name: '_count', type: 'number', documentation: `CarePlans a page holds: default ${String(DEFAULT_COUNT)}, at most ${String(MAX_COUNT)}; the next page is the link "next"` },
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
        security: {
          service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
          description:
            'Bearer tokens with SMART backend services scopes (system/CarePlan.read or system/*.read; system/AuditEvent.read for the audit log); the organisation the token names must be a party to the plan',
        },
        resource: [...WRITTEN_RESOURCE_TYPES.map(resource), auditEventCapability()],
      },
    ],
  };
}

export function fhirRouter(dependencies: AppDependencies): Router {
  const { store, clock } = dependencies;
  const router = Router();
  const route = auditedRoutes(dependencies);

  // Judged on the version's judging summary when one was kept: the plan document is then not parsed (derived-view.ts).
  const visible = (stored: StoredPlan, caller: Caller, at: Date): boolean => dependencies.mayAccess(judgingPlanOf(stored), caller, at).allowed;

  /**
   * The stored version with what is derived from it (src/http/derived-view.ts), for a read that asked
   * the store for it and got none: a version written before migration 6 or under another deriver.
   * It is derived now and kept, so the next read finds it; a failure to keep it is logged, and the read
   * goes on with what it derived. `wanted` picks the texts the read uses.
   */
  async function withDerived(stored: StoredPlan, wanted: (type: string, id: string) => boolean): Promise<StoredPlan> {
    if (stored.derived !== undefined) return stored;
    const derived = derivedVersion(stored.plan);
    try {
      await store.derive(stored.plan.id, stored.version, derived);
    } catch (error) {
      dependencies.logger.warn({ err: error, planId: stored.plan.id, version: stored.version }, 'could not keep what was derived from a plan version');
    }
    return { ...stored, derived: { basis: derived.basis, texts: derived.texts.filter((text) => wanted(text.resourceType, text.id)) } };
  }

  router.get('/metadata', (request, response) => {
    response.status(200).type(FHIR_JSON).send(JSON.stringify(withWriteCapabilities(capabilityStatement(baseUrl(request), clock()))));
  });

  router.get(
    '/CarePlan',
    route('search', async (request, response, caller, subject) => {
      const unknown = Object.keys(request.query).filter((name) => !SEARCH_PARAMS.has(name));
      if (unknown.length > 0) throw new HttpError(400, 'Bad Request', `Search parameters not supported on CarePlan: ${unknown.join(', ')} (see GET /fhir/metadata)`);
      const includes = queryValues(request, '_include');
      const revIncludes = queryValues(request, '_revinclude');
      const unsupported = [...includes.filter((value) => value !== '*' && !(value in INCLUDES)), ...revIncludes.filter((value) => value !== '*' && !(value in REV_INCLUDES))];
      if (unsupported.length > 0) throw new HttpError(400, 'Bad Request', `Not supported: ${unsupported.join(', ')} (see GET /fhir/metadata)`);
      const count = countSchema.safeParse(request.query._count ?? DEFAULT_COUNT);
      const offset = offsetSchema.safeParse(request.query._offset ?? 0);
      if (!count.success || !offset.success) throw new HttpError(400, 'Bad Request', `_count must be a whole number from 0 to ${String(MAX_COUNT)}, and _offset a whole number from 0`);

      const at = clock();
      const matched = await matchingPlans(request);
      const allowed = matched.plans.filter((stored) => visible(stored, caller, at));
      if (allowed.length === 1 && allowed[0] !== undefined) {
        subject.planId = judgingPlanOf(allowed[0]).id;
        subject.person = judgingPlanOf(allowed[0]).individual.identifier.value;
      }
      // Plans that may not be sent now are left out; when every plan found is, the answer is the refusal.
      const refusals: HttpError[] = [];
      const sendable = allowed.filter((stored) => {
        const refused = storedSendRefusal(stored, at);
        if (refused !== undefined) refusals.push(refused);
        return refused === undefined;
      });
      const [refusal] = refusals;
      if (sendable.length === 0 && refusal !== undefined) throw refusal;

      // Plans of the page the store was asked to bring derived data with and brought none are derived now (and kept).
      const sendablePage = sendable.slice(offset.data, offset.data + count.data);
      const page = matched.derivedAsked ? await Promise.all(sendablePage.map((stored) => withDerived(stored, (type) => type === 'CarePlan'))) : sendablePage;
      const base = baseUrl(request);
      const seen = new Set<string>();
      // The entries as JSON text: a derived CarePlan is spliced in as kept, not parsed and serialised again.
      const entries: string[] = [];
      const add = (entry: ViewEntry, mode: 'match' | 'include'): void => {
        const key = `${entry.type}/${entry.id}`;
        if (seen.has(key)) return;
        seen.add(key);
        const entryOf: BundleEntry = { fullUrl: `${base}/${key}`, resource: entry.resource, search: { mode } };
        entries.push(JSON.stringify(entryOf));
      };
      const plain = includes.length === 0 && revIncludes.length === 0;
      for (const stored of page) {
        const derived = plain ? derivedTextOf(stored, 'CarePlan') : undefined;
        if (derived !== undefined) {
          const key = `CarePlan/${derived.id}`;
          if (seen.has(key)) continue;
          seen.add(key);
          entries.push(`{"fullUrl":${JSON.stringify(`${base}/${key}`)},"resource":${derivedResourceText(stored, derived)},"search":{"mode":"match"}}`);
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
          for (const reference of include === '*' ? [] : (INCLUDES[include]?.(match.resource as CarePlan) ?? [])) if (reference?.reference !== undefined) wanted.add(reference.reference);
        }
        const whole = includes.includes('*') || revIncludes.includes('*');
        for (const entry of view.entries) {
          if (entry === match) continue;
          const reverse = revIncludes.some((name) => {
            const rev = REV_INCLUDES[name];
            return rev !== undefined && rev.type === entry.type && rev.references(entry.resource).some((reference) => reference?.reference === carePlanRef);
          });
          if (whole || reverse || wanted.has(`${entry.type}/${entry.id}`)) add(entry, 'include');
        }
      }
      if (refusals.length > 0) {
        const outcome: BundleEntry = {
          resource: {
            resourceType: 'OperationOutcome',
            issue: refusals.map((refused) => ({ severity: 'warning', code: 'forbidden', diagnostics: `${refused.detail}: ${[...new Set(refused.problems.map((problem) => problem.code))].join(', ')}` })),
          },
          search: { mode: 'outcome' },
        };
        entries.push(JSON.stringify(outcome));
      }
      const link = (pageOffset: number): string => {
        const query = new URLSearchParams(request.originalUrl.includes('?') ? request.originalUrl.slice(request.originalUrl.indexOf('?') + 1) : '');
        query.set('_offset', String(pageOffset));
        query.set('_count', String(count.data));
        return `${base}/CarePlan?${query.toString()}`;
      };
      const bundle: Bundle = {
        resourceType: 'Bundle',
        type: 'searchset',
        total: sendable.length,
        link: [{ relation: 'self', url: link(offset.data) }, ...(count.data > 0 && offset.data + count.data < sendable.length ? [{ relation: 'next', url: link(offset.data + count.data) }] : [])],
        entry: [],
      };
      // JSON.stringify(bundle) with the entries' texts in place of its empty `entry`, its last member.
      const empty = JSON.stringify(bundle);
      sendFhirText(response, `${empty.slice(0, -'[]}'.length)}[${entries.join(',')}]}`);
    }),
  );

  /**
   * The plans a CarePlan search names, before access and consent are judged; `derivedAsked` when they
   * were read with what is derived from them (the CarePlan's text), so one without was derived from none.
   */
  async function matchingPlans(request: Request): Promise<{ plans: StoredPlan[]; derivedAsked: boolean }> {
    const [identifier, ...moreIdentifiers] = queryValues(request, 'identifier').map(token);
    const patients = [...queryValues(request, 'patient'), ...queryValues(request, 'subject')];
    const people = [
      ...queryValues(request, 'patient:identifier').map((value) => searchedPersonToken('patient:identifier', token(value))),
      ...queryValues(request, 'subject:identifier').map((value) => searchedPersonToken('subject:identifier', token(value))),
    ];
    const statuses = queryValues(request, 'status');
    if (moreIdentifiers.length > 0 || patients.length > 1 || people.length > 1) throw new HttpError(400, 'Bad Request', 'Give identifier, patient and patient:identifier once each');
    const patientId = patients[0]?.replace(/^Patient\//, '');
    const ofPatient = patientId === undefined ? undefined : new Set(FHIR_ID.test(patientId) ? await store.plansWithResource('Patient', patientId) : []);
    let found: StoredPlan[];
    let derivedAsked = false;
    if (identifier !== undefined) {
      const stored = identifier.system === undefined || identifier.system === '' || identifier.system === IDENTIFIER_SYSTEM.sipPlan ? await store.get(identifier.value) : undefined;
      found = stored === undefined ? [] : [stored];
    } else if (ofPatient !== undefined) {
      found = (await Promise.all([...ofPatient].map((planId) => store.get(planId)))).filter((stored) => stored !== undefined);
    } else {
      found = [];
      derivedAsked = true;
      const personValue = people[0]?.value;
      for (let offset = 0; ; offset += MAX_LIMIT) {
        const pageOf = await store.search({
          ...(personValue === undefined ? {} : { personIdentifier: personValue }),
          limit: MAX_LIMIT,
          offset,
          derived: { deriver: currentDeriver(), resourceType: 'CarePlan' },
        });
        found.push(...pageOf.plans);
        if (offset + MAX_LIMIT >= pageOf.total) break;
      }
    }
    const person = people[0];
    const plans = found
      .filter((stored) => statuses.length === 0 || statuses.includes(planStatus(stored.plan)))
      .filter((stored) => {
        if (person === undefined) return true;
        const written = personIdentifier(judgingPlanOf(stored).individual.identifier);
        return written.value === person.value && (person.system === undefined || person.system === '' || person.system === written.system);
      })
      .filter((stored) => ofPatient === undefined || ofPatient.has(judgingPlanOf(stored).id))
      .sort((a, b) => judgingPlanOf(a).id.localeCompare(judgingPlanOf(b).id));
    return { plans, derivedAsked };
  }

  router.get(
    '/:type/:id',
    route('read', async (request, response, caller, subject) => {
      const type = String(request.params.type);
      const id = String(request.params.id);
      const candidates = await plansWithResource(store, type, id, { deriver: currentDeriver() });
      const at = clock();
      let refusal: HttpError | undefined;
      for (const found of candidates) {
        const judged = judgingPlanOf(found);
        const concerned: AuditSubject = { planId: judged.id, person: judged.individual.identifier.value };
        const access = dependencies.mayAccess(judged, caller, at);
        if (!access.allowed) {
          if (refusal === undefined) {
            refusal = new HttpError(403, 'Forbidden', `Organisation ${caller.organization} may not see ${type}/${id}: ${access.reason}`);
            Object.assign(subject, concerned);
          }
          continue;
        }
        const stored = await withDerived(found, (textType, textId) => textType === type && textId === id);
        // Judged at the moment of the read: only the rules that read the instant run (derived-view.ts).
        const refused = storedSendRefusal(stored, at);
        if (refused !== undefined) {
          refusal = refused;
          Object.assign(subject, concerned);
          continue;
        }
        const headers = { ETag: etagOf(stored.version), 'Last-Modified': new Date(stored.recordedAt).toUTCString() };
        const derived = derivedTextOf(stored, type, id);
        if (derived !== undefined) {
          Object.assign(subject, concerned);
          sendFhirText(response, derivedResourceText(stored, derived), headers);
          return;
        }
        const entry = judgedView(stored, at).entries.find((candidate) => candidate.type === type && candidate.id === id);
        if (entry === undefined) continue;
        Object.assign(subject, concerned);
        sendFhir(response, entry.resource, headers);
        return;
      }
      throw refusal ?? new HttpError(404, 'Not Found', `No ${type}/${id}`);
    }),
  );

  router.get('/:type', (request) => {
    const type = request.params.type;
    throw KNOWN_TYPES.has(type)
      ? new HttpError(404, 'Not Found', `Search is supported on CarePlan only; read a ${type} by its id (GET /fhir/${type}/{id}) or include it in a CarePlan search`)
      : new HttpError(404, 'Not Found', `No resource type ${type} here (see GET /fhir/metadata)`);
  });

  return router;
}
