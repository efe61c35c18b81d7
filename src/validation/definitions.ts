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

/** The most misses without a base file that a {@link DefinitionStore} remembers of each type. */
export const RECENT_MISSES = 256;
/** The longest canonical remembered as a recent miss: what is kept is bounded in bytes, not only in count, whatever length the data gives a URL. */
export const LONGEST_REMEMBERED_MISS = 512;

/** One Map per definition type. */
function byType<V>(): Record<DefinitionType, Map<string, V>> {
  return { StructureDefinition: new Map(), ValueSet: new Map(), CodeSystem: new Map() };
}

export class DefinitionStore {
  readonly #baseDirectory: string;
  readonly #baseFiles: ReadonlySet<string>;
  /** The project's own definitions, per type by URL: a lookup builds no key string. */
  readonly #own = byType<Definition>();
  /** Definitions read from the base package, per type by their URL: one a base file read. */
  readonly #cache = byType<Definition>();
  /**
   * Each base file read, with the URL of the definition it holds (null: none of its type), so that no
   * file is read twice: a canonical whose last segment names a file of another URL
   * (`http://example.org/request-status`) is then a miss without I/O. Keyed by the file, not by the
   * URL asked: bounded by the package's files however many such URLs the data names.
   */
  readonly #fileUrls = new Map<string, string | null>();
  /**
   * Other misses seen lately, per type: a Set of at most {@link RECENT_MISSES} URLs of at most
   * {@link LONGEST_REMEMBERED_MISS} characters, emptied when full.
   * The walk asks again for the same unknown canonicals in every resource (a complex extension's
   * `url: "localId"`, a Coding's system that is no ValueSet); remembered, such a lookup is one Set
   * lookup instead of a file name built and looked up, and the data cannot grow what is kept.
   */
  readonly #recentMisses: Record<DefinitionType, Set<string>> = { StructureDefinition: new Set(), ValueSet: new Set(), CodeSystem: new Set() };
  #codeSystemFiles: Map<string, string> | undefined;

  constructor(baseDirectory: string, profileDirectory: string | undefined) {
    this.#baseDirectory = baseDirectory;
    this.#baseFiles = new Set(readdirSync(baseDirectory));
    if (profileDirectory !== undefined && existsSync(profileDirectory)) {
      for (const name of readdirSync(profileDirectory).sort()) {
        if (!name.endsWith('.json')) continue;
        const json = readJson(path.join(profileDirectory, name));
        for (const type of ['StructureDefinition', 'ValueSet', 'CodeSystem'] as const) {
          if (isDefinition(json, type) && json.url !== undefined) this.#own[type].set(json.url, json);
        }
      }
    }
  }

  /** How many definitions and base files read are remembered; bounded by the base package's files. */
  get remembered(): number {
    return this.#cache.StructureDefinition.size + this.#cache.ValueSet.size + this.#cache.CodeSystem.size + this.#fileUrls.size;
  }

  /** How many other misses are remembered: at most {@link RECENT_MISSES} of each type. */
  get recentMisses(): number {
    return this.#recentMisses.StructureDefinition.size + this.#recentMisses.ValueSet.size + this.#recentMisses.CodeSystem.size;
  }

  /** The project's own StructureDefinitions (profiles and extensions). */
  ownStructureDefinitions(): StructureDefinition[] {
    return [...this.#own.StructureDefinition.values()].filter((definition): definition is StructureDefinition => definition.resourceType === 'StructureDefinition');
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
    const own = this.#own[type].get(url);
    if (own !== undefined) return own;
    const cached = this.#cache[type].get(url);
    if (cached !== undefined) return cached;
    const recentMisses = this.#recentMisses[type];
    if (recentMisses.has(url)) return undefined;
    const tail = url.slice(url.lastIndexOf('/') + 1);
    const found = this.#fromFile(type, url, `${type}-${tail}.json`);
    if (found !== undefined) return found;
    // A miss is remembered only among the recent ones, bounded in count and bytes: data may name any
    // number of unknown systems and profiles. A base file it read is remembered by the file (#fileUrls).
    if (url.length <= LONGEST_REMEMBERED_MISS) {
      if (recentMisses.size >= RECENT_MISSES) recentMisses.clear();
      recentMisses.add(url);
    }
    return undefined;
  }

  /** The definition of `type` in the base file, when its URL is `url`; each file read once. */
  #fromFile(type: DefinitionType, url: string, file: string): Definition | undefined {
    if (!this.#baseFiles.has(file)) return undefined;
    const known = this.#fileUrls.get(file);
    if (known !== undefined) return known === url ? this.#cache[type].get(url) : undefined;
    const json = readJson(path.join(this.#baseDirectory, file));
    if (!isDefinition(json, type) || json.url === undefined) {
      this.#fileUrls.set(file, null);
      return undefined;
    }
    // Kept under its own URL even when another was asked, so that the file need not be read for it again.
    this.#fileUrls.set(file, json.url);
    this.#cache[type].set(json.url, json);
    return json.url === url ? json : undefined;
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
