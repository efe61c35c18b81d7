/**
 * A StructureDefinition's snapshot as a tree the walker can follow: one node per element, its
 * children by JSON property name, choice types (`value[x]`) expanded to their JSON names
 * (`valueQuantity`), slices grouped under the element they slice.
 *
 * Nothing here restates a rule: cardinality, types, fixed and pattern values, bindings and
 * constraints are read from the snapshot's ElementDefinitions
 * (https://hl7.org/fhir/R4/elementdefinition.html).
 */
import type { ElementDefinition, ElementDefinitionBinding, ElementDefinitionConstraint, ElementDefinitionSlicingDiscriminator, StructureDefinition } from 'fhir/r4.js';

const FHIR_TYPE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';
const REGEX_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/regex';

/** Primitive types of FHIR R4 (https://hl7.org/fhir/R4/datatypes.html#primitive). */
export const PRIMITIVE_TYPES: ReadonlySet<string> = new Set([
  'base64Binary', 'boolean', 'canonical', 'code', 'date', 'dateTime', 'decimal', 'id', 'instant', 'integer', 'markdown',
  'oid', 'positiveInt', 'string', 'time', 'unsignedInt', 'uri', 'url', 'uuid', 'xhtml',
]);

export interface TypeChoice {
  /** FHIR type code: `string`, `Reference`, `BackboneElement`, a resource type for `Resource` … */
  readonly code: string;
  readonly profiles: readonly string[];
  readonly targetProfiles: readonly string[];
}

export interface Constraint extends ElementDefinitionConstraint {
  /** The StructureDefinition the constraint is reported against. */
  readonly sourceUrl: string;
}

export interface Slice {
  readonly name: string;
  readonly node: ElementNode;
}

export interface ElementNode {
  /** Element path with `[x]` kept, e.g. `Observation.value[x]`. */
  readonly path: string;
  readonly min: number;
  readonly max: number;
  /** JSON arrays are used when the base element repeats, whatever a profile narrows `max` to. */
  readonly isArray: boolean;
  readonly types: readonly TypeChoice[];
  readonly isChoice: boolean;
  readonly contentReference: string | undefined;
  readonly fixed: unknown;
  readonly pattern: unknown;
  readonly binding: ElementDefinitionBinding | undefined;
  readonly constraints: readonly Constraint[];
  readonly regex: RegExp | undefined;
  /** Children by element name (`value` for `value[x]`). */
  readonly children: Map<string, ElementNode>;
  readonly slicing: { readonly discriminator: readonly ElementDefinitionSlicingDiscriminator[]; readonly rules: string } | undefined;
  readonly slices: Slice[];
  /** The StructureDefinition the node comes from (base type or profile). */
  readonly sourceUrl: string;
}

/** A compiled StructureDefinition. */
export interface TypeModel {
  readonly url: string;
  readonly type: string;
  readonly kind: StructureDefinition['kind'];
  readonly root: ElementNode;
  /** Nodes by element id (`CarePlan.activity`, `Patient.identifier:personnummer`), for contentReference. */
  readonly byId: ReadonlyMap<string, ElementNode>;
}

function parseMax(max: string | undefined): number {
  return max === undefined || max === '*' ? Number.POSITIVE_INFINITY : Number(max);
}

/** The FHIR type of a `http://hl7.org/fhirpath/System.*` type code (element ids, `Extension.url`, primitive values). */
function typeCode(type: NonNullable<ElementDefinition['type']>[number]): string {
  if (!type.code.startsWith('http://hl7.org/fhirpath/System.')) return type.code;
  const fhirType = type.extension?.find((extension) => extension.url === FHIR_TYPE_EXTENSION)?.valueUrl;
  return fhirType ?? type.code.slice('http://hl7.org/fhirpath/System.'.length).toLowerCase();
}

function valueOfPrefix(element: ElementDefinition, prefix: 'fixed' | 'pattern'): unknown {
  for (const [key, value] of Object.entries(element)) {
    if (key.startsWith(prefix) && key.length > prefix.length) return value as unknown;
  }
  return undefined;
}

/**
 * The spec's regexes follow XML Schema, where `\s` is only space, tab, CR and LF; in JavaScript it
 * also takes the no-break space and other Unicode spaces, which would reject ordinary text such as
 * "Program\u00a0". The two escapes are rewritten to their XML Schema meaning, inside and outside
 * character classes.
 */
export function toJavaScriptRegex(regex: string): RegExp {
  let out = '';
  let inClass = false;
  for (let index = 0; index < regex.length; index += 1) {
    const char = regex.charAt(index);
    if (char === '\\') {
      const next = regex.charAt(index + 1);
      index += 1;
      if (next === 's') out += inClass ? ' \\t\\n\\r' : '[ \\t\\n\\r]';
      else if (next === 'S') out += inClass ? '\\0-\\x08\\x0B\\x0C\\x0E-\\x1F\\x21-\\u{10FFFF}' : '[^ \\t\\n\\r]';
      else out += `\\${next}`;
      continue;
    }
    if (char === '[') inClass = true;
    else if (char === ']') inClass = false;
    out += char;
  }
  return new RegExp(`^(?:${out})$`, 'u');
}

function regexOf(element: ElementDefinition): RegExp | undefined {
  for (const type of element.type ?? []) {
    const regex = type.extension?.find((extension) => extension.url === REGEX_EXTENSION)?.valueString;
    if (regex !== undefined) return toJavaScriptRegex(regex);
  }
  return undefined;
}

function makeNode(element: ElementDefinition, sourceUrl: string): ElementNode {
  const types = (element.type ?? []).map((type) => ({ code: typeCode(type), profiles: type.profile ?? [], targetProfiles: type.targetProfile ?? [] }));
  return {
    path: element.path,
    min: element.min ?? 0,
    max: parseMax(element.max),
    isArray: parseMax(element.base?.max ?? element.max) > 1,
    types,
    isChoice: element.path.endsWith('[x]'),
    contentReference: element.contentReference,
    fixed: valueOfPrefix(element, 'fixed'),
    pattern: valueOfPrefix(element, 'pattern'),
    binding: element.binding,
    constraints: (element.constraint ?? []).map((constraint) => ({ ...constraint, sourceUrl: constraint.source ?? sourceUrl })),
    regex: regexOf(element),
    children: new Map(),
    slicing: element.slicing === undefined ? undefined : { discriminator: element.slicing.discriminator ?? [], rules: element.slicing.rules },
    slices: [],
    sourceUrl,
  };
}

/** The element's name as its parent knows it: the last path segment without `[x]`. */
export function elementName(path: string): string {
  const name = path.slice(path.lastIndexOf('.') + 1);
  return name.endsWith('[x]') ? name.slice(0, -3) : name;
}

/** `dateTime` → `DateTime`: the suffix a choice element's JSON name takes for a type. */
export function choiceSuffix(code: string): string {
  return code.charAt(0).toUpperCase() + code.slice(1);
}

/**
 * Builds the tree from `snapshot.element`, in order. An element id `A.b:s.c` belongs to slice `s`
 * of `A.b`; ids without a slice name are children of their path's parent.
 */
export function compileTypeModel(definition: StructureDefinition): TypeModel {
  const elements = definition.snapshot?.element;
  if (elements === undefined || elements.length === 0) {
    throw new Error(`StructureDefinition ${definition.url} has no snapshot`);
  }
  const byId = new Map<string, ElementNode>();
  let root: ElementNode | undefined;
  for (const element of elements) {
    const id = element.id ?? element.path;
    const node = makeNode(element, definition.url);
    byId.set(id, node);
    const lastDot = id.lastIndexOf('.');
    const lastColon = id.lastIndexOf(':');
    if (lastDot === -1 && lastColon === -1) {
      root = node;
      continue;
    }
    if (lastColon > lastDot) {
      // `A.b:slice` (or a re-slice `A.b:s/r`): a slice of the element `A.b`.
      const sliced = byId.get(id.slice(0, lastColon));
      sliced?.slices.push({ name: element.sliceName ?? id.slice(lastColon + 1), node });
      continue;
    }
    const parent = byId.get(id.slice(0, lastDot));
    parent?.children.set(elementName(element.path), node);
  }
  if (root === undefined) throw new Error(`StructureDefinition ${definition.url} has no root element`);
  return { url: definition.url, type: definition.type, kind: definition.kind, root, byId };
}

/** What a JSON property names: the element, and the type a choice element's name gives (or the element's only type). */
export interface ChildFound {
  readonly node: ElementNode;
  readonly type: TypeChoice | undefined;
}

/** Each node's JSON property names, built on the first lookup of the node (its model is complete by then). */
const jsonNamesOf = new WeakMap<ElementNode, ReadonlyMap<string, ChildFound>>();

/**
 * Every JSON name of a node's children, each to what it names: a plain child under its name, a
 * choice element under each of its types' names (`value[x]` as `valueQuantity`, `valueString` …).
 * A plain child wins over a choice element's name, and of two choice elements giving the same name
 * the first in the snapshot's order wins — the order in which a property was looked up before.
 * Bounded by the snapshot (names × types), not by the data: nothing the walk meets is added.
 */
function jsonNames(node: ElementNode): ReadonlyMap<string, ChildFound> {
  let names = jsonNamesOf.get(node);
  if (names === undefined) {
    const built = new Map<string, ChildFound>();
    for (const [name, child] of node.children) {
      if (!child.isChoice) continue;
      for (const type of child.types) {
        const property = name + choiceSuffix(type.code);
        if (!built.has(property)) built.set(property, { node: child, type });
      }
    }
    for (const [name, child] of node.children) {
      if (!child.isChoice) built.set(name, { node: child, type: child.types.length === 1 ? child.types[0] : undefined });
    }
    names = built;
    jsonNamesOf.set(node, names);
  }
  return names;
}

/** Every JSON property name of a node's children with what it names ({@link childFor} looks one up). */
export function childrenByJsonName(node: ElementNode): ReadonlyMap<string, ChildFound> {
  return jsonNames(node);
}

/**
 * The node and type a JSON property names: `status` directly, `valueQuantity` through the choice
 * element `value[x]`, `_status` as the primitive's id and extensions. Looked up in the node's
 * {@link jsonNames}: the walk asks this for every property of every object, and matching a choice
 * name against each type of `value[x]` (≈ 50 on Extension) was ≈ 5 % of a SIP Bundle's validation.
 */
export function childFor(node: ElementNode, property: string): ChildFound | undefined {
  return jsonNames(node).get(property);
}
