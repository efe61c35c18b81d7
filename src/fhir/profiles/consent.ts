/**
 * SIP Consent (https://hl7.org/fhir/R4/consent.html): never general, for one SIP, at most a year.
 *
 * R4 has no `Consent.period`, so the consent's period is the root provision's. R4's own ppc-2..ppc-5
 * test `patient` against `scope` in a way that never fires (their expressions compare a
 * CodeableConcept with a code), so this profile requires the patient itself (sip-con-1).
 */
import type { StructureDefinition } from 'fhir/r4.js';
import { EXTENSION, codeSystemUrl } from '../canonical.js';
import { CONSENT_FORM, SIP_CATEGORY } from '../code-systems.js';
import type { Invariant } from './define.js';
import { dayNumber, element, extensionSlices, profile } from './define.js';

const CONSENT_RULES = 'Seed 001 §4.2 (Samtycke)';

export const CONSENT_INVARIANTS: readonly Invariant[] = [
  {
    key: 'sip-con-1',
    severity: 'error',
    human: 'A SIP consent names the person it is about (patient)',
    expression: 'patient.exists()',
    source: `${CONSENT_RULES}; R4 ppc-2..5 never fire`,
  },
  {
    key: 'sip-con-2',
    severity: 'error',
    human: 'A SIP consent has a root provision that permits (type = permit)',
    expression: "provision.exists() and provision.type = 'permit'",
    source: CONSENT_RULES,
  },
  {
    key: 'sip-con-3',
    severity: 'error',
    human: 'A SIP consent has a period (root provision.period with start and end) of at most one year',
    expression: `provision.period.start.exists() and provision.period.end.exists() and provision.period.select(${dayNumber('end')} - ${dayNumber('start')}) <= 10000`,
    source: `${CONSENT_RULES}: "gäller i max ett år"`,
  },
  {
    key: 'sip-con-4',
    severity: 'error',
    human: 'Exclusions of a SIP consent are nested provisions of type deny',
    expression: "provision.provision.all(type = 'deny')",
    source: `${CONSENT_RULES}: "möjlighet att undanta uppgifter" and "personer/enheter"`,
  },
  {
    key: 'sip-con-5',
    severity: 'error',
    human: 'A SIP consent names who agreed (performer): the person, each custodial guardian, or a representative',
    expression: 'performer.exists()',
    source: `${CONSENT_RULES}: children's guardians and representatives`,
  },
  {
    key: 'sip-con-6',
    severity: 'error',
    human: 'A SIP consent is never general: its root provision names the SIP it is for (data with meaning related)',
    expression: "provision.data.where(meaning = 'related').exists()",
    source: `${CONSENT_RULES}: "Samtycket kan aldrig vara generellt formulerat"`,
  },
  {
    key: 'sip-con-7',
    severity: 'error',
    human: 'A consent not given in writing is verified with whoever gave it (verification)',
    expression: `extension('${EXTENSION.consentRecording}').extension('form').value.where(system = '${codeSystemUrl(CONSENT_FORM.id)}' and code != 'written').exists() implies verification.exists()`,
    source: `${CONSENT_RULES}: "Ett muntligt samtycke ska … dokumenteras"`,
  },
  {
    key: 'sip-con-8',
    severity: 'error',
    human: 'A SIP consent is categorised as one (category sip-category#sip-consent)',
    expression: `category.coding.where(system = '${codeSystemUrl(SIP_CATEGORY.id)}' and code = 'sip-consent').exists()`,
    source: 'DESIGN.md §4 (consent category)',
  },
];

export const SIP_CONSENT: StructureDefinition = profile({
  id: 'sip-consent',
  type: 'Consent',
  title: 'SIP Consent',
  description:
    "The person's consent to a SIP: who agreed, for which SIP, for at most a year, with the information and the persons or units excluded (seed 001 §4.2).",
  invariants: CONSENT_INVARIANTS,
  elements: [
    ...extensionSlices('Consent', [
      { name: 'consentRecording', url: EXTENSION.consentRecording, min: 1, short: 'How the consent was given and documented' },
      { name: 'consentWithdrawal', url: EXTENSION.consentWithdrawal, short: 'Withdrawal of the consent' },
      { name: 'childView', url: EXTENSION.childView, short: "The child's own view, or why the child was not asked" },
    ]),
    element('Consent.scope', { patternCodeableConcept: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] } }),
    element('Consent.patient', { min: 1 }),
    element('Consent.dateTime', { min: 1, short: 'When the consent was given' }),
    element('Consent.performer', { min: 1, short: 'Who agreed: the person, each custodial guardian, or a representative' }),
    // Only the root: nested provisions share these element definitions (contentReference), so the
    // root's type and period are required by sip-con-2 and sip-con-3 instead of cardinalities.
    element('Consent.provision', { min: 1, short: 'Root provision: permit, for the consent period (at most one year)' }),
  ],
});
