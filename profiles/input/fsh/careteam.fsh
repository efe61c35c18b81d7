//  SIP CareTeam: everyone around the plan, with their SIP roles (https://hl7.org/fhir/R4/careteam.html).

Invariant: sip-ctm-1
Description: "A SIP care team has at most one coordinator (huvudansvarig)"
Severity: #error
Expression: "participant.where(role.coding.where(system = 'http://sip-fhir-adapter.se/fhir/CodeSystem/sip-participant-role' and code = 'coordinator').exists()).count() <= 1"
* requirements = "Seed 001 §4.5 (Möte, part 1: \"utse huvudansvarig\"); seed 003 \"Samordnare\""

Profile: SIPCareteam
Parent: CareTeam
Id: sip-careteam
Title: "SIP CareTeam"
Description: "The participants of a SIP: the person, the principals and their units, other actors, professionals and related persons, with their SIP roles (seed 001 §4.3, §6.1, §6.2), each with its local id and the plan's contact details for it."
* insert SIPArtefact
* obeys sip-ctm-1
* subject 1..1
* participant 1..*
* participant.role 1..*
* participant.role from SIPParticipantRoleVS (extensible)
* participant.role ^binding.description = "Roles in a SIP"
* participant.member 1..1
* participant.extension contains
    PlanParty named planParty 0..1 and
    CanConsent named canConsent 0..1
* participant.extension ^slicing.description = "The SIP extensions, by url"
* participant.extension[planParty] ^short = "The member as this plan knows it: local id and the plan's contact details"
* participant.extension[planParty].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/plan-party" (exactly)
* participant.extension[canConsent] ^short = "False when the person cannot consent themselves (on the person's participant)"
* participant.extension[canConsent].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/can-consent" (exactly)
