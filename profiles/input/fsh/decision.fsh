// SIP Decision: a municipal decision (beslut) on an intervention of a SIP, as a ServiceRequest
// (https://hl7.org/fhir/R4/servicerequest.html), GLOSSARY.md's FHIR home for an intervention that
// needs a decision. How a decision's parts map, and why, is in src/fhir/write/decision.ts.

Invariant: sip-dec-1
Description: "A SIP decision is categorised as one (category sip-category#sip-decision)"
Severity: #error
Expression: "category.coding.where(system = 'http://sip-fhir-adapter.se/fhir/CodeSystem/sip-category' and code = 'sip-decision').exists()"
* requirements = "DESIGN.md §4 (the resources of a SIP are found by their SIP category)"

Invariant: sip-dec-2
Description: "A SIP decision says in words what it concerns (code.text), states its statute and when it was made (authoredOn)"
Severity: #error
Expression: "code.text.exists() and extension('http://sip-fhir-adapter.se/fhir/StructureDefinition/statute').exists() and authoredOn.exists()"
* requirements = "GLOSSARY.md, \"Municipal decisions (beslut)\" (Socialstyrelsen's national information model): what it concerns with its statute (kod) and the decision time (tidpunkt)"

Invariant: sip-dec-3
Description: "A SIP decision is in force (active) or overturned (revoked)"
Severity: #error
Expression: "status = 'active' or status = 'revoked'"
* requirements = "GLOSSARY.md, \"Municipal decisions (beslut)\" (Socialstyrelsen's national information model): its status (in force, overturned) is kept apart"

Profile: SIPDecision
Parent: ServiceRequest
Id: sip-decision
Title: "SIP Decision"
Description: "A municipal decision (beslut) on an intervention of a SIP: what it concerns and its statute, granted or refused (doNotPerform), the reasoning, the decision time, the decider, the granted scope, validity and provider."
* insert SIPArtefact
* obeys sip-dec-1
* obeys sip-dec-2
* obeys sip-dec-3
* extension contains
    Statute named statute 1..1
* extension ^slicing.description = "The SIP extensions, by url"
* extension[statute] ^short = "The provision the decision was made under"
* extension[statute].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/statute" (exactly)
* basedOn 1..*
* basedOn ^short = "The SIP CarePlan whose intervention the decision backs"
* status ^short = "active: in force; revoked: overturned"
* intent = #order (exactly)
* category 1..*
* doNotPerform ^short = "true: the application was refused (avslag); absent: granted (bifall)"
* code 1..1
* code ^short = "What the decision concerns: the municipality's own code and words"
* authoredOn 1..1
* authoredOn ^short = "When the decision was made (tidpunkt)"
