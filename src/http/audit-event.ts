/**
 * The audit log as FHIR R4 AuditEvent resources (https://hl7.org/fhir/R4/auditevent.html): one
 * AuditEvent per entry of the log, made when it is asked for, with the entry's stable id as its id.
 * Nothing is added that the entry does not hold, and nothing it holds is left out:
 *
 * | AuditEntry | AuditEvent |
 * |---|---|
 * | (every entry is a REST call) | `type` audit-event-type `rest` |
 * | `action` and `what` | `subtype` restful-interaction (`read`, `vread`, `history-instance`, `search-type`, `create`, `update`, `delete`, `operation`) and `action` C/R/U/D/E |
 * | `at` | `recorded` (and `meta.lastUpdated`: an entry never changes) |
 * | `outcome`, `detail` | `outcome` 0 (success), 4 (refused, or failed with a 4xx), 8 (failed with a 5xx); `outcomeDesc` |
 * | `organization`, `agent` | `agent[0]`: `who.identifier` the HSA-id (`urn:oid:1.2.752.29.4.19`), `altId` the token's subject, `requestor` true |
 * | `planId` | an `entity` System Object, Domain Resource, `what.identifier` the plan's identifier |
 * | `personIdentifier` | an `entity` Person, Patient, `what.identifier` the person's number |
 * | `what` | an `entity` System Object (Query for a search) whose `description` is the request line |
 * | (the adapter) | `source.observer` the adapter, `source.type` 4 Application Server |
 * | (all of it) | `text`: one line, at, organisation (agent), request line, outcome |
 *
 * Every code and display below is one of HL7's R4 CodeSystems in `hl7.fhir.r4.examples`; a test
 * (test/http/audit-event.test.ts) checks each against the package and validates the AuditEvents
 * against base R4.
 */
import type { AuditEvent, AuditEventAgent, AuditEventEntity, CapabilityStatementRestResource, Coding } from 'fhir/r4.js';
import { IDENTIFIER_SYSTEM } from '../fhir/index.js';
import { hsaIdSchema, personnummerSchema, samordningsnummerSchema } from '../sip/index.js';
import type { AuditEntry, RecordedAuditEntry } from '../store/plan-store.js';

/** The name the adapter goes by as the observer of every event (`AuditEvent.source.observer`). */
export const AUDIT_OBSERVER = 'sip-fhir-adapter';

/** HL7's R4 code systems an AuditEvent of the adapter uses. */
export const AUDIT_SYSTEM = {
  type: 'http://terminology.hl7.org/CodeSystem/audit-event-type',
  subtype: 'http://hl7.org/fhir/restful-interaction',
  action: 'http://hl7.org/fhir/audit-event-action',
  outcome: 'http://hl7.org/fhir/audit-event-outcome',
  sourceType: 'http://terminology.hl7.org/CodeSystem/security-source-type',
  entityType: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
  entityRole: 'http://terminology.hl7.org/CodeSystem/object-role',
} as const;

type Coded = Coding & { system: string; code: string; display: string };
const coding = (system: string, code: string, display: string): Coded => ({ system, code, display });

/** The codes the mapping writes, with HL7's displays (https://hl7.org/fhir/R4/valueset-audit-event-type.html and the others named). */
export const AUDIT_CODING = {
  rest: coding(AUDIT_SYSTEM.type, 'rest', 'RESTful Operation'),
  applicationServer: coding(AUDIT_SYSTEM.sourceType, '4', 'Application Server'),
  person: coding(AUDIT_SYSTEM.entityType, '1', 'Person'),
  systemObject: coding(AUDIT_SYSTEM.entityType, '2', 'System Object'),
  patient: coding(AUDIT_SYSTEM.entityRole, '1', 'Patient'),
  domainResource: coding(AUDIT_SYSTEM.entityRole, '4', 'Domain Resource'),
  query: coding(AUDIT_SYSTEM.entityRole, '24', 'Query'),
} as const;

/** `AuditEvent.subtype` codes of http://hl7.org/fhir/restful-interaction (display = code in R4). */
export type RestfulInteraction = 'read' | 'vread' | 'history-instance' | 'search-type' | 'create' | 'update' | 'delete' | 'operation';

/** `AuditEvent.action` (https://hl7.org/fhir/R4/valueset-audit-event-action.html): a search is E, "perform a query/search operation". */
export const AUDIT_ACTION: Readonly<Record<AuditEntry['action'], NonNullable<AuditEvent['action']>>> = {
  create: 'C',
  read: 'R',
  update: 'U',
  delete: 'D',
  search: 'E',
  execute: 'E',
};

/**
 * The restful interaction of an entry: its action, refined by the request line for the reads of a
 * version (`…/_history/{vid}`, vread) and of the history (`…/_history`, history-instance).
 */
export function restfulInteraction(entry: Pick<AuditEntry, 'action' | 'what'>): RestfulInteraction {
  switch (entry.action) {
    case 'read': {
      const path = entry.what.replace(/^\S+\s+/, '').replace(/\?.*$/, '');
      if (/\/_history\/[^/]+$/.test(path)) return 'vread';
      if (/\/_history$/.test(path)) return 'history-instance';
      return 'read';
    }
    case 'search':
      return 'search-type';
    case 'execute':
      return 'operation';
    default:
      return entry.action;
  }
}

/**
 * `AuditEvent.outcome` (https://hl7.org/fhir/R4/valueset-audit-event-outcome.html): 0 success; 4 "minor
 * failure (often equivalent to an HTTP 400 response)" for a refusal and for a failure the caller
 * caused; 8 "serious failure (often equivalent to an HTTP 500 response)" for a fault of the server.
 */
export function auditOutcome(entry: Pick<AuditEntry, 'outcome' | 'detail'>): NonNullable<AuditEvent['outcome']> {
  if (entry.outcome === 'success') return '0';
  if (entry.outcome === 'refused') return '4';
  const status = Number(entry.detail);
  return Number.isInteger(status) && status >= 500 ? '8' : '4';
}

/** The FHIR identifier system of a person's number the log holds (only its value): personnummer, samordningsnummer, or none known (a reservnummer). */
export function personSystem(value: string): string | undefined {
  if (personnummerSchema.safeParse(value).success) return IDENTIFIER_SYSTEM.personnummer;
  if (samordningsnummerSchema.safeParse(value).success) return IDENTIFIER_SYSTEM.samordningsnummer;
  return undefined;
}

function agentOf(entry: AuditEntry): AuditEventAgent {
  // `anonymous` (no valid token) and `unauthenticated` (auth disabled) are not HSA-ids.
  const who = hsaIdSchema.safeParse(entry.organization).success ? { identifier: { system: IDENTIFIER_SYSTEM.hsaId, value: entry.organization } } : { display: entry.organization };
  return { who, ...(entry.agent === undefined ? {} : { altId: entry.agent }), requestor: true };
}

function entitiesOf(entry: AuditEntry, interaction: RestfulInteraction): AuditEventEntity[] {
  const entities: AuditEventEntity[] = [];
  if (entry.planId !== undefined) {
    entities.push({ what: { identifier: { system: IDENTIFIER_SYSTEM.sipPlan, value: entry.planId } }, type: AUDIT_CODING.systemObject, role: AUDIT_CODING.domainResource });
  }
  if (entry.personIdentifier !== undefined) {
    const system = personSystem(entry.personIdentifier);
    entities.push({
      what: { identifier: { ...(system === undefined ? {} : { system }), value: entry.personIdentifier } },
      type: AUDIT_CODING.person,
      role: AUDIT_CODING.patient,
    });
  }
  entities.push({ type: AUDIT_CODING.systemObject, ...(interaction === 'search-type' ? { role: AUDIT_CODING.query } : {}), description: entry.what });
  return entities;
}

const XHTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const escapeXhtml = (text: string): string => text.replace(/[&<>"]/g, (character) => XHTML_ESCAPES[character] ?? character);

/** The narrative (dom-6): who did what, when, and how it ended, in one line. */
function narrative(entry: RecordedAuditEntry): string {
  const who = entry.agent === undefined ? entry.organization : `${entry.organization} (${entry.agent})`;
  const outcome = `${entry.outcome}${entry.detail === undefined ? '' : ` (HTTP ${entry.detail})`}`;
  return `<div xmlns="http://www.w3.org/1999/xhtml"><p>${escapeXhtml(`${entry.at}: ${who} ${entry.what}: ${outcome}`)}</p></div>`;
}

/** The AuditEvent of one entry of the audit log. */
export function auditEventOf(entry: RecordedAuditEntry): AuditEvent {
  const interaction = restfulInteraction(entry);
  return {
    resourceType: 'AuditEvent',
    id: entry.id,
    meta: { versionId: '1', lastUpdated: entry.at },
    text: { status: 'generated', div: narrative(entry) },
    type: AUDIT_CODING.rest,
    subtype: [{ system: AUDIT_SYSTEM.subtype, code: interaction, display: interaction }],
    action: AUDIT_ACTION[entry.action],
    recorded: entry.at,
    outcome: auditOutcome(entry),
    outcomeDesc: `${entry.outcome}${entry.detail === undefined ? '' : ` (HTTP ${entry.detail})`}`,
    agent: [agentOf(entry)],
    source: { observer: { display: AUDIT_OBSERVER }, type: [AUDIT_CODING.applicationServer] },
    entity: entitiesOf(entry, interaction),
  };
}

/** The search parameters of `GET /fhir/AuditEvent`, for the CapabilityStatement and the route. */
export const AUDIT_SEARCH_PARAMS = {
  patient: 'http://hl7.org/fhir/SearchParameter/AuditEvent-patient',
  agent: 'http://hl7.org/fhir/SearchParameter/AuditEvent-agent',
  altid: 'http://hl7.org/fhir/SearchParameter/AuditEvent-altid',
  date: 'http://hl7.org/fhir/SearchParameter/AuditEvent-date',
} as const;

/** Most AuditEvents a page holds, and how many when `_count` is not given. */
export const AUDIT_MAX_COUNT = 500;
export const AUDIT_DEFAULT_COUNT = 100;

/** What the CapabilityStatement says of AuditEvent. */
export function auditEventCapability(): CapabilityStatementRestResource {
  return {
    type: 'AuditEvent',
    documentation:
      'The audit log (Patientdatalagen 4 kap. 3 §), read only. Needs system/AuditEvent.read (or .rs, or system/*.read); an organisation sees the entries it made and, as a principal of a plan, every entry about that plan or naming only its person.',
    interaction: [
      { code: 'read' },
      {
        code: 'search-type',
        documentation: `Bundle.total is the number of matches on all pages; _total=none leaves it out, _total=estimate and _total=accurate (the default) give it exactly. Pages are newest first, _count a page (default ${String(AUDIT_DEFAULT_COUNT)}, at most ${String(AUDIT_MAX_COUNT)}); the link "next" leads on.`,
      },
    ],
    versioning: 'no-version',
    readHistory: false,
    searchParam: [
      { name: 'patient', type: 'reference', definition: AUDIT_SEARCH_PARAMS.patient, documentation: 'Patient/<id> of the facade, or patient:identifier=<system>|<personnummer …>' },
      { name: 'agent', type: 'reference', definition: AUDIT_SEARCH_PARAMS.agent, documentation: 'agent:identifier=urn:oid:1.2.752.29.4.19|<HSA-id>, or agent=<HSA-id>: the calling organisation' },
      { name: 'altid', type: 'token', definition: AUDIT_SEARCH_PARAMS.altid, documentation: 'The calling user or system, as its token named it (sub)' },
      { name: 'date', type: 'date', definition: AUDIT_SEARCH_PARAMS.date, documentation: 'When recorded; prefixes eq, ge, gt, le, lt; give it twice for a period; a date without a time zone is read in Europe/Stockholm' },
      { name: '_count', type: 'number', documentation: `AuditEvents a page holds: default ${String(AUDIT_DEFAULT_COUNT)}, at most ${String(AUDIT_MAX_COUNT)}; newest first, the next page is the link "next"` },
      { name: '_total', type: 'token', documentation: 'accurate or estimate: Bundle.total, the number of matches on all pages (an estimate is that number too); none: left out. Without it, Bundle.total only on a first page with no next page, and with _count=0' },
    ],
  };
}
