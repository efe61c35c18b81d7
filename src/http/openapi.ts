/**
 * The service's OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.1), served at
 * `GET /openapi.json` and rendered at `GET /docs`.
 *
 * The schemas are generated from the zod schemas the routes parse with (./sip-schemas.ts and the SIP
 * model, src/sip/model/) by zod 4's own `z.toJSONSchema`, as JSON Schema draft 2020-12 — the dialect
 * OpenAPI 3.1 uses — so the document says what the routes take. Schemas are written as their input
 * (`io: "input"`): a field with a default may be left out of a request; answers carry it filled in.
 *
 * The operations are listed below, one entry per route; test/http/openapi.test.ts compares them with
 * the routes the Express app registers, both ways, so a route cannot be added without its entry. The
 * FHIR facade is described at the level of paths and content types: its resources are FHIR R4's
 * (https://hl7.org/fhir/R4/), validated against the SIP profiles, not the adapter's own schemas.
 */
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { consentSchema, inviteeSchema, meetingSchema, sipPlanSchema, summonsSchema } from '../sip/index.js';
import {
  approvalRequestSchema,
  closureRequestSchema,
  consentRequestSchema,
  historyAnswerSchema,
  meetingOutcomeRequestSchema,
  meetingRequestSchema,
  planAnswerSchema,
  planSearchQuerySchema,
  problemDocumentSchema,
  problemSchema,
  searchAnswerSchema,
  summonsAnswerRequestSchema,
  summonsRequestSchema,
  withdrawalRequestSchema,
  withheldAnswerSchema,
} from './sip-schemas.js';

/** A JSON value of the document: the boundary where it is plain data. */
export type JsonObject = { [key: string]: unknown };

/** The schemas the document names, each under `#/components/schemas/<name>`. */
const COMPONENTS: readonly (readonly [string, z.ZodType])[] = [
  ['SipPlan', sipPlanSchema],
  ['Consent', consentSchema],
  ['Meeting', meetingSchema],
  ['Summons', summonsSchema],
  ['Invitee', inviteeSchema],
  ['PlanAnswer', planAnswerSchema],
  ['WithheldAnswer', withheldAnswerSchema],
  ['SearchAnswer', searchAnswerSchema],
  ['HistoryAnswer', historyAnswerSchema],
  ['Problem', problemSchema],
  ['ProblemDocument', problemDocumentSchema],
  ['ApprovalRequest', approvalRequestSchema],
  ['WithdrawalRequest', withdrawalRequestSchema],
  ['ClosureRequest', closureRequestSchema],
  ['ConsentRequest', consentRequestSchema],
  ['MeetingRequest', meetingRequestSchema],
  ['SummonsRequest', summonsRequestSchema],
  ['SummonsAnswerRequest', summonsAnswerRequestSchema],
  ['MeetingOutcomeRequest', meetingOutcomeRequestSchema],
];

const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });

function nameOf(schema: z.ZodType): string {
  const entry = COMPONENTS.find(([, candidate]) => candidate === schema);
  if (entry === undefined) throw new Error('a schema in an operation of the OpenAPI document has no name in COMPONENTS');
  return entry[0];
}

/** Every named schema as JSON Schema 2020-12, references between them as `$ref`s. */
function componentSchemas(): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of COMPONENTS) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { target: 'draft-2020-12', io: 'input', uri: (id) => `#/components/schemas/${id}` });
  // Each schema is a component of this document, not a document of its own: its dialect is the
  // document's, and an `$id` of a bare fragment is not allowed in 2020-12.
  return Object.fromEntries(Object.entries(schemas).map(([name, { $schema: _dialect, $id: _id, ...schema }]) => [name, schema]));
}

/** Who may call: the SMART system scope an operation needs (v1 syntax; v2 letters work as well). */
type Scope = 'system/CarePlan.read' | 'system/CarePlan.write' | 'system/AuditEvent.read';
const READ: Scope = 'system/CarePlan.read';
const READ_AUDIT: Scope = 'system/AuditEvent.read';
const WRITE: Scope = 'system/CarePlan.write';

interface Success {
  readonly status: number;
  readonly description: string;
  readonly schema?: z.ZodType;
  readonly etag?: boolean;
  readonly location?: boolean;
}

/** One route of the SIP API. */
interface SipOperation {
  readonly method: 'get' | 'post' | 'put';
  /** The path as OpenAPI writes it, `{name}` for a path parameter. */
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  readonly scope: Scope;
  readonly query?: z.ZodObject;
  readonly ifMatch?: 'required' | 'optional';
  readonly body?: z.ZodType;
  readonly success: Success;
  /** Error statuses besides those every authenticated call may answer (401, 403, 429). */
  readonly errors: readonly number[];
}

const WRITE_ERRORS = [400, 404, 412, 413, 415, 422] as const;
const CHANGE = 'Recorded as the next version of the plan, after every SIP rule: a rule broken answers 422 with its code and JSON pointer, and nothing is stored; warnings travel in the answer. `If-Match` is optional; when given it must name the current version (412 otherwise).';
const recorded = (status: number, what: string): Success => ({ status, description: `${what}; the plan as recorded (or, when its consent no longer allows sending it, what was recorded without the plan)`, schema: planAnswerSchema, etag: true });

export const SIP_OPERATIONS: readonly SipOperation[] = [
  {
    method: 'post',
    path: '/sip/plans',
    summary: 'Record a new plan (version 1)',
    description: 'A plan as the SIP model has it. 409 when the id is taken; 422 with every rule it breaks; 403 when the calling organisation is not a principal or a covered party of it.',
    scope: WRITE,
    body: sipPlanSchema,
    success: { status: 201, description: 'Recorded; `Location` names the plan', schema: planAnswerSchema, etag: true, location: true },
    errors: [400, 409, 413, 415, 422],
  },
  {
    method: 'get',
    path: '/sip/plans',
    summary: 'Search the plans the caller may see',
    description: 'Plans whose consent does not allow sending them now are left out, as are plans the calling organisation may not see; a page may hold fewer than `limit` plans.',
    scope: READ,
    query: planSearchQuerySchema,
    success: { status: 200, description: 'The plans found', schema: searchAnswerSchema },
    errors: [400],
  },
  {
    method: 'get',
    path: '/sip/plans/{id}',
    summary: 'Read the current version of a plan',
    description: 'With its traffic light, status and the warnings of the rules. 403 naming the rule when its consent does not allow sending it now.',
    scope: READ,
    success: { status: 200, description: 'The plan', schema: planAnswerSchema, etag: true },
    errors: [404],
  },
  {
    method: 'put',
    path: '/sip/plans/{id}',
    summary: 'Record an edited plan as the next version',
    description:
      'The approvals of the parts edited are withdrawn (the traffic light falls back). `If-Match` is required. 403 when an other actor changes the consents (only a principal records them) or reads the plan narrowed by them.',
    scope: WRITE,
    ifMatch: 'required',
    body: sipPlanSchema,
    success: recorded(200, 'Recorded'),
    errors: [...WRITE_ERRORS, 428],
  },
  {
    method: 'get',
    path: '/sip/plans/{id}/_history',
    summary: 'Every version of a plan',
    scope: READ,
    success: { status: 200, description: 'The versions, oldest first', schema: historyAnswerSchema },
    errors: [404],
  },
  {
    method: 'get',
    path: '/sip/plans/{id}/_history/{version}',
    summary: 'One version of a plan',
    scope: READ,
    success: { status: 200, description: 'The version', schema: planAnswerSchema, etag: true },
    errors: [404],
  },
  {
    method: 'post',
    path: '/sip/plans/{id}/approvals',
    summary: 'A principal approves its part of the current version',
    description: `Refused (422) unless the plan states the five elements of seed 001 §4.5. Each principal approves its own part: 403 unless the caller is that principal or a unit of it (a principal recorded by name alone, which no caller can act for, is approved through the other principal). ${CHANGE}`,
    scope: WRITE,
    ifMatch: 'optional',
    body: approvalRequestSchema,
    success: recorded(201, 'Approved'),
    errors: WRITE_ERRORS,
  },
  {
    method: 'post',
    path: '/sip/plans/{id}/consents',
    summary: 'Record a new consent',
    description: `The consent names this plan unless it says otherwise (which consent.not-plan-specific refuses); at most a year long. Recorded by a principal or a unit of one (403 for an other actor). ${CHANGE}`,
    scope: WRITE,
    ifMatch: 'optional',
    body: consentRequestSchema,
    success: recorded(201, 'Recorded'),
    errors: WRITE_ERRORS,
  },
  {
    method: 'post',
    path: '/sip/plans/{id}/consents/{consentId}/withdrawal',
    summary: 'Withdraw a consent',
    description: `When no consent remains in force the plan is closed (status revoked), and the answer no longer carries it. Any party admitted to the plan may record it: the person may withdraw at any time. ${CHANGE}`,
    scope: WRITE,
    ifMatch: 'optional',
    body: withdrawalRequestSchema,
    success: { ...recorded(201, 'Withdrawn'), schema: withheldAnswerSchema },
    errors: WRITE_ERRORS,
  },
  {
    method: 'post',
    path: '/sip/plans/{id}/meetings',
    summary: 'Plan a meeting',
    description: `The meeting is planned; its summons is sent with its own call. ${CHANGE}`,
    scope: WRITE,
    ifMatch: 'optional',
    body: meetingRequestSchema,
    success: recorded(201, 'Planned'),
    errors: WRITE_ERRORS,
  },
  {
    method: 'post',
    path: '/sip/plans/{id}/meetings/{meetingId}/summons',
    summary: 'Send the summons of a meeting',
    description: `The meeting becomes summoned; the summons is sent at the moment it is recorded, and nobody has answered yet. A summons sent now is judged by the summons rules as errors: nobody is summoned without a consent in force, nor anyone the consent excludes or does not cover, and it states place, invitees and the convener's contact (seed 001 §4.2, §4.4). A summoned meeting may be summoned again (a new time), which asks everyone again. ${CHANGE}`,
    scope: WRITE,
    ifMatch: 'optional',
    body: summonsRequestSchema,
    success: recorded(201, 'Sent'),
    errors: WRITE_ERRORS,
  },
  {
    method: 'put',
    path: '/sip/plans/{id}/meetings/{meetingId}/invitees/{party}/response',
    summary: "Record an invitee's answer to the summons",
    description: `A principal's invitee who declines names a substitute (seed 001 §4.4: "Vid förhinder ska en ersättare utses"); without one the answer is recorded with the warning summons.declined-without-substitute. A substitute the consent excludes or does not cover is refused. A principal or a unit of one records any invitee's answer; an other actor only its own and its professionals' (403 otherwise). ${CHANGE}`,
    scope: WRITE,
    ifMatch: 'optional',
    body: summonsAnswerRequestSchema,
    success: recorded(200, 'Recorded'),
    errors: WRITE_ERRORS,
  },
  {
    method: 'put',
    path: '/sip/plans/{id}/meetings/{meetingId}/status',
    summary: 'Record that a meeting was held, or cancel it',
    description: `A summoned meeting is held once its start has come, with its meeting leader, secretary and the contact person after the meeting (a held meeting without them warns, meeting.roles-not-appointed); a planned or summoned meeting can be cancelled. Held and cancelled are final (meeting.status-change). ${CHANGE}`,
    scope: WRITE,
    ifMatch: 'optional',
    body: meetingOutcomeRequestSchema,
    success: recorded(200, 'Recorded'),
    errors: WRITE_ERRORS,
  },
  {
    method: 'post',
    path: '/sip/plans/{id}/closure',
    summary: 'Close the plan',
    description: `A reason is required; a closed plan is read-only. Closed by a principal or a unit of one (403 for an other actor). ${CHANGE}`,
    scope: WRITE,
    ifMatch: 'optional',
    body: closureRequestSchema,
    success: recorded(201, 'Closed'),
    errors: WRITE_ERRORS,
  },
];

/** One route of the FHIR facade, described by its path and content type. */
interface FhirOperation {
  readonly method: 'get' | 'post' | 'put';
  readonly path: string;
  readonly summary: string;
  /** The SMART scope it needs; none for what carries no plan data. */
  readonly scope?: Scope;
  /** Takes a FHIR resource (a transaction Bundle, a resource to validate) as `application/fhir+json`. */
  readonly takesResource?: boolean;
  /** Takes search parameters as an `application/x-www-form-urlencoded` form (a search by POST). */
  readonly takesForm?: boolean;
  /** Answers 200 with a JSON document that is not a FHIR resource (SMART discovery), described so. */
  readonly answersJson?: string;
}

/**
 * The FHIR facade's routes. A route added to src/http/fhir-routes.ts gets its line here, or
 * test/http/openapi.test.ts fails naming it.
 */
export const FHIR_OPERATIONS: readonly FhirOperation[] = [
  { method: 'get', path: '/fhir/metadata', summary: 'The CapabilityStatement: the resource types, searches and SIP profiles supported' },
  {
    method: 'get',
    path: '/fhir/.well-known/smart-configuration',
    summary: "SMART discovery (application/json): the external issuer's token endpoint, the client credentials grant with private_key_jwt, the scopes; 404 when the server signs its own tokens (sip-fhir token)",
    answersJson: 'The SMART configuration (SMART App Launch 2.2, "Conformance"): token_endpoint, grant_types_supported, token_endpoint_auth_methods_supported, scopes_supported, capabilities',
  },
  { method: 'get', path: '/fhir/CarePlan', summary: 'Search the plans as a searchset Bundle (_id, identifier, patient, patient:identifier, status, date, _lastUpdated, _include, _revinclude, _sort, _count, _offset, _summary, _elements)', scope: READ },
  {
    method: 'post',
    path: '/fhir/CarePlan/_search',
    summary: 'The CarePlan search by POST: its parameters in an application/x-www-form-urlencoded body (and the URL), answered as GET /fhir/CarePlan',
    scope: READ,
    takesForm: true,
  },
  { method: 'get', path: '/fhir/{type}/{id}', summary: 'Read a resource of a plan, as the current version maps it', scope: READ },
  {
    method: 'get',
    path: '/fhir/{type}',
    summary: 'Search of another type by the person: patient, subject, their :identifier, _id (Patient: identifier, _id), as the CapabilityStatement lists them; 404 for a type no parameter of which names a person',
    scope: READ,
  },
  { method: 'post', path: '/fhir/{type}/_search', summary: 'The same search by POST, the parameters in a form body', scope: READ },
  {
    method: 'get',
    path: '/fhir/Patient/{id}/{operation}',
    summary: '$everything: every resource of the person’s plans the caller may be sent now, the Patient first, as a searchset (start, end, _type, _since, _count)',
    scope: READ,
  },
  { method: 'post', path: '/fhir/Patient/{id}/{operation}', summary: '$everything by POST, its parameters in a Parameters body', scope: READ, takesResource: true },
  // src/http/fhir-history-routes.ts
  { method: 'get', path: '/fhir/{type}/{id}/_history', summary: 'The versions of a resource, newest first, as a history Bundle (_count, _since, _at; the next and previous links page on)', scope: READ },
  { method: 'get', path: '/fhir/{type}/{id}/_history/{vid}', summary: 'vread: a resource as a version of its plan maps it', scope: READ },
  { method: 'get', path: '/fhir/{type}/_history', summary: 'History of a whole type other than CarePlan: 404, not supported' },
  // src/http/fhir-type-history.ts
  { method: 'get', path: '/fhir/_history', summary: 'History of the whole system: 404, not supported (every plan version is in /fhir/CarePlan/_history)' },
  {
    method: 'get',
    path: '/fhir/CarePlan/_history',
    summary: 'The versions of every plan the caller may be sent, newest first, each its CarePlan, as a history Bundle (_count, _since; the next link pages on)',
    scope: READ,
  },
  // src/http/audit-event-routes.ts
  { method: 'get', path: '/fhir/AuditEvent', summary: 'Search the audit log as AuditEvents, newest first, with Bundle.total (patient, patient:identifier, agent, agent:identifier, altid, date, _count, _total)', scope: READ_AUDIT },
  {
    method: 'post',
    path: '/fhir/AuditEvent/_search',
    summary: 'The AuditEvent search by POST: its parameters in an application/x-www-form-urlencoded body (and the URL), answered as GET /fhir/AuditEvent',
    scope: READ_AUDIT,
    takesForm: true,
  },
  { method: 'get', path: '/fhir/AuditEvent/{id}', summary: 'Read one entry of the audit log as an AuditEvent', scope: READ_AUDIT },
  // src/http/fhir-write-routes.ts
  {
    method: 'post',
    path: '/fhir',
    summary: 'A transaction Bundle holding one SIP: validated against the SIP profiles, read and ruled, recorded as one version (a replay records nothing); answered with a transaction-response',
    scope: WRITE,
    takesResource: true,
  },
  { method: 'post', path: '/fhir/{operation}', summary: '$validate of a resource or a Parameters with one (any other operation: 405); 200 with the OperationOutcome', scope: READ, takesResource: true },
  { method: 'post', path: '/fhir/{type}/{operation}', summary: '$validate of a resource of that type; 200 with the OperationOutcome', scope: READ, takesResource: true },
];

/** Routes of the service itself, outside both APIs; none needs a token. */
export const SERVICE_OPERATIONS: readonly { readonly path: string; readonly summary: string; readonly contentType: string }[] = [
  { path: '/health', summary: 'Liveness', contentType: 'application/json' },
  { path: '/openapi.json', summary: 'This document', contentType: 'application/json' },
  { path: '/docs', summary: 'This document as a page to read', contentType: 'text/html' },
];

const PATH_PARAMETERS: Readonly<Record<string, string>> = {
  id: 'The plan id',
  version: 'A version number of the plan, from 1',
  consentId: 'The id of a consent of the plan',
  meetingId: 'The id of a meeting of the plan',
  party: 'The invitee: "individual", or the id the plan gives the professional, unit, principal, other actor or related person invited',
  type: 'A FHIR resource type the mapping writes (see metadata)',
  operation: 'The FHIR operation: `$validate`',
  vid: 'A version of the resource: the version of its plan it was mapped from (meta.versionId)',
  mapping: 'The name of a municipal system’s mapping (mappings/<name>): `modern-case-api` (JSON) or `legacy-xml-export` (XML) as shipped',
};

function pathParameters(path: string): JsonObject[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map(([, name = '']) => ({
    name,
    in: 'path',
    required: true,
    description: PATH_PARAMETERS[name] ?? name,
    schema: { type: 'string' },
  }));
}

/** Each property of a query schema as a query parameter, its description moved to the parameter. */
function queryParameters(query: z.ZodObject): JsonObject[] {
  const schema = z.toJSONSchema(query, { target: 'draft-2020-12', io: 'input' }) as { properties?: Record<string, JsonObject>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, { description, ...property }]) => ({
    name,
    in: 'query',
    required: schema.required?.includes(name) ?? false,
    ...(typeof description === 'string' ? { description } : {}),
    schema: property,
  }));
}

const problemResponse = (status: number): JsonObject => ({
  description: `${STATUS_CODES[status] ?? 'Error'}: a problem document (RFC 9457)${status === 422 ? ' naming every rule broken, with its code and JSON pointer' : ''}`,
  content: { 'application/problem+json': { schema: ref('ProblemDocument') } },
});

const ETAG_HEADER = { ETag: { description: 'The version, `W/"n"`: name it in `If-Match` to change the plan', schema: { type: 'string' } } };

function sipOperation(operation: SipOperation): JsonObject {
  const { success } = operation;
  const headers = { ...(success.etag === true ? ETAG_HEADER : {}), ...(success.location === true ? { Location: { description: 'The path of the new plan', schema: { type: 'string' } } } : {}) };
  const errors = [...new Set([...operation.errors, 401, 403, 429])].sort((a, b) => a - b);
  return {
    tags: ['SIP plans'],
    summary: operation.summary,
    ...(operation.description === undefined ? {} : { description: operation.description }),
    operationId: `${operation.method}${operation.path.replace(/\{([^}]+)\}/g, 'By-$1').replace(/[^A-Za-z0-9]+(.)?/g, (_match, next: string | undefined) => (next ?? '').toUpperCase())}`,
    security: [{ bearer: [operation.scope] }],
    parameters: [
      ...pathParameters(operation.path),
      ...(operation.query === undefined ? [] : queryParameters(operation.query)),
      ...(operation.ifMatch === undefined
        ? []
        : [{ name: 'If-Match', in: 'header', required: operation.ifMatch === 'required', description: 'The version changed, as its ETag `W/"n"`', schema: { type: 'string' } }]),
    ],
    ...(operation.body === undefined ? {} : { requestBody: { required: true, content: { 'application/json': { schema: ref(nameOf(operation.body)) } } } }),
    responses: {
      [String(success.status)]: {
        description: success.description,
        ...(Object.keys(headers).length === 0 ? {} : { headers }),
        ...(success.schema === undefined ? {} : { content: { 'application/json': { schema: ref(nameOf(success.schema)) } } }),
      },
      ...Object.fromEntries(errors.map((status) => [String(status), problemResponse(status)])),
    },
  };
}

const FHIR_JSON = 'application/fhir+json';

function fhirOperation(operation: FhirOperation): JsonObject {
  return {
    tags: ['FHIR R4 facade'],
    summary: operation.summary,
    operationId: `fhir${operation.method}${operation.path.replace(/^\/fhir/, '').replace(/[^A-Za-z0-9]+(.)?/g, (_match, next: string | undefined) => (next ?? '').toUpperCase())}`,
    ...(operation.scope === undefined ? { security: [] } : { security: [{ bearer: [operation.scope] }] }),
    parameters: pathParameters(operation.path),
    ...(operation.takesResource === true ? { requestBody: { required: true, content: { [FHIR_JSON]: { schema: ref('FhirResource') } } } } : {}),
    ...(operation.takesForm === true
      ? { requestBody: { required: false, content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', additionalProperties: { type: 'string' } } } } } }
      : {}),
    responses: {
      '200':
        operation.answersJson === undefined
          ? { description: 'A FHIR R4 resource', content: { [FHIR_JSON]: { schema: ref('FhirResource') } } }
          : { description: operation.answersJson, content: { 'application/json': { schema: { type: 'object' } } } },
      default: { description: 'An error: an OperationOutcome (400, 401, 403, 404, 422, 429 …)', content: { [FHIR_JSON]: { schema: ref('OperationOutcome') } } },
    },
  };
}

/** The municipal inbound path (src/http/inbound-routes.ts). */
export const INBOUND_OPERATIONS: readonly { readonly path: string; readonly summary: string; readonly description: string }[] = [
  {
    path: '/exchange/inbound/{mapping}',
    summary: 'A municipal system’s export in its own format, translated by its mapping and recorded as a plan version',
    description: [
      'The body is the export as the system writes it: `application/json` for a mapping of format `json`, `application/xml` or `text/xml` for `xml` (415 otherwise).',
      'It is translated by the mapping (mappings/README.md), checked against the SIP rules, mapped to FHIR and validated against the SIP profiles, then recorded as `POST /fhir` records a plan:',
      'version 1 (201) when the plan is new here, the next version (200) when it states something new, nothing (200, `unchanged`) when it states what the current version states, so a replay creates nothing.',
      'An approval in a new plan of a revision the adapter never had is left out and reported. `If-Match` (optional) names the version the export changes (412 otherwise).',
      'The answer is an OperationOutcome: its first issue (information) says what was accepted — `details.coding[0].code` `created`, `updated` or `unchanged`, `location[0]` the recorded CarePlan version (`/fhir/CarePlan/{id}/_history/{n}`) —',
      'then every warning and loss note of the mapping. A refusal lists every problem: `details.coding[0].code` its stable code (a SIP rule’s in the rules’ code system, `mapping.*` and `source.*` of the mapping),',
      '`location` where it stands — the JSON pointer or the XML element path (`Export/Organisationer/Huvudman[2]/@_typ`) in the export, then `line n[, column m]`; a plan problem the mapping does not trace to the export as `plan <JSON pointer>`.',
      '400: not well-formed JSON or XML (line and column); 404: no such mapping; 413: over SIP_MAX_BODY; 422: a mapping, rule or profile error. The caller’s organisation must be a party with access to the plan (403 otherwise); every call is in the audit log.',
    ].join(' '),
  },
];

function inboundOperation(operation: (typeof INBOUND_OPERATIONS)[number]): JsonObject {
  const outcome = { [FHIR_JSON]: { schema: ref('OperationOutcome') } };
  const refusal = (text: string): JsonObject => ({ description: `${text}: an OperationOutcome`, content: outcome });
  return {
    tags: ['Exchange'],
    summary: operation.summary,
    description: operation.description,
    operationId: 'postExchangeInboundByMapping',
    security: [{ bearer: [WRITE] }],
    parameters: [
      ...pathParameters(operation.path),
      { name: 'If-Match', in: 'header', required: false, description: 'The version the export changes, as its ETag `W/"n"`', schema: { type: 'string' } },
    ],
    requestBody: {
      required: true,
      content: {
        'application/json': { schema: { type: 'object', description: 'An export of a mapping of format json' } },
        'application/xml': { schema: { type: 'string', description: 'An export of a mapping of format xml' } },
        'text/xml': { schema: { type: 'string', description: 'An export of a mapping of format xml' } },
      },
    },
    responses: {
      '201': {
        description: 'A plan new to the adapter, recorded as version 1',
        headers: { ...ETAG_HEADER, Location: { description: 'The recorded CarePlan version on the FHIR facade', schema: { type: 'string' } } },
        content: outcome,
      },
      '200': {
        description: 'The next version recorded (`updated`), or nothing because the export states what the current version states (`unchanged`)',
        headers: { ...ETAG_HEADER, 'Content-Location': { description: 'The CarePlan version on the FHIR facade', schema: { type: 'string' } } },
        content: outcome,
      },
      '400': refusal('Not well-formed JSON or XML, named by line and column; or a malformed If-Match'),
      '401': refusal('No valid bearer token'),
      '403': refusal('The token’s scopes do not allow the write, or the caller’s organisation may not write this plan'),
      '404': refusal('No mapping of that name'),
      '409': refusal('The plan was changed by other writes all the while; send it again'),
      '412': refusal('If-Match names another version than the current one'),
      '413': refusal('The body is larger than SIP_MAX_BODY'),
      '415': refusal('A media type the mapping does not take'),
      '422': refusal('A mapping error, a SIP rule broken, or a FHIR view that breaks the SIP profiles: every problem with its location'),
      '429': refusal('Too many requests'),
    },
  };
}

function serviceOperation(operation: (typeof SERVICE_OPERATIONS)[number]): JsonObject {
  return {
    tags: ['Service'],
    summary: operation.summary,
    operationId: `get${operation.path.replace(/[^A-Za-z0-9]+(.)?/g, (_match, next: string | undefined) => (next ?? '').toUpperCase())}`,
    security: [],
    responses: { '200': { description: operation.summary, content: { [operation.contentType]: { schema: { type: operation.contentType === 'text/html' ? 'string' : 'object' } } } } },
  };
}

/** The outbox for operators (src/http/delivery-routes.ts): a valid token of an organisation listed in SIP_OPERATORS. */
const EXCHANGE_OPERATIONS: readonly {
  readonly method: 'get' | 'post';
  readonly path: string;
  readonly summary: string;
  readonly query?: readonly string[];
  readonly body?: JsonObject;
}[] = [
  { method: 'get', path: '/exchange/deliveries', summary: 'List deliveries by id (state, receiver, plan, after, limit); operators only (SIP_OPERATORS)', query: ['state', 'receiver', 'plan', 'after', 'limit'] },
  { method: 'get', path: '/exchange/deliveries/{id}', summary: "One delivery: its state, attempts and the receiver's last answer; operators only" },
  { method: 'post', path: '/exchange/deliveries/{id}/retry', summary: 'Put a dead letter back to pending, attempts reset (409 for any other state); operators only; no body' },
  {
    method: 'post',
    path: '/exchange/deliveries/{id}/skip',
    summary:
      'Give up a dead letter for good (state skipped, final), so later versions to the same receiver may go; the reason is required and audited with who skipped it (409 for any other state); operators only',
    body: {
      type: 'object',
      required: ['reason'],
      additionalProperties: false,
      properties: { reason: { type: 'string', minLength: 1, maxLength: 1000, description: 'Why this version is given up' } },
    },
  },
];

function exchangeOperation(operation: (typeof EXCHANGE_OPERATIONS)[number]): JsonObject {
  return {
    tags: ['Exchange'],
    summary: operation.summary,
    operationId: `${operation.method}${operation.path.replace(/[^A-Za-z0-9]+(.)?/g, (_match, next: string | undefined) => (next ?? '').toUpperCase())}`,
    security: [{ bearer: [] }],
    parameters: [...pathParameters(operation.path), ...(operation.query ?? []).map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } }))],
    ...(operation.body === undefined ? {} : { requestBody: { required: true, content: { 'application/json': { schema: operation.body } } } }),
    responses: {
      '200': { description: operation.summary, content: { 'application/json': { schema: { type: 'object' } } } },
      ...Object.fromEntries([400, 401, 403, 404, 409].map((status) => [String(status), problemResponse(status)])),
    },
  };
}

const SECURITY_DESCRIPTION = [
  'An OAuth2 bearer token (a JWT), as SMART Backend Services callers use: `system/CarePlan.read` reads and searches, `system/CarePlan.write` changes',
  '(`system/*.read`, `system/*.*` and the SMART v2 letters `system/CarePlan.rs`, `system/*.cruds` too). The calling organisation is the HSA-id in the token;',
  'it sees and changes only plans where it is a principal (or a unit of one) or a party the consent covers. `system/AuditEvent.read` reads the audit log',
  '(`/fhir/AuditEvent`): an organisation sees its own entries and, as a principal of a plan, every entry about it. Without a configured issuer, the server',
  'accepts only tokens it signed: `npx sip-fhir token --org <HSA-id> --scope "system/*.*"`.',
].join(' ');

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
}

/** Adds `operation` at `path` and `method`, refusing a second one there. */
function addOperation(paths: Record<string, Record<string, JsonObject>>, path: string, method: string, operation: JsonObject): void {
  const item = (paths[path] ??= {});
  if (item[method] !== undefined) throw new Error(`The OpenAPI document lists ${method.toUpperCase()} ${path} twice`);
  item[method] = operation;
}

/** The OpenAPI 3.1 document of the service. */
export function openApiDocument(): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const operation of SIP_OPERATIONS) addOperation(paths, operation.path, operation.method, sipOperation(operation));
  for (const operation of FHIR_OPERATIONS) addOperation(paths, operation.path, operation.method, fhirOperation(operation));
  for (const operation of INBOUND_OPERATIONS) addOperation(paths, operation.path, 'post', inboundOperation(operation));
  for (const operation of SERVICE_OPERATIONS) addOperation(paths, operation.path, 'get', serviceOperation(operation));
  for (const operation of EXCHANGE_OPERATIONS) addOperation(paths, operation.path, operation.method, exchangeOperation(operation));
  return {
    openapi: '3.1.1',
    info: {
      title: 'sip-fhir-adapter',
      version: packageVersion(),
      summary: 'Swedish coordinated individual plans (SIP) as a JSON API and as FHIR R4, with the person’s consent enforced',
      description:
        'The SIP JSON API under `/sip` records plans as the SIP model has them, each change an immutable version; errors are `application/problem+json` (RFC 9457) with the SIP rule problems (code, JSON pointer, message, source). The FHIR R4 facade under `/fhir` serves the same plans as the mapping writes them (`application/fhir+json`; errors are OperationOutcome). Consent is judged at the moment data leaves: an answer that would carry a plan whose consent does not allow sending it now is 403 naming the rule.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/', description: 'This server' }],
    tags: [
      { name: 'SIP plans', description: 'The SIP JSON API: plans, their versions, approvals, consents, meetings and closure' },
      { name: 'FHIR R4 facade', description: 'The plans as FHIR R4 resources (https://hl7.org/fhir/R4/), validated against the SIP profiles' },
      { name: 'Exchange', description: 'Municipal systems’ exports in their own formats, through the mappings (mappings/), and the outbox of deliveries to receivers, for the operators listed in SIP_OPERATORS' },
      { name: 'Service', description: 'The service itself; no token needed' },
    ],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: SECURITY_DESCRIPTION } },
      schemas: {
        ...componentSchemas(),
        FhirResource: {
          type: 'object',
          description: 'A FHIR R4 resource (https://hl7.org/fhir/R4/resourcelist.html): a CapabilityStatement, a resource of a plan, or a Bundle',
          required: ['resourceType'],
          properties: { resourceType: { type: 'string' } },
        },
        OperationOutcome: {
          type: 'object',
          description: 'https://hl7.org/fhir/R4/operationoutcome.html',
          required: ['resourceType', 'issue'],
          properties: { resourceType: { const: 'OperationOutcome' }, issue: { type: 'array', items: { type: 'object', required: ['severity', 'code'] } } },
        },
      },
    },
  };
}
