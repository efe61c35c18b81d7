/**
 * The write side of the FHIR R4 facade under `/fhir`:
 *
 * - `POST /fhir` with a `transaction` Bundle holding one SIP (the shape `to-fhir` writes, or another
 *   client's: `urn:uuid` or absolute fullUrls, POST with `ifNoneExist`, PUT with a conditional URL):
 *   validated against the SIP profiles, read into the SIP model and checked against its rules
 *   (`readCheckedPlan`, the consent judged at `Bundle.timestamp`, when it was sent), authorised, and
 *   stored as one new plan version in one database transaction; answered with a
 *   `transaction-response` (https://hl7.org/fhir/R4/http.html#transaction).
 * - `POST /fhir/$validate` and `POST /fhir/{type}/$validate`: the validator's OperationOutcome
 *   (https://hl7.org/fhir/R4/resource-operation-validate.html).
 * - 405 for a method the facade does not support on a path it knows.
 *
 * The plan is identified by its CarePlan's `sip-plan` identifier, so the whole Bundle is one
 * conditional create-or-update of that plan (recorded by src/http/record-plan.ts, the core the
 * inbound mappings' endpoint shares), and replaying it creates nothing twice: when the
 * adapter has no such plan it records version 1; when it has one that states the same
 * ({@link samePlanContent}) it records nothing and answers the current version; otherwise it records
 * the next version. Concurrency rests on the store, never on check-then-insert: the create is refused
 * by the store's unique key ({@link PlanExistsError}) and the update by its version check
 * ({@link VersionConflictError}) when another write came first, and the transaction is then decided
 * again on what is stored now, a bounded number of times.
 */
import type { Bundle, BundleEntry, CapabilityStatement, OperationOutcome, OperationOutcomeIssue, ParametersParameter } from 'fhir/r4.js';
import type { Request } from 'express';
import { Router } from 'express';
import { PROFILE, WRITTEN_RESOURCE_TYPES, readCheckedPlan, ruleIssue } from '../fhir/index.js';
import { SipRuleError, type Problem, type SipPlan } from '../sip/index.js';
import { InvalidPlanError, type StoredPlan } from '../store/plan-store.js';
import type { PlanEntry } from '../fhir/index.js';
import { createValidator, hasErrors } from '../validation/index.js';
import { transactionReaderInThread, type TransactionRead } from './transaction-reader.js';
import type { AppDependencies, Caller } from './app.js';
import { takeBodyText } from './body-text.js';
import { auditedRoutes, type AuditSubject, type VersionAudit } from './audited-route.js';
import { entryFacts, matchEntryFacts, withBundleReferences, transactionRepresentation, transactionResponse, type EntryFacts, type EntryOutcome } from './fhir-transaction.js';
import { HttpError, OutcomeError } from './problem.js';
import { recordPlan, type RecordRefusals } from './record-plan.js';
import { ifMatchVersion } from './sip-routes.js';
import { preferredReturn } from './query-params.js';

const FHIR_JSON = 'application/fhir+json';

/** What a transaction is answered, with its `transaction-response` (each entry's own status inside it). */
const TRANSACTION_STATUS = 200;

/** What `POST /fhir` takes (https://hl7.org/fhir/R4/http.html#mime-type). */
const FHIR_BODY_TYPES = ['application/fhir+json', 'application/json'];

/** How often a transaction is decided again after another write to the same plan came first (src/http/record-plan.ts). */
export { MAX_ATTEMPTS } from './record-plan.js';

/** Types `$validate` takes: those the mapping writes, and the Bundle that carries a plan. */
const VALIDATE_TYPES: ReadonlySet<string> = new Set([...WRITTEN_RESOURCE_TYPES, 'Bundle']);

const KNOWN_TYPES: ReadonlySet<string> = new Set(WRITTEN_RESOURCE_TYPES);

const VALIDATE_DEFINITION = 'http://hl7.org/fhir/OperationDefinition/Resource-validate';

/** The CapabilityStatement of the read side with what this module adds: the transaction interaction and `$validate`. */
export function withWriteCapabilities(statement: CapabilityStatement): CapabilityStatement {
  const validate = { name: 'validate', definition: VALIDATE_DEFINITION };
  return {
    ...statement,
    implementation: {
      ...statement.implementation,
      description: 'SIP FHIR R4 facade: the plans of the adapter as FHIR; a plan is written as one transaction Bundle',
    },
    rest: (statement.rest ?? []).map((rest) => ({
      ...rest,
      ...(rest.security === undefined
        ? {}
        : {
            security: {
              ...rest.security,
              description:
                'Bearer tokens with SMART backend services scopes: system/CarePlan.read (v2 .rs) to read and search, system/CarePlan.write (v2 .c to record a new plan, .u to change one) for a transaction, system/AuditEvent.read (v2 .rs) for the audit log; the organisation the token names must be a party to the plan',
            },
          }),
      resource: (rest.resource ?? []).map((resource) => ({ ...resource, operation: [...(resource.operation ?? []), validate] })),
      interaction: [
        ...(rest.interaction ?? []),
        {
          code: 'transaction',
          documentation:
            'One SIP per Bundle (the SIP Bundle profile), stored as one plan version: conditional on the CarePlan identifier (sip-plan), so a replay creates nothing; If-Match on the CarePlan entry (request.ifMatch) is honoured. A batch is not taken.',
        },
      ],
      operation: [...(rest.operation ?? []), { ...validate, documentation: 'POST /fhir/$validate (a Bundle) or /fhir/{type}/$validate; a Parameters with resource (and profile) is taken too' }],
    })),
  };
}

function outcomeOf(issues: readonly OperationOutcomeIssue[], fallback: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues.length > 0 ? [...issues] : [{ severity: 'information', code: 'informational', diagnostics: fallback }] };
}

/** Why `Prefer: return=representation` got no resources: the write stands, the answer carries the reason. */
function withheldIssue(reason: string): OperationOutcomeIssue {
  return { severity: 'warning', code: 'suppressed', diagnostics: `Recorded; the resources are not returned (Prefer: return=representation) because they may not be sent to this organisation now: ${reason}` };
}

/** The rule problems of the plan about to be recorded as a 422, each issue with its rule code (`ruleIssue`, as `from-fhir` reports them). */
function ruleOutcome(problems: readonly Problem[]): OutcomeError {
  return new OutcomeError(422, 'Unprocessable Content', outcomeOf(problems.map(ruleIssue), 'The plan breaks a rule'));
}

/** One error issue at a FHIRPath, as a ready OperationOutcome error. */
function issueError(status: number, title: string, expression: string, diagnostics: string, code: OperationOutcomeIssue['code']): OutcomeError {
  return new OutcomeError(status, title, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics, expression: [expression] }] });
}

/** The request is a FHIR JSON body (415 otherwise: the service as a whole also takes problem+json, the facade does not). */
function requireFhirJson(request: Request): void {
  if (!request.is(FHIR_BODY_TYPES)) {
    throw new HttpError(415, 'Unsupported Media Type', `Send the body as application/fhir+json (or application/json); got ${request.headers['content-type'] ?? 'no Content-Type'}`);
  }
}

/** What a transaction Bundle is before its content is judged: a transaction whose entries are POST or PUT. */
function transactionEntries(body: unknown): BundleEntry[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || (body as { resourceType?: unknown }).resourceType !== 'Bundle') {
    throw issueError(400, 'Bad Request', 'Bundle', 'POST /fhir takes a Bundle of type transaction (resourceType "Bundle")', 'structure');
  }
  const { type, entry } = body as { type?: unknown; entry?: unknown };
  if (type === 'batch') {
    throw issueError(400, 'Bad Request', 'Bundle.type', 'A batch is not taken: its entries would stand alone, and a SIP is stored whole or not at all; send the plan as a transaction', 'not-supported');
  }
  if (type !== 'transaction') throw issueError(400, 'Bad Request', 'Bundle.type', `POST /fhir takes a transaction Bundle; this one is "${String(type)}"`, 'not-supported');
  if (!Array.isArray(entry) || entry.length === 0) throw issueError(400, 'Bad Request', 'Bundle.entry', 'The transaction has no entries', 'required');
  entry.forEach((item: unknown, index) => {
    const method = (item as { request?: { method?: unknown } } | null)?.request?.method;
    if (method !== 'POST' && method !== 'PUT') {
      throw issueError(
        400,
        'Bad Request',
        `Bundle.entry[${String(index)}].request.method`,
        `Each entry of a plan's transaction creates or updates one of its resources (POST or PUT); got ${method === undefined ? 'no request.method' : JSON.stringify(method)}`,
        'not-supported',
      );
    }
  });
  return entry as BundleEntry[];
}

/** The CarePlan entry's `request.ifMatch` as sent, with where it is: read off the request before the Bundle is let go, judged by {@link ifMatchOf} after the Bundle is read. */
interface IfMatchGiven {
  readonly index: number;
  readonly header: string | undefined;
}

function ifMatchGiven(entries: readonly BundleEntry[]): IfMatchGiven {
  const index = entries.findIndex((entry) => entry.resource?.resourceType === 'CarePlan');
  return { index, header: entries[index]?.request?.ifMatch };
}

/** The version the CarePlan entry's `request.ifMatch` names, when it names one. */
function ifMatchOf({ index, header }: IfMatchGiven): number | undefined {
  if (header === undefined) return undefined;
  const version = ifMatchVersion(header);
  if (version === undefined) throw issueError(400, 'Bad Request', `Bundle.entry[${String(index)}].request.ifMatch`, `ifMatch must be an ETag such as W/"3"; got ${header}`, 'value');
  return version;
}

/** What was decided for a transaction: a plan version recorded, or the current one, unchanged. */
interface Decision {
  readonly stored: StoredPlan;
  readonly outcomes: readonly EntryOutcome[];
  readonly action: 'create' | 'update';
}

export function fhirWriteRouter(dependencies: AppDependencies): Router {
  const validator = dependencies.validator ?? createValidator();
  const reader = dependencies.transactionReader ?? transactionReaderInThread(validator);
  const router = Router();
  const route = auditedRoutes(dependencies, (error) =>
    error instanceof SipRuleError
      ? ruleOutcome(error.problems)
      : error instanceof InvalidPlanError
        ? new HttpError(422, 'Unprocessable Content', 'The plan read from the Bundle is not a valid SIP', error.problems)
        : error,
  );

  /** The FHIR ids of the request's entries in the plan as it would be recorded; 422 naming the entries that have no place in it. */
  function entryIds(entries: readonly (EntryFacts | undefined)[], plan: SipPlan, view?: readonly PlanEntry[]) {
    const matched = matchEntryFacts(entries, plan, view);
    if (matched.ok) return matched.ids;
    throw new OutcomeError(422, 'Unprocessable Content', {
      resourceType: 'OperationOutcome',
      issue: matched.unmatched.map((index) => {
        const type = entries[index]?.resourceType ?? 'resource';
        const why =
          type === 'Provenance'
            ? 'an approval the stored plan does not have: a principal approves through POST /sip/plans/{id}/approvals'
            : KNOWN_TYPES.has(type)
              ? `one ${type} more than the plan has`
              : `a ${type} is not part of a SIP`;
        return { severity: 'error', code: 'not-supported', diagnostics: `This entry has no place in plan "${plan.id}" (${why}); nothing was recorded`, expression: [`Bundle.entry[${String(index)}]`] };
      }),
    });
  }

  /**
   * Which of the ids are new to the plan: not among the resources of its current version (`before`).
   * Shared master data (a Patient, an Organization) may be served from another plan already; it is
   * still "created" for this plan, since asking the store which plans hold a region's Organization
   * costs a row per plan of that region on every write (measured in bench/fhir-write.ts).
   */
  function outcomesOf(ids: readonly { resourceType: string; id: string }[], before: ReadonlySet<string>): EntryOutcome[] {
    return ids.map((id) => ({ ...id, created: !before.has(`${id.resourceType}/${id.id}`) }));
  }

  /** The refusals of the shared recording core, in the facade's words and FHIRPath locations. */
  const refusals: RecordRefusals = {
    rules: ruleOutcome,
    earlierApproval: (planId) =>
      issueError(422, 'Unprocessable Content', 'Bundle.entry.resource.ofType(Provenance)', `Plan "${planId}" is new here, and an approval in it names an earlier version the adapter never had; send it without that approval`, 'business-rule'),
    closure: (planId) => issueError(422, 'Unprocessable Content', 'Bundle.entry.resource.ofType(CarePlan).status', `A plan is closed through POST /sip/plans/${planId}/closure, not by a transaction; nothing was recorded`, 'business-rule'),
  };

  /**
   * Decides and records one transaction through the shared core ({@link recordPlan}); each entry of
   * the request is matched to the resource of the recorded plan it became before anything is
   * written, so an entry with no place in the plan refuses the whole transaction.
   */
  async function decide(incoming: SipPlan, entries: readonly (EntryFacts | undefined)[], expected: number | undefined, caller: Caller, subject: AuditSubject, versionAudit: VersionAudit): Promise<Decision> {
    const recorded = await recordPlan(dependencies, {
      incoming,
      caller,
      subject,
      versionAudit,
      // A transaction is answered 200 with its transaction-response, whether it created the plan or not.
      answers: { created: TRANSACTION_STATUS, updated: TRANSACTION_STATUS },
      ...(expected === undefined ? {} : { expectedVersion: expected }),
      earlierApprovals: 'refuse',
      refusals,
      prepare: (step): EntryOutcome[] => {
        if (step.kind === 'unchanged') return entryIds(entries, step.plan).map((id) => ({ ...id, created: false }));
        return outcomesOf(entryIds(entries, step.plan, step.view), step.kind === 'create' ? new Set() : step.before);
      },
    });
    return { stored: recorded.stored, outcomes: recorded.prepared, action: recorded.action };
  }

  /** A transaction read: refused, or accepted with what recording needs of its entries. */
  type TakenTransaction = Extract<TransactionRead, { ok: false }> | (Extract<TransactionRead, { ok: true }> & { readonly facts: (EntryFacts | undefined)[]; readonly ifMatch: IfMatchGiven });

  /**
   * The request's transaction Bundle taken off the request, checked as a transaction and read —
   * validated and read on the event loop or in a worker thread (src/http/transaction-reader.ts) — with,
   * once the read accepts it, what recording needs of its entries ({@link EntryFacts}, the CarePlan's
   * `ifMatch`). Not before: the facts read what only the profiles check (an entry's `request.url`), and
   * taken from any Bundle sent, they failed on some with a 500 (test/http/robustness.test.ts). Not
   * in the route's async function: a local there is kept with the suspended call until it returns,
   * used again or not, so the parsed Bundle (some 2,000 JSON values) would live through the store's
   * round trips, outlive the scavenges that happen meanwhile and be promoted with every transaction
   * in flight (docs/performance.md, "What a transaction leaves behind";
   * test/http/transaction-memory.test.ts).
   */
  function takeTransaction(request: Request): Promise<TakenTransaction> {
    requireFhirJson(request);
    const body: unknown = request.body;
    request.body = undefined;
    const text = takeBodyText(request);
    const entries = transactionEntries(body);
    // The facts only of a Bundle the read accepted: the profiles have then checked what they read (an entry's request.url).
    return reader.read(body, text).then((read) => (read.ok ? { ...read, facts: entryFacts(entries), ifMatch: ifMatchGiven(entries) } : read));
  }

  router.post(
    '/',
    route(
      'update',
      async (request, response, caller, subject, versionAudit) => {
        const read = await takeTransaction(request);
        if (!read.ok) throw new OutcomeError(422, 'Unprocessable Content', read.outcome);
        const { plan, warnings, facts, ifMatch } = read;
        subject.planId = plan.id;
        subject.person = plan.individual.identifier.value;
        const decision = await decide(plan, facts, ifMatchOf(ifMatch), caller, subject, versionAudit);
        subject.action = decision.action;
        const preference = preferredReturn(request);
        const represented = preference === 'representation' ? transactionRepresentation(decision.stored, decision.outcomes, (plan, at) => dependencies.mayAccess(plan, caller, at), dependencies.clock()) : undefined;
        const issues: OperationOutcomeIssue[] = [...warnings, ...(represented?.withheld === undefined ? [] : [withheldIssue(represented.withheld)])];
        const outcome: OperationOutcome | undefined =
          issues.length > 0
            ? { resourceType: 'OperationOutcome', issue: issues }
            : preference === 'OperationOutcome'
              ? { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: `Recorded as version ${String(decision.stored.version)} of plan "${decision.stored.plan.id}" (${decision.action === 'create' ? 'a new plan' : 'an update or a replay'}); no warnings` }] }
              : undefined;
        const bundle = transactionResponse(decision.outcomes, decision.stored.version, decision.stored.recordedAt, outcome, represented?.resources);
        response.status(TRANSACTION_STATUS).type(FHIR_JSON).send(JSON.stringify(bundle));
      },
      ['create', 'update'],
    ),
  );

  /** The resource and the profiles a `$validate` call names: the body itself, or a Parameters with `resource` (and `profile`). */
  /** A JSON object, not null and not an array: what a FHIR resource is on the wire. */
  function isJsonObject(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  }

  function validateInput(body: unknown): { resource: unknown; profiles: string[] } {
    if (!isJsonObject(body)) throw new HttpError(400, 'Bad Request', `$validate takes a FHIR resource (a JSON object with resourceType) or a Parameters holding one; the body is ${body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`}`);
    if (body.resourceType !== 'Parameters') return { resource: body, profiles: [] };
    // The body is parsed JSON: a Parameters only in name until its shape is checked.
    const given: unknown = body.parameter ?? [];
    if (!Array.isArray(given) || !given.every(isJsonObject)) throw new HttpError(400, 'Bad Request', 'Parameters.parameter must be an array of parameters (https://hl7.org/fhir/R4/parameters.html)');
    const parameters = given as unknown as ParametersParameter[];
    const unknown = parameters.filter((parameter) => !['resource', 'profile', 'mode'].includes(parameter.name));
    if (unknown.length > 0) throw new HttpError(400, 'Bad Request', `$validate takes the parameters resource, profile and mode; not ${unknown.map((parameter) => parameter.name).join(', ')}`);
    const mode = parameters.find((parameter) => parameter.name === 'mode')?.valueCode;
    if (mode !== undefined && mode !== 'create' && mode !== 'update') throw new HttpError(400, 'Bad Request', `$validate mode ${mode} is not supported (create or update)`);
    const resources = parameters.filter((parameter) => parameter.name === 'resource');
    const [only] = resources;
    if (resources.length !== 1 || only === undefined || !isJsonObject(only.resource)) throw new HttpError(400, 'Bad Request', 'A Parameters for $validate holds exactly one parameter "resource" with the resource');
    const profiles = parameters.filter((parameter) => parameter.name === 'profile').map((parameter) => parameter.valueUri ?? parameter.valueCanonical ?? '');
    for (const profile of profiles) {
      if (typeof profile !== 'string' || !validator.knowsProfile(profile)) throw new HttpError(400, 'Bad Request', `$validate: the profile ${JSON.stringify(profile)} is not known here (see GET /fhir/metadata)`);
    }
    return { resource: only.resource, profiles };
  }

  /**
   * The verdict on a resource: the validator's issues and, for a Bundle checked against the SIP
   * Bundle profile without a structural error, what reading its plan and the SIP rules say — what
   * `POST /fhir` would answer, without recording anything.
   */
  function verdict(sent: unknown, profiles: readonly string[]): OperationOutcome {
    const isBundle = typeof sent === 'object' && sent !== null && (sent as { resourceType?: unknown }).resourceType === 'Bundle' && Array.isArray((sent as { entry?: unknown }).entry);
    const resource = isBundle ? withBundleReferences(sent as Bundle) : sent;
    const validation = validator.validate(resource, { profiles });
    const claims = (resource as { meta?: { profile?: unknown } }).meta?.profile;
    const sipBundle = (resource as { resourceType?: unknown }).resourceType === 'Bundle' && (profiles.includes(PROFILE.bundle) || (Array.isArray(claims) && claims.includes(PROFILE.bundle)));
    const read = sipBundle && !hasErrors(validation) ? readCheckedPlan(resource).outcome.issue.filter((issue) => issue.code !== 'informational') : [];
    return outcomeOf([...validation.issue, ...read], 'No issues: the resource conforms');
  }

  const validate = route(
    'execute',
    (request, response) => {
      requireFhirJson(request);
      const type = (request.params as { type?: string }).type;
      const { resource, profiles } = validateInput(request.body);
      const actual = (resource as { resourceType?: unknown } | null)?.resourceType;
      if (type !== undefined && actual !== type) throw new HttpError(400, 'Bad Request', `POST /fhir/${type}/$validate takes a ${type}; the body is ${typeof actual === 'string' ? `a ${actual}` : 'not a resource'}`);
      response.status(200).type(FHIR_JSON).send(JSON.stringify(verdict(resource, profiles)));
      return Promise.resolve();
    },
    ['read', 'create', 'update'],
  );

  router.post(
    '/:operation',
    (request, _response, next) => {
      if (request.params.operation !== '$validate') throw notAllowed(request, String(request.params.operation));
      next();
    },
    validate,
  );

  router.post(
    '/:type/:operation',
    (request, _response, next) => {
      const type = String(request.params.type);
      const operation = String(request.params.operation);
      if (!VALIDATE_TYPES.has(type)) throw new HttpError(404, 'Not Found', `No resource type ${type} here (see GET /fhir/metadata)`);
      if (operation !== '$validate') throw notAllowed(request, type);
      next();
    },
    validate,
  );

  router.all('/', (request) => {
    throw new HttpError(405, 'Method Not Allowed', `${request.method} /fhir is not supported: POST a transaction Bundle here`, [], { Allow: 'POST' });
  });
  router.all('/metadata', (request) => {
    throw new HttpError(405, 'Method Not Allowed', `${request.method} /fhir/metadata is not supported: GET it`, [], { Allow: 'GET' });
  });
  router.all('/:type', (request) => {
    throw notAllowed(request, request.params.type);
  });
  router.all('/:type/:id', (request) => {
    const { type } = request.params;
    if (request.params.id === '$validate') throw new HttpError(405, 'Method Not Allowed', `${request.method} /fhir/${type}/$validate is not supported: POST the resource`, [], { Allow: 'POST' });
    throw notAllowed(request, type);
  });

  return router;
}

/** 404 for a type the facade does not know, else 405: the facade writes a plan only as one transaction Bundle. */
function notAllowed(request: Request, type: string): HttpError {
  if (!KNOWN_TYPES.has(type)) return new HttpError(404, 'Not Found', `No resource type ${type} here (see GET /fhir/metadata)`);
  return new HttpError(405, 'Method Not Allowed', `${request.method} is not supported on ${request.baseUrl}${request.path}: a plan is written as one transaction Bundle (POST /fhir)`, [], { Allow: 'GET' });
}
