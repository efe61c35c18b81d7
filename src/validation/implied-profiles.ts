/**
 * Profiles that a resource must conform to because of what it says, not because it claims them:
 * the R4 vital-signs profiles. https://hl7.org/fhir/R4/observation-vitalsigns.html: "If a resource
 * is ... a vital sign (i.e. has a LOINC code listed below or category 'vital-signs'), it SHALL
 * conform to the vital-signs profile" and, for the codes of the table, to that code's profile
 * (https://hl7.org/fhir/R4/observation.html#vitals). The profiles and their codes are read from the
 * StructureDefinitions in `hl7.fhir.r4.examples` (those whose base is the vital-signs profile, each
 * fixing one LOINC code in its `Observation.code.coding` slice), never retyped here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { StructureDefinition } from 'fhir/r4.js';
import { isObject, type Json } from './walker.js';

export const VITAL_SIGNS = 'http://hl7.org/fhir/StructureDefinition/vitalsigns';
const CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/observation-category';
const LOINC = 'http://loinc.org';
const BASED_ON_VITAL_SIGNS = /"baseDefinition"\s*:\s*"http:\/\/hl7\.org\/fhir\/StructureDefinition\/vitalsigns"/;

/** LOINC code → the URL of its vital-sign profile. */
function vitalSignCodes(directory: string): Map<string, string> {
  const codes = new Map<string, string>();
  for (const file of readdirSync(directory).filter((name) => name.startsWith('StructureDefinition-') && name.endsWith('.json')).sort()) {
    const text = readFileSync(path.join(directory, file), 'utf8');
    if (!BASED_ON_VITAL_SIGNS.test(text)) continue;
    const definition = JSON.parse(text) as StructureDefinition;
    const elements = definition.snapshot?.element ?? [];
    for (const element of elements) {
      const match = /^Observation\.code\.coding:([^.]+)\.code$/.exec(element.id ?? '');
      if (match === null || element.fixedCode === undefined) continue;
      const system = elements.find((other) => other.id === `Observation.code.coding:${match[1] ?? ''}.system`)?.fixedUri;
      if (system === LOINC) codes.set(element.fixedCode, definition.url);
    }
  }
  return codes;
}

function codings(concept: unknown): Json[] {
  return isObject(concept) && Array.isArray(concept.coding) ? concept.coding.filter(isObject) : [];
}

export class ImpliedProfiles {
  readonly #directory: string;
  #codes: Map<string, string> | undefined;

  constructor(packageDirectory: string) {
    this.#directory = packageDirectory;
  }

  /** The canonical URLs of the profiles `resource` must conform to by its codes; none for most. */
  of(resource: Json): string[] {
    if (resource.resourceType !== 'Observation') return [];
    this.#codes ??= vitalSignCodes(this.#directory);
    const profiles = new Set<string>();
    for (const coding of codings(resource.code)) {
      const profile = coding.system === LOINC && typeof coding.code === 'string' ? this.#codes.get(coding.code) : undefined;
      if (profile !== undefined) profiles.add(VITAL_SIGNS).add(profile);
    }
    const categories = Array.isArray(resource.category) ? resource.category.flatMap(codings) : [];
    if (categories.some((coding) => coding.system === CATEGORY_SYSTEM && coding.code === 'vital-signs')) profiles.add(VITAL_SIGNS);
    return [...profiles];
  }
}
