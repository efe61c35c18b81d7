// SIP approval Task: one per principal, asking it to approve its part of one version of the plan
// (https://hl7.org/fhir/R4/task.html; seed 000: red, yellow, green).
//
// Which version: in a transaction Bundle the CarePlan is referred to by its `urn:uuid` fullUrl,
// which cannot carry `/_history/<version>` (the server assigns ids and versions while it processes
// the transaction, https://hl7.org/fhir/R4/http.html#trules). So the Task names the version in the
// `plan-version` extension, as the approval's Provenance does; a Task read from a server may
// instead have a version-specific `focus` reference (`CarePlan/<id>/_history/<version>`).

Invariant: sip-tsk-1
Description: "An approval Task is about one version of the CarePlan: a version-specific focus reference, or the plan-version extension"
Severity: #error
Expression: "focus.reference.exists() and (focus.reference.contains('/_history/') or extension('http://sip-fhir-adapter.se/fhir/StructureDefinition/plan-version').value.exists())"
* requirements = "Seed 000 (godkännande per huvudman, röd/gul/grön); DESIGN.md §3 \"an approval is for a version\""

Invariant: sip-tsk-2
Description: "An approval Task is owned by the principal whose approval it asks for (owner)"
Severity: #error
Expression: "owner.exists()"
* requirements = "Seed 000 (godkännande per huvudman, röd/gul/grön); DESIGN.md §3 \"an approval is for a version\"; seed 001 §6.1 (Huvudmän)"

Profile: SIPApprovalTask
Parent: Task
Id: sip-approval-task
Title: "SIP approval Task"
Description: "A principal's approval of its part of one version of a SIP: requested until approved, then completed (seed 000)."
* insert SIPArtefact
* obeys sip-tsk-1
* obeys sip-tsk-2
* extension contains
    PlanVersion named planVersion 0..1
* extension ^slicing.description = "The SIP extensions, by url"
* extension[planVersion] ^short = "The plan version to approve"
* extension[planVersion].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/plan-version" (exactly)
* code 1..1
* code = http://hl7.org/fhir/CodeSystem/task-code#approve
* focus 1..1
* focus ^short = "The CarePlan (version) to approve"
* owner 1..1
* owner ^short = "The principal (Organization)"
