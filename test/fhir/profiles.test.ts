/** The artefacts in profiles/ are the code's, and valid FHIR R4 to independent validators. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeSystem } from 'fhir/r4.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { CANONICAL_BASE, CODE_SYSTEMS, planToBundle } from '../../src/fhir/index.js';
import { PROFILES_DIR, generatedArtefacts, serialise } from '../support/build-profiles.js';
import { exampleFiles, readExample } from '../support/examples.js';
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
