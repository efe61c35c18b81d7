/**
 * The SIP profiles through the project's validator:
 * - every Bundle `to-fhir` makes from the examples validates against them with no error, but for the
 *   examples with no consent in force when sent (NOT_SENDABLE), reported with that rule only; and the
 *   profiles are really applied (each resource is walked against the profile it declares);
 * - the consent is judged when the Bundle is sent (its timestamp), in both validators;
 * - every sip-* invariant fails, with its key, severity, location and profile, on the broken variant
 *   made for it;
 * - @medplum/core 4.5.2, loading the same StructureDefinitions, reaches the same verdict on every
 *   sip-* invariant, resource by resource, on all of those Bundles. Its validateResource evaluates
 *   only constraints of severity error, so the verdicts compared are errors; that Medplum's FHIRPath
 *   engine agrees on the warning invariants too is test/fhir/profile-invariants.test.ts's.
 */
import type { Bundle, OperationOutcome, Resource } from 'fhir/r4.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAPPING_OPTIONS, planToBundle, PROFILE } from '../../src/fhir/index.js';
import { createValidator, hasErrors } from '../../src/validation/index.js';
import { NOT_SENDABLE, exampleFiles, readExample } from '../support/examples.js';
import { loadMedplumWithProfiles, medplumProfileErrors } from '../support/medplum-profiles.js';
import { BREAKERS, invariantSeverity } from '../support/profile-breakers.js';

const validator = createValidator();
const BROKEN_EXAMPLE = 'adult-psychiatry-addiction.json';
const SIP_KEY = /\bsip-[a-z]+-\d+\b/g;

/** The Bundle and its entries, each with the FHIRPath our validator reports it under. */
function located(bundle: Bundle): { at: string; resource: Resource }[] {
  return [
    { at: 'Bundle', resource: bundle },
    ...(bundle.entry ?? []).flatMap((entry, index) => (entry.resource === undefined ? [] : [{ at: `Bundle.entry[${String(index)}].resource`, resource: entry.resource }])),
  ];
}

/** sip-* keys our validator reports, by the resource they are on. */
function oursByResource(bundle: Bundle, outcome: OperationOutcome): Map<string, string[]> {
  const byResource = new Map<string, string[]>();
  const places = located(bundle).map(({ at }) => at).sort((a, b) => b.length - a.length);
  for (const issue of outcome.issue) {
    const key = issue.details?.coding?.[0]?.code ?? '';
    if (!key.startsWith('sip-') || (issue.severity !== 'error' && issue.severity !== 'fatal')) continue;
    const expression = issue.expression?.[0] ?? '';
    const at = places.find((place) => expression === place || expression.startsWith(`${place}.`)) ?? 'Bundle';
    byResource.set(at, [...(byResource.get(at) ?? []), key].sort());
  }
  return byResource;
}

/** sip-* keys Medplum reports, validating each resource against the profiles it declares. */
function medplumByResource(bundle: Bundle): Map<string, string[]> {
  const byResource = new Map<string, string[]>();
  for (const { at, resource } of located(bundle)) {
    const keys = (resource.meta?.profile ?? []).flatMap((profile) => medplumProfileErrors(resource, profile).flatMap((message) => message.match(SIP_KEY) ?? []));
    if (keys.length > 0) byResource.set(at, [...new Set(keys)].sort());
  }
  return byResource;
}

function brokenBundle(apply: (bundle: Bundle) => void): Bundle {
  const bundle = structuredClone(planToBundle(readExample(BROKEN_EXAMPLE)));
  apply(bundle);
  return bundle;
}

/** Errors of an outcome as `key at expression: text`, for a readable comparison. */
function errorsOf(outcome: OperationOutcome): string[] {
  return outcome.issue
    .filter((issue) => issue.severity === 'error' || issue.severity === 'fatal')
    .map((issue) => `${issue.details?.coding?.[0]?.code ?? ''} at ${issue.expression?.[0] ?? ''}: ${issue.details?.text ?? ''}`);
}

describe('to-fhir Bundles against the SIP profiles', () => {
  const sendable = exampleFiles.filter((file) => NOT_SENDABLE[file] === undefined);

  it('only closed-consent-withdrawn.json, whose consent was withdrawn, has no consent in force when sent', () => {
    expect(exampleFiles.filter((file) => !sendable.includes(file))).toEqual(['closed-consent-withdrawn.json']);
  });

  it.each(sendable)('%s validates with no error', (file) => {
    const outcome = validator.validate(planToBundle(readExample(file)));
    expect(errorsOf(outcome)).toEqual([]);
    expect(outcome.issue.filter((issue) => issue.details?.coding?.[0]?.code === 'unknown-profile')).toEqual([]);
  });

  it.each(Object.entries(NOT_SENDABLE))('%s has no consent in force when sent: the Bundle is reported with %s and nothing else', (file, key) => {
    const outcome = validator.validate(planToBundle(readExample(file)));
    expect(errorsOf(outcome).map((error) => error.slice(0, error.indexOf(':')))).toEqual([`${key ?? ''} at Bundle`]);
  });

  // A Bundle sent when the plan version was recorded, and one sent on 2026-05-01 (as `to-fhir --at`).
  const sendings = [
    { when: 'when the version was recorded', at: undefined },
    { when: 'on 2026-05-01', at: '2026-05-01T12:00:00+02:00' },
  ];
  it.each(exampleFiles.flatMap((file) => sendings.map((sending) => ({ file, ...sending }))))(
    '$file, sent $when, has no warning: every entry is narrated (dom-6) and every code is in its ValueSet',
    ({ file, at }) => {
      const plan = readExample(file);
      const bundle = at === undefined ? planToBundle(plan) : planToBundle(plan, DEFAULT_MAPPING_OPTIONS, new Date(at));
      const outcome = validator.validate(bundle);
      const warnings = outcome.issue
        .filter((issue) => issue.severity === 'warning')
        .map((issue) => `${issue.details?.coding?.[0]?.code ?? ''} at ${issue.expression?.[0] ?? ''}: ${issue.details?.text ?? issue.diagnostics ?? ''}`);
      expect(warnings).toEqual([]);
      const refusedFor = NOT_SENDABLE[file];
      expect(errorsOf(outcome).map((error) => error.slice(0, error.indexOf(':')))).toEqual(refusedFor === undefined ? [] : [`${refusedFor} at Bundle`]);
    },
  );

  it('walks each resource against the profile it declares, not only the base type', () => {
    const bundle = structuredClone(planToBundle(readExample(BROKEN_EXAMPLE)));
    const consent = bundle.entry?.find((entry) => entry.resource?.resourceType === 'Consent')?.resource;
    if (consent?.resourceType !== 'Consent') throw new Error('no Consent');
    expect(consent.meta?.profile).toEqual([PROFILE.consent]);
    delete consent.patient;
    const outcome = validator.validate(bundle);
    expect(outcome.issue.find((issue) => issue.details?.coding?.[0]?.code === 'sip-con-1')?.details?.coding?.[0]?.system).toBe(PROFILE.consent);
    // R4's own ppc-2..5 never fire: without the profile, a Consent without a patient passes.
    delete consent.meta;
    expect(hasErrors(validator.validate(consent))).toBe(false);
    expect(hasErrors(validator.validate(consent, { profiles: [PROFILE.consent] }))).toBe(true);
  });
});

describe.each(BREAKERS)('$key is broken by $what', ({ key, on, apply }) => {
  it('our validator reports it, at the resource it is on, from the SIP profile', () => {
    const bundle = brokenBundle(apply);
    const outcome = validator.validate(bundle);
    const issue = outcome.issue.find((candidate) => candidate.details?.coding?.[0]?.code === key);
    expect(issue, JSON.stringify(outcome.issue.filter((candidate) => candidate.severity === 'error'), null, 1)).toBeDefined();
    expect(issue?.severity).toBe(invariantSeverity(key));
    expect(issue?.details?.coding?.[0]?.system).toMatch(/^http:\/\/sip-fhir-adapter\.se\/fhir\/StructureDefinition\/sip-/);
    const onResource = located(bundle).filter(({ resource }) => resource.resourceType === on).map(({ at }) => at);
    expect(onResource.some((at) => issue?.expression?.[0] === at || issue?.expression?.[0]?.startsWith(`${at}.`) === true)).toBe(true);
  });
});

describe('the consent is judged when the Bundle is sent', () => {
  // adult-psychiatry-addiction's consent is valid until 2027-02-11, a Stockholm calendar date.
  const plan = readExample(BROKEN_EXAMPLE);
  const sentAt = (at: string): Bundle => planToBundle(plan, DEFAULT_MAPPING_OPTIONS, new Date(at));

  beforeAll(() => {
    loadMedplumWithProfiles();
  });

  it('on its last day, 23:30 in Stockholm, the Bundle passes both validators', () => {
    const bundle = sentAt('2027-02-11T23:30:00+01:00');
    expect(errorsOf(validator.validate(bundle))).toEqual([]);
    expect(medplumProfileErrors(bundle, PROFILE.bundle)).toEqual([]);
  });

  it('half an hour later, the next day in Stockholm though not in UTC, both report sip-bdl-7', () => {
    const bundle = sentAt('2027-02-11T23:30:00Z');
    expect(bundle.timestamp).toBe('2027-02-12T00:30:00+01:00');
    expect(errorsOf(validator.validate(bundle)).map((error) => error.slice(0, error.indexOf(':')))).toEqual(['sip-bdl-7 at Bundle']);
    expect(medplumProfileErrors(bundle, PROFILE.bundle).flatMap((message) => message.match(SIP_KEY) ?? [])).toEqual(['sip-bdl-7']);
  });

  it('a Bundle without a timestamp breaks the SIP Bundle profile, which requires it', () => {
    const bundle = sentAt('2026-03-12T15:20:00+01:00');
    delete bundle.timestamp;
    const outcome = validator.validate(bundle);
    expect(outcome.issue.some((issue) => issue.severity === 'error' && issue.expression?.[0] === 'Bundle.timestamp' && issue.details?.coding?.[0]?.system === PROFILE.bundle)).toBe(true);
  });
});

describe('@medplum/core reaches the same verdict on every sip-* invariant', () => {
  beforeAll(() => {
    loadMedplumWithProfiles();
  });

  const corpus = [
    ...exampleFiles.map((file) => ({ name: file, bundle: () => planToBundle(readExample(file)) })),
    ...BREAKERS.map(({ key, what, apply }) => ({ name: `${key}: ${what}`, bundle: () => brokenBundle(apply) })),
  ];

  it.each(corpus)('$name', ({ bundle: make }) => {
    const bundle = make();
    const ours = Object.fromEntries(oursByResource(bundle, validator.validate(bundle)));
    const medplum = Object.fromEntries(medplumByResource(bundle));
    expect(ours).toEqual(medplum);
  });
});
