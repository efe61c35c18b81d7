// Patient, Organization, Practitioner, PractitionerRole and RelatedPerson as a SIP writes them,
// aligned with HL7 Sweden's base profiles (basprofiler-r4, `input/fsh/profiles/`): the same
// identifier slices (discriminated by `system`, open) with the same systems and slice names. They
// derive from the R4 core definitions, not from HL7 Sweden's, because those have no published
// package this build can read; the slices are what a SE base validator checks too.

Invariant: sip-pat-1
Description: "The person of a SIP is identified (an identifier with system and value)"
Severity: #error
Expression: "identifier.where(system.exists() and value.exists()).exists()"
* requirements = "Seed 001 §4.4 (\"Vem kallelsen avser, dvs. den enskildes uppgifter\")"

Invariant: sip-pat-2
Description: "A person with protected identity (skyddadFolkbokforing or sekretessmarkering) has no address or telecom"
Severity: #error
Expression: "meta.security.where(system = 'http://hl7.se/fhir/ig/base/CodeSystem/SecurityLabel').exists() implies (address.empty() and telecom.empty())"
* requirements = "DESIGN.md §4 (protected identity); HL7 Sweden sekretess.fsh"

Profile: SIPPatient
Parent: Patient
Id: sip-patient
Title: "SIP Patient"
Description: "The person a SIP is for, identified as in HL7 Sweden's SEBasePatient (personnummer, samordningsnummer, nationellt reservnummer)."
* insert SIPArtefact
* obeys sip-pat-1
* obeys sip-pat-2
* identifier ^slicing.discriminator.type = #value
* identifier ^slicing.discriminator.path = "system"
* identifier ^slicing.rules = #open
* identifier ^slicing.description = "Swedish person identifiers (as SEBasePatient)"
* identifier 1..*
* identifier contains
    personnummer 0..1 and
    samordningsnummer 0..1 and
    nationelltReservnummer 0..1
* identifier[personnummer] ^short = "Personnummer"
* identifier[personnummer].system 1..1
* identifier[personnummer].system = "http://electronichealth.se/identifier/personnummer" (exactly)
* identifier[personnummer].value 1..1
* identifier[samordningsnummer] ^short = "Samordningsnummer"
* identifier[samordningsnummer].system 1..1
* identifier[samordningsnummer].system = "http://electronichealth.se/identifier/samordningsnummer" (exactly)
* identifier[samordningsnummer].value 1..1
* identifier[nationelltReservnummer] ^short = "Nationellt reservnummer"
* identifier[nationelltReservnummer].system 1..1
* identifier[nationelltReservnummer].system = "http://electronichealth.se/identifier/nationelltReservnummer" (exactly)
* identifier[nationelltReservnummer].value 1..1


Profile: SIPOrganization
Parent: Organization
Id: sip-organization
Title: "SIP Organization"
Description: "A principal (kommun or region), one of its units, or an other actor of a SIP, identified as in HL7 Sweden's SEBaseOrganization (HSA-id, organisationsnummer)."
* insert SIPArtefact
* identifier ^slicing.discriminator.type = #value
* identifier ^slicing.discriminator.path = "system"
* identifier ^slicing.rules = #open
* identifier ^slicing.description = "Swedish organisation identifiers (as SEBaseOrganization)"
* identifier 1..*
* identifier contains
    hsaid 0..1 and
    organizationIdentifier 0..1
* identifier[hsaid] ^short = "HSA-id"
* identifier[hsaid].type = http://terminology.hl7.org/CodeSystem/v2-0203#PRN
* identifier[hsaid].system 1..1
* identifier[hsaid].system = "urn:oid:1.2.752.29.4.19" (exactly)
* identifier[hsaid].value 1..1
* identifier[organizationIdentifier] ^short = "Organisationsnummer"
// `XX` if a type is given, as SEBaseOrganization; the adapter writes none (src/fhir/write/organization.ts).
* identifier[organizationIdentifier].type = http://terminology.hl7.org/CodeSystem/v2-0203#XX
* identifier[organizationIdentifier].system 1..1
* identifier[organizationIdentifier].system = "urn:oid:2.5.4.97" (exactly)
* identifier[organizationIdentifier].value 1..1
* type 1..*
* type from SIPOrganizationTypeVS (extensible)
* type ^binding.description = "Principal, unit or other actor"
* name 1..1


Profile: SIPPractitioner
Parent: Practitioner
Id: sip-practitioner
Title: "SIP Practitioner"
Description: "A professional taking part in a SIP, identified by HSA-id when known, as in HL7 Sweden's SEBasePractitioner."
* insert SIPArtefact
* identifier ^slicing.discriminator.type = #value
* identifier ^slicing.discriminator.path = "system"
* identifier ^slicing.rules = #open
* identifier ^slicing.description = "Swedish practitioner identifiers (as SEBasePractitioner)"
* identifier 1..*
* identifier contains
    hsaid 0..1
* identifier[hsaid] ^short = "HSA-id"
* identifier[hsaid].system 1..1
* identifier[hsaid].system = "urn:oid:1.2.752.29.4.19" (exactly)
* identifier[hsaid].value 1..1
* name 1..*


Profile: SIPPractitionerrole
Parent: PractitionerRole
Id: sip-practitionerrole
Title: "SIP PractitionerRole"
Description: "A professional acting for one organisation (principal, unit or other actor) in a SIP."
* insert SIPArtefact
* practitioner 1..1
* organization 1..1


Profile: SIPRelatedperson
Parent: RelatedPerson
Id: sip-relatedperson
Title: "SIP RelatedPerson"
Description: "A relative, custodial guardian or representative (god man, förvaltare, framtidsfullmaktshavare, personligt ombud) of the person (seed 001 §4.2, §6.6; seed 004)."
* insert SIPArtefact
* identifier ^slicing.discriminator.type = #value
* identifier ^slicing.discriminator.path = "system"
* identifier ^slicing.rules = #open
* identifier ^slicing.description = "Swedish person identifiers (as SEBasePatient)"
* identifier contains
    personnummer 0..1 and
    samordningsnummer 0..1 and
    nationelltReservnummer 0..1
* identifier[personnummer] ^short = "Personnummer"
* identifier[personnummer].system 1..1
* identifier[personnummer].system = "http://electronichealth.se/identifier/personnummer" (exactly)
* identifier[personnummer].value 1..1
* identifier[samordningsnummer] ^short = "Samordningsnummer"
* identifier[samordningsnummer].system 1..1
* identifier[samordningsnummer].system = "http://electronichealth.se/identifier/samordningsnummer" (exactly)
* identifier[samordningsnummer].value 1..1
* identifier[nationelltReservnummer] ^short = "Nationellt reservnummer"
* identifier[nationelltReservnummer].system 1..1
* identifier[nationelltReservnummer].system = "http://electronichealth.se/identifier/nationelltReservnummer" (exactly)
* identifier[nationelltReservnummer].value 1..1
* relationship 1..*
* relationship from SIPRelatedPersonRoleVS (extensible)
* relationship ^binding.description = "Guardian, relative or representative"
* name 1..*
