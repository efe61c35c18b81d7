//  SIP Goal: the person's own goal, in their own words (https://hl7.org/fhir/R4/goal.html).

Invariant: sip-gol-1
Description: "A SIP goal is written in words (description.text), as the person said it"
Severity: #error
Expression: "description.text.exists()"
* requirements = "Seed 001 §4.5 item 1 (\"Vilka mål den enskilde har\"); seed 003"

Profile: SIPGoal
Parent: Goal
Id: sip-goal
Title: "SIP Goal"
Description: "One of the person's goals in a SIP (seed 001 §4.5 item 1)."
* insert SIPArtefact
* obeys sip-gol-1
* extension contains
    GoalSetAt named goalSetAt 0..1 and
    InformationClass named informationClass 0..*
* extension ^slicing.description = "The SIP extensions, by url"
* extension[goalSetAt] ^short = "The meeting the goal was set at"
* extension[goalSetAt].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/goal-set-at" (exactly)
* extension[informationClass] ^short = "Information classes the goal's words belong to (a consent may exclude them)"
* extension[informationClass].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/information-class" (exactly)
* expressedBy MS
* expressedBy ^short = "Whose goal it is; the person for their own goals"
