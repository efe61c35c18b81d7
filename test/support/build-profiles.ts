/**
 * Writes the project's FHIR artefacts into `profiles/`:
 * - the SIP profiles, extensions, code systems and value sets, built by SUSHI from the FSH sources
 *   in `profiles/input/fsh/` (test/support/sushi.ts runs it offline) and copied as SUSHI wrote them;
 * - the SIP request Questionnaire and the ConceptMaps, from src/fhir;
 * - `profiles/fsh-build.sha256`, the SHA-256 of every FSH source and of every file SUSHI built from
 *   them, so a test can tell cheaply that the shipped files are a build of the current sources;
 * - `profiles/README.md`, listing them with every invariant.
 *
 * Run with `npm run profiles:build`; tests fail when a committed file is stale.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodeSystem, FhirResource, StructureDefinition, ValueSet } from 'fhir/r4.js';
import { ARTEFACT_VERSION, CONCEPT_MAPS, toConceptMapResource, toRequestQuestionnaire } from '../../src/fhir/index.js';
import { renderProfilesReadme } from './render-profiles-readme.js';
import { FSH_DIR, PROFILES_DIR, runSushi } from './sushi.js';

export { PROFILES_DIR } from './sushi.js';

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

/** Files SUSHI builds: the FSH-defined StructureDefinitions, ValueSets and CodeSystems. */
export const isFshBuilt = (file: string): boolean => /^(StructureDefinition|ValueSet|CodeSystem)-.+\.json$/.test(file);

/** File name → resource, for the FSH-built artefacts as shipped in `profiles/`. */
export function shippedFshArtefacts(): Map<string, StructureDefinition | ValueSet | CodeSystem> {
  const artefacts = new Map<string, StructureDefinition | ValueSet | CodeSystem>();
  for (const file of readdirSync(PROFILES_DIR).filter(isFshBuilt).sort()) {
    artefacts.set(file, JSON.parse(readFileSync(join(PROFILES_DIR, file), 'utf8')) as StructureDefinition | ValueSet | CodeSystem);
  }
  return artefacts;
}

/** The shipped StructureDefinitions (profiles and extensions), with SUSHI's snapshots. */
export function shippedStructureDefinitions(): StructureDefinition[] {
  return [...shippedFshArtefacts().values()].filter((resource): resource is StructureDefinition => resource.resourceType === 'StructureDefinition');
}

/** File name → resource, for every artefact generated from code rather than FSH. */
export function generatedArtefacts(): Map<string, FhirResource> {
  const artefacts = new Map<string, FhirResource>();
  artefacts.set('Questionnaire-sip-request.json', toRequestQuestionnaire(ARTEFACT_VERSION));
  for (const definition of CONCEPT_MAPS) artefacts.set(`ConceptMap-${definition.id}.json`, toConceptMapResource(definition));
  return artefacts;
}

export function serialise(resource: FhirResource): string {
  return `${JSON.stringify(resource, null, 2)}\n`;
}

export const FSH_BUILD_RECORD = join(PROFILES_DIR, 'fsh-build.sha256');

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The FSH sources, relative to `profiles/`: sushi-config.yaml and input/fsh/*.fsh. */
function fshSources(): Map<string, string> {
  const sources = new Map<string, string>([['sushi-config.yaml', readFileSync(join(PROFILES_DIR, 'sushi-config.yaml'), 'utf8')]]);
  for (const file of readdirSync(FSH_DIR).sort()) if (file.endsWith('.fsh')) sources.set(`input/fsh/${file}`, readFileSync(join(FSH_DIR, file), 'utf8'));
  return sources;
}

function sushiVersion(): string {
  return (JSON.parse(readFileSync(require.resolve('fsh-sushi/package.json'), 'utf8')) as { version: string }).version;
}

/** The record of one build: SUSHI's version, then `sha256  file` for every source and every built file. */
export function fshBuildRecord(built: ReadonlyMap<string, string>): string {
  return [
    '# Written by `npm run profiles:build` (test/support/build-profiles.ts); do not edit.',
    '# SHA-256 of the FSH sources and of the files SUSHI built from them; a test fails when either changed.',
    `fsh-sushi ${sushiVersion()}`,
    ...[...fshSources()].map(([file, text]) => `${sha256(text)}  ${file}`),
    ...[...built].sort(([a], [b]) => a.localeCompare(b)).map(([file, text]) => `${sha256(text)}  ${file}`),
    '',
  ].join('\n');
}

/** The record the committed sources and FSH-built files would have; equal to the committed one when nothing is stale. */
export function currentFshBuildRecord(): string {
  return fshBuildRecord(new Map(readdirSync(PROFILES_DIR).filter(isFshBuilt).map((file) => [file, readFileSync(join(PROFILES_DIR, file), 'utf8')])));
}

/** The generated `profiles/README.md`. */
export function profilesReadme(): string {
  const artefacts = [...shippedFshArtefacts().values()];
  return renderProfilesReadme(
    artefacts.filter((resource): resource is StructureDefinition => resource.resourceType === 'StructureDefinition'),
    artefacts.filter((resource): resource is ValueSet => resource.resourceType === 'ValueSet'),
    CONCEPT_MAPS.map(toConceptMapResource),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { resources } = runSushi();
  for (const file of readdirSync(PROFILES_DIR).filter(isFshBuilt)) rmSync(join(PROFILES_DIR, file));
  for (const [file, text] of resources) writeFileSync(join(PROFILES_DIR, file), text);
  for (const [file, resource] of generatedArtefacts()) writeFileSync(join(PROFILES_DIR, file), serialise(resource));
  writeFileSync(FSH_BUILD_RECORD, fshBuildRecord(resources));
  writeFileSync(join(PROFILES_DIR, 'README.md'), profilesReadme());
}
