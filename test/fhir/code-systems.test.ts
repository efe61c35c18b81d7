/**
 * What the code reads at run time agrees with the FSH-built artefacts in profiles/: the SIP model's
 * enums with the CodeSystems, the profile each resource type declares and the canonical URLs with
 * the StructureDefinitions, and the canonical base and version with sushi-config.yaml.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  APPROVAL_WITHDRAWAL_REASON,
  ARTEFACT_VERSION,
  CANONICAL_BASE,
  CLOSURE_REASON,
  CODE_SYSTEMS,
  COMPULSORY_CARE,
  CONSENT_FORM,
  DEVIATION_CATEGORY,
  EXTENSION,
  INFORMATION_CLASS,
  INPATIENT_CARE,
  MEETING_KIND,
  ORGANIZATION_TYPE,
  PROFILE,
  RELATED_PERSON_ROLE,
  codeSystemUrl,
  valueSetUrl,
} from '../../src/fhir/index.js';
import type { CodeSystemDefinition } from '../../src/fhir/index.js';
import { PROFILE_OF_TYPE } from '../../src/fhir/profiles/index.js';
import {
  approvalSchema,
  closureSchema,
  compulsoryCareSchema,
  consentSchema,
  deviationSchema,
  informationClassSchema,
  inpatientCareSchema,
  meetingSchema,
  otherActorKindSchema,
  representativeKindSchema,
} from '../../src/sip/index.js';
import { PROFILES_DIR, shippedFshArtefacts, shippedStructureDefinitions } from '../support/build-profiles.js';

const codes = (system: CodeSystemDefinition): string[] => system.concepts.map((concept) => concept.code).sort();
const sorted = (values: readonly string[]): string[] => [...values].sort();

describe('the SIP model enums and the FSH CodeSystems', () => {
  it.each([
    ['sip-organization-type', ORGANIZATION_TYPE, ['region', 'municipality', 'unit', ...otherActorKindSchema.options]],
    ['sip-related-person-role', RELATED_PERSON_ROLE, ['guardian', 'relative', ...representativeKindSchema.options]],
    ['sip-information-class', INFORMATION_CLASS, informationClassSchema.options],
    ['sip-consent-form', CONSENT_FORM, consentSchema.shape.form.options],
    ['sip-meeting-kind', MEETING_KIND, meetingSchema.shape.kind.options],
    ['sip-closure-reason', CLOSURE_REASON, closureSchema.shape.reason.unwrap().options],
    ['sip-deviation-category', DEVIATION_CATEGORY, deviationSchema.shape.category.options],
    ['sip-approval-withdrawal-reason', APPROVAL_WITHDRAWAL_REASON, approvalSchema.shape.withdrawn.unwrap().shape.reason.options],
    ['sip-inpatient-care', INPATIENT_CARE, inpatientCareSchema.options],
    ['sip-compulsory-care', COMPULSORY_CARE, compulsoryCareSchema.options],
  ] as const)('%s has exactly the codes of the SIP enum', (id, system, values) => {
    expect(system.id).toBe(id);
    expect(codes(system)).toEqual(sorted(values));
  });

  it('would see a code missing from a CodeSystem', () => {
    const shortened = { ...CONSENT_FORM, concepts: CONSENT_FORM.concepts.filter((concept) => concept.code !== 'oral') };
    expect(codes(shortened)).not.toEqual(sorted(consentSchema.shape.form.options));
  });

  it('every concept has an English display and a Swedish designation, as the narrative needs', () => {
    for (const system of CODE_SYSTEMS) {
      for (const concept of system.concepts) {
        expect(concept.display, `${system.id}#${concept.code}`).not.toBe(concept.code);
        expect(concept.sv, `${system.id}#${concept.code}`).not.toBe(concept.display);
      }
    }
  });

  it('the code systems read at run time are exactly the shipped ones, each with its ValueSet of all its codes', () => {
    const shipped = [...shippedFshArtefacts().values()];
    expect(CODE_SYSTEMS.map((system) => codeSystemUrl(system.id)).sort()).toEqual(shipped.filter((resource) => resource.resourceType === 'CodeSystem').map((resource) => resource.url).sort());
    for (const system of CODE_SYSTEMS) {
      const valueSet = shipped.find((resource) => resource.resourceType === 'ValueSet' && resource.url === valueSetUrl(system.id));
      expect(valueSet?.resourceType === 'ValueSet' ? valueSet.compose?.include : undefined).toEqual([{ system: codeSystemUrl(system.id), version: ARTEFACT_VERSION }]);
    }
  });
});

describe('the canonical URLs and the FSH-built StructureDefinitions', () => {
  const definitions = shippedStructureDefinitions();

  it('PROFILE_OF_TYPE names, for each resource type, the shipped profile of that type', () => {
    const profiles = definitions.filter((definition) => definition.type !== 'Extension');
    expect(Object.fromEntries(profiles.map((definition) => [definition.type, definition.url]))).toEqual(PROFILE_OF_TYPE);
    expect(Object.values(PROFILE).sort()).toEqual(profiles.map((definition) => definition.url).sort());
  });

  it("every own extension the writer uses is defined, and nothing else is (HL7's are HL7's to define)", () => {
    const own = Object.values(EXTENSION).filter((url) => url.startsWith(`${CANONICAL_BASE}/`));
    expect(own.sort()).toEqual(definitions.filter((definition) => definition.type === 'Extension').map((definition) => definition.url).sort());
  });

  it('sushi-config.yaml has the canonical base and the version of src/fhir/canonical.ts', () => {
    const config = readFileSync(join(PROFILES_DIR, 'sushi-config.yaml'), 'utf8');
    expect(/^canonical: (\S+)$/m.exec(config)?.[1]).toBe(CANONICAL_BASE);
    expect(/^version: (\S+)$/m.exec(config)?.[1]).toBe(ARTEFACT_VERSION);
  });
});
