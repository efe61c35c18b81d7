// SIP CarePlan: the plan itself (https://hl7.org/fhir/R4/careplan.html). An `active` plan is one
// both principals approved, so it must state what seed 001 §4.5 says every plan states; rules that
// need the care team or the organisations are on the SIP Bundle profile (bundle.fsh).

Invariant: sip-cpl-1
Description: "A SIP CarePlan is categorised as a SIP (category sip-category#sip-plan)"
Severity: #error
Expression: "category.coding.where(system = 'http://sip-fhir-adapter.se/fhir/CodeSystem/sip-category' and code = 'sip-plan').exists()"
* requirements = "DESIGN.md §4 (the plan is found by its SIP category)"

Invariant: sip-cpl-2
Description: "An active SIP names the principal with overall responsibility for the plan (author)"
Severity: #error
Expression: "status = 'active' implies author.exists()"
* requirements = "Seed 001 §4.5 (Möte: \"Av planen ska det framgå\" 1–5), item 4"

Invariant: sip-cpl-3
Description: "An active SIP has at least one goal"
Severity: #error
Expression: "status = 'active' implies goal.exists()"
* requirements = "Seed 001 §4.5 (Möte: \"Av planen ska det framgå\" 1–5), item 1"

Invariant: sip-cpl-4
Description: "An active SIP has a planned follow-up (follow-up extension with a date)"
Severity: #error
Expression: "status = 'active' implies extension('http://sip-fhir-adapter.se/fhir/StructureDefinition/follow-up').extension('date').exists()"
* requirements = "Seed 001 §4.5 (Möte: \"Av planen ska det framgå\" 1–5), item 5; seed 001 §4.6"

Invariant: sip-cpl-5
Description: "An active SIP has a care team"
Severity: #error
Expression: "status = 'active' implies careTeam.exists()"
* requirements = "Seed 001 §4.3, §4.5 (the participants and the coordinator); DESIGN.md §4"

Invariant: sip-cpl-6
Description: "An active SIP has interventions, each naming who is responsible for it (first performer)"
Severity: #error
Expression: "status = 'active' implies (activity.exists() and activity.all(detail.performer.exists()))"
* requirements = "Seed 001 §4.5 (Möte: \"Av planen ska det framgå\" 1–5), items 1–3"

// A warning: the plan stays valid FHIR, but the principals should make a samordnad vårdplan. Written
// with `where(...).empty()` on the coding rather than `extension(...).empty()` alone, so a
// compulsoryCare part of another code system does not fire it; both engines agree on it.
Invariant: sip-cpl-7
Description: "A person who leaves inpatient care for compulsory psychiatric care under LPT or LRV is planned for with a samordnad vårdplan (LPT 7 a §, LRV 12 a §), not a SIP"
Severity: #warning
Expression: "extension('http://sip-fhir-adapter.se/fhir/StructureDefinition/discharge').extension('compulsoryCare').value.ofType(Coding).where(system = 'http://sip-fhir-adapter.se/fhir/CodeSystem/sip-compulsory-care').empty()"
* requirements = "Seed 001 §3.6.1 (Undantag vid tvångsvård och rättspsykiatri); §3.3.2"

Profile: SIPCareplan
Parent: CarePlan
Id: sip-careplan
Title: "SIP CarePlan"
Description: "A samordnad individuell plan (SIP) between a municipality and a region: goals, each principal's interventions, others' actions, the principal with overall responsibility (author) and the follow-up (seed 001 §4.5)."
* insert SIPArtefact
* obeys sip-cpl-1
* obeys sip-cpl-2
* obeys sip-cpl-3
* obeys sip-cpl-4
* obeys sip-cpl-5
* obeys sip-cpl-6
* obeys sip-cpl-7
* extension contains
    PlanVersion named planVersion 0..1 and
    PlanRecorded named planRecorded 0..1 and
    InitiatedBy named initiatedBy 0..1 and
    Discharge named discharge 0..1 and
    FollowUp named followUp 0..* and
    NoActionsByOthers named noActionsByOthers 0..1 and
    Closure named closure 0..1
* extension ^slicing.description = "The SIP extensions, by url"
* extension[planVersion] ^short = "Version of the plan"
* extension[planVersion].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/plan-version" (exactly)
* extension[planRecorded] ^short = "When this version was recorded"
* extension[planRecorded].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/plan-recorded" (exactly)
* extension[initiatedBy] ^short = "Who initiated the SIP"
* extension[initiatedBy].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/initiated-by" (exactly)
* extension[discharge] ^short = "The plan is made at discharge from inpatient care"
* extension[discharge].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/discharge" (exactly)
* extension[followUp] ^short = "Planned follow-ups"
* extension[followUp].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/follow-up" (exactly)
* extension[noActionsByOthers] ^short = "No one but the principals takes action"
* extension[noActionsByOthers].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/no-actions-by-others" (exactly)
* extension[closure] ^short = "Closure of the SIP"
* extension[closure].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/closure" (exactly)
* intent = #plan (exactly)
* category 1..*
* author MS
* author ^short = "The principal with overall responsibility for the plan"
* careTeam MS
* goal MS
* activity.extension contains
    InformationClass named informationClass 0..*
* activity.extension ^slicing.description = "The SIP extensions, by url"
* activity.extension[informationClass] ^short = "Information classes the intervention's words (and its decision's) belong to (a consent may exclude them)"
* activity.extension[informationClass].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/information-class" (exactly)
* activity.detail 1..1
* activity.detail ^short = "Every intervention is written inline (never only a reference)"
* activity.detail.extension contains
    PendingDecision named pendingDecision 0..1 and
    Decision named decision 0..1
* activity.detail.extension ^slicing.description = "The SIP extensions, by url"
* activity.detail.extension[pendingDecision] ^short = "What happens while the decision is awaited"
* activity.detail.extension[pendingDecision].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/pending-decision" (exactly)
* activity.detail.extension[decision] ^short = "The municipal decision (ServiceRequest) the intervention rests on"
* activity.detail.extension[decision].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/decision" (exactly)
* activity.detail.statusReason from SIPInterventionStatusReasonVS (extensible)
* activity.detail.statusReason ^binding.description = "Why an intervention waits"
* activity.detail.performer 1..*
* activity.detail.performer ^short = "First the one responsible (principal, unit or other actor), then who does it"
