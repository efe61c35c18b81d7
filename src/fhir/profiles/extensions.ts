/**
 * One Extension StructureDefinition (https://hl7.org/fhir/R4/extensibility.html#Extension) for each
 * of the project's own extensions in {@link EXTENSION}, with the value types the writer
 * (src/fhir/write/) uses and the elements it puts them on. HL7's own extensions that the writer
 * also uses (`goal-relationship`, the R5 cross-version ones) are HL7's to define and left out.
 */
import type { ElementDefinition, ElementDefinitionBinding, StructureDefinition } from 'fhir/r4.js';
import { EXTENSION, coreStructureDefinitionUrl } from '../canonical.js';
import { APPROVAL_WITHDRAWAL_REASON, CLOSURE_REASON, COMPULSORY_CARE, CONSENT_FORM, INPATIENT_CARE, PARTICIPANT_ROLE } from '../code-systems.js';
import { bindingTo, definitionHeader, element, slicedByValue } from './define.js';

type OwnExtensionKey = Exclude<keyof typeof EXTENSION, 'goalRelationship' | 'virtualService' | 'appointmentNote'>;

/** One part (sub-extension) of a complex extension. */
interface ExtensionPart {
  readonly name: string;
  readonly types: readonly string[];
  readonly short: string;
  readonly min?: number;
  readonly max?: string;
  readonly binding?: ElementDefinitionBinding;
}

interface ExtensionSource {
  readonly title: string;
  readonly description: string;
  /** FHIRPath of the elements the extension may be put on (https://hl7.org/fhir/R4/defining-extensions.html#context). */
  readonly context: readonly string[];
  /** Value types of a simple extension; absent for a complex one. */
  readonly value?: readonly string[];
  readonly binding?: ElementDefinitionBinding;
  readonly parts?: readonly ExtensionPart[];
}

const REFERENCE = ['Reference'];

/** Every own extension, by its key in {@link EXTENSION}; the table fails to compile when one is missing. */
export const EXTENSION_SOURCES: Readonly<Record<OwnExtensionKey, ExtensionSource>> = {
  planVersion: {
    title: 'SIP plan version',
    description: 'The version of the SIP a resource is, or is about: the plan itself, an approval (Provenance) or an approval request (Task), which names the version it asks the principal to approve (seed 000: an approval is for a version).',
    context: ['CarePlan', 'Provenance', 'Task'],
    value: ['integer'],
  },
  planRecorded: { title: 'SIP version recorded', description: 'When this version of the plan was recorded (meta.lastUpdated belongs to the server).', context: ['CarePlan'], value: ['dateTime'] },
  initiatedBy: { title: 'SIP initiated by', description: 'Who initiated the SIP: the individual, a relative or a principal (seed 001 §4.1).', context: ['CarePlan'], value: REFERENCE },
  followUp: {
    title: 'SIP follow-up',
    description: 'When the plan is to be followed up, and the meeting that followed it up (seed 001 §4.5 item 5, §4.6).',
    context: ['CarePlan'],
    parts: [
      { name: 'date', types: ['date'], short: 'Planned follow-up date', min: 1 },
      { name: 'heldAt', types: REFERENCE, short: 'The meeting (Appointment) that followed the plan up' },
    ],
  },
  closure: {
    title: 'SIP closure',
    description: 'Why, when and by whom the SIP was closed, and who was informed (seed 001 §4.7).',
    context: ['CarePlan'],
    parts: [
      { name: 'reason', types: ['Coding'], short: 'Why the plan was closed', binding: bindingTo(CLOSURE_REASON, 'required') },
      { name: 'reasonText', types: ['string'], short: 'The reason in words' },
      { name: 'closedAt', types: ['dateTime'], short: 'When the plan was closed', min: 1 },
      { name: 'closedBy', types: REFERENCE, short: 'Who closed the plan', min: 1 },
      { name: 'informed', types: REFERENCE, short: 'Who was told of the closure', max: '*' },
    ],
  },
  discharge: {
    title: 'SIP at discharge from inpatient care',
    description:
      'The plan is made at discharge from inpatient care under lag (2017:612) om samverkan vid utskrivning från sluten hälso- och sjukvård: from which inpatient care, when, and whether the person continues in compulsory care under LPT or LRV, where a samordnad vårdplan is prescribed instead of a SIP (seed 001 §3.3.2, §3.6.1).',
    context: ['CarePlan'],
    parts: [
      { name: 'from', types: ['Coding'], short: 'Somatic or psychiatric inpatient care', min: 1, binding: bindingTo(INPATIENT_CARE, 'required') },
      { name: 'dischargedAt', types: ['date'], short: 'The day of discharge' },
      {
        name: 'compulsoryCare',
        types: ['Coding'],
        short: 'Öppen psykiatrisk tvångsvård (LPT) or öppen rättspsykiatrisk vård (LRV) after discharge',
        binding: bindingTo(COMPULSORY_CARE, 'required'),
      },
    ],
  },
  noActionsByOthers: {
    title: 'No actions by others',
    description: 'The plan states that nobody but the two principals takes any action (seed 001 §4.5 item 3: the plan must say so).',
    context: ['CarePlan'],
    value: ['boolean'],
  },
  pendingDecision: {
    title: 'Intervention awaiting decision',
    description: 'An intervention that could not be decided at the meeting: who decides, what happens meanwhile, when the decision is expected and reported back, and to whom (seed 001 §4.5.1).',
    context: ['CarePlan.activity.detail'],
    parts: [
      { name: 'decidedBy', types: ['string'], short: 'Who takes the decision' },
      { name: 'meanwhile', types: ['string'], short: 'What is done while waiting' },
      { name: 'expectedDecisionDate', types: ['date'], short: 'When the decision is expected' },
      { name: 'reportBackBy', types: ['date'], short: 'When the decision is reported back' },
      { name: 'reportBackTo', types: REFERENCE, short: 'To whom the decision is reported back' },
    ],
  },
  decision: {
    title: 'Decision on the intervention',
    description:
      "The municipal decision (beslut) the intervention rests on, a ServiceRequest of the SIP Decision profile. An activity cannot have both a reference and a detail (cpl-3), so the link is made from the detail (GLOSSARY.md: intervention → CarePlan.activity + ServiceRequest where it needs a decision).",
    context: ['CarePlan.activity.detail'],
    value: REFERENCE,
  },
  statute: {
    title: 'Statute',
    description:
      'The provision of Swedish law a decision was made under: SFS number, chapter, section and point. Both numberings of the social services act occur: SoL (2001:453) 4 kap. 1 § before 2025-07-01, SoL (2025:400) 11 kap. 1 § since; LSS (1993:387) 9 § has no chapters (GLOSSARY.md, "Legal references that changed").',
    context: ['ServiceRequest'],
    parts: [
      { name: 'act', types: ['string'], short: 'SFS number of the act, e.g. 2025:400', min: 1 },
      { name: 'chapter', types: ['positiveInt'], short: 'Chapter (kapitel); absent for acts without chapters' },
      { name: 'section', types: ['positiveInt'], short: 'Section (paragraf)', min: 1 },
      { name: 'point', types: ['positiveInt'], short: 'Point (punkt) of the section' },
    ],
  },
  canConsent: {
    title: 'Can consent',
    description:
      "False when the person cannot give consent themselves, so a representative does (seed 001 §4.2). The plan's assessment, so it is written on the person's CareTeam participant, never on the shared Patient; written only when false.",
    context: ['CareTeam.participant'],
    value: ['boolean'],
  },
  planParty: {
    title: 'SIP party, as this plan knows it',
    description:
      "A member of the SIP care team as this plan records it: its local id in the plan, and the plan's contact details for it. Shared master data (Patient, Organization, Practitioner) belongs to whoever wrote it first and is never updated by the adapter, so nothing plan-specific is written there (DESIGN.md §6).",
    context: ['CareTeam.participant'],
    parts: [
      { name: 'localId', types: ['Identifier'], short: 'The party\'s id in the plan (system sid/sip-entity, value <plan id>/<local id>)', min: 1 },
      { name: 'telecom', types: ['ContactPoint'], short: "The plan's phone or e-mail for the party", max: '*' },
      { name: 'address', types: ['Address'], short: "The plan's postal address for the party" },
    ],
  },
  consentRecording: {
    title: 'How the SIP consent was given and documented',
    description: 'Written, oral or shown in another way; who documented an oral consent and where (seed 001 §4.2).',
    context: ['Consent'],
    parts: [
      { name: 'form', types: ['Coding'], short: 'Written, oral or other', min: 1, binding: bindingTo(CONSENT_FORM, 'required') },
      { name: 'documentedBy', types: REFERENCE, short: 'Who documented the consent' },
      { name: 'documentedIn', types: ['string'], short: 'The record system it is documented in' },
    ],
  },
  consentWithdrawal: {
    title: 'SIP consent withdrawal',
    description: 'When and by whom the consent was withdrawn; the person may withdraw it at any time (seed 001 §4.2).',
    context: ['Consent'],
    parts: [
      { name: 'withdrawnAt', types: ['dateTime'], short: 'When it was withdrawn', min: 1 },
      { name: 'withdrawnBy', types: REFERENCE, short: 'Who withdrew it', min: 1 },
      { name: 'recordedBy', types: REFERENCE, short: 'Who recorded the withdrawal' },
      { name: 'note', types: ['string'], short: 'Note' },
    ],
  },
  convener: { title: 'Convener', description: 'Who sent the summons (seed 001 §4.4).', context: ['Appointment'], value: REFERENCE },
  convenerContact: {
    title: "Convener's contact details",
    description: 'The contact details of whoever summoned the meeting, as the summons states them (seed 001 §4.4).',
    context: ['Appointment'],
    parts: [
      { name: 'name', types: ['string'], short: 'Name', min: 1 },
      { name: 'telecom', types: ['ContactPoint'], short: 'Phone or e-mail', max: '*' },
      { name: 'address', types: ['Address'], short: 'Postal address' },
    ],
  },
  interpreter: { title: 'Interpreter needed', description: 'The language an interpreter is needed for at the meeting (seed 001 §4.4).', context: ['Appointment'], value: ['string'] },
  otherNeeds: { title: 'Other needs at the meeting', description: 'Other needs the summons states, e.g. a time limit or digital aids (seed 001 §4.4).', context: ['Appointment'], value: ['string'] },
  meetingRole: {
    title: 'SIP meeting role',
    description: 'Who leads the meeting, keeps the minutes, or is the contact person after it (seed 000 "Mötet", seed 001 §4.5).',
    context: ['Appointment'],
    parts: [
      { name: 'role', types: ['Coding'], short: 'The role', min: 1, binding: bindingTo(PARTICIPANT_ROLE, 'required') },
      { name: 'party', types: REFERENCE, short: 'Who has it', min: 1 },
    ],
  },
  respondedAt: { title: 'Responded at', description: "When an invitee answered the summons (seed 001 §4.4).", context: ['Appointment.participant'], value: ['dateTime'] },
  substitute: { title: 'Substitute', description: 'Who comes instead of an invitee who cannot (seed 001 §4.4: "Vid förhinder ska en ersättare utses").', context: ['Appointment.participant'], value: REFERENCE },
  goalSetAt: { title: 'Goal set at', description: 'The meeting (Appointment) at which the goal was set.', context: ['Goal'], value: REFERENCE },
  approvalWithdrawal: {
    title: 'SIP approval withdrawal',
    description: 'An approval no longer in force: its part was edited after approval, or the principal revoked it (seed 000).',
    context: ['Provenance'],
    parts: [
      { name: 'at', types: ['dateTime'], short: 'When the approval was withdrawn', min: 1 },
      { name: 'reason', types: ['Coding'], short: 'Why', min: 1, binding: bindingTo(APPROVAL_WITHDRAWAL_REASON, 'required') },
    ],
  },
  reportedBy: {
    title: 'Deviation reported by',
    description: 'The principal or unit that reported a deviation; R4 DetectedIssue.author allows only people and devices (seed 001 §5.2).',
    context: ['DetectedIssue'],
    value: REFERENCE,
  },
  approvalDigest: {
    title: 'SIP approved part digest',
    description:
      "What the approval approved: SHA-256 (sha256:<hex>) of the RFC 8785 canonical JSON of the principal's interventions and the part all principals share, so a reader can tell whether a later version left it unchanged (seed 000: an edit of an approved part withdraws the approval).",
    context: ['Provenance'],
    value: ['string'],
  },
  childView: {
    title: "Child's view of the SIP",
    description: "When guardians consent for a child: the child's own view, or why the child was not asked given age and maturity (seed 001 §4.2).",
    context: ['Consent'],
    parts: [
      { name: 'view', types: ['string'], short: "The child's own view" },
      { name: 'notAskedReason', types: ['string'], short: 'Why the child was not asked (age and maturity)' },
    ],
  },
  interimResponsiblePrincipal: {
    title: 'Deviation: principal responsible meanwhile',
    description: 'The principal that holds responsibility while a deviation is investigated (seed 001 §5.2: "tillfällig ansvarsfördelning").',
    context: ['DetectedIssue'],
    value: REFERENCE,
  },
};

function partElements(part: ExtensionPart): ElementDefinition[] {
  const id = `Extension.extension:${part.name}`;
  return [
    element(id, { short: part.short, min: part.min ?? 0, max: part.max ?? '1' }),
    element(`${id}.extension`, { max: '0' }),
    element(`${id}.url`, { fixedUri: part.name }),
    element(`${id}.value[x]`, { min: 1, type: part.types.map((code) => ({ code })), ...(part.binding === undefined ? {} : { binding: part.binding }) }),
  ];
}

/** The Extension StructureDefinition, as a differential. */
export function extensionDefinition(key: OwnExtensionKey): StructureDefinition {
  const source = EXTENSION_SOURCES[key];
  const url = EXTENSION[key];
  const id = url.slice(url.lastIndexOf('/') + 1);
  const valueElements: ElementDefinition[] =
    source.parts === undefined
      ? [
          element('Extension.extension', { max: '0' }),
          element('Extension.url', { fixedUri: url }),
          element('Extension.value[x]', {
            min: 1,
            type: (source.value ?? []).map((code) => ({ code })),
            ...(source.binding === undefined ? {} : { binding: source.binding }),
          }),
        ]
      : [
          element('Extension.extension', { ...slicedByValue('url', 'The parts of the extension, by url'), min: 1 }),
          ...source.parts.flatMap(partElements),
          element('Extension.url', { fixedUri: url }),
          element('Extension.value[x]', { max: '0' }),
        ];
  return {
    ...definitionHeader(id, source.title, source.description),
    kind: 'complex-type',
    abstract: false,
    context: source.context.map((expression) => ({ type: 'element', expression })),
    type: 'Extension',
    baseDefinition: coreStructureDefinitionUrl('Extension'),
    derivation: 'constraint',
    differential: { element: [element('Extension', { short: source.title, definition: source.description }), ...valueElements] },
  };
}

/** Keys of the own extensions, in the order of {@link EXTENSION}. */
export const OWN_EXTENSION_KEYS = Object.keys(EXTENSION_SOURCES) as OwnExtensionKey[];

export const EXTENSION_DEFINITIONS: readonly StructureDefinition[] = OWN_EXTENSION_KEYS.map(extensionDefinition);
