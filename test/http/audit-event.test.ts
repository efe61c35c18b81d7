/**
 * Audit entries as FHIR R4 AuditEvent (src/http/audit-event.ts): one entry mapped in full, written
 * out by hand from https://hl7.org/fhir/R4/auditevent.html; how each action, request and outcome is
 * coded; every code checked against HL7's own R4 CodeSystems and SearchParameters in
 * `hl7.fhir.r4.examples`; and the AuditEvents validated against base R4 by the project's validator.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { CodeSystem, CodeSystemConcept, SearchParameter } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { AUDIT_ACTION, AUDIT_CODING, AUDIT_SEARCH_PARAMS, AUDIT_SYSTEM, auditEventCapability, auditEventOf } from '../../src/http/audit-event.js';
import type { AuditEntry, RecordedAuditEntry } from '../../src/store/index.js';
import { createValidator } from '../../src/validation/index.js';

const R4_PACKAGE = join(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'), '..');

/** HL7's R4 CodeSystems by canonical URL: code → display. */
const codeSystems = (() => {
  const byUrl = new Map<string, Map<string, string>>();
  for (const file of readdirSync(R4_PACKAGE).filter((name) => name.startsWith('CodeSystem-') && name.endsWith('.json'))) {
    const codeSystem = JSON.parse(readFileSync(join(R4_PACKAGE, file), 'utf8')) as CodeSystem;
    const codes = new Map<string, string>();
    const walk = (concepts: readonly CodeSystemConcept[] | undefined): void => {
      for (const concept of concepts ?? []) {
        codes.set(concept.code, concept.display ?? '');
        walk(concept.concept);
      }
    };
    walk(codeSystem.concept);
    if (codeSystem.url !== undefined) byUrl.set(codeSystem.url, codes);
  }
  return byUrl;
})();

const ENTRY: RecordedAuditEntry = {
  id: '42',
  at: '2026-04-01T08:00:00.000Z',
  organization: 'SE2321000180-1000',
  agent: 'kurator@falun',
  planId: 'sip-falun-2026-0142',
  personIdentifier: '198503141239',
  action: 'read',
  what: 'GET /fhir/Goal/6f0c5a8e-0000-5000-8000-000000000001/_history/2',
  outcome: 'success',
  detail: '200',
};

describe('auditEventOf', () => {
  it('maps an entry to an AuditEvent holding all of it', () => {
    expect(auditEventOf(ENTRY)).toEqual({
      resourceType: 'AuditEvent',
      id: '42',
      meta: { versionId: '1', lastUpdated: '2026-04-01T08:00:00.000Z' },
      text: {
        status: 'generated',
        div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>2026-04-01T08:00:00.000Z: SE2321000180-1000 (kurator@falun) GET /fhir/Goal/6f0c5a8e-0000-5000-8000-000000000001/_history/2: success (HTTP 200)</p></div>',
      },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
      subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'vread', display: 'vread' }],
      action: 'R',
      recorded: '2026-04-01T08:00:00.000Z',
      outcome: '0',
      outcomeDesc: 'success (HTTP 200)',
      agent: [{ who: { identifier: { system: 'urn:oid:1.2.752.29.4.19', value: 'SE2321000180-1000' } }, altId: 'kurator@falun', requestor: true }],
      source: { observer: { display: 'sip-fhir-adapter' }, type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }] },
      entity: [
        {
          what: { identifier: { system: 'http://sip-fhir-adapter.se/fhir/sid/sip-plan', value: 'sip-falun-2026-0142' } },
          type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
          role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '4', display: 'Domain Resource' },
        },
        {
          what: { identifier: { system: 'http://electronichealth.se/identifier/personnummer', value: '198503141239' } },
          type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
          role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
        },
        {
          type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
          description: 'GET /fhir/Goal/6f0c5a8e-0000-5000-8000-000000000001/_history/2',
        },
      ],
    });
  });

  it('codes each action and request as the restful interaction and action it was', () => {
    const coded = (action: AuditEntry['action'], what: string) => {
      const event = auditEventOf({ ...ENTRY, action, what });
      return [event.subtype?.[0]?.code, event.action];
    };
    expect(coded('read', 'GET /fhir/CarePlan/abc')).toEqual(['read', 'R']);
    expect(coded('read', 'GET /fhir/CarePlan/abc/_history/3')).toEqual(['vread', 'R']);
    expect(coded('read', 'GET /fhir/CarePlan/abc/_history')).toEqual(['history-instance', 'R']);
    expect(coded('read', 'GET /sip/plans/sip-falun-2026-0142/_history')).toEqual(['history-instance', 'R']);
    expect(coded('search', 'GET /fhir/CarePlan')).toEqual(['search-type', 'E']);
    expect(coded('create', 'POST /sip/plans')).toEqual(['create', 'C']);
    expect(coded('update', 'PUT /sip/plans/sip-falun-2026-0142')).toEqual(['update', 'U']);
    expect(coded('delete', 'DELETE /sip/plans/sip-falun-2026-0142')).toEqual(['delete', 'D']);
    expect(coded('execute', 'POST /fhir/CarePlan/$validate')).toEqual(['operation', 'E']);
    // A search's request is the query it ran.
    expect(auditEventOf({ ...ENTRY, action: 'search', what: 'GET /fhir/CarePlan' }).entity?.at(-1)?.role).toEqual(AUDIT_CODING.query);
  });

  it('codes the outcome: 0 success, 4 refused or a failure the caller caused, 8 a fault of the server', () => {
    const outcome = (entry: Partial<AuditEntry>) => {
      const event = auditEventOf({ ...ENTRY, ...entry });
      return [event.outcome, event.outcomeDesc];
    };
    expect(outcome({ outcome: 'success', detail: '201' })).toEqual(['0', 'success (HTTP 201)']);
    expect(outcome({ outcome: 'refused', detail: '403' })).toEqual(['4', 'refused (HTTP 403)']);
    expect(outcome({ outcome: 'failed', detail: '422' })).toEqual(['4', 'failed (HTTP 422)']);
    expect(outcome({ outcome: 'failed', detail: '500' })).toEqual(['8', 'failed (HTTP 500)']);
    const { detail: _detail, ...withoutDetail } = ENTRY;
    expect(auditEventOf({ ...withoutDetail, outcome: 'failed' })).toMatchObject({ outcome: '4', outcomeDesc: 'failed' });
  });

  it('names a caller without a token by its placeholder, without an identifier, and leaves out what the entry does not hold', () => {
    const event = auditEventOf({ id: '7', at: '2026-04-01T08:00:00.000Z', organization: 'anonymous', action: 'search', what: 'GET /fhir/CarePlan', outcome: 'refused', detail: '401' });
    expect(event.agent).toEqual([{ who: { display: 'anonymous' }, requestor: true }]);
    expect(event.entity).toEqual([{ type: AUDIT_CODING.systemObject, role: AUDIT_CODING.query, description: 'GET /fhir/CarePlan' }]);
  });

  it('gives the person the samordningsnummer system for a samordningsnummer, and no system for a number it cannot tell', () => {
    const person = (personIdentifier: string) => auditEventOf({ ...ENTRY, personIdentifier }).entity?.[1]?.what?.identifier;
    expect(person('198503741236')).toEqual({ system: 'http://electronichealth.se/identifier/samordningsnummer', value: '198503741236' });
    expect(person('RES-2026-0001')).toEqual({ value: 'RES-2026-0001' });
  });

  it('escapes the request line in the narrative', () => {
    expect(auditEventOf({ ...ENTRY, what: 'GET /fhir/<script>&"' }).text?.div).toContain('GET /fhir/&lt;script&gt;&amp;&quot;');
  });
});

describe('the codes of the AuditEvents', () => {
  it('are codes of HL7’s R4 CodeSystems, with their displays', () => {
    const codings = [...Object.values(AUDIT_CODING)];
    expect(codings.length).toBeGreaterThan(0);
    for (const coding of codings) expect(codeSystems.get(coding.system)?.get(coding.code), `${coding.system}|${coding.code}`).toBe(coding.display);
    for (const code of ['read', 'vread', 'history-instance', 'search-type', 'create', 'update', 'delete', 'operation']) {
      expect(codeSystems.get(AUDIT_SYSTEM.subtype)?.get(code), code).toBe(code);
    }
    for (const code of Object.values(AUDIT_ACTION)) expect(codeSystems.get(AUDIT_SYSTEM.action)?.has(code), code).toBe(true);
    for (const code of ['0', '4', '8']) expect(codeSystems.get(AUDIT_SYSTEM.outcome)?.has(code), code).toBe(true);
  });

  it('name search parameters HL7 defines for AuditEvent, with the type given', () => {
    const capability = auditEventCapability();
    for (const [name, url] of Object.entries(AUDIT_SEARCH_PARAMS)) {
      const definition = JSON.parse(readFileSync(join(R4_PACKAGE, `SearchParameter-${url.slice(url.lastIndexOf('/') + 1)}.json`), 'utf8')) as SearchParameter;
      expect(definition).toMatchObject({ url, code: name, base: ['AuditEvent'] });
      expect(capability.searchParam?.find((param) => param.name === name)).toMatchObject({ definition: url, type: definition.type });
    }
  });

  it('make AuditEvents that base R4 finds nothing wrong with, not even a warning', () => {
    const validator = createValidator();
    const entries: RecordedAuditEntry[] = [
      ENTRY,
      { id: '7', at: '2026-04-01T08:00:00.000Z', organization: 'anonymous', action: 'search', what: 'GET /fhir/CarePlan', outcome: 'refused', detail: '401' },
      { ...ENTRY, id: '8', action: 'create', what: 'POST /sip/plans', outcome: 'failed', detail: '500', personIdentifier: '198503741236' },
      { ...ENTRY, id: '9', action: 'execute', what: 'POST /fhir/CarePlan/$validate', personIdentifier: 'RES-2026-0001' },
    ];
    // "All OK" is the one issue of an outcome without a problem.
    for (const entry of entries) expect(validator.validate(auditEventOf(entry)).issue, entry.id).toEqual([{ severity: 'information', code: 'informational', details: { text: 'All OK' } }]);
    // The validator does find a code that is not R4's.
    const broken = { ...auditEventOf(ENTRY), action: 'X' };
    expect(validator.validate(broken).issue.map((issue) => issue.details?.coding?.[0]?.code)).toContain('binding-required');
  });
});
