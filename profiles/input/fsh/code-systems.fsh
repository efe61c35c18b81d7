// The project's own code systems: SIP concepts that have no national code (DESIGN.md §4). Each
// concept's code is the SIP model's own value, so mapping is the identity and cannot drift; the
// Swedish display is what the narrative and people read.
//
// `profiles/CodeSystem-*.json` is built from this file (`npm run profiles:build`); src/fhir/code-systems.ts
// reads it, and test/fhir/code-systems.test.ts fails when a code system drifts from its SIP enum.
// National codes (KVÅ, SNOMED CT) are not invented here: they are configuration (see `FhirMappingOptions`, src/fhir/options.ts).

CodeSystem: SIPCategory
Id: sip-category
Title: "SIP categories"
Description: "Marks the resources that make up a samordnad individuell plan (SIP), so a reader can find them among others."
* insert SIPArtefact
* ^caseSensitive = true
* #sip-plan "Coordinated individual plan (SIP)"
  * ^designation.language = #sv
  * ^designation.value = "Samordnad individuell plan (SIP)"
* #sip-consent "Consent to a SIP"
  * ^designation.language = #sv
  * ^designation.value = "Samtycke till SIP"
* #sip-meeting "SIP meeting"
  * ^designation.language = #sv
  * ^designation.value = "SIP-möte"
* #sip-approval "A principal's approval of its part of a SIP"
  * ^designation.language = #sv
  * ^designation.value = "Huvudmans godkännande av SIP"
* #sip-deviation "Deviation between the principals of a SIP"
  * ^designation.language = #sv
  * ^designation.value = "Avvikelse mellan huvudmännen"
* #sip-decision "Municipal decision on an intervention of a SIP"
  * ^designation.language = #sv
  * ^designation.value = "Beslut om insats i SIP"

CodeSystem: SIPOrganizationType
Id: sip-organization-type
Title: "SIP organisation types"
Description: "What an organisation is in a SIP: one of the two principals (huvudmän), a unit of one, or an other actor (berörd aktör)."
* insert SIPArtefact
* ^caseSensitive = true
* #region "Region (health care principal)"
  * ^designation.language = #sv
  * ^designation.value = "Region (huvudman för hälso- och sjukvård)"
* #municipality "Municipality (social services principal)"
  * ^designation.language = #sv
  * ^designation.value = "Kommun (huvudman för socialtjänst)"
* #unit "Unit of a principal"
  * ^designation.language = #sv
  * ^designation.value = "Verksamhet/enhet hos huvudman"
* #school "School or preschool"
  * ^designation.language = #sv
  * ^designation.value = "Skola/förskola"
* #socialInsuranceAgency "Swedish Social Insurance Agency"
  * ^designation.language = #sv
  * ^designation.value = "Försäkringskassan"
* #publicEmploymentService "Swedish Public Employment Service"
  * ^designation.language = #sv
  * ^designation.value = "Arbetsförmedlingen"
* #prisonAndProbationService "Swedish Prison and Probation Service"
  * ^designation.language = #sv
  * ^designation.value = "Kriminalvården"
* #institutionalCareBoard "National Board of Institutional Care"
  * ^designation.language = #sv
  * ^designation.value = "Statens institutionsstyrelse (SiS)"
* #police "Police"
  * ^designation.language = #sv
  * ^designation.value = "Polisen"
* #dentalCare "Dental care"
  * ^designation.language = #sv
  * ^designation.value = "Tandvården"
* #privateCareProvider "Private care provider"
  * ^designation.language = #sv
  * ^designation.value = "Privat vårdgivare"
* #association "Association"
  * ^designation.language = #sv
  * ^designation.value = "Förening"
* #other "Other actor"
  * ^designation.language = #sv
  * ^designation.value = "Annan aktör"

CodeSystem: SIPParticipantRole
Id: sip-participant-role
Title: "SIP participant roles"
Description: "Roles in a SIP care team and at a SIP meeting (seed 001 §4.3, seed 000 \"Mötet\")."
* insert SIPArtefact
* ^caseSensitive = true
* #individual "The person the plan is for"
  * ^designation.language = #sv
  * ^designation.value = "Den enskilde"
* #principal "Principal"
  * ^designation.language = #sv
  * ^designation.value = "Huvudman"
* #unit "Unit of a principal"
  * ^designation.language = #sv
  * ^designation.value = "Verksamhet/enhet"
* #otherActor "Other actor"
  * ^designation.language = #sv
  * ^designation.value = "Berörd aktör"
* #professional "Professional"
  * ^designation.language = #sv
  * ^designation.value = "Yrkesperson"
* #relatedPerson "Relative, guardian or representative"
  * ^designation.language = #sv
  * ^designation.value = "Närstående, vårdnadshavare eller företrädare"
* #coordinator "Coordinator (overall responsible person)"
  * ^designation.language = #sv
  * ^designation.value = "Huvudansvarig/samordnare"
* #meetingLeader "Meeting leader"
  * ^designation.language = #sv
  * ^designation.value = "Mötesledare"
* #secretary "Secretary"
  * ^designation.language = #sv
  * ^designation.value = "Sekreterare"
* #contactPersonAfterMeeting "Contact person after the meeting"
  * ^designation.language = #sv
  * ^designation.value = "Kontaktperson efter mötet"

CodeSystem: SIPRelatedPersonRole
Id: sip-related-person-role
Title: "SIP related-person roles"
Description: "Custodial guardians, relatives and representatives of the person (seed 001 §4.2, §6.6; seed 004)."
* insert SIPArtefact
* ^caseSensitive = true
* #guardian "Custodial guardian"
  * ^designation.language = #sv
  * ^designation.value = "Vårdnadshavare"
* #relative "Relative or other close person"
  * ^designation.language = #sv
  * ^designation.value = "Närstående"
* #trustee "Trustee (god man)"
  * ^designation.language = #sv
  * ^designation.value = "God man"
* #administrator "Administrator (förvaltare)"
  * ^designation.language = #sv
  * ^designation.value = "Förvaltare"
* #powerOfAttorney "Continuing power of attorney (framtidsfullmakt)"
  * ^designation.language = #sv
  * ^designation.value = "Framtidsfullmaktshavare"
* #personalAgent "Personal agent (personligt ombud)"
  * ^designation.language = #sv
  * ^designation.value = "Personligt ombud"

CodeSystem: SIPInformationClass
Id: sip-information-class
Title: "Information a person may exclude from a SIP"
Description: "Classes of information a person may exclude when consenting to a SIP (seed 001 §4.2)."
* insert SIPArtefact
* ^caseSensitive = true
* #mentalHealth "Mental health"
  * ^designation.language = #sv
  * ^designation.value = "Psykisk hälsa"
* #substanceUse "Substance use"
  * ^designation.language = #sv
  * ^designation.value = "Missbruk och beroende"
* #sexualAndReproductiveHealth "Sexual and reproductive health"
  * ^designation.language = #sv
  * ^designation.value = "Sexuell och reproduktiv hälsa"
* #geneticInformation "Genetic information"
  * ^designation.language = #sv
  * ^designation.value = "Genetisk information"
* #financialSituation "Financial situation"
  * ^designation.language = #sv
  * ^designation.value = "Ekonomi"
* #criminalRecord "Criminal record"
  * ^designation.language = #sv
  * ^designation.value = "Brottslighet"
* #familySituation "Family situation"
  * ^designation.language = #sv
  * ^designation.value = "Familjeförhållanden"
* #other "Other information"
  * ^designation.language = #sv
  * ^designation.value = "Annan information"

CodeSystem: SIPConsentForm
Id: sip-consent-form
Title: "How a SIP consent was given"
Description: "Consent may be given in writing, orally or shown in another way (seed 001 §4.2)."
* insert SIPArtefact
* ^caseSensitive = true
* #written "Written"
  * ^designation.language = #sv
  * ^designation.value = "Skriftligt"
* #oral "Oral"
  * ^designation.language = #sv
  * ^designation.value = "Muntligt"
* #other "Shown in another way"
  * ^designation.language = #sv
  * ^designation.value = "På annat sätt"

CodeSystem: SIPMeetingKind
Id: sip-meeting-kind
Title: "Kinds of SIP meeting"
Description: "First meeting, follow-up, or a pre-meeting between professionals (seed 001 §4.3, §4.6)."
* insert SIPArtefact
* ^caseSensitive = true
* #first "First SIP meeting"
  * ^designation.language = #sv
  * ^designation.value = "Första SIP-mötet"
* #followUp "Follow-up meeting"
  * ^designation.language = #sv
  * ^designation.value = "Uppföljningsmöte"
* #preMeeting "Pre-meeting"
  * ^designation.language = #sv
  * ^designation.value = "Förmöte"

CodeSystem: SIPClosureReason
Id: sip-closure-reason
Title: "Why a SIP was closed"
Description: "Reasons for closing a SIP (seed 001 §4.7)."
* insert SIPArtefact
* ^caseSensitive = true
* #goalsMet "The goals are met"
  * ^designation.language = #sv
  * ^designation.value = "Målen är uppfyllda"
* #needNoLongerExists "The need no longer exists"
  * ^designation.language = #sv
  * ^designation.value = "Behovet finns inte längre"
* #consentWithdrawn "The consent was withdrawn"
  * ^designation.language = #sv
  * ^designation.value = "Samtycket har återkallats"
* #other "Other reason"
  * ^designation.language = #sv
  * ^designation.value = "Annat skäl"

CodeSystem: SIPDeviationCategory
Id: sip-deviation-category
Title: "SIP deviation categories"
Description: "What went wrong between the principals (seed 001 §5.2)."
* insert SIPArtefact
* ^caseSensitive = true
* #absentFromMeeting "A summoned party did not come to the meeting"
  * ^designation.language = #sv
  * ^designation.value = "Kallad part kom inte till mötet"
* #interventionNotDelivered "An agreed intervention was not delivered"
  * ^designation.language = #sv
  * ^designation.value = "Överenskommen insats gavs inte"
* #decisionDelayed "A decision was delayed"
  * ^designation.language = #sv
  * ^designation.value = "Beslut drog ut på tiden"
* #informationNotShared "Information was not shared"
  * ^designation.language = #sv
  * ^designation.value = "Information delades inte"
* #other "Other deviation"
  * ^designation.language = #sv
  * ^designation.value = "Annan avvikelse"

CodeSystem: SIPApprovalWithdrawalReason
Id: sip-approval-withdrawal-reason
Title: "Why an approval of a SIP was withdrawn"
Description: "An edit of an approved part withdraws its approval; a principal may also revoke it (seed 000)."
* insert SIPArtefact
* ^caseSensitive = true
* #editedAfterApproval "The approved part was edited"
  * ^designation.language = #sv
  * ^designation.value = "Den godkända delen har ändrats"
* #revokedByPrincipal "Revoked by the principal"
  * ^designation.language = #sv
  * ^designation.value = "Återkallat av huvudmannen"

CodeSystem: SIPInterventionStatusReason
Id: sip-intervention-status-reason
Title: "Why a SIP intervention waits"
Description: "An intervention that could not be decided at the meeting (i väntan på beslut, seed 001 §4.5.1)."
* insert SIPArtefact
* ^caseSensitive = true
* #awaitingDecision "Awaiting decision"
  * ^designation.language = #sv
  * ^designation.value = "I väntan på beslut"

CodeSystem: SIPInpatientCare
Id: sip-inpatient-care
Title: "Inpatient care a SIP is made at discharge from"
Description: "The slutenvård (inpatient care) a person is discharged from when the SIP is made at discharge under lag (2017:612) om samverkan vid utskrivning från sluten hälso- och sjukvård (seed 001 §3.3.2)."
* insert SIPArtefact
* ^caseSensitive = true
* #somaticInpatientCare "Somatic inpatient care"
  * ^designation.language = #sv
  * ^designation.value = "Somatisk slutenvård"
* #psychiatricInpatientCare "Psychiatric inpatient care"
  * ^designation.language = #sv
  * ^designation.value = "Psykiatrisk slutenvård"

CodeSystem: SIPCompulsoryCare
Id: sip-compulsory-care
Title: "Compulsory psychiatric care after discharge"
Description: "The law under which a person discharged from psychiatric inpatient care continues in compulsory care outside hospital; planning is then a samordnad vårdplan under that law instead of a SIP (seed 001 §3.6.1)."
* insert SIPArtefact
* ^caseSensitive = true
* #LPT "Outpatient compulsory psychiatric care under LPT (SFS 1991:1128)"
  * ^designation.language = #sv
  * ^designation.value = "Öppen psykiatrisk tvångsvård enligt lagen (1991:1128) om psykiatrisk tvångsvård (LPT)"
* #LRV "Outpatient forensic psychiatric care under LRV (SFS 1991:1129)"
  * ^designation.language = #sv
  * ^designation.value = "Öppen rättspsykiatrisk vård enligt lagen (1991:1129) om rättspsykiatrisk vård (LRV)"
