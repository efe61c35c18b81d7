// SIP Appointment: a SIP meeting and its summons (https://hl7.org/fhir/R4/appointment.html). The
// time of a booked meeting needs no rule of ours: R4's app-3 already requires start and end.

Invariant: sip-app-1
Description: "A booked SIP meeting has an agenda (description)"
Severity: #error
Expression: "status = 'booked' implies description.exists()"
* requirements = "Seed 001 §4.4 (Kallelse): \"Frågeställning/agenda för mötet\""

Invariant: sip-app-2
Description: "A booked SIP meeting has a place (a Location participant) or a digital meeting link (R5 virtualService address)"
Severity: #error
Expression: "status = 'booked' implies (participant.actor.where(type = 'Location' or reference.startsWith('Location/')).exists() or extension('http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.virtualService').extension('address').exists())"
* requirements = "Seed 001 §4.4 (Kallelse): \"Tid och plats/information om ev. digitalt möte\""

Profile: SIPAppointment
Parent: Appointment
Id: sip-appointment
Title: "SIP Appointment"
Description: "A SIP meeting: the summons (who it is about, time, place or link, agenda, everyone invited, needs, the convener) and each invitee's answer (seed 001 §4.4, §4.5)."
* insert SIPArtefact
* obeys sip-app-1
* obeys sip-app-2
* extension contains
    Convener named convener 0..1 and
    ConvenerContact named convenerContact 0..1 and
    Interpreter named interpreter 0..1 and
    OtherNeeds named otherNeeds 0..1 and
    MeetingRole named meetingRole 0..*
* extension ^slicing.description = "The SIP extensions, by url"
* extension[convener] ^short = "Who sent the summons"
* extension[convener].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/convener" (exactly)
* extension[convenerContact] ^short = "The convener's contact details"
* extension[convenerContact].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/convener-contact" (exactly)
* extension[interpreter] ^short = "Interpreter needed, for which language"
* extension[interpreter].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/interpreter" (exactly)
* extension[otherNeeds] ^short = "Other needs"
* extension[otherNeeds].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/other-needs" (exactly)
* extension[meetingRole] ^short = "Meeting leader, secretary, contact person after the meeting"
* extension[meetingRole].url = "http://sip-fhir-adapter.se/fhir/StructureDefinition/meeting-role" (exactly)
* appointmentType 1..1
* appointmentType from SIPMeetingKindVS (extensible)
* appointmentType ^binding.description = "First meeting, follow-up or pre-meeting"
* description MS
* description ^short = "The agenda of the meeting"
* participant.type from SIPParticipantRoleVS (extensible)
* participant.type ^binding.description = "Meeting roles"
