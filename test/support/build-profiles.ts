/**
 * Writes the project's FHIR artefacts into `profiles/` from src/fhir: one CodeSystem per table in
 * code-systems.ts and the SIP request Questionnaire. Run with `npm run profiles:build`; a test fails
 * when the committed files differ.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FhirResource } from 'fhir/r4.js';
import { ARTEFACT_VERSION, CODE_SYSTEMS, toCodeSystemResource, toRequestQuestionnaire } from '../../src/fhir/index.js';

export const PROFILES_DIR = fileURLToPath(new URL('../../profiles/', import.meta.url));

/** File name → resource, for every artefact generated from code. */
export function generatedArtefacts(): Map<string, FhirResource> {
  const artefacts = new Map<string, FhirResource>();
  for (const definition of CODE_SYSTEMS) artefacts.set(`CodeSystem-${definition.id}.json`, toCodeSystemResource(definition, ARTEFACT_VERSION));
  artefacts.set('Questionnaire-sip-request.json', toRequestQuestionnaire(ARTEFACT_VERSION));
  return artefacts;
}

export function serialise(resource: FhirResource): string {
  return `${JSON.stringify(resource, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(PROFILES_DIR, { recursive: true });
  for (const [file, resource] of generatedArtefacts()) writeFileSync(join(PROFILES_DIR, file), serialise(resource));
}
