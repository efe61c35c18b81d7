// What every artefact of the project states about itself, beside the canonical base, version and
// status that sushi-config.yaml gives them all.
RuleSet: SIPArtefact
* ^status = #draft
* ^experimental = false
* ^publisher = "sip-fhir-adapter"
