/**
 * Official R4 examples (`hl7.fhir.r4.examples`), each broken in exactly one way, with the rule the
 * validator must report and where. Every premise was read off the R4 StructureDefinitions in that
 * package (snapshot `min`/`max`, `type`, `binding.strength`, `constraint[].key`/`expression`), not
 * from a validator's output.
 *
 * Conventions of the expected `expression` (see src/validation/api.ts): FHIRPath with indexes;
 * choice types by their JSON name (`CarePlan.activity[0].detail.scheduledTiming`); a primitive's
 * `_x` extension at `x`; inside a Bundle `Bundle.entry[N].resource.<path>`. A resource-level
 * constraint is reported at the resource (`CarePlan`), an element constraint at the element instance.
 *
 * Not in the corpus, on purpose:
 * - ppc-2..ppc-5 (Consent): their expressions test `scope.coding.where(system='something' and …)`,
 *   a placeholder system no real coding has, so they can never fire (a defect of R4 4.0.1). The SIP
 *   Consent profile must require `patient` itself.
 * - bdl-6 does not exist in R4; bdl-10..12 (document/message Bundles) do not concern transactions.
 * - dom-3 and ele-1 are not evaluated through FHIRPath (dom-3 throws in fhirpath.js, ele-1 is on
 *   every element); the validator checks both itself (REPLACED_CONSTRAINTS in
 *   src/validation/invariants.ts), so each has a row: ele-1 for an empty object, dom-3 for a
 *   contained resource nothing refers to.
 */
import { STRUCTURE_RULES } from '../../src/validation/api.js';

/**
 * Parsed JSON of an official example. This is the parsed-JSON boundary where `any` is allowed (see
 * eslint.config.js): each row reaches into a different resource shape.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ParsedResource = any;

export interface MutationRow {
  /** File name in `hl7.fhir.r4.examples`. */
  readonly example: string;
  /** What is broken, in words; names the row in test output. */
  readonly describe: string;
  /** Breaks the parsed example in place, in exactly one way. */
  readonly mutate: (resource: ParsedResource) => void;
  /** Expected rule key: a constraint key, or one of STRUCTURE_RULES. */
  readonly key: string;
  /** Expected FHIRPath: the issue's `expression[0]` equals it or starts with it. */
  readonly expression: string;
  /** Expected severity; `error` unless the rule is a warning (dom-6). */
  readonly severity?: 'error' | 'warning';
}

const R = STRUCTURE_RULES;
const XHTML = 'http://www.w3.org/1999/xhtml';
const TRANSACTION = 'Bundle-bundle-transaction.json';

export const MUTATION_CORPUS: readonly MutationRow[] = [
  // --- codes outside a required binding -------------------------------------------------------
  { example: 'CarePlan-example.json', describe: 'CarePlan.status not in request-status', mutate: (r) => { r.status = 'bogus'; }, key: R.requiredBinding, expression: 'CarePlan.status' },
  { example: 'CarePlan-example.json', describe: 'CarePlan.intent not in care-plan-intent', mutate: (r) => { r.intent = 'wish'; }, key: R.requiredBinding, expression: 'CarePlan.intent' },
  { example: 'Appointment-example.json', describe: 'Appointment.status not in appointmentstatus', mutate: (r) => { r.status = 'confirmed'; }, key: R.requiredBinding, expression: 'Appointment.status' },
  { example: 'Appointment-example.json', describe: 'Appointment.participant.status not in participationstatus', mutate: (r) => { r.participant[1].status = 'maybe'; }, key: R.requiredBinding, expression: 'Appointment.participant[1].status' },
  { example: 'Consent-consent-example-basic.json', describe: 'Consent.status not in consent-state-codes', mutate: (r) => { r.status = 'valid'; }, key: R.requiredBinding, expression: 'Consent.status' },
  { example: 'Patient-example.json', describe: 'Patient.gender not in administrative-gender', mutate: (r) => { r.gender = 'M'; }, key: R.requiredBinding, expression: 'Patient.gender' },
  { example: 'Goal-example.json', describe: 'Goal.lifecycleStatus not in goal-status', mutate: (r) => { r.lifecycleStatus = 'paused'; }, key: R.requiredBinding, expression: 'Goal.lifecycleStatus' },
  { example: 'Task-example1.json', describe: 'Task.status not in task-status', mutate: (r) => { r.status = 'started'; }, key: R.requiredBinding, expression: 'Task.status' },
  { example: 'CareTeam-example.json', describe: 'CareTeam.status not in care-team-status', mutate: (r) => { r.status = 'running'; }, key: R.requiredBinding, expression: 'CareTeam.status' },
  { example: 'Organization-hl7.json', describe: 'ContactPoint.system (a datatype) not in contact-point-system', mutate: (r) => { r.telecom[0].system = 'telephone'; }, key: R.requiredBinding, expression: 'Organization.telecom[0].system' },
  { example: 'PractitionerRole-example.json', describe: 'one code of a repeating code outside days-of-week', mutate: (r) => { r.availableTime[0].daysOfWeek[1] = 'tuesday'; }, key: R.requiredBinding, expression: 'PractitionerRole.availableTime[0].daysOfWeek[1]' },

  // --- a required element missing ---------------------------------------------------------------
  { example: 'CarePlan-example.json', describe: 'CarePlan.status (1..1) missing', mutate: (r) => { delete r.status; }, key: R.minCardinality, expression: 'CarePlan.status' },
  { example: 'CarePlan-example.json', describe: 'CarePlan.intent (1..1) missing', mutate: (r) => { delete r.intent; }, key: R.minCardinality, expression: 'CarePlan.intent' },
  { example: 'CarePlan-example.json', describe: 'CarePlan.subject (1..1) missing', mutate: (r) => { delete r.subject; }, key: R.minCardinality, expression: 'CarePlan.subject' },
  { example: 'Consent-consent-example-basic.json', describe: 'Consent.scope (1..1) missing', mutate: (r) => { delete r.scope; }, key: R.minCardinality, expression: 'Consent.scope' },
  { example: 'Consent-consent-example-basic.json', describe: 'Consent.category (1..*) missing', mutate: (r) => { delete r.category; }, key: R.minCardinality, expression: 'Consent.category' },
  { example: 'Appointment-example.json', describe: 'Appointment.participant (1..*) missing', mutate: (r) => { delete r.participant; }, key: R.minCardinality, expression: 'Appointment.participant' },
  { example: 'Appointment-example.json', describe: 'Appointment.participant.status (1..1) missing', mutate: (r) => { delete r.participant[0].status; }, key: R.minCardinality, expression: 'Appointment.participant[0].status' },
  { example: 'Goal-example.json', describe: 'Goal.subject (1..1) missing', mutate: (r) => { delete r.subject; }, key: R.minCardinality, expression: 'Goal.subject' },
  { example: 'Goal-example.json', describe: 'Goal.description (1..1) missing', mutate: (r) => { delete r.description; }, key: R.minCardinality, expression: 'Goal.description' },
  { example: 'Task-example1.json', describe: 'Task.intent (1..1) missing', mutate: (r) => { delete r.intent; }, key: R.minCardinality, expression: 'Task.intent' },
  { example: 'RelatedPerson-benedicte.json', describe: 'RelatedPerson.patient (1..1) missing', mutate: (r) => { delete r.patient; }, key: R.minCardinality, expression: 'RelatedPerson.patient' },

  // --- wrong JSON type --------------------------------------------------------------------------
  { example: 'CarePlan-example.json', describe: 'a string where a Reference object belongs', mutate: (r) => { r.subject = 'Patient/example'; }, key: R.invalidType, expression: 'CarePlan.subject' },
  { example: 'CarePlan-example.json', describe: 'a number where a string belongs', mutate: (r) => { r.description = 42; }, key: R.invalidType, expression: 'CarePlan.description' },
  { example: 'Appointment-example.json', describe: 'a string where an unsignedInt belongs', mutate: (r) => { r.priority = '5'; }, key: R.invalidType, expression: 'Appointment.priority' },
  { example: 'Patient-example.json', describe: 'a string where a boolean belongs', mutate: (r) => { r.active = 'true'; }, key: R.invalidType, expression: 'Patient.active' },
  { example: 'Patient-example.json', describe: 'an object as an element of a primitive array (HumanName.given)', mutate: (r) => { r.name[0].given[1] = { value: 'James' }; }, key: R.invalidType, expression: 'Patient.name[0].given[1]' },
  { example: 'CarePlan-example.json', describe: 'a string inside a choice-type value (Timing.repeat.frequency is a positiveInt)', mutate: (r) => { r.activity[0].detail.scheduledTiming.repeat.frequency = '1'; }, key: R.invalidType, expression: 'CarePlan.activity[0].detail.scheduledTiming.repeat.frequency' },

  // --- unknown elements -------------------------------------------------------------------------
  { example: 'CarePlan-example.json', describe: 'an unknown top-level element', mutate: (r) => { r.priority = 'high'; }, key: R.unknownElement, expression: 'CarePlan.priority' },
  { example: 'CarePlan-example.json', describe: 'an unknown element inside a backbone element', mutate: (r) => { r.activity[0].detail.colour = 'green'; }, key: R.unknownElement, expression: 'CarePlan.activity[0].detail.colour' },
  { example: 'Patient-example.json', describe: 'an unknown element inside a datatype (HumanName)', mutate: (r) => { r.name[0].middle = 'J'; }, key: R.unknownElement, expression: 'Patient.name[0].middle' },
  { example: 'CarePlan-example.json', describe: 'a choice type with a type it does not allow (scheduledDate)', mutate: (r) => { r.activity[0].detail.scheduledDate = '2017-01-01'; }, key: R.unknownElement, expression: 'CarePlan.activity[0].detail.scheduledDate' },

  // --- invalid date, dateTime, instant ---------------------------------------------------------
  { example: 'Patient-example.json', describe: 'date: 30 February', mutate: (r) => { r.birthDate = '2020-02-30'; }, key: R.invalidValue, expression: 'Patient.birthDate' },
  { example: 'CarePlan-example.json', describe: 'dateTime: month 13', mutate: (r) => { r.created = '2020-13-01'; }, key: R.invalidValue, expression: 'CarePlan.created' },
  { example: 'Goal-example.json', describe: 'date in the wrong format (DD/MM/YYYY) in a choice type', mutate: (r) => { r.startDate = '05/04/2015'; }, key: R.invalidValue, expression: 'Goal.startDate' },
  { example: 'Consent-consent-example-basic.json', describe: 'dateTime: hour 25', mutate: (r) => { r.dateTime = '2016-05-11T25:00:00Z'; }, key: R.invalidValue, expression: 'Consent.dateTime' },
  { example: 'Appointment-example.json', describe: 'instant without a time zone', mutate: (r) => { r.start = '2013-12-10T09:00:00'; }, key: R.invalidValue, expression: 'Appointment.start' },
  { example: 'Appointment-example.json', describe: 'instant with a space instead of T', mutate: (r) => { r.end = '2013-12-10 11:00:00Z'; }, key: R.invalidValue, expression: 'Appointment.end' },
  { example: 'Consent-consent-example-basic.json', describe: 'date inside a datatype (Period.end): 31 April', mutate: (r) => { r.provision.period.end = '2016-04-31'; }, key: R.invalidValue, expression: 'Consent.provision.period.end' },

  // --- an array where max is 1 -------------------------------------------------------------------
  { example: 'CarePlan-example.json', describe: 'CarePlan.subject (max 1) as an array', mutate: (r) => { r.subject = [r.subject]; }, key: R.maxCardinality, expression: 'CarePlan.subject' },
  { example: 'Patient-example.json', describe: 'Patient.gender (max 1) as an array', mutate: (r) => { r.gender = ['male']; }, key: R.maxCardinality, expression: 'Patient.gender' },

  // --- invariants of the resource types ---------------------------------------------------------
  { example: 'CarePlan-example.json', describe: 'cpl-3: an activity with both detail and reference', mutate: (r) => { r.activity[0].reference = { reference: 'ServiceRequest/example' }; }, key: 'cpl-3', expression: 'CarePlan.activity[0]' },
  {
    example: 'CareTeam-example.json',
    describe: 'ctm-1: onBehalfOf with a member that resolves to an Organization, not a Practitioner',
    mutate: (r) => { r.contained[0] = { resourceType: 'Organization', id: 'pr1', name: 'Dietetics' }; },
    key: 'ctm-1',
    expression: 'CareTeam.participant[1]',
  },
  { example: 'Consent-consent-example-basic.json', describe: 'ppc-1: neither policy nor policyRule', mutate: (r) => { delete r.policyRule; }, key: 'ppc-1', expression: 'Consent' },
  { example: 'Appointment-example.json', describe: 'app-2: start without end', mutate: (r) => { delete r.end; }, key: 'app-2', expression: 'Appointment' },
  { example: 'Appointment-example.json', describe: 'app-3: a booked appointment without start and end', mutate: (r) => { delete r.start; delete r.end; }, key: 'app-3', expression: 'Appointment' },
  { example: 'Appointment-example.json', describe: 'app-4: a cancelation reason on a booked appointment', mutate: (r) => { r.cancelationReason = { text: 'Patient ill' }; }, key: 'app-4', expression: 'Appointment' },
  { example: 'Appointment-example.json', describe: 'app-1: a participant with neither type nor actor', mutate: (r) => { delete r.participant[0].actor; }, key: 'app-1', expression: 'Appointment.participant[0]' },
  {
    example: 'Goal-example.json',
    describe: 'gol-1: a target with a detail (detailRange) but no measure',
    mutate: (r) => { delete r.target[0].measure; },
    key: 'gol-1',
    expression: 'Goal.target[0]',
  },
  { example: 'Patient-example.json', describe: 'pat-1: a contact with no details and no organization', mutate: (r) => { r.contact[0] = { relationship: r.contact[0].relationship }; }, key: 'pat-1', expression: 'Patient.contact[0]' },
  { example: 'Organization-hl7.json', describe: 'org-1: neither name nor identifier', mutate: (r) => { delete r.name; }, key: 'org-1', expression: 'Organization' },
  { example: 'Organization-hl7.json', describe: 'org-2: an address of use home', mutate: (r) => { r.address[0].use = 'home'; }, key: 'org-2', expression: 'Organization.address' },
  { example: 'Organization-hl7.json', describe: 'org-3: a telecom of use home', mutate: (r) => { r.telecom[0].use = 'home'; }, key: 'org-3', expression: 'Organization.telecom' },
  { example: 'Task-example1.json', describe: 'inv-1: lastModified before authoredOn', mutate: (r) => { r.lastModified = '2016-10-30T09:45:05+10:00'; }, key: 'inv-1', expression: 'Task' },

  // --- invariants of datatypes --------------------------------------------------------------------
  { example: 'Consent-consent-example-basic.json', describe: 'per-1: Period start after end', mutate: (r) => { r.provision.period.end = '1960-01-01'; }, key: 'per-1', expression: 'Consent.provision.period' },
  { example: 'CarePlan-example.json', describe: 'ref-1: a local reference to no contained resource', mutate: (r) => { r.addresses[0].reference = '#p2'; }, key: 'ref-1', expression: 'CarePlan.addresses[0]' },
  { example: 'Organization-hl7.json', describe: 'cpt-2: a ContactPoint value without system', mutate: (r) => { delete r.telecom[2].system; }, key: 'cpt-2', expression: 'Organization.telecom[2]' },
  { example: 'Consent-consent-example-basic.json', describe: 'att-1: Attachment data without contentType', mutate: (r) => { r.sourceAttachment.data = 'VGhlIHRlcm1z'; }, key: 'att-1', expression: 'Consent.sourceAttachment' },
  {
    example: 'Goal-example.json',
    describe: 'qty-3: a (Simple)Quantity inside a choice type (detailRange.low) with a code but no system',
    mutate: (r) => { delete r.target[0].detailRange.low.system; },
    key: 'qty-3',
    expression: 'Goal.target[0].detailRange.low',
  },
  {
    example: 'Patient-example.json',
    describe: 'txt-1: a script element in the narrative',
    mutate: (r) => { r.text.div = `<div xmlns="${XHTML}"><script>alert(1)</script>Peter</div>`; },
    key: 'txt-1',
    expression: 'Patient.text.div',
  },
  { example: 'Patient-example.json', describe: 'txt-2: a narrative of whitespace only', mutate: (r) => { r.text.div = `<div xmlns="${XHTML}">  </div>`; }, key: 'txt-2', expression: 'Patient.text.div' },
  {
    example: 'Patient-example.json',
    describe: 'ext-1: an extension on a primitive (_birthDate) with both value and extensions, reported at birthDate',
    mutate: (r) => { r._birthDate.extension[0].extension = [{ url: 'precision', valueString: 'minute' }]; },
    key: 'ext-1',
    expression: 'Patient.birthDate.extension[0]',
  },
  { example: 'CarePlan-example.json', describe: 'ele-1: an empty object', mutate: (r) => { r.period = {}; }, key: 'ele-1', expression: 'CarePlan.period' },

  // --- DomainResource ----------------------------------------------------------------------------
  { example: 'CarePlan-example.json', describe: 'dom-2: a contained resource containing another', mutate: (r) => { r.contained[0].contained = [{ resourceType: 'Patient', id: 'nested' }]; }, key: 'dom-2', expression: 'CarePlan' },
  { example: 'CarePlan-example.json', describe: 'dom-3: a contained resource nothing refers to', mutate: (r) => { r.contained.push({ resourceType: 'Organization', id: 'orphan', name: 'Nobody refers to me' }); }, key: 'dom-3', expression: 'CarePlan.contained[1]' },
  { example: 'CarePlan-example.json', describe: 'dom-4: a contained resource with meta.versionId', mutate: (r) => { r.contained[0].meta = { versionId: '2' }; }, key: 'dom-4', expression: 'CarePlan' },
  {
    example: 'CarePlan-example.json',
    describe: 'dom-5: a contained resource with a security label',
    mutate: (r) => { r.contained[0].meta = { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] }; },
    key: 'dom-5',
    expression: 'CarePlan',
  },
  { example: 'Organization-hl7.json', describe: 'dom-6: no narrative (a warning)', mutate: (r) => { delete r.text; }, key: 'dom-6', expression: 'Organization', severity: 'warning' },

  // --- Bundle (a transaction) ----------------------------------------------------------------------
  { example: TRANSACTION, describe: 'bdl-1: total on a transaction', mutate: (r) => { r.total = 5; }, key: 'bdl-1', expression: 'Bundle' },
  { example: TRANSACTION, describe: 'bdl-2: entry.search on a transaction', mutate: (r) => { r.entry[0].search = { mode: 'match' }; }, key: 'bdl-2', expression: 'Bundle' },
  { example: TRANSACTION, describe: 'bdl-3: a transaction entry without request', mutate: (r) => { delete r.entry[0].request; }, key: 'bdl-3', expression: 'Bundle' },
  { example: TRANSACTION, describe: 'bdl-4: a response in a transaction entry', mutate: (r) => { r.entry[0].response = { status: '201 Created' }; }, key: 'bdl-4', expression: 'Bundle' },
  {
    example: TRANSACTION,
    describe: 'bdl-5: an entry with neither resource, request nor response',
    mutate: (r) => { r.entry.push({ fullUrl: 'urn:uuid:0b2cbf0c-7fd4-4a4a-9f4e-4c2f5a0d1e11' }); },
    key: 'bdl-5',
    expression: 'Bundle.entry[10]',
  },
  { example: TRANSACTION, describe: 'bdl-7: two entries with the same fullUrl', mutate: (r) => { r.entry[1].fullUrl = r.entry[0].fullUrl; }, key: 'bdl-7', expression: 'Bundle' },
  { example: TRANSACTION, describe: 'bdl-8: a version-specific fullUrl', mutate: (r) => { r.entry[2].fullUrl = 'http://example.org/fhir/Patient/123/_history/1'; }, key: 'bdl-8', expression: 'Bundle.entry[2]' },
  { example: TRANSACTION, describe: 'bdl-9: a document without identifier', mutate: (r) => { r.type = 'document'; }, key: 'bdl-9', expression: 'Bundle' },
  {
    example: TRANSACTION,
    describe: 'a urn:uuid reference that no entry has as its fullUrl',
    mutate: (r) => { r.entry[0].resource.managingOrganization = { reference: 'urn:uuid:5a3d1b9e-0000-4000-8000-000000000000' }; },
    key: R.danglingReference,
    expression: 'Bundle.entry[0].resource.managingOrganization',
  },
  { example: TRANSACTION, describe: 'a code outside a required binding inside an entry', mutate: (r) => { r.entry[0].resource.gender = 'man'; }, key: R.requiredBinding, expression: 'Bundle.entry[0].resource.gender' },
  { example: TRANSACTION, describe: 'an impossible date inside an entry', mutate: (r) => { r.entry[1].resource.birthDate = '1974-02-29'; }, key: R.invalidValue, expression: 'Bundle.entry[1].resource.birthDate' },
  { example: TRANSACTION, describe: 'an unknown element inside an entry', mutate: (r) => { r.entry[0].resource.nickname = 'Pete'; }, key: R.unknownElement, expression: 'Bundle.entry[0].resource.nickname' },
];
