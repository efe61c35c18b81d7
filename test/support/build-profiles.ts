/**
 * Writes the project's FHIR artefacts into `profiles/` from src/fhir: one CodeSystem per table in
 * code-systems.ts, the SIP request Questionnaire, the SIP profiles and extensions
 * (StructureDefinitions with their differential and a generated snapshot), one ValueSet per
 * CodeSystem, and `profiles/README.md` listing them with every invariant. Run with
 * `npm run profiles:build`; a test fails when the committed files differ.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FhirResource, StructureDefinition } from 'fhir/r4.js';
import { ARTEFACT_VERSION, CODE_SYSTEMS, CONCEPT_MAPS, toCodeSystemResource, toConceptMapResource, toRequestQuestionnaire } from '../../src/fhir/index.js';
import { PROFILE_VALUE_SETS, STRUCTURE_DEFINITIONS } from '../../src/fhir/profiles/index.js';
import { generateSnapshot } from '../../src/validation/snapshot.js';
import { renderProfilesReadme } from './render-profiles-readme.js';

export const PROFILES_DIR = fileURLToPath(new URL('../../profiles/', import.meta.url));

const require = createRequire(import.meta.url);
const R4_DEFINITIONS_DIR = dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
const CORE_PREFIX = 'http://hl7.org/fhir/StructureDefinition/';

const coreCache = new Map<string, StructureDefinition | undefined>();

/** A base R4 StructureDefinition (with snapshot) from hl7.fhir.r4.examples, by canonical URL. */
export function coreDefinition(url: string): StructureDefinition | undefined {
  if (!url.startsWith(CORE_PREFIX)) return undefined;
  if (!coreCache.has(url)) {
    const type = url.slice(CORE_PREFIX.length);
    let definition: StructureDefinition | undefined;
    try {
      definition = JSON.parse(readFileSync(join(R4_DEFINITIONS_DIR, `StructureDefinition-${type}.json`), 'utf8')) as StructureDefinition;
    } catch {
      definition = undefined;
    }
    coreCache.set(url, definition);
  }
  return coreCache.get(url);
}

let withSnapshots: StructureDefinition[] | undefined;

/** The project's StructureDefinitions with generated snapshots; a profile may build on another. */
export function profilesWithSnapshots(): StructureDefinition[] {
  if (withSnapshots !== undefined) return withSnapshots;
  const done = new Map<string, StructureDefinition>();
  const lookup = (url: string): StructureDefinition | undefined => done.get(url) ?? coreDefinition(url);
  for (const definition of STRUCTURE_DEFINITIONS) done.set(definition.url, generateSnapshot(definition, lookup));
  withSnapshots = [...done.values()];
  return withSnapshots;
}

/** File name → resource, for every artefact generated from code. */
export function generatedArtefacts(): Map<string, FhirResource> {
  const artefacts = new Map<string, FhirResource>();
  for (const definition of CODE_SYSTEMS) artefacts.set(`CodeSystem-${definition.id}.json`, toCodeSystemResource(definition, ARTEFACT_VERSION));
  for (const valueSet of PROFILE_VALUE_SETS) artefacts.set(`ValueSet-${valueSet.id ?? ''}.json`, valueSet);
  for (const definition of profilesWithSnapshots()) artefacts.set(`StructureDefinition-${definition.id ?? ''}.json`, definition);
  artefacts.set('Questionnaire-sip-request.json', toRequestQuestionnaire(ARTEFACT_VERSION));
  for (const definition of CONCEPT_MAPS) artefacts.set(`ConceptMap-${definition.id}.json`, toConceptMapResource(definition));
  return artefacts;
}

export function serialise(resource: FhirResource): string {
  return `${JSON.stringify(resource, null, 2)}\n`;
}

/** The generated `profiles/README.md`. */
export function profilesReadme(): string {
  return renderProfilesReadme(STRUCTURE_DEFINITIONS, PROFILE_VALUE_SETS, CONCEPT_MAPS.map(toConceptMapResource));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(PROFILES_DIR, { recursive: true });
  for (const [file, resource] of generatedArtefacts()) writeFileSync(join(PROFILES_DIR, file), serialise(resource));
  writeFileSync(join(PROFILES_DIR, 'README.md'), profilesReadme());
}
