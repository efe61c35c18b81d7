/**
 * Where the validator's definitions come from: the base R4 StructureDefinitions, ValueSets and
 * CodeSystems of the official npm package `hl7.fhir.r4.examples` (4.0.1, one file per resource,
 * all StructureDefinitions with snapshots), and the project's own artefacts in `profiles/`.
 *
 * Files are read on first use, so validating one Patient reads a handful of files rather than the
 * 3,000 definitions of the package: that is what keeps the command line's cold start short.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodeSystem, StructureDefinition, ValueSet } from 'fhir/r4.js';

type Definition = StructureDefinition | ValueSet | CodeSystem;
type DefinitionType = Definition['resourceType'];

/** The folder of `hl7.fhir.r4.examples`. */
export function basePackageDirectory(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
}

/** The project's `profiles/` folder, from `src/validation` and from `dist/validation` alike. */
export function defaultProfileDirectory(): string {
  return fileURLToPath(new URL('../../profiles/', import.meta.url));
}

/** Drops a `|version` suffix: the validator knows one version of each artefact. */
export function unversioned(canonical: string): string {
  const bar = canonical.indexOf('|');
  return bar === -1 ? canonical : canonical.slice(0, bar);
}

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8')) as unknown;
}

function isDefinition(value: unknown, type: DefinitionType): value is Definition {
  return typeof value === 'object' && value !== null && (value as { resourceType?: unknown }).resourceType === type && typeof (value as { url?: unknown }).url === 'string';
}

export class DefinitionStore {
  readonly #baseDirectory: string;
  readonly #baseFiles: ReadonlySet<string>;
  readonly #own = new Map<string, Definition>();
  readonly #cache = new Map<string, Definition | null>();
  #codeSystemFiles: Map<string, string> | undefined;

  constructor(baseDirectory: string, profileDirectory: string | undefined) {
    this.#baseDirectory = baseDirectory;
    this.#baseFiles = new Set(readdirSync(baseDirectory));
    if (profileDirectory !== undefined && existsSync(profileDirectory)) {
      for (const name of readdirSync(profileDirectory).sort()) {
        if (!name.endsWith('.json')) continue;
        const json = readJson(path.join(profileDirectory, name));
        for (const type of ['StructureDefinition', 'ValueSet', 'CodeSystem'] as const) {
          if (isDefinition(json, type)) this.#own.set(`${type} ${json.url}`, json);
        }
      }
    }
  }

  /** How many definitions and misses are remembered (read from the base package); bounded by its files. */
  get remembered(): number {
    return this.#cache.size;
  }

  /** The project's own StructureDefinitions (profiles and extensions). */
  ownStructureDefinitions(): StructureDefinition[] {
    return [...this.#own.values()].filter((definition): definition is StructureDefinition => definition.resourceType === 'StructureDefinition');
  }

  structureDefinition(canonical: string): StructureDefinition | undefined {
    return this.#find('StructureDefinition', unversioned(canonical)) as StructureDefinition | undefined;
  }

  /** The base definition of a resource or data type, by its name (`CarePlan`, `HumanName`, `date`). */
  typeDefinition(type: string): StructureDefinition | undefined {
    return this.structureDefinition(`http://hl7.org/fhir/StructureDefinition/${type}`);
  }

  valueSet(canonical: string): ValueSet | undefined {
    return this.#find('ValueSet', unversioned(canonical)) as ValueSet | undefined;
  }

  /**
   * A CodeSystem by URL. Most base files are named after the URL's last segment; others after the
   * ValueSet that lists them (`hint`); the rest are found by reading every CodeSystem once.
   */
  codeSystem(canonical: string, hint?: string): CodeSystem | undefined {
    const url = unversioned(canonical);
    const found = this.#find('CodeSystem', url) ?? (hint === undefined ? undefined : this.#fromFile('CodeSystem', url, `CodeSystem-${hint}.json`));
    if (found !== undefined) return found as CodeSystem;
    const file = this.#allCodeSystemFiles().get(url);
    return file === undefined ? undefined : (this.#fromFile('CodeSystem', url, file) as CodeSystem | undefined);
  }

  #find(type: DefinitionType, url: string): Definition | undefined {
    const key = `${type} ${url}`;
    const own = this.#own.get(key);
    if (own !== undefined) return own;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const tail = url.slice(url.lastIndexOf('/') + 1);
    const file = `${type}-${tail}.json`;
    const found = this.#fromFile(type, url, file);
    // A miss is remembered only when a base file had to be read to find it, so what is remembered is
    // bounded by the package's files: data may name any number of unknown systems and profiles, and a
    // miss without such a file costs one Set lookup.
    if (found === undefined && this.#baseFiles.has(file)) this.#cache.set(key, null);
    return found;
  }

  #fromFile(type: DefinitionType, url: string, file: string): Definition | undefined {
    if (!this.#baseFiles.has(file)) return undefined;
    const json = readJson(path.join(this.#baseDirectory, file));
    if (!isDefinition(json, type) || json.url !== url) return undefined;
    this.#cache.set(`${type} ${url}`, json);
    return json;
  }

  #allCodeSystemFiles(): Map<string, string> {
    if (this.#codeSystemFiles !== undefined) return this.#codeSystemFiles;
    const files = new Map<string, string>();
    for (const file of this.#baseFiles) {
      if (!file.startsWith('CodeSystem-')) continue;
      const json = readJson(path.join(this.#baseDirectory, file));
      if (isDefinition(json, 'CodeSystem') && json.url !== undefined) files.set(json.url, file);
    }
    this.#codeSystemFiles = files;
    return files;
  }
}
