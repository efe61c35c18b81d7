// How the SIP invariants are written. Every expression must give the same boolean in the `fhirpath`
// package and in `@medplum/core` (test/fhir/profile-invariants.test.ts checks both). Hence two habits:
// - no `resolve()`: Medplum's does not look inside Bundles, so rules across resources join Bundle
//   entries by `fullUrl` on the SIP Bundle profile;
// - no date arithmetic: Medplum 4.5.2 evaluates `@2026-01-01 + 1 year` as string concatenation, so
//   dates are compared as yyyymmdd integers: `<date>.substring(0, 10).replace('-', '').toInteger()`.
// Keys are `sip-` prefixed and unique across the profiles; `requirements` names the seed section a
// rule comes from (seeds are in the project's shared folder; see DESIGN.md §3).
//
// FHIRPath has no variables, so a collection named inside `where` is worked out again for every
// entry: the Bundle's joins (bundle.fsh) narrow the entries first (by type, then to the referenced
// ones) before they look up the principals; written the direct way, fhirpath.js took seconds on a
// 40-entry Bundle.

// What every artefact of the project states about itself, beside the canonical base, version and
// status that sushi-config.yaml gives them all.
RuleSet: SIPArtefact
* ^status = #draft
* ^experimental = false
* ^publisher = "sip-fhir-adapter"
