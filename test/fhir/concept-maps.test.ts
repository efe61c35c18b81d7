/**
 * Standard codes in, through the ConceptMaps of profiles/ (src/fhir/concept-maps.ts): every HL7 code
 * they map is a code of HL7's own R4 CodeSystem, every target a SIP code; and a Bundle written as a
 * regional EHR would, with no adapter CodeSystem in it, reads back to the plan written by hand below.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Bundle, CareTeam, CodeSystem, CodeSystemConcept } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { CONCEPT_MAPS, PARTICIPANT_ROLE, bundleToPlan, codeSystemUrl, translateToOwn } from '../../src/fhir/index.js';
import { parsePlan, type SipPlan } from '../../src/sip/index.js';

const R4_PACKAGE = join(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'), '..');
const SNOMED = 'http://snomed.info/sct';

/** HL7's R4 CodeSystem with this url, from the package the validator also reads. */
function hl7CodeSystem(url: string): Map<string, string> {
  const file = `CodeSystem-${url.slice(url.lastIndexOf('/') + 1)}.json`;
  const codeSystem = JSON.parse(readFileSync(join(R4_PACKAGE, file), 'utf8')) as CodeSystem;
  const codes = new Map<string, string>();
  const walk = (concepts: readonly CodeSystemConcept[] | undefined): void => {
    for (const concept of concepts ?? []) {
      codes.set(concept.code, concept.display ?? '');
      walk(concept.concept);
    }
  };
  walk(codeSystem.concept);
  return codes;
}

describe.each(CONCEPT_MAPS.map((map) => [map.id, map] as const))('ConceptMap %s', (_id, map) => {
  it('maps only to codes of its SIP CodeSystem', () => {
    const codes = new Set(map.target.concepts.map((concept) => concept.code));
    for (const element of map.groups.flatMap((group) => group.elements)) expect(codes, element.target).toContain(element.target);
  });

  it('maps from HL7 codes that exist in HL7\'s R4 CodeSystems, with their display (SNOMED CT is checked by hand)', () => {
    for (const group of map.groups.filter((candidate) => candidate.source !== SNOMED)) {
      const official = hl7CodeSystem(group.source);
      for (const element of group.elements) expect(official.get(element.code)?.toLowerCase(), `${group.source}|${element.code}`).toBe(element.display.toLowerCase());
    }
  });
});

describe('translateToOwn', () => {
  it('takes the SIP code first, then a ConceptMap, and knows nothing else', () => {
    const sip = { system: codeSystemUrl(PARTICIPANT_ROLE.id), code: 'secretary' };
    const coordinator = { system: SNOMED, code: '768820003' };
    expect(translateToOwn(PARTICIPANT_ROLE, [coordinator, sip])).toBe('secretary');
    expect(translateToOwn(PARTICIPANT_ROLE, [coordinator])).toBe('coordinator');
    expect(translateToOwn(PARTICIPANT_ROLE, [{ system: SNOMED, code: '159016003' }])).toBeUndefined();
    expect(translateToOwn(PARTICIPANT_ROLE, [{ system: 'http://example.se/other', code: '768820003' }])).toBeUndefined();
  });
});

const FIXTURE = 'test/fixtures/fhir/ehr-standard-codes.json';
const fixture = (): Bundle => JSON.parse(readFileSync(FIXTURE, 'utf8')) as Bundle;

/**
 * The plan the fixture holds, written by hand from the fixture: the region and the municipality by
 * their SCB codes, their units by `partOf` (HL7 `dept`), the coordinator by SNOMED CT 768820003, the
 * social worker's role by 106328005, the husband by v3 `SPS`, the excluded substance-use information
 * by v3 `ETH`, the follow-up meeting by v2 `FOLLOWUP` and its contact person by v3 `CALLBCK`.
 */
const EXPECTED = {
  id: 'cp-4711',
  version: 2,
  updatedAt: '2026-03-05T10:12:00+01:00',
  initiatedAt: '2026-03-02',
  initiatedBy: 'individual',
  individual: {
    identifier: { system: 'personnummer', value: '197906172387' },
    name: { given: 'Sara', family: 'Holmberg' },
    birthDate: '1979-06-17',
    contact: { phone: '070-455 12 34' },
  },
  relatedPersons: [{ id: 'make', kind: 'relative', relationship: 'make', name: { given: 'Jonas', family: 'Holmberg' } }],
  principals: [
    {
      id: 'rjh',
      kind: 'region',
      name: 'Region Jämtland Härjedalen',
      hsaId: 'SE2321000214-0001',
      countyCode: '23',
      units: [{ id: 'psyk-ov', name: 'Psykiatrisk öppenvård Östersund', hsaId: 'SE2321000214-PSY1' }],
    },
    { id: 'ostersund', kind: 'municipality', name: 'Östersunds kommun', municipalityCode: '2380', units: [{ id: 'vuxenenheten', name: 'Socialtjänsten, vuxenenheten' }] },
  ],
  professionals: [
    { id: 'roll-lind', name: { given: 'Karin', family: 'Lind' }, title: 'sjuksköterska', hsaId: 'SE2321000214-P4410', organization: 'psyk-ov', contact: { phone: '063-15 30 00' } },
    { id: 'roll-berg', name: { given: 'Olle', family: 'Berg' }, title: 'socialsekreterare', organization: 'vuxenenheten' },
  ],
  coordinator: 'roll-lind',
  consents: [
    {
      id: 'samtycke-1',
      planId: 'cp-4711',
      givers: ['individual'],
      form: 'written',
      givenAt: '2026-03-02',
      validUntil: '2027-03-01',
      coveredActors: ['rjh', 'ostersund'],
      excludedInformation: [{ class: 'substanceUse' }],
    },
  ],
  meetings: [{ id: 'uppfoljning-1', kind: 'followUp', status: 'planned', contactPersonAfterMeeting: 'roll-lind' }],
  goals: [{ id: 'mal-1', description: 'Jag vill kunna bo kvar i min lägenhet och klara vardagen.' }],
  interventions: [
    { id: 'intervention-1', description: 'Samtal och läkemedelsuppföljning på psykiatrisk öppenvård varannan vecka.', responsible: 'psyk-ov', goals: ['mal-1'], status: 'ongoing' },
    { id: 'intervention-2', description: 'Boendestöd två gånger i veckan.', responsible: 'vuxenenheten', goals: ['mal-1'], status: 'planned' },
  ],
  overallResponsiblePrincipal: 'rjh',
};

function expectedPlan(): SipPlan {
  const parsed = parsePlan(EXPECTED);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.plan;
}

describe('a Bundle written as a regional EHR would, in SNOMED CT and HL7 codes only', () => {
  it('holds no code of the adapter\'s own', () => {
    expect(readFileSync(FIXTURE, 'utf8')).not.toContain('sip-fhir-adapter.se');
  });

  it('reads back to the plan written by hand, with nothing reported but who initiated it', () => {
    const read = bundleToPlan(fixture());
    if (!read.ok) throw new Error(JSON.stringify(read.outcome.issue));
    expect(read.plan).toEqual(expectedPlan());
    expect(read.outcome.issue.map((issue) => [issue.severity, issue.code])).toEqual([['information', 'incomplete']]);
  });

  it('reports a role code that no ConceptMap knows, at its FHIRPath, and reads no coordinator from it', () => {
    const bundle = fixture();
    const careTeam = bundle.entry?.[10]?.resource as CareTeam;
    const role = careTeam.participant?.[1]?.role?.[0]?.coding?.[0];
    if (role === undefined) throw new Error('fixture changed');
    role.code = '309343006';
    role.display = 'Physician';
    const read = bundleToPlan(bundle);
    if (!read.ok) throw new Error(JSON.stringify(read.outcome.issue));
    expect(read.plan.coordinator).toBeUndefined();
    expect(read.outcome.issue).toContainEqual(
      expect.objectContaining({ severity: 'warning', code: 'code-invalid', expression: ['Bundle.entry[10].resource.participant[1].role[0]'] }),
    );
  });
});
