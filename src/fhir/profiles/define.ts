/**
 * Small builders for the project's StructureDefinitions and ValueSets, so each profile source reads
 * as its rules and nothing else. Profiles are differentials only
 * (https://hl7.org/fhir/R4/profiling.html); `npm run profiles:build` adds the snapshots.
 */
import type { ElementDefinition, ElementDefinitionBinding, ElementDefinitionConstraint, StructureDefinition } from 'fhir/r4.js';
import { ARTEFACT_VERSION, coreStructureDefinitionUrl, structureDefinitionUrl, valueSetUrl } from '../canonical.js';
import type { CodeSystemDefinition } from '../code-systems.js';

/** Publisher of every artefact in `profiles/`. */
export const PUBLISHER = 'sip-fhir-adapter';

/**
 * One SIP rule written as a FHIRPath invariant (https://hl7.org/fhir/R4/conformance-rules.html#constraints).
 *
 * Every expression must give the same boolean in the `fhirpath` package and in `@medplum/core`
 * (test/fhir/profile-invariants.test.ts checks both). Hence two habits:
 * - no `resolve()`: Medplum's does not look inside Bundles, so rules across resources join Bundle
 *   entries by `fullUrl` on the SIP Bundle profile;
 * - no date arithmetic: Medplum 4.5.2 evaluates `@2026-01-01 + 1 year` as string concatenation, so
 *   dates are compared as `yyyymmdd` integers.
 */
export interface Invariant {
  /** `sip-` prefixed, unique across the project's profiles. */
  readonly key: string;
  readonly severity: 'error' | 'warning';
  /** What the rule requires, in English, as a validator shows it. */
  readonly human: string;
  readonly expression: string;
  /** The seed section the rule comes from (seeds are in the project's shared folder; see DESIGN.md §3). */
  readonly source: string;
}

/** `yyyy-mm-dd…` → the integer yyyymmdd, FHIRPath with no date arithmetic (see {@link Invariant}). */
export const dayNumber = (element: string): string => `${element}.substring(0, 10).replace('-', '').toInteger()`;

export function constraintOf(profileUrl: string, invariant: Invariant): ElementDefinitionConstraint {
  return {
    key: invariant.key,
    requirements: invariant.source,
    severity: invariant.severity,
    human: invariant.human,
    expression: invariant.expression,
    source: profileUrl,
  };
}

/** `A.b:s.c` → `A.b.c`. */
function pathOf(id: string): string {
  return id
    .split('.')
    .map((segment) => segment.split(':')[0] ?? segment)
    .join('.');
}

/** A differential element by id (`Patient.identifier:personnummer.system`); the path follows from it. */
export function element(id: string, rules: Omit<ElementDefinition, 'id' | 'path'> = {}): ElementDefinition {
  const lastSegment = id.slice(id.lastIndexOf('.') + 1);
  const colon = lastSegment.indexOf(':');
  const sliceName = colon < 0 ? undefined : lastSegment.slice(colon + 1);
  return { id, path: pathOf(id), ...(sliceName === undefined ? {} : { sliceName }), ...rules };
}

/** A binding to one of the project's ValueSets (one per CodeSystem, all its codes). */
export function bindingTo(codeSystem: CodeSystemDefinition, strength: ElementDefinitionBinding['strength'], description?: string): ElementDefinitionBinding {
  return { strength, ...(description === undefined ? {} : { description }), valueSet: valueSetUrl(codeSystem.id) };
}

/** Slicing of a repeating element by the value of one of its children (e.g. `system`, `url`). */
export function slicedByValue(path: string, description: string): Pick<ElementDefinition, 'slicing'> {
  return { slicing: { discriminator: [{ type: 'value', path }], description, rules: 'open' } };
}

/** Slices of `<path>.extension` for the project's own extensions, each `0..1` unless said otherwise. */
export function extensionSlices(
  path: string,
  slices: readonly { name: string; url: string; min?: number; max?: string; short?: string }[],
): ElementDefinition[] {
  return [
    element(`${path}.extension`, slicedByValue('url', 'The SIP extensions, by url')),
    ...slices.flatMap(({ name, url, min = 0, max = '1', short }) => [
      element(`${path}.extension:${name}`, { ...(short === undefined ? {} : { short }), min, max, type: [{ code: 'Extension', profile: [url] }] }),
      // The discriminating url in the slice itself: validators that do not open the extension's own
      // definition (Medplum 4.5) match slices on it.
      element(`${path}.extension:${name}.url`, { fixedUri: url }),
    ]),
  ];
}

export interface ProfileSource {
  readonly id: string;
  readonly type: string;
  readonly title: string;
  readonly description: string;
  /** Canonical URL of the base; the R4 definition of `type` unless said otherwise. */
  readonly baseDefinition?: string;
  /** Invariants on the root element. */
  readonly invariants?: readonly Invariant[];
  /** Other differential elements, in snapshot order. */
  readonly elements?: readonly ElementDefinition[];
}

/** A name for `StructureDefinition.name`: `sip-careplan` → `SIPCareplan`. */
export function computableName(id: string): string {
  return id
    .split('-')
    .map((part) => (part.toUpperCase() === 'SIP' ? 'SIP' : `${part.charAt(0).toUpperCase()}${part.slice(1)}`))
    .join('');
}

/** What every one of the project's StructureDefinitions states about itself. */
export function definitionHeader(id: string, title: string, description: string) {
  return {
    resourceType: 'StructureDefinition',
    id,
    url: structureDefinitionUrl(id),
    version: ARTEFACT_VERSION,
    name: computableName(id),
    title,
    status: 'draft',
    experimental: false,
    publisher: PUBLISHER,
    description,
    fhirVersion: '4.0.1',
  } as const satisfies Partial<StructureDefinition>;
}

/** A constraint profile on a resource, as a differential. */
export function profile(source: ProfileSource): StructureDefinition {
  const url = structureDefinitionUrl(source.id);
  return {
    ...definitionHeader(source.id, source.title, source.description),
    kind: 'resource',
    abstract: false,
    type: source.type,
    baseDefinition: source.baseDefinition ?? coreStructureDefinitionUrl(source.type),
    derivation: 'constraint',
    differential: {
      element: [
        element(source.type, source.invariants === undefined ? {} : { constraint: source.invariants.map((invariant) => constraintOf(url, invariant)) }),
        ...(source.elements ?? []),
      ],
    },
  };
}
