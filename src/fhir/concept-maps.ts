/**
 * Standard codes in, through FHIR ConceptMaps (https://hl7.org/fhir/R4/conceptmap.html).
 *
 * Regional EHRs code roles, relationships, organisation types and meeting kinds in SNOMED CT or
 * HL7's code systems, not in the adapter's own. Each ConceptMap here maps such codes to one of the
 * adapter's CodeSystems (profiles/input/fsh/code-systems.fsh); `npm run profiles:build` writes them to `profiles/`, so a
 * reader, a terminology server or a person can see exactly what the adapter understands. The reader
 * takes the adapter's own code first and the ConceptMaps next ({@link translateToOwn}); a code that
 * neither knows is reported with its FHIRPath, never dropped silently.
 *
 * The writer writes the standard code beside its own where a map says they are equivalent
 * ({@link equivalentStandardCodings}), so the same table serves both directions.
 *
 * HL7 codes are checked against the official R4 CodeSystems in `hl7.fhir.r4.examples` by a test.
 * SNOMED CT codes are international-edition concepts as HL7's own implementation guides use them for
 * CareTeam roles; no Swedish national extension code is used.
 */
import type { Coding, ConceptMap } from 'fhir/r4.js';
import { ARTEFACT_VERSION, CANONICAL_BASE, HL7_SYSTEM, codeSystemUrl, valueSetUrl } from './canonical.js';
import type { CodeSystemDefinition } from './code-systems.js';
import { INFORMATION_CLASS, MEETING_KIND, ORGANIZATION_TYPE, PARTICIPANT_ROLE, RELATED_PERSON_ROLE } from './code-systems.js';

/** R4 ConceptMap equivalence (https://hl7.org/fhir/R4/valueset-concept-map-equivalence.html), as used here. */
type Equivalence = 'equivalent' | 'wider' | 'narrower' | 'inexact';

interface MapElement {
  readonly code: string;
  readonly display: string;
  readonly target: string;
  /** How the adapter's code relates to the source code: `wider` means the adapter's is wider. */
  readonly equivalence: Equivalence;
  readonly comment?: string;
}

export interface ConceptMapDefinition {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  /** The adapter's CodeSystem the map translates into. */
  readonly target: CodeSystemDefinition;
  readonly groups: readonly { readonly source: string; readonly elements: readonly MapElement[] }[];
}

const SNOMED = 'http://snomed.info/sct';
const ORGANIZATION_TYPE_HL7 = 'http://terminology.hl7.org/CodeSystem/organization-type';

export const CONCEPT_MAPS: readonly ConceptMapDefinition[] = [
  {
    id: 'sip-participant-role-from-standard',
    title: 'SIP participant roles from SNOMED CT and HL7 participation types',
    description:
      'CareTeam.participant.role and Appointment.participant.type as regional EHRs code them, read as the SIP participant roles (seed 001 §4.3, §4.5; seed 000 "Mötet").',
    target: PARTICIPANT_ROLE,
    groups: [
      {
        source: SNOMED,
        elements: [
          { code: '116154003', display: 'Patient (person)', target: 'individual', equivalence: 'equivalent' },
          { code: '768820003', display: 'Care coordinator (occupation)', target: 'coordinator', equivalence: 'equivalent', comment: 'huvudansvarig/samordnare' },
          { code: '223366009', display: 'Healthcare professional (occupation)', target: 'professional', equivalence: 'wider', comment: 'a SIP professional may also be of social services or an other actor' },
          { code: '106328005', display: 'Social worker (occupation)', target: 'professional', equivalence: 'wider' },
        ],
      },
      {
        source: HL7_SYSTEM.v3ParticipationType,
        elements: [
          {
            code: 'CALLBCK',
            display: 'callback contact',
            target: 'contactPersonAfterMeeting',
            equivalence: 'equivalent',
            comment: 'who the person can turn to with questions after the meeting (seed 000)',
          },
        ],
      },
    ],
  },
  {
    id: 'sip-related-person-role-from-v3',
    title: 'SIP related-person roles from HL7 v3 RoleCode',
    description: 'RelatedPerson.relationship as HL7 v3 RoleCode codes it, read as the SIP related-person roles (seed 001 §4.2, §6.6).',
    target: RELATED_PERSON_ROLE,
    groups: [
      {
        source: HL7_SYSTEM.v3RoleCode,
        elements: [
          { code: 'GUARD', display: 'guardian', target: 'guardian', equivalence: 'equivalent', comment: 'vårdnadshavare' },
          { code: 'POWATT', display: 'power of attorney', target: 'powerOfAttorney', equivalence: 'equivalent', comment: 'framtidsfullmaktshavare' },
          { code: 'FAMMEMB', display: 'family member', target: 'relative', equivalence: 'wider', comment: 'närstående covers family and others close to the person' },
          { code: 'NOK', display: 'next of kin', target: 'relative', equivalence: 'wider' },
          { code: 'SPS', display: 'spouse', target: 'relative', equivalence: 'wider' },
          { code: 'SIGOTHR', display: 'significant other', target: 'relative', equivalence: 'wider' },
          { code: 'FRND', display: 'unrelated friend', target: 'relative', equivalence: 'wider' },
          { code: 'NBOR', display: 'neighbor', target: 'relative', equivalence: 'wider' },
        ],
      },
    ],
  },
  {
    id: 'sip-organization-type-from-hl7',
    title: 'SIP organisation types from HL7 organization-type',
    description:
      'Organization.type as HL7 codes it, read as the SIP organisation types. Which principal an organisation is comes from its SCB kommunkod or länskod; these codes only tell a unit or an other actor.',
    target: ORGANIZATION_TYPE,
    groups: [
      {
        source: ORGANIZATION_TYPE_HL7,
        elements: [
          { code: 'dept', display: 'Hospital Department', target: 'unit', equivalence: 'wider', comment: 'a unit (verksamhet) of a principal' },
          { code: 'edu', display: 'Educational Institute', target: 'school', equivalence: 'narrower', comment: 'skola/förskola, elevhälsan' },
          { code: 'cg', display: 'Community Group', target: 'association', equivalence: 'inexact', comment: 'förening' },
        ],
      },
    ],
  },
  {
    id: 'sip-meeting-kind-from-v2',
    title: 'SIP meeting kinds from HL7 v2 appointment reason',
    description: 'Appointment.appointmentType as HL7 v2 table 0276 codes it, read as the SIP meeting kind (seed 001 §4.6).',
    target: MEETING_KIND,
    groups: [
      {
        source: HL7_SYSTEM.v2AppointmentReason,
        elements: [{ code: 'FOLLOWUP', display: 'A follow up visit from a previous appointment', target: 'followUp', equivalence: 'equivalent', comment: 'uppföljning' }],
      },
    ],
  },
  {
    id: 'sip-information-class-from-v3',
    title: 'SIP information classes from HL7 v3 information sensitivity',
    description: 'Consent exclusions (provision.code) as HL7 v3 ActCode sensitivity codes them, read as the information classes a person may exclude (seed 001 §4.2).',
    target: INFORMATION_CLASS,
    groups: [
      {
        source: HL7_SYSTEM.v3ActCode,
        elements: [
          { code: 'PSY', display: 'psychiatry disorder information sensitivity', target: 'mentalHealth', equivalence: 'equivalent' },
          { code: 'ETH', display: 'substance abuse information sensitivity', target: 'substanceUse', equivalence: 'equivalent' },
          { code: 'SEX', display: 'sexuality and reproductive health information sensitivity', target: 'sexualAndReproductiveHealth', equivalence: 'equivalent' },
          { code: 'GDIS', display: 'genetic disease information sensitivity', target: 'geneticInformation', equivalence: 'equivalent' },
        ],
      },
    ],
  },
];

export function conceptMapUrl(id: string): string {
  return `${CANONICAL_BASE}/ConceptMap/${id}`;
}

/** The ConceptMap resource for `profiles/`. */
export function toConceptMapResource(definition: ConceptMapDefinition): ConceptMap {
  return {
    resourceType: 'ConceptMap',
    id: definition.id,
    url: conceptMapUrl(definition.id),
    version: ARTEFACT_VERSION,
    name: definition.id
      .split('-')
      .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
      .join(''),
    title: definition.title,
    status: 'active',
    experimental: false,
    publisher: 'sip-fhir-adapter',
    description: definition.description,
    targetUri: valueSetUrl(definition.target.id),
    group: definition.groups.map((group) => ({
      source: group.source,
      target: codeSystemUrl(definition.target.id),
      element: group.elements.map((element) => ({
        code: element.code,
        display: element.display,
        target: [{ code: element.target, equivalence: element.equivalence, ...(element.comment === undefined ? {} : { comment: element.comment }) }],
      })),
    })),
  };
}

const MAPS_BY_TARGET = new Map<string, ConceptMapDefinition[]>();
for (const map of CONCEPT_MAPS) MAPS_BY_TARGET.set(map.target.id, [...(MAPS_BY_TARGET.get(map.target.id) ?? []), map]);

/**
 * The adapter's code for one of `codings`: the adapter's own code when one of them is in `target`,
 * else the first that a ConceptMap into `target` maps. Undefined when none is known.
 */
export function translateToOwn(target: CodeSystemDefinition, codings: readonly (Coding | undefined)[] | undefined): string | undefined {
  const url = codeSystemUrl(target.id);
  const present = (codings ?? []).filter((coding): coding is Coding => coding?.code !== undefined);
  const own = present.find((coding) => coding.system === url)?.code;
  if (own !== undefined) return own;
  for (const coding of present) {
    for (const map of MAPS_BY_TARGET.get(target.id) ?? []) {
      const element = map.groups.find((group) => group.source === coding.system)?.elements.find((candidate) => candidate.code === coding.code);
      if (element !== undefined) return element.target;
    }
  }
  return undefined;
}

/** The standard codes a ConceptMap says are equivalent to one of the adapter's codes, to write beside it. */
export function equivalentStandardCodings(target: CodeSystemDefinition, code: string): Coding[] {
  return (MAPS_BY_TARGET.get(target.id) ?? []).flatMap((map) =>
    map.groups.flatMap((group) =>
      group.elements
        .filter((element) => element.target === code && element.equivalence === 'equivalent')
        .map((element) => ({ system: group.source, code: element.code, display: element.display })),
    ),
  );
}
