/** The artefacts in profiles/ are built from their sources, and valid FHIR R4 to independent validators. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeSystem } from 'fhir/r4.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { CANONICAL_BASE, CODE_SYSTEMS, PROFILE, planToBundle } from '../../src/fhir/index.js';
import { FSH_BUILD_RECORD, PROFILES_DIR, currentFshBuildRecord, generatedArtefacts, profilesReadme, serialise, shippedFshArtefacts } from '../support/build-profiles.js';
import { loadMedplumWithProfiles, medplumProfileErrors } from '../support/medplum-profiles.js';
import { BREAKERS, invariantSeverity } from '../support/profile-breakers.js';
import { NOT_SENDABLE, exampleFiles, readExample } from '../support/examples.js';
import { errorsOnly, formatIssues, loadJsonSchema, loadMedplum, validateWithJsonSchema, validateWithMedplum } from '../support/fhir-validators.js';

beforeAll(() => {
  loadMedplum();
  loadJsonSchema();
}, 60_000);

describe.each([...generatedArtefacts()])('profiles/%s', (file, resource) => {
  it('is what npm run profiles:build writes', () => {
    expect(readFileSync(join(PROFILES_DIR, file), 'utf8')).toBe(serialise(resource));
  });

  it('passes Medplum and the R4 JSON schema', () => {
    const issues = [...errorsOnly(validateWithMedplum(resource)), ...validateWithJsonSchema(resource)];
    expect(issues, formatIssues(issues)).toEqual([]);
  });
});

describe.each([...shippedFshArtefacts()])('profiles/%s (built by SUSHI from profiles/input/fsh/)', (_file, resource) => {
  it('passes Medplum and the R4 JSON schema', () => {
    const issues = [...errorsOnly(validateWithMedplum(resource)), ...validateWithJsonSchema(resource)];
    expect(issues, formatIssues(issues)).toEqual([]);
  });
});

// Running SUSHI takes about 15 s of CPU (a minute on the loaded test machine), so the suite checks
// the record of the last build instead: the SHA-256 of every FSH source and of every file SUSHI
// built. Editing an .fsh file without `npm run profiles:build`, or a built file by hand, fails here.
it('the SUSHI-built files in profiles/ are a build of the current FSH sources (profiles/fsh-build.sha256)', () => {
  expect(currentFshBuildRecord()).toBe(readFileSync(FSH_BUILD_RECORD, 'utf8'));
});

it('profiles/README.md is what npm run profiles:build writes', () => {
  expect(readFileSync(join(PROFILES_DIR, 'README.md'), 'utf8')).toBe(profilesReadme());
});

describe('codes in the Bundles', () => {
  it('every code of our own code systems that a Bundle uses is defined in profiles/', () => {
    const defined = new Map(
      CODE_SYSTEMS.map((definition) => {
        const codeSystem = JSON.parse(readFileSync(join(PROFILES_DIR, `CodeSystem-${definition.id}.json`), 'utf8')) as CodeSystem;
        return [codeSystem.url, new Set((codeSystem.concept ?? []).map((concept) => concept.code))];
      }),
    );
    let checked = 0;
    for (const file of exampleFiles) {
      const text = JSON.stringify(planToBundle(readExample(file)));
      for (const match of text.matchAll(/"system":"([^"]+)","code":"([^"]+)"/g)) {
        const [, system = '', code = ''] = match;
        if (!system.startsWith(`${CANONICAL_BASE}/CodeSystem/`)) continue;
        checked += 1;
        expect(defined.get(system)?.has(code), `${system}#${code}`).toBe(true);
      }
    }
    expect(checked).toBeGreaterThan(50);
  });
});

describe('the SIP profiles in @medplum/core 4.5.2', () => {
  beforeAll(() => {
    loadMedplumWithProfiles();
  });

  const profileErrors = medplumProfileErrors;

  describe.each(exampleFiles)('%s', (file) => {
    const bundle = planToBundle(readExample(file));
    const declared = [bundle, ...(bundle.entry ?? []).flatMap((entry) => (entry.resource === undefined ? [] : [entry.resource]))].filter(
      (resource) => resource.meta?.profile !== undefined,
    );

    it('declares a SIP profile on the Bundle and on every resource that has one', () => {
      expect(bundle.meta?.profile).toEqual([PROFILE.bundle]);
      const types = new Set(declared.map((resource) => resource.resourceType));
      for (const type of ['CarePlan', 'CareTeam', 'Consent', 'Appointment', 'Goal', 'Task', 'Patient', 'Organization']) expect(types).toContain(type);
    });

    const refusedBy = NOT_SENDABLE[file];
    it(
      refusedBy === undefined
        ? 'every resource is accepted by Medplum against the profile it declares'
        : `every resource is accepted by Medplum against the profile it declares, but the Bundle is refused with ${refusedBy}: no consent is in force when it is sent`,
      () => {
        for (const resource of declared) {
          for (const profileUrl of resource.meta?.profile ?? []) {
            const errors = profileErrors(resource, profileUrl);
            const expected = resource === bundle && refusedBy !== undefined ? [refusedBy] : [];
            expect(errors.map((message) => /\bsip-[a-z]+-\d+\b/.exec(message)?.[0] ?? message), `${resource.resourceType} against ${profileUrl}`).toEqual(expected);
          }
        }
      },
    );
  });

  function brokenMessages({ on, apply }: (typeof BREAKERS)[number]): string[] {
    const bundle = structuredClone(planToBundle(readExample('adult-psychiatry-addiction.json')));
    apply(bundle);
    const resources = on === 'Bundle' ? [bundle] : (bundle.entry ?? []).flatMap((entry) => (entry.resource?.resourceType === on ? [entry.resource] : []));
    return resources.flatMap((resource) => profileErrors(resource, resource.meta?.profile?.[0] ?? ''));
  }

  describe.each(BREAKERS.filter(({ key }) => invariantSeverity(key) === 'error'))('Medplum rejects $what with $key', (breaker) => {
    it('naming the rule', () => {
      expect(brokenMessages(breaker).join('\n')).toContain(breaker.key);
    });
  });

  // validateResource of Medplum 4.5.2 evaluates only constraints of severity error: a warning
  // invariant must never make it reject a resource (profile-invariants.test.ts shows that its
  // FHIRPath engine finds the warning's expression false all the same).
  describe.each(BREAKERS.filter(({ key }) => invariantSeverity(key) === 'warning'))('Medplum accepts $what, whose $key is a warning', (breaker) => {
    it('with no error', () => {
      expect(brokenMessages(breaker)).toEqual([]);
    });
  });
});
