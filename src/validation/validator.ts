/**
 * The validator: a resource (a Bundle included) in, one OperationOutcome out. Each resource is
 * walked against its base R4 StructureDefinition or, when it claims profiles (`meta.profile`, or
 * the caller's), against each profile's snapshot, which holds the base rules too. Inside a Bundle
 * every entry is validated against its own profiles, references between entries resolve as
 * https://hl7.org/fhir/R4/bundle.html#references says, and the Bundle's own rules (fullUrl,
 * duplicates, documents, searchsets, a `urn:uuid:`/`urn:oid:` reference to no entry) are checked
 * by src/validation/bundle-rules.ts.
 */
import type { FhirResource, OperationOutcome } from 'fhir/r4.js';
import { BundleIndex, type IndexedEntry } from '../fhir/read/bundle-index.js';
import { STRUCTURE_RULES, type ValidateOptions, type Validator } from './api.js';
import { basePackageDirectory, defaultProfileDirectory, DefinitionStore } from './definitions.js';
import { checkBundleRules } from './bundle-rules.js';
import { ImpliedProfiles } from './implied-profiles.js';
import { Findings, toOperationOutcome } from './issues.js';
import { checkResourceId } from './resource-id.js';
import { InvariantEngine } from './invariants.js';
import { Terminology } from './terminology.js';
import type { TypeModel } from './type-model.js';
import { isObject, Walker, type Json, type ResourceScope, type ResourceWalker } from './walker.js';

const BASE = 'http://hl7.org/fhir/StructureDefinition/';

export interface ValidatorOptions {
  /** Folder of the project's own artefacts; defaults to the package's `profiles/`. */
  readonly profileDirectory?: string;
  /**
   * Remember the results of constraints that look only at their element, per element JSON
   * (default true). Off, every constraint is evaluated every time; the benchmark measures both.
   */
  readonly rememberResults?: boolean;
  /**
   * Compute each `%resource`/`%rootResource` chain of a constraint once per resource instead of once
   * per item the constraint iterates over (default true; see src/validation/hoist.ts). Off, every
   * expression runs as written; the benchmark and the differential test compare both.
   */
  readonly hoistInvariants?: boolean;
  /**
   * Check ref-1, ext-1, dom-2/4/5/6, bdl-* and the SIP Bundle rules on the JSON instead of through FHIRPath where the JSON's shape is plain
   * (default true; see src/validation/native.ts). Off, they are evaluated as written.
   */
  readonly nativeChecks?: boolean;
  /**
   * Evaluate a constraint once per resource type on the elements that have none of the properties
   * it names, instead of on each of them (default true; see `Reach` in src/validation/invariants.ts).
   */
  readonly skipAbsent?: boolean;
  /** The bound of the result cache in bytes (default 16 MiB, `DEFAULT_CACHE_BYTES` in src/validation/invariants.ts). */
  readonly resultCacheBytes?: number;
  /** The constraint engine to use instead of one made from the options above (tests read its cache size). */
  readonly engine?: InvariantEngine;
  /**
   * Makes the walker instead of {@link Walker} (test/validation/walker-differential.test.ts runs the
   * walker as it was before it was compiled per node through this, beside the current one).
   */
  readonly walker?: (store: DefinitionStore, terminology: Terminology, engine: InvariantEngine) => ResourceWalker;
}

function isResource(value: unknown): value is FhirResource {
  return isObject(value) && typeof value.resourceType === 'string';
}

/** What a Bundle's entries share: how their references resolve, and which references were met. */
interface BundleContext {
  readonly index: BundleIndex;
  readonly entryOf: ReadonlyMap<object, IndexedEntry>;
  readonly references: { reference: string; expression: string }[];
}

function bundleContext(bundle: Json, expression: string): BundleContext | undefined {
  if (!Array.isArray(bundle.entry)) return undefined;
  const entries: IndexedEntry[] = [];
  bundle.entry.forEach((entry: unknown, index) => {
    if (!isObject(entry) || !isResource(entry.resource)) return;
    entries.push({ index, fullUrl: typeof entry.fullUrl === 'string' ? entry.fullUrl : undefined, resource: entry.resource, path: `${expression}.entry[${String(index)}].resource` });
  });
  return { index: new BundleIndex(entries), entryOf: new Map(entries.map((entry) => [entry.resource, entry])), references: [] };
}

class ProfileValidator implements Validator {
  readonly #walker: ResourceWalker;
  readonly #engine: InvariantEngine;
  readonly #implied = new ImpliedProfiles(basePackageDirectory());

  constructor(options: ValidatorOptions) {
    const store = new DefinitionStore(basePackageDirectory(), options.profileDirectory ?? defaultProfileDirectory());
    this.#engine = options.engine ?? new InvariantEngine({ remember: options.rememberResults, hoist: options.hoistInvariants, native: options.nativeChecks, skipAbsent: options.skipAbsent, cacheBytes: options.resultCacheBytes });
    this.#walker = (options.walker ?? ((...args) => new Walker(...args)))(store, new Terminology(store), this.#engine);
  }

  knowsProfile(canonical: string): boolean {
    return this.#walker.model(canonical) !== undefined;
  }

  validate(resource: unknown, options: ValidateOptions = {}): OperationOutcome {
    const findings = new Findings();
    const expression = isResource(resource) ? resource.resourceType : 'Resource';
    this.#engine.forget();
    try {
      this.#validateResource(resource, expression, options.profiles ?? [], undefined, false, findings);
    } finally {
      this.#engine.forget();
    }
    return toOperationOutcome(findings.list);
  }

  #validateResource(resource: unknown, expression: string, extraProfiles: readonly string[], parent: ResourceScope | undefined, contained: boolean, findings: Findings): void {
    const base = isResource(resource) ? this.#walker.typeModel(resource.resourceType) : undefined;
    if (!isResource(resource) || base?.kind !== 'resource') {
      const what = isResource(resource) ? `"${resource.resourceType}" is not an R4 resource type` : 'a resource must be a JSON object with a "resourceType"';
      findings.add({ severity: 'error', code: 'structure', rule: STRUCTURE_RULES.notAResource, source: `${BASE}Resource`, expression, message: what });
      return;
    }
    const json = resource as unknown as Json;
    const bundle = resource.resourceType === 'Bundle' ? bundleContext(json, expression) : undefined;
    const scope = this.#scope(json, parent, contained, bundle, findings);
    for (const model of this.#modelsFor(json, base, extraProfiles, expression, findings)) {
      this.#walker.walkResource(json, model, expression, scope, findings);
    }
    // Rules outside the StructureDefinitions: src/validation/resource-id.ts, src/validation/bundle-rules.ts.
    checkResourceId(json, expression, findings);
    if (bundle !== undefined) checkBundleRules({ bundle: json, expression, references: bundle.references, isResourceType: this.#isResourceType }, findings);
  }

  readonly #isResourceType = (name: string): boolean => this.#walker.typeModel(name)?.kind === 'resource';

  #scope(resource: Json, parent: ResourceScope | undefined, contained: boolean, bundle: BundleContext | undefined, findings: Findings): ResourceScope {
    const scope: ResourceScope = {
      resource,
      rootResource: contained && parent !== undefined ? parent.rootResource : resource,
      container: contained && parent !== undefined ? parent.container : resource,
      resolve: parent?.resolve ?? (() => undefined),
      onReference: parent?.onReference ?? (() => undefined),
      onNestedResource: (nested, expression, from, isContained) => {
        if (isContained || bundle === undefined) {
          this.#validateResource(nested, expression, [], from, isContained, findings);
          return;
        }
        // A Bundle entry: a resource of its own, whose references resolve from its entry.
        const entry = isObject(nested) ? bundle.entryOf.get(nested) : undefined;
        const entryScope: ResourceScope = {
          ...from,
          resolve: (reference) => (entry === undefined ? undefined : bundle.index.resolve({ reference }, entry)?.resource),
          onReference: (reference, at) => bundle.references.push({ reference, expression: at }),
        };
        this.#validateResource(nested, expression, [], entryScope, false, findings);
      },
    };
    return scope;
  }

  /** The profiles the resource is walked against: those it claims that are known, else its base type. */
  #modelsFor(resource: Json, base: TypeModel, extraProfiles: readonly string[], expression: string, findings: Findings): TypeModel[] {
    const meta = resource.meta;
    const claimed = isObject(meta) && Array.isArray(meta.profile) ? meta.profile.filter((url): url is string => typeof url === 'string') : [];
    const models: TypeModel[] = [];
    // Profiles implied by the resource's codes (the R4 vital signs) apply as if claimed.
    for (const url of [...new Set([...claimed, ...extraProfiles, ...this.#implied.of(resource)])]) {
      const model = this.#walker.model(url);
      if (model === undefined) {
        findings.add({ severity: 'warning', code: 'not-supported', rule: STRUCTURE_RULES.unknownProfile, source: base.url, expression: `${expression}.meta.profile`, message: `profile ${url} is not known here; checked against the base ${base.type} definition only` });
      } else if (model.type !== base.type) {
        findings.add({ severity: 'error', code: 'invalid', rule: STRUCTURE_RULES.profileMismatch, source: model.url, expression, message: `profile ${url} constrains ${model.type}, not ${base.type}` });
      } else {
        models.push(model);
      }
    }
    return models.length === 0 ? [base] : models;
  }
}

/** A validator over the base R4 definitions and the project's profiles; definitions load on first use. */
export function createValidator(options: ValidatorOptions = {}): Validator {
  return new ProfileValidator(options);
}
