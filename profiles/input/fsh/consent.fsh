// SIP Consent (https://hl7.org/fhir/R4/consent.html): never general, for one SIP, at most a year.
//
// R4 has no `Consent.period`, so the consent's period is the root provision's. R4's own ppc-2..ppc-5
// test `patient` against `scope` in a way that never fires (their expressions compare a
// CodeableConcept with a code), so this profile requires the patient itself (sip-con-1).

Invariant: sip-con-1
Description: "A SIP consent names the person it is about (patient)"
Severity: #error
Expression: "patient.exists()"
* requirements = "Seed 001 §4.2 (Samtycke); R4 ppc-2..5 never fire"

Invariant: sip-con-2
Description: "A SIP consent has a root provision that permits (type = permit)"
Severity: #error
Expression: "provision.exists() and provision.type = 'permit'"
* requirements = "Seed 001 §4.2 (Samtycke)"

Invariant: sip-con-3
Description: "A SIP consent has a period (root provision.period with start and end) of at most one year"
Severity: #error
Expression: "provision.period.start.exists() and provision.period.end.exists() and provision.period.select(end.substring(0, 10).replace('-', '').toInteger() - start.substring(0, 10).replace('-', '').toInteger()) <= 10000"
* requirements = "Seed 001 §4.2 (Samtycke): \"gäller i max ett år\""

Invariant: sip-con-4
Description: "Exclusions of a SIP consent are nested provisions of type deny"
Severity: #error
Expression: "provision.provision.all(type = 'deny')"
* requirements = "Seed 001 §4.2 (Samtycke): \"möjlighet att undanta uppgifter\" and \"personer/enheter\""

Invariant: sip-con-5
Description: "A SIP consent names who agreed (performer): the person, each custodial guardian, or a representative"
Severity: #error
Expression: "performer.exists()"
* requirements = "Seed 001 §4.2 (Samtycke): children's guardians and representatives"

Invariant: sip-con-6
Description: "A SIP consent is never general: its root provision names the SIP it is for (data with meaning related)"
Severity: #error
Expression: "provision.data.where(meaning = 'related').exists()"
* requirements = "Seed 001 §4.2 (Samtycke): \"Samtycket kan aldrig vara generellt formulerat\""

Invariant: sip-con-7
Description: "A consent not given in writing is verified with whoever gave it (verification)"
Severity: #error
Expression: "extension('http://sip-fhir-adapter.se/fhir/StructureDefinition/consent-recording').extension('form').value.where(system = 'http://sip-fhir-adapter.se/fhir/CodeSystem/sip-consent-form' and code != 'written').exists() implies verification.exists()"
* requirements = "Seed 001 §4.2 (Samtycke): \"Ett muntligt samtycke ska … dokumenteras\""

Invariant: sip-con-8
Description: "A SIP consent is categorised as one (category sip-category#sip-consent)"
Severity: #error
Expression: "category.coding.where(system = 'http://sip-fhir-adapter.se/fhir/CodeSystem/sip-category' and code = 'sip-consent').exists()"
* requirements = "DESIGN.md §4 (consent category)"

Profile: SIPConsent
Parent: Consent
Id: sip-consent
Title: "SIP Consent"
Description: "The person's consent to a SIP: who agreed, for which SIP, for at most a year, with the information and the persons or units excluded (seed 001 §4.2)."
* insert SIPArtefact
* obeys sip-con-1
* obeys sip-con-2
* obeys sip-con-3
* obeys sip-con-4
* obeys sip-con-5
* obeys sip-con-6
* obeys sip-con-7
* obeys sip-con-8
* extension contains
    ConsentRecording named consentRecording 1..1 and
    ConsentWithdrawal named consentWithdrawal 0..1 and
    ChildView named childView 0..1
* extension ^slicing.description = "The SIP extensions, by url"
* extension[consentRecording] ^short = "How the consent was given and documented"
* extension[consentRecording].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/consent-recording" (exactly)
* extension[consentWithdrawal] ^short = "Withdrawal of the consent"
* extension[consentWithdrawal].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/consent-withdrawal" (exactly)
* extension[childView] ^short = "The child's own view, or why the child was not asked"
* extension[childView].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/child-view" (exactly)
* scope = http://terminology.hl7.org/CodeSystem/consentscope#patient-privacy
* patient 1..1
* dateTime 1..1
* dateTime ^short = "When the consent was given"
* performer 1..*
* performer ^short = "Who agreed: the person, each custodial guardian, or a representative"
// Only the root: nested provisions share these element definitions (contentReference), so the
// root's type and period are required by sip-con-2 and sip-con-3 instead of cardinalities.
* provision 1..1
* provision ^short = "Root provision: permit, for the consent period (at most one year)"
