// One ValueSet per project CodeSystem, with all its codes, so elements can be bound to them
// (https://hl7.org/fhir/R4/terminologies.html#binding). The ValueSet has the CodeSystem's id.

ValueSet: SIPCategoryVS
Id: sip-category
Title: "SIP categories"
Description: "All codes of the CodeSystem http://sip-fhir-adapter.se/fhir/CodeSystem/sip-category. Marks the resources that make up a samordnad individuell plan (SIP), so a reader can find them among others."
* insert SIPArtefact
* ^name = "SIPCategory"
* include codes from system SIPCategory|0.1.0

ValueSet: SIPOrganizationTypeVS
Id: sip-organization-type
Title: "SIP organisation types"
Description: "All codes of the CodeSystem http://sip-fhir-adapter.se/fhir/CodeSystem/sip-organization-type. What an organisation is in a SIP: one of the two principals (huvudmän), a unit of one, or an other actor (berörd aktör)."
* insert SIPArtefact
* ^name = "SIPOrganizationType"
* include codes from system SIPOrganizationType|0.1.0

ValueSet: SIPParticipantRoleVS
Id: sip-participant-role
Title: "SIP participant roles"
Description: "All codes of the CodeSystem http://sip-fhir-adapter.se/fhir/CodeSystem/sip-participant-role. Roles in a SIP care team and at a SIP meeting (seed 001 §4.3, seed 000 \"Mötet\")."
* insert SIPArtefact
* ^name = "SIPParticipantRole"
* include codes from system SIPParticipantRole|0.1.0

ValueSet: SIPRelatedPersonRoleVS
Id: sip-related-person-role
Title: "SIP related-person roles"
Description: "All codes of the CodeSystem http://sip-fhir-adapter.se/fhir/CodeSystem/sip-related-person-role. Custodial guardians, relatives and representatives of the person (seed 001 §4.2, §6.6; seed 004)."
* insert SIPArtefact
* ^name = "SIPRelatedPersonRole"
* include codes from system SIPRelatedPersonRole|0.1.0

ValueSet: SIPInformationClassVS
Id: sip-information-class
Title: "Information a person may exclude from a SIP"
Description: "All codes of the CodeSystem http://sip-fhir-adapter.se/fhir/CodeSystem/sip-information-class. Classes of information a person may exclude when consenting to a SIP (seed 001 §4.2)."
* insert SIPArtefact
* ^name = "SIPInformationClass"
* include codes from system SIPInformationClass|0.1.0

ValueSet: SIPConsentFormVS
Id: sip-consent-form
Title: "How a SIP consent was given"
Description: "All codes of the CodeSystem http://sip-fhir-adapter.se/fhir/CodeSystem/sip-consent-form. Consent may be given in writing, orally or shown in another way (seed 001 §4.2)."
* insert SIPArtefact
* ^name = "SIPConsentForm"
* include codes from system SIPConsentForm|0.1.0

ValueSet: SIPMeetingKindVS
Id: sip-meeting-kind
Title: "Kinds of SIP meeting"
Description: "All codes of the CodeSystem http://sip-fhir-adapter.se/fhir/CodeSystem/sip-meeting-kind. First meeting, follow-up, or a pre-meeting between professionals (seed 001 §4.3, §4.6)."
* insert SIPArtefact
* ^name = "SIPMeetingKind"
* include codes from system SIPMeetingKind|0.1.0

ValueSet: SIPClosureReasonVS
Id: sip-closure-reason
Title: "Why a SIP was closed"
Description: "All codes of the CodeSystem http://sip-fhir-adapter.se/fhir/CodeSystem/sip-closure-reason. Reasons for closing a SIP (seed 001 §4.7)."
* insert SIPArtefact
* ^name = "SIPClosureReason"
* include codes from system SIPClosureReason|0.1.0

ValueSet: SIPDeviationCategoryVS
Id: sip-deviation-category
Title: "SIP deviation categories"
Description: "All codes of the CodeSystem http://sip-fhir-adapter.se/fhir/CodeSystem/sip-deviation-category. What went wrong between the principals (seed 001 §5.2)."
* insert SIPArtefact
* ^name = "SIPDeviationCategory"
* include codes from system SIPDeviationCategory|0.1.0

ValueSet: SIPApprovalWithdrawalReasonVS
Id: sip-approval-withdrawal-reason
Title: "Why an approval of a SIP was withdrawn"
Description: "All codes of the CodeSystem http://sip-fhir-adapter.se/fhir/CodeSystem/sip-approval-withdrawal-reason. An edit of an approved part withdraws its approval; a principal may also revoke it (seed 000)."
* insert SIPArtefact
* ^name = "SIPApprovalWithdrawalReason"
* include codes from system SIPApprovalWithdrawalReason|0.1.0

ValueSet: SIPInterventionStatusReasonVS
Id: sip-intervention-status-reason
Title: "Why a SIP intervention waits"
Description: "All codes of the CodeSystem http://sip-fhir-adapter.se/fhir/CodeSystem/sip-intervention-status-reason. An intervention that could not be decided at the meeting (i väntan på beslut, seed 001 §4.5.1)."
* insert SIPArtefact
* ^name = "SIPInterventionStatusReason"
* include codes from system SIPInterventionStatusReason|0.1.0

ValueSet: SIPInpatientCareVS
Id: sip-inpatient-care
Title: "Inpatient care a SIP is made at discharge from"
Description: "All codes of the CodeSystem http://sip-fhir-adapter.se/fhir/CodeSystem/sip-inpatient-care. The slutenvård (inpatient care) a person is discharged from when the SIP is made at discharge under lag (2017:612) om samverkan vid utskrivning från sluten hälso- och sjukvård (seed 001 §3.3.2)."
* insert SIPArtefact
* ^name = "SIPInpatientCare"
* include codes from system SIPInpatientCare|0.1.0

ValueSet: SIPCompulsoryCareVS
Id: sip-compulsory-care
Title: "Compulsory psychiatric care after discharge"
Description: "All codes of the CodeSystem http://sip-fhir-adapter.se/fhir/CodeSystem/sip-compulsory-care. The law under which a person discharged from psychiatric inpatient care continues in compulsory care outside hospital; planning is then a samordnad vårdplan under that law instead of a SIP (seed 001 §3.6.1)."
* insert SIPArtefact
* ^name = "SIPCompulsoryCare"
* include codes from system SIPCompulsoryCare|0.1.0
