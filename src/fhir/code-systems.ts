/**
 * The project's own code systems: SIP concepts that have no national code (DESIGN.md §4). Each
 * concept's code is the SIP model's own value, so mapping is the identity and cannot drift; the
 * Swedish display is what the narrative and people read.
 *
 * `profiles/CodeSystem-*.json` is generated from this table (`npm run profiles:build`) and a test
 * fails if the two differ. National codes (KVÅ, SNOMED CT) are not invented here: they are
 * configuration (see {@link FhirMappingOptions}).
 */
import type { CodeSystem, Coding } from 'fhir/r4.js';
import {
  compulsoryCareSchema,
  consentSchema,
  closureSchema,
  deviationSchema,
  informationClassSchema,
  inpatientCareSchema,
  meetingSchema,
  otherActorKindSchema,
  representativeKindSchema,
  approvalSchema,
} from '../sip/index.js';
import { codeSystemUrl } from './canonical.js';

export interface ConceptDefinition {
  readonly code: string;
  /** English display. */
  readonly display: string;
  /** Swedish designation, for narrative and people. */
  readonly sv: string;
}

export interface CodeSystemDefinition {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly concepts: readonly ConceptDefinition[];
}

/** Fails to compile when a code system misses a value of the SIP enum it mirrors. */
function conceptsFor<const T extends string>(
  _values: readonly T[],
  concepts: Readonly<Record<T, { display: string; sv: string }>>,
): ConceptDefinition[] {
  return Object.entries<{ display: string; sv: string }>(concepts).map(([code, { display, sv }]) => ({ code, display, sv }));
}

const withdrawalReasons = approvalSchema.shape.withdrawn.unwrap().shape.reason.options;

export const SIP_CATEGORY = {
  id: 'sip-category',
  title: 'SIP categories',
  description: 'Marks the resources that make up a samordnad individuell plan (SIP), so a reader can find them among others.',
  concepts: [
    { code: 'sip-plan', display: 'Coordinated individual plan (SIP)', sv: 'Samordnad individuell plan (SIP)' },
    { code: 'sip-consent', display: 'Consent to a SIP', sv: 'Samtycke till SIP' },
    { code: 'sip-meeting', display: 'SIP meeting', sv: 'SIP-möte' },
    { code: 'sip-approval', display: "A principal's approval of its part of a SIP", sv: 'Huvudmans godkännande av SIP' },
    { code: 'sip-deviation', display: 'Deviation between the principals of a SIP', sv: 'Avvikelse mellan huvudmännen' },
    { code: 'sip-decision', display: 'Municipal decision on an intervention of a SIP', sv: 'Beslut om insats i SIP' },
  ],
} as const satisfies CodeSystemDefinition;

export const ORGANIZATION_TYPE = {
  id: 'sip-organization-type',
  title: 'SIP organisation types',
  description: 'What an organisation is in a SIP: one of the two principals (huvudmän), a unit of one, or an other actor (berörd aktör).',
  concepts: [
    { code: 'region', display: "Region (health care principal)", sv: 'Region (huvudman för hälso- och sjukvård)' },
    { code: 'municipality', display: 'Municipality (social services principal)', sv: 'Kommun (huvudman för socialtjänst)' },
    { code: 'unit', display: 'Unit of a principal', sv: 'Verksamhet/enhet hos huvudman' },
    ...conceptsFor(otherActorKindSchema.options, {
      school: { display: 'School or preschool', sv: 'Skola/förskola' },
      socialInsuranceAgency: { display: 'Swedish Social Insurance Agency', sv: 'Försäkringskassan' },
      publicEmploymentService: { display: 'Swedish Public Employment Service', sv: 'Arbetsförmedlingen' },
      prisonAndProbationService: { display: 'Swedish Prison and Probation Service', sv: 'Kriminalvården' },
      institutionalCareBoard: { display: 'National Board of Institutional Care', sv: 'Statens institutionsstyrelse (SiS)' },
      police: { display: 'Police', sv: 'Polisen' },
      dentalCare: { display: 'Dental care', sv: 'Tandvården' },
      privateCareProvider: { display: 'Private care provider', sv: 'Privat vårdgivare' },
      association: { display: 'Association', sv: 'Förening' },
      other: { display: 'Other actor', sv: 'Annan aktör' },
    }),
  ],
} as const satisfies CodeSystemDefinition;

export const PARTICIPANT_ROLE = {
  id: 'sip-participant-role',
  title: 'SIP participant roles',
  description: 'Roles in a SIP care team and at a SIP meeting (seed 001 §4.3, seed 000 "Mötet").',
  concepts: [
    { code: 'individual', display: 'The person the plan is for', sv: 'Den enskilde' },
    { code: 'principal', display: 'Principal', sv: 'Huvudman' },
    { code: 'unit', display: 'Unit of a principal', sv: 'Verksamhet/enhet' },
    { code: 'otherActor', display: 'Other actor', sv: 'Berörd aktör' },
    { code: 'professional', display: 'Professional', sv: 'Yrkesperson' },
    { code: 'relatedPerson', display: 'Relative, guardian or representative', sv: 'Närstående, vårdnadshavare eller företrädare' },
    { code: 'coordinator', display: 'Coordinator (overall responsible person)', sv: 'Huvudansvarig/samordnare' },
    { code: 'meetingLeader', display: 'Meeting leader', sv: 'Mötesledare' },
    { code: 'secretary', display: 'Secretary', sv: 'Sekreterare' },
    { code: 'contactPersonAfterMeeting', display: 'Contact person after the meeting', sv: 'Kontaktperson efter mötet' },
  ],
} as const satisfies CodeSystemDefinition;

export const RELATED_PERSON_ROLE = {
  id: 'sip-related-person-role',
  title: 'SIP related-person roles',
  description: 'Custodial guardians, relatives and representatives of the person (seed 001 §4.2, §6.6; seed 004).',
  concepts: [
    { code: 'guardian', display: 'Custodial guardian', sv: 'Vårdnadshavare' },
    { code: 'relative', display: 'Relative or other close person', sv: 'Närstående' },
    ...conceptsFor(representativeKindSchema.options, {
      trustee: { display: 'Trustee (god man)', sv: 'God man' },
      administrator: { display: 'Administrator (förvaltare)', sv: 'Förvaltare' },
      powerOfAttorney: { display: 'Continuing power of attorney (framtidsfullmakt)', sv: 'Framtidsfullmaktshavare' },
      personalAgent: { display: 'Personal agent (personligt ombud)', sv: 'Personligt ombud' },
    }),
  ],
} as const satisfies CodeSystemDefinition;

export const INFORMATION_CLASS = {
  id: 'sip-information-class',
  title: 'Information a person may exclude from a SIP',
  description: 'Classes of information a person may exclude when consenting to a SIP (seed 001 §4.2).',
  concepts: conceptsFor(informationClassSchema.options, {
    mentalHealth: { display: 'Mental health', sv: 'Psykisk hälsa' },
    substanceUse: { display: 'Substance use', sv: 'Missbruk och beroende' },
    sexualAndReproductiveHealth: { display: 'Sexual and reproductive health', sv: 'Sexuell och reproduktiv hälsa' },
    geneticInformation: { display: 'Genetic information', sv: 'Genetisk information' },
    financialSituation: { display: 'Financial situation', sv: 'Ekonomi' },
    criminalRecord: { display: 'Criminal record', sv: 'Brottslighet' },
    familySituation: { display: 'Family situation', sv: 'Familjeförhållanden' },
    other: { display: 'Other information', sv: 'Annan information' },
  }),
} as const satisfies CodeSystemDefinition;

export const CONSENT_FORM = {
  id: 'sip-consent-form',
  title: 'How a SIP consent was given',
  description: 'Consent may be given in writing, orally or shown in another way (seed 001 §4.2).',
  concepts: conceptsFor(consentSchema.shape.form.options, {
    written: { display: 'Written', sv: 'Skriftligt' },
    oral: { display: 'Oral', sv: 'Muntligt' },
    other: { display: 'Shown in another way', sv: 'På annat sätt' },
  }),
} as const satisfies CodeSystemDefinition;

export const MEETING_KIND = {
  id: 'sip-meeting-kind',
  title: 'Kinds of SIP meeting',
  description: 'First meeting, follow-up, or a pre-meeting between professionals (seed 001 §4.3, §4.6).',
  concepts: conceptsFor(meetingSchema.shape.kind.options, {
    first: { display: 'First SIP meeting', sv: 'Första SIP-mötet' },
    followUp: { display: 'Follow-up meeting', sv: 'Uppföljningsmöte' },
    preMeeting: { display: 'Pre-meeting', sv: 'Förmöte' },
  }),
} as const satisfies CodeSystemDefinition;

export const CLOSURE_REASON = {
  id: 'sip-closure-reason',
  title: 'Why a SIP was closed',
  description: 'Reasons for closing a SIP (seed 001 §4.7).',
  concepts: conceptsFor(closureSchema.shape.reason.unwrap().options, {
    goalsMet: { display: 'The goals are met', sv: 'Målen är uppfyllda' },
    needNoLongerExists: { display: 'The need no longer exists', sv: 'Behovet finns inte längre' },
    consentWithdrawn: { display: 'The consent was withdrawn', sv: 'Samtycket har återkallats' },
    other: { display: 'Other reason', sv: 'Annat skäl' },
  }),
} as const satisfies CodeSystemDefinition;

export const DEVIATION_CATEGORY = {
  id: 'sip-deviation-category',
  title: 'SIP deviation categories',
  description: 'What went wrong between the principals (seed 001 §5.2).',
  concepts: conceptsFor(deviationSchema.shape.category.options, {
    absentFromMeeting: { display: 'A summoned party did not come to the meeting', sv: 'Kallad part kom inte till mötet' },
    interventionNotDelivered: { display: 'An agreed intervention was not delivered', sv: 'Överenskommen insats gavs inte' },
    decisionDelayed: { display: 'A decision was delayed', sv: 'Beslut drog ut på tiden' },
    informationNotShared: { display: 'Information was not shared', sv: 'Information delades inte' },
    other: { display: 'Other deviation', sv: 'Annan avvikelse' },
  }),
} as const satisfies CodeSystemDefinition;

export const APPROVAL_WITHDRAWAL_REASON = {
  id: 'sip-approval-withdrawal-reason',
  title: 'Why an approval of a SIP was withdrawn',
  description: 'An edit of an approved part withdraws its approval; a principal may also revoke it (seed 000).',
  concepts: conceptsFor(withdrawalReasons, {
    editedAfterApproval: { display: 'The approved part was edited', sv: 'Den godkända delen har ändrats' },
    revokedByPrincipal: { display: 'Revoked by the principal', sv: 'Återkallat av huvudmannen' },
  }),
} as const satisfies CodeSystemDefinition;

export const INTERVENTION_STATUS_REASON = {
  id: 'sip-intervention-status-reason',
  title: 'Why a SIP intervention waits',
  description: 'An intervention that could not be decided at the meeting (i väntan på beslut, seed 001 §4.5.1).',
  concepts: [{ code: 'awaitingDecision', display: 'Awaiting decision', sv: 'I väntan på beslut' }],
} as const satisfies CodeSystemDefinition;

export const INPATIENT_CARE = {
  id: 'sip-inpatient-care',
  title: 'Inpatient care a SIP is made at discharge from',
  description:
    'The slutenvård (inpatient care) a person is discharged from when the SIP is made at discharge under lag (2017:612) om samverkan vid utskrivning från sluten hälso- och sjukvård (seed 001 §3.3.2).',
  concepts: conceptsFor(inpatientCareSchema.options, {
    somaticInpatientCare: { display: 'Somatic inpatient care', sv: 'Somatisk slutenvård' },
    psychiatricInpatientCare: { display: 'Psychiatric inpatient care', sv: 'Psykiatrisk slutenvård' },
  }),
} as const satisfies CodeSystemDefinition;

/**
 * The two laws on compulsory psychiatric care, by their Swedish abbreviations. Each code means that
 * the person continues in compulsory care outside hospital after discharge, where the law
 * prescribes a samordnad vårdplan instead of a SIP (seed 001 §3.6.1). Not a national code system:
 * no published one names these (2026).
 */
export const COMPULSORY_CARE = {
  id: 'sip-compulsory-care',
  title: 'Compulsory psychiatric care after discharge',
  description:
    'The law under which a person discharged from psychiatric inpatient care continues in compulsory care outside hospital; planning is then a samordnad vårdplan under that law instead of a SIP (seed 001 §3.6.1).',
  concepts: conceptsFor(compulsoryCareSchema.options, {
    LPT: {
      display: 'Outpatient compulsory psychiatric care under LPT (SFS 1991:1128)',
      sv: 'Öppen psykiatrisk tvångsvård enligt lagen (1991:1128) om psykiatrisk tvångsvård (LPT)',
    },
    LRV: {
      display: 'Outpatient forensic psychiatric care under LRV (SFS 1991:1129)',
      sv: 'Öppen rättspsykiatrisk vård enligt lagen (1991:1129) om rättspsykiatrisk vård (LRV)',
    },
  }),
} as const satisfies CodeSystemDefinition;

/** Every code system of the project, in the order `profiles/` lists them. */
export const CODE_SYSTEMS: readonly CodeSystemDefinition[] = [
  SIP_CATEGORY,
  ORGANIZATION_TYPE,
  PARTICIPANT_ROLE,
  RELATED_PERSON_ROLE,
  INFORMATION_CLASS,
  CONSENT_FORM,
  MEETING_KIND,
  CLOSURE_REASON,
  DEVIATION_CATEGORY,
  APPROVAL_WITHDRAWAL_REASON,
  INTERVENTION_STATUS_REASON,
  INPATIENT_CARE,
  COMPULSORY_CARE,
];

/** A Coding of one of the project's code systems, with its English display. */
export function ownCoding(system: CodeSystemDefinition, code: string): Coding {
  const concept = system.concepts.find((candidate) => candidate.code === code);
  if (concept === undefined) throw new Error(`${code} is not a code of ${system.id}`);
  return { system: codeSystemUrl(system.id), code, display: concept.display };
}

/** The Swedish designation of a code, for the narrative. */
export function swedishDisplay(system: CodeSystemDefinition, code: string): string {
  return system.concepts.find((candidate) => candidate.code === code)?.sv ?? code;
}

/** The code of `system` among codings (missing ones allowed, as read from optional elements), if one is there. */
export function findOwnCode(system: CodeSystemDefinition, codings: readonly (Coding | undefined)[] | undefined): string | undefined {
  const url = codeSystemUrl(system.id);
  return codings?.find((coding) => coding?.system === url && coding.code !== undefined)?.code;
}

/** The CodeSystem resource for `profiles/`. */
export function toCodeSystemResource(definition: CodeSystemDefinition, version: string): CodeSystem {
  return {
    resourceType: 'CodeSystem',
    id: definition.id,
    url: codeSystemUrl(definition.id),
    version,
    name: definition.id
      .split('-')
      .map((part) => part.toUpperCase() === 'SIP' ? 'SIP' : `${part.charAt(0).toUpperCase()}${part.slice(1)}`)
      .join(''),
    title: definition.title,
    status: 'draft',
    experimental: false,
    publisher: 'sip-fhir-adapter',
    description: definition.description,
    caseSensitive: true,
    content: 'complete',
    count: definition.concepts.length,
    concept: definition.concepts.map(({ code, display, sv }) => ({
      code,
      display,
      designation: [{ language: 'sv', value: sv }],
    })),
  };
}
