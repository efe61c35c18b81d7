// One Extension StructureDefinition (https://hl7.org/fhir/R4/extensibility.html#Extension) for each
// of the project's own extensions in `EXTENSION` (src/fhir/canonical.ts), with the value types the writer
// (src/fhir/write/) uses and the elements it puts them on. HL7's own extensions that the writer
// also uses (`goal-relationship`, the R5 cross-version ones) are HL7's to define and left out.

Extension: PlanVersion
Id: plan-version
Title: "SIP plan version"
Description: "The version of the SIP a resource is, or is about: the plan itself, an approval (Provenance) or an approval request (Task), which names the version it asks the principal to approve (seed 000: an approval is for a version)."
Context: CarePlan, Provenance, Task
* insert SIPArtefact
* value[x] only integer
* value[x] 1..1

Extension: PlanRecorded
Id: plan-recorded
Title: "SIP version recorded"
Description: "When this version of the plan was recorded (meta.lastUpdated belongs to the server)."
Context: CarePlan
* insert SIPArtefact
* value[x] only dateTime
* value[x] 1..1

Extension: InitiatedBy
Id: initiated-by
Title: "SIP initiated by"
Description: "Who initiated the SIP: the individual, a relative or a principal (seed 001 §4.1)."
Context: CarePlan
* insert SIPArtefact
* value[x] only Reference
* value[x] 1..1

Extension: FollowUp
Id: follow-up
Title: "SIP follow-up"
Description: "When the plan is to be followed up, and the meeting that followed it up (seed 001 §4.5 item 5, §4.6)."
Context: CarePlan
* insert SIPArtefact
* extension contains
    date 1..1 and
    heldAt 0..1
* extension ^slicing.description = "The parts of the extension, by url"
* extension[date] ^short = "Planned follow-up date"
* extension[date].value[x] only date
* extension[date].value[x] 1..1
* extension[heldAt] ^short = "The meeting (Appointment) that followed the plan up"
* extension[heldAt].value[x] only Reference
* extension[heldAt].value[x] 1..1

Extension: Closure
Id: closure
Title: "SIP closure"
Description: "Why, when and by whom the SIP was closed, and who was informed (seed 001 §4.7)."
Context: CarePlan
* insert SIPArtefact
* extension contains
    reason 0..1 and
    reasonText 0..1 and
    closedAt 1..1 and
    closedBy 1..1 and
    informed 0..*
* extension ^slicing.description = "The parts of the extension, by url"
* extension[reason] ^short = "Why the plan was closed"
* extension[reason].value[x] only Coding
* extension[reason].value[x] 1..1
* extension[reason].value[x] from SIPClosureReasonVS (required)
* extension[reasonText] ^short = "The reason in words"
* extension[reasonText].value[x] only string
* extension[reasonText].value[x] 1..1
* extension[closedAt] ^short = "When the plan was closed"
* extension[closedAt].value[x] only dateTime
* extension[closedAt].value[x] 1..1
* extension[closedBy] ^short = "Who closed the plan"
* extension[closedBy].value[x] only Reference
* extension[closedBy].value[x] 1..1
* extension[informed] ^short = "Who was told of the closure"
* extension[informed].value[x] only Reference
* extension[informed].value[x] 1..1

Extension: Discharge
Id: discharge
Title: "SIP at discharge from inpatient care"
Description: "The plan is made at discharge from inpatient care under lag (2017:612) om samverkan vid utskrivning från sluten hälso- och sjukvård: from which inpatient care, when, and whether the person continues in compulsory care under LPT or LRV, where a samordnad vårdplan is prescribed instead of a SIP (seed 001 §3.3.2, §3.6.1)."
Context: CarePlan
* insert SIPArtefact
* extension contains
    from 1..1 and
    dischargedAt 0..1 and
    compulsoryCare 0..1
* extension ^slicing.description = "The parts of the extension, by url"
* extension[from] ^short = "Somatic or psychiatric inpatient care"
* extension[from].value[x] only Coding
* extension[from].value[x] 1..1
* extension[from].value[x] from SIPInpatientCareVS (required)
* extension[dischargedAt] ^short = "The day of discharge"
* extension[dischargedAt].value[x] only date
* extension[dischargedAt].value[x] 1..1
* extension[compulsoryCare] ^short = "Öppen psykiatrisk tvångsvård (LPT) or öppen rättspsykiatrisk vård (LRV) after discharge"
* extension[compulsoryCare].value[x] only Coding
* extension[compulsoryCare].value[x] 1..1
* extension[compulsoryCare].value[x] from SIPCompulsoryCareVS (required)

Extension: NoActionsByOthers
Id: no-actions-by-others
Title: "No actions by others"
Description: "The plan states that nobody but the two principals takes any action (seed 001 §4.5 item 3: the plan must say so)."
Context: CarePlan
* insert SIPArtefact
* value[x] only boolean
* value[x] 1..1

Extension: PendingDecision
Id: pending-decision
Title: "Intervention awaiting decision"
Description: "An intervention that could not be decided at the meeting: who decides, what happens meanwhile, when the decision is expected and reported back, and to whom (seed 001 §4.5.1)."
Context: CarePlan.activity.detail
* insert SIPArtefact
* extension contains
    decidedBy 0..1 and
    meanwhile 0..1 and
    expectedDecisionDate 0..1 and
    reportBackBy 0..1 and
    reportBackTo 0..1
* extension ^slicing.description = "The parts of the extension, by url"
* extension 1..*
* extension[decidedBy] ^short = "Who takes the decision"
* extension[decidedBy].value[x] only string
* extension[decidedBy].value[x] 1..1
* extension[meanwhile] ^short = "What is done while waiting"
* extension[meanwhile].value[x] only string
* extension[meanwhile].value[x] 1..1
* extension[expectedDecisionDate] ^short = "When the decision is expected"
* extension[expectedDecisionDate].value[x] only date
* extension[expectedDecisionDate].value[x] 1..1
* extension[reportBackBy] ^short = "When the decision is reported back"
* extension[reportBackBy].value[x] only date
* extension[reportBackBy].value[x] 1..1
* extension[reportBackTo] ^short = "To whom the decision is reported back"
* extension[reportBackTo].value[x] only Reference
* extension[reportBackTo].value[x] 1..1

Extension: Decision
Id: decision
Title: "Decision on the intervention"
Description: "The municipal decision (beslut) the intervention rests on, a ServiceRequest of the SIP Decision profile. An activity cannot have both a reference and a detail (cpl-3), so the link is made from the detail (GLOSSARY.md: intervention → CarePlan.activity + ServiceRequest where it needs a decision)."
Context: CarePlan.activity.detail
* insert SIPArtefact
* value[x] only Reference
* value[x] 1..1

Extension: Statute
Id: statute
Title: "Statute"
Description: "The provision of Swedish law a decision was made under: SFS number, chapter, section and point. Both numberings of the social services act occur: SoL (2001:453) 4 kap. 1 § before 2025-07-01, SoL (2025:400) 11 kap. 1 § since; LSS (1993:387) 9 § has no chapters (GLOSSARY.md, \"Legal references that changed\")."
Context: ServiceRequest
* insert SIPArtefact
* extension contains
    act 1..1 and
    chapter 0..1 and
    section 1..1 and
    point 0..1
* extension ^slicing.description = "The parts of the extension, by url"
* extension[act] ^short = "SFS number of the act, e.g. 2025:400"
* extension[act].value[x] only string
* extension[act].value[x] 1..1
* extension[chapter] ^short = "Chapter (kapitel); absent for acts without chapters"
* extension[chapter].value[x] only positiveInt
* extension[chapter].value[x] 1..1
* extension[section] ^short = "Section (paragraf)"
* extension[section].value[x] only positiveInt
* extension[section].value[x] 1..1
* extension[point] ^short = "Point (punkt) of the section"
* extension[point].value[x] only positiveInt
* extension[point].value[x] 1..1

Extension: CanConsent
Id: can-consent
Title: "Can consent"
Description: "False when the person cannot give consent themselves, so a representative does (seed 001 §4.2). The plan's assessment, so it is written on the person's CareTeam participant, never on the shared Patient; written only when false."
Context: CareTeam.participant
* insert SIPArtefact
* value[x] only boolean
* value[x] 1..1

Extension: PlanParty
Id: plan-party
Title: "SIP party, as this plan knows it"
Description: "A member of the SIP care team as this plan records it: its local id in the plan, and the plan's contact details for it. Shared master data (Patient, Organization, Practitioner) belongs to whoever wrote it first and is never updated by the adapter, so nothing plan-specific is written there (DESIGN.md §6)."
Context: CareTeam.participant
* insert SIPArtefact
* extension contains
    localId 1..1 and
    telecom 0..* and
    address 0..1
* extension ^slicing.description = "The parts of the extension, by url"
* extension[localId] ^short = "The party's id in the plan (system sid/sip-entity, value <plan id>/<local id>)"
* extension[localId].value[x] only Identifier
* extension[localId].value[x] 1..1
* extension[telecom] ^short = "The plan's phone or e-mail for the party"
* extension[telecom].value[x] only ContactPoint
* extension[telecom].value[x] 1..1
* extension[address] ^short = "The plan's postal address for the party"
* extension[address].value[x] only Address
* extension[address].value[x] 1..1

Extension: ConsentRecording
Id: consent-recording
Title: "How the SIP consent was given and documented"
Description: "Written, oral or shown in another way; who documented an oral consent and where (seed 001 §4.2)."
Context: Consent
* insert SIPArtefact
* extension contains
    form 1..1 and
    documentedBy 0..1 and
    documentedIn 0..1
* extension ^slicing.description = "The parts of the extension, by url"
* extension[form] ^short = "Written, oral or other"
* extension[form].value[x] only Coding
* extension[form].value[x] 1..1
* extension[form].value[x] from SIPConsentFormVS (required)
* extension[documentedBy] ^short = "Who documented the consent"
* extension[documentedBy].value[x] only Reference
* extension[documentedBy].value[x] 1..1
* extension[documentedIn] ^short = "The record system it is documented in"
* extension[documentedIn].value[x] only string
* extension[documentedIn].value[x] 1..1

Extension: ConsentWithdrawal
Id: consent-withdrawal
Title: "SIP consent withdrawal"
Description: "When and by whom the consent was withdrawn; the person may withdraw it at any time (seed 001 §4.2)."
Context: Consent
* insert SIPArtefact
* extension contains
    withdrawnAt 1..1 and
    withdrawnBy 1..1 and
    recordedBy 0..1 and
    note 0..1
* extension ^slicing.description = "The parts of the extension, by url"
* extension[withdrawnAt] ^short = "When it was withdrawn"
* extension[withdrawnAt].value[x] only dateTime
* extension[withdrawnAt].value[x] 1..1
* extension[withdrawnBy] ^short = "Who withdrew it"
* extension[withdrawnBy].value[x] only Reference
* extension[withdrawnBy].value[x] 1..1
* extension[recordedBy] ^short = "Who recorded the withdrawal"
* extension[recordedBy].value[x] only Reference
* extension[recordedBy].value[x] 1..1
* extension[note] ^short = "Note"
* extension[note].value[x] only string
* extension[note].value[x] 1..1

Extension: Convener
Id: convener
Title: "Convener"
Description: "Who sent the summons (seed 001 §4.4)."
Context: Appointment
* insert SIPArtefact
* value[x] only Reference
* value[x] 1..1

Extension: ConvenerContact
Id: convener-contact
Title: "Convener's contact details"
Description: "The contact details of whoever summoned the meeting, as the summons states them (seed 001 §4.4)."
Context: Appointment
* insert SIPArtefact
* extension contains
    name 1..1 and
    telecom 0..* and
    address 0..1
* extension ^slicing.description = "The parts of the extension, by url"
* extension[name] ^short = "Name"
* extension[name].value[x] only string
* extension[name].value[x] 1..1
* extension[telecom] ^short = "Phone or e-mail"
* extension[telecom].value[x] only ContactPoint
* extension[telecom].value[x] 1..1
* extension[address] ^short = "Postal address"
* extension[address].value[x] only Address
* extension[address].value[x] 1..1

Extension: Interpreter
Id: interpreter
Title: "Interpreter needed"
Description: "The language an interpreter is needed for at the meeting (seed 001 §4.4)."
Context: Appointment
* insert SIPArtefact
* value[x] only string
* value[x] 1..1

Extension: OtherNeeds
Id: other-needs
Title: "Other needs at the meeting"
Description: "Other needs the summons states, e.g. a time limit or digital aids (seed 001 §4.4)."
Context: Appointment
* insert SIPArtefact
* value[x] only string
* value[x] 1..1

Extension: MeetingRole
Id: meeting-role
Title: "SIP meeting role"
Description: "Who leads the meeting, keeps the minutes, or is the contact person after it (seed 000 \"Mötet\", seed 001 §4.5)."
Context: Appointment
* insert SIPArtefact
* extension contains
    role 1..1 and
    party 1..1
* extension ^slicing.description = "The parts of the extension, by url"
* extension[role] ^short = "The role"
* extension[role].value[x] only Coding
* extension[role].value[x] 1..1
* extension[role].value[x] from SIPParticipantRoleVS (required)
* extension[party] ^short = "Who has it"
* extension[party].value[x] only Reference
* extension[party].value[x] 1..1

Extension: RespondedAt
Id: responded-at
Title: "Responded at"
Description: "When an invitee answered the summons (seed 001 §4.4)."
Context: Appointment.participant
* insert SIPArtefact
* value[x] only dateTime
* value[x] 1..1

Extension: Substitute
Id: substitute
Title: "Substitute"
Description: "Who comes instead of an invitee who cannot (seed 001 §4.4: \"Vid förhinder ska en ersättare utses\")."
Context: Appointment.participant
* insert SIPArtefact
* value[x] only Reference
* value[x] 1..1

Extension: GoalSetAt
Id: goal-set-at
Title: "Goal set at"
Description: "The meeting (Appointment) at which the goal was set."
Context: Goal
* insert SIPArtefact
* value[x] only Reference
* value[x] 1..1

Extension: ApprovalWithdrawal
Id: approval-withdrawal
Title: "SIP approval withdrawal"
Description: "An approval no longer in force: its part was edited after approval, or the principal revoked it (seed 000)."
Context: Provenance
* insert SIPArtefact
* extension contains
    at 1..1 and
    reason 1..1
* extension ^slicing.description = "The parts of the extension, by url"
* extension[at] ^short = "When the approval was withdrawn"
* extension[at].value[x] only dateTime
* extension[at].value[x] 1..1
* extension[reason] ^short = "Why"
* extension[reason].value[x] only Coding
* extension[reason].value[x] 1..1
* extension[reason].value[x] from SIPApprovalWithdrawalReasonVS (required)

Extension: ReportedBy
Id: reported-by
Title: "Deviation reported by"
Description: "The principal or unit that reported a deviation; R4 DetectedIssue.author allows only people and devices (seed 001 §5.2)."
Context: DetectedIssue
* insert SIPArtefact
* value[x] only Reference
* value[x] 1..1

Extension: ApprovalDigest
Id: approval-digest
Title: "SIP approved part digest"
Description: "What the approval approved: SHA-256 (sha256:<hex>) of the RFC 8785 canonical JSON of the principal's interventions and the part all principals share, so a reader can tell whether a later version left it unchanged (seed 000: an edit of an approved part withdraws the approval)."
Context: Provenance
* insert SIPArtefact
* value[x] only string
* value[x] 1..1

Extension: ChildView
Id: child-view
Title: "Child's view of the SIP"
Description: "When guardians consent for a child: the child's own view, or why the child was not asked given age and maturity (seed 001 §4.2)."
Context: Consent
* insert SIPArtefact
* extension contains
    view 0..1 and
    notAskedReason 0..1
* extension ^slicing.description = "The parts of the extension, by url"
* extension 1..*
* extension[view] ^short = "The child's own view"
* extension[view].value[x] only string
* extension[view].value[x] 1..1
* extension[notAskedReason] ^short = "Why the child was not asked (age and maturity)"
* extension[notAskedReason].value[x] only string
* extension[notAskedReason].value[x] 1..1

Extension: InterimResponsiblePrincipal
Id: interim-responsible-principal
Title: "Deviation: principal responsible meanwhile"
Description: "The principal that holds responsibility while a deviation is investigated (seed 001 §5.2: \"tillfällig ansvarsfördelning\")."
Context: DetectedIssue
* insert SIPArtefact
* value[x] only Reference
* value[x] 1..1

Extension: InformationClass
Id: information-class
Title: "SIP information class"
Description: "An information class the item's words belong to (a goal, an intervention with its decision, a deviation), one extension per class. A consent that excludes the class (Consent.provision.provision of type deny with its code) removes the item before the plan is sent (seed 001 §4.2: \"Den enskilde ska erbjudas möjlighet att undanta uppgifter som hen inte vill att annan tar del av\")."
Context: Goal, CarePlan.activity, DetectedIssue
* insert SIPArtefact
* value[x] only Coding
* value[x] 1..1
* value[x] from SIPInformationClassVS (required)
