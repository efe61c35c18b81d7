/**
 * The walk of one resource against the snapshot(s) of its StructureDefinition(s): every JSON
 * property is matched to an ElementDefinition (unknown ones are errors), and each element's
 * cardinality, type, primitive form, fixed and pattern value, slices, binding and constraints are
 * checked where it occurs, with the FHIRPath of that place (`CarePlan.activity[2].detail`).
 *
 * JSON rules from https://hl7.org/fhir/R4/json.html: repeating elements are arrays and others are
 * not; a primitive's id and extensions sit in `_name`; choice elements take their type's name as a
 * suffix (`valueQuantity`); a resource names its type in `resourceType`.
 */
import type { Coding, ElementDefinitionBinding } from 'fhir/r4.js';
import { STRUCTURE_RULES } from './api.js';
import { ConformanceChecks } from './conformance-checks.js';
import { unversioned, type DefinitionStore } from './definitions.js';
import type { Finding, Findings } from './issues.js';
import type { ConstraintResult, InvariantEngine, PreparedConstraint, ResolveScope } from './invariants.js';
import { primitiveCheck, type PrimitiveCheck } from './primitives.js';
import type { Expansion, Terminology } from './terminology.js';
import { childFor, childrenByJsonName, compileTypeModel, PRIMITIVE_TYPES, type ChildFound, type Constraint, type ElementNode, type TypeChoice, type TypeModel } from './type-model.js';

const BASE = 'http://hl7.org/fhir/StructureDefinition/';

/** What the walk of one resource needs to know about where it is. */
export interface ResourceScope extends ResolveScope {
  readonly resource: object;
  readonly rootResource: object;
  /** Called for every Reference met, with its location (the Bundle checks them afterwards). */
  readonly onReference: (reference: string, expression: string) => void;
  /** Called for every resource nested in this one (contained, or a Bundle entry). */
  readonly onNestedResource: (resource: unknown, expression: string, parent: ResourceScope, contained: boolean) => void;
}

export type Json = Record<string, unknown>;

/** A JSON object (not an array, not null). */
export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `the ${typeof value} ${JSON.stringify(value)}`;
}

/** Deep equality of JSON values (https://hl7.org/fhir/R4/elementdefinition-definitions.html#ElementDefinition.fixed_x_). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, index) => jsonEqual(item, b[index]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => jsonEqual(a[key], b[key]));
  }
  return false;
}

/** Whether `value` contains `pattern`: every property of the pattern, arrays matched item by item in any order. */
function matchesPattern(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) return Array.isArray(value) && pattern.every((item) => value.some((candidate) => matchesPattern(candidate, item)));
  if (isObject(pattern)) return isObject(value) && Object.entries(pattern).every(([key, item]) => matchesPattern(value[key], item));
  return value === pattern;
}

/** Whether an object whose property names are `keys` has no property but `id` (or none at all): an element with no value and no children. */
function hasOnlyId(keys: readonly string[]): boolean {
  return keys.length === 0 || (keys.length === 1 && keys[0] === 'id');
}

/** An element path without its choice marker (`Observation.value[x]` → `Observation.value`), as FHIRPath names the element. */
function withoutChoiceMarker(path: string): string {
  return path.endsWith('[x]') ? path.slice(0, -3) : path;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/**
 * The fixed or pattern value at the end of `steps` below `node`. A step onto an element that is
 * itself sliced looks into its slices too: the vital-signs profiles slice `component` by
 * `code.coding.code`, whose fixed value is in the slice `code.coding:SBPCode.code`.
 */
function fixedAlong(node: ElementNode, steps: readonly string[]): unknown {
  const [step, ...rest] = steps;
  if (step === undefined) return node.fixed ?? node.pattern;
  const child = childFor(node, step)?.node;
  if (child === undefined) return undefined;
  return fixedAlong(child, rest) ?? child.slices.map((slice) => fixedAlong(slice.node, rest)).find((value) => value !== undefined);
}

/** What the validator asks of a walker (the reference walker of the differential test has the same shape). */
export interface ResourceWalker {
  model(canonical: string): TypeModel | undefined;
  typeModel(type: string): TypeModel | undefined;
  walkResource(resource: Json, model: TypeModel, expression: string, scope: ResourceScope, findings: Findings): void;
}

/** A constraint of a node, prepared once for the element path it is evaluated on. */
interface ConstraintStep {
  readonly constraint: Constraint;
  readonly prepared: PreparedConstraint;
  /**
   * The first step of the list with the same expression text (its own index if none before it):
   * two keys with the same expression on one element (txt-1, txt-2) are evaluated once, and the
   * result is kept under this index.
   */
  readonly group: number;
}

/**
 * The constraints of a node as one walk evaluates them on one element path: ele-1 and dom-3 left
 * out (the walker checks them itself, `REPLACED_CONSTRAINTS`), a key repeated in the list kept once,
 * each expression repaired, compiled and given its native check beforehand.
 */
interface ConstraintPlan {
  readonly steps: readonly ConstraintStep[];
  /** The keys of the steps: a data type's constraints with these keys are not evaluated again on the same element. */
  readonly keys: ReadonlySet<string>;
  /** Whether two steps share an expression. */
  readonly shared: boolean;
}

/** What a JSON property of an object names, with the index of the child element it counts towards. */
interface PropertyTarget {
  readonly found: ChildFound;
  readonly index: number;
  /** Whether `_name` may be given for it (the element's type is a primitive). */
  readonly primitive: boolean;
}

/** Where a complex element's properties are defined, as `#childrenOf` answers. */
interface ChildrenTarget {
  readonly node: ElementNode;
  readonly model: TypeModel;
  readonly typeRoot: boolean;
}

/** How a slice is told from its siblings: per discriminator, what the item must have. */
type SliceTest =
  | { readonly kind: 'never' }
  | { readonly kind: 'type'; readonly codes: ReadonlySet<string> }
  | { readonly kind: 'value'; readonly self: boolean; readonly steps: readonly string[]; readonly expected: unknown };

/**
 * What the walk needs of one StructureDefinition node, worked out the first time the node is met
 * and kept with it: its children in order with each JSON property name they take, its constraint
 * lists (per element path they are evaluated on), where its children are defined per type, its
 * binding's expansion and its slices' discriminator values. Kept per node of the definitions the
 * walker has compiled, so bounded by them; nothing from the data is added.
 */
interface NodePlan {
  readonly children: readonly ElementNode[];
  readonly properties: ReadonlyMap<string, PropertyTarget>;
  readonly constraints: Map<string, ConstraintPlan>;
  /** Per type code ('' for none): where an object's properties are defined, for the model the node was met in. */
  readonly childrenTargets: Map<string, { readonly from: TypeModel; readonly target: ChildrenTarget }>;
  /** The base the constraints were last asked for, and their plan: one comparison instead of a Map lookup. */
  lastBase: string | undefined;
  lastConstraints: ConstraintPlan | undefined;
  /** The last answer of `#childrenOf`, likewise. */
  lastChildren: { readonly type: string; readonly from: TypeModel; readonly target: ChildrenTarget } | undefined;
  /** The binding's expansion: not yet asked (`undefined`), none (`null`). */
  expansion: Expansion | null | undefined;
  sliceTests: readonly (readonly SliceTest[])[] | undefined;
}

/** Whether some value along `steps` from `value` (each step into objects, arrays flattened, undefined left out) contains `expected`. */
function someAlong(value: unknown, steps: readonly string[], at: number, expected: unknown): boolean {
  if (at === steps.length) return matchesPattern(value, expected);
  if (!isObject(value)) return false;
  const next = value[steps[at] ?? ''];
  if (next === undefined) return false;
  if (!Array.isArray(next)) return someAlong(next, steps, at + 1, expected);
  for (let index = 0; index < next.length; index++) {
    // filter() skipped holes and undefined items, as this does.
    if (!(index in next)) continue;
    const item: unknown = next[index];
    if (item !== undefined && someAlong(item, steps, at + 1, expected)) return true;
  }
  return false;
}

/** Whether an item passes every test of a slice ({@link Walker} `#sliceTests`). */
function matchesSlice(item: unknown, tests: readonly SliceTest[], typeCode: string | undefined): boolean {
  for (const test of tests) {
    if (test.kind === 'never') return false;
    if (test.kind === 'type') {
      if (typeCode === undefined || !test.codes.has(typeCode)) return false;
    } else if (!(test.self ? matchesPattern(item, test.expected) : someAlong(item, test.steps, 0, test.expected))) {
      return false;
    }
  }
  return true;
}

const NO_CONSTRAINTS: ConstraintPlan = { steps: [], keys: new Set(), shared: false };

/** Whether a coding has a code (a string): the codings a binding is checked on. */
function hasCode(coding: Coding): boolean {
  return typeof coding.code === 'string';
}

/** A coding's system when it is a string. The data is not validated yet: a system of another JSON type (which the walk reports) is none here. */
function systemOf(coding: Coding): string | undefined {
  return typeof coding.system === 'string' ? coding.system : undefined;
}

/** A binding {@link Walker} checks: a required or extensible one to a ValueSet. */
type CheckedBinding = ElementDefinitionBinding & { readonly valueSet: string; readonly strength: 'required' | 'extensible' };

/**
 * The element's binding when it is one {@link Walker} checks. Asked before the codings to check are
 * gathered, so an element without such a binding (a Coding inside a CodeableConcept, most codes of a
 * Bundle) costs no list of them.
 */
function checkedBinding(node: ElementNode): CheckedBinding | undefined {
  const binding = node.binding;
  if (binding?.valueSet === undefined || (binding.strength !== 'required' && binding.strength !== 'extensible')) return undefined;
  return binding as CheckedBinding;
}

export class Walker implements ResourceWalker {
  readonly #store: DefinitionStore;
  readonly #terminology: Terminology;
  readonly #engine: InvariantEngine;
  readonly #models = new Map<string, TypeModel | null>();
  /** Each primitive type's check, with the regex of its `value` (bounded by the primitive types). */
  readonly #primitiveChecks = new Map<string, PrimitiveCheck>();
  readonly #conformance: ConformanceChecks;

  constructor(store: DefinitionStore, terminology: Terminology, engine: InvariantEngine) {
    this.#store = store;
    this.#conformance = new ConformanceChecks(store);
    this.#terminology = terminology;
    this.#engine = engine;
  }

  /**
   * The compiled StructureDefinition with this canonical URL, if the store has it. Only what the
   * store holds is kept (compiled, or `null` for a definition without a snapshot): a URL it does not
   * know — data names any profile or resource type it likes — is looked up again each time, so what
   * is kept is bounded by the packages, whatever the data sends.
   */
  model(canonical: string): TypeModel | undefined {
    const url = unversioned(canonical);
    let model = this.#models.get(url);
    if (model === undefined) {
      const definition = this.#store.structureDefinition(url);
      if (definition === undefined) return undefined;
      model = definition.snapshot === undefined ? null : compileTypeModel(definition);
      this.#models.set(url, model);
    }
    return model ?? undefined;
  }

  /** How many definitions the walker keeps compiled (or known to have no snapshot): bounded by the store, not by the data. */
  get modelsKept(): number {
    return this.#models.size;
  }

  readonly #byType = new Map<string, TypeModel>();

  /**
   * The base definition of an R4 data type or resource by its name (`Reference`, `CarePlan`): the
   * same object as `model(BASE + type)`, looked up without building and hashing that URL, which the
   * walk did for every complex element, primitive extension and resource. Only definitions found are
   * kept, so what is kept is bounded by the package, whatever names the data gives.
   */
  typeModel(type: string): TypeModel | undefined {
    let model = this.#byType.get(type);
    if (model === undefined) {
      model = this.model(`${BASE}${type}`);
      if (model !== undefined) this.#byType.set(type, model);
    }
    return model;
  }

  /** Walks `resource` (already known to be an object with a `resourceType`) against `model`. */
  walkResource(resource: Json, model: TypeModel, expression: string, scope: ResourceScope, findings: Findings): void {
    this.#conformance.element(model.type, model.root, resource, expression, findings);
    this.#walkObject(resource, model.root, model, model.type, expression, scope, findings, true);
    this.#checkContainedAreReferenced(resource, model, expression, findings);
  }

  #report(findings: Findings, finding: Omit<Finding, 'severity' | 'code'> & Partial<Pick<Finding, 'severity' | 'code'>>): void {
    findings.add({ severity: 'error', code: 'structure', ...finding });
  }

  readonly #plans = new WeakMap<ElementNode, NodePlan>();

  /** The node's {@link NodePlan}, made on its first use. */
  #planOf(node: ElementNode): NodePlan {
    let plan = this.#plans.get(node);
    if (plan === undefined) {
      const children = [...node.children.values()];
      const properties = new Map<string, PropertyTarget>();
      for (const [name, found] of childrenByJsonName(node)) {
        properties.set(name, { found, index: children.indexOf(found.node), primitive: PRIMITIVE_TYPES.has(found.type?.code ?? '') });
      }
      plan = { children, properties, constraints: new Map(), childrenTargets: new Map(), lastBase: undefined, lastConstraints: undefined, lastChildren: undefined, expansion: undefined, sliceTests: undefined };
      this.#plans.set(node, plan);
    }
    return plan;
  }

  /** The node's constraints prepared for evaluation on `base` (an element path or type name, with `[x]` as written). */
  #constraintPlan(node: ElementNode, plan: NodePlan, base: string): ConstraintPlan {
    // A node is nearly always evaluated on one base (its path, or its type's name at a type's root).
    if (plan.lastBase === base && plan.lastConstraints !== undefined) return plan.lastConstraints;
    let constraints = plan.constraints.get(base);
    if (constraints === undefined) {
      constraints = NO_CONSTRAINTS;
      const steps: ConstraintStep[] = [];
      const keys = new Set<string>();
      const texts: string[] = [];
      let shared = false;
      for (const constraint of node.constraints) {
        if (constraint.key === 'ele-1' || constraint.key === 'dom-3' || keys.has(constraint.key)) continue;
        keys.add(constraint.key);
        const text = constraint.expression ?? 'true';
        const earlier = texts.indexOf(text);
        if (earlier !== -1) shared = true;
        texts.push(text);
        steps.push({ constraint, prepared: this.#engine.prepare(text, withoutChoiceMarker(base)), group: earlier === -1 ? steps.length : earlier });
      }
      if (steps.length > 0) constraints = { steps, keys, shared };
      plan.constraints.set(base, constraints);
    }
    plan.lastBase = base;
    plan.lastConstraints = constraints;
    return constraints;
  }

  /** The element definitions of an object's properties ({@link #findChildren}), once per node and type. */
  #childrenOf(node: ElementNode, plan: NodePlan, model: TypeModel, type: string | undefined): ChildrenTarget {
    const key = type ?? '';
    const last = plan.lastChildren;
    if (last !== undefined && last.type === key && last.from === model) return last.target;
    const kept = plan.childrenTargets.get(key);
    // A node belongs to one model, so `from` is always the same; were it not, the answer is worked out again.
    if (kept !== undefined && kept.from === model) {
      plan.lastChildren = { type: key, from: model, target: kept.target };
      return kept.target;
    }
    const target = this.#findChildren(node, model, type);
    if (kept === undefined) {
      plan.childrenTargets.set(key, { from: model, target });
      plan.lastChildren = { type: key, from: model, target };
    }
    return target;
  }

  /** The element definitions of an object's properties: inline children, or those of its data type. */
  #findChildren(node: ElementNode, model: TypeModel, type: string | undefined): { node: ElementNode; model: TypeModel; typeRoot: boolean } {
    if (node.contentReference !== undefined) {
      const target = model.byId.get(node.contentReference.slice(node.contentReference.indexOf('#') + 1));
      if (target !== undefined) return { node: target, model, typeRoot: false };
    }
    if (node.children.size > 0 || type === undefined || type === 'BackboneElement' || type === 'Element') return { node, model, typeRoot: false };
    const typeModel = this.typeModel(type);
    return typeModel === undefined ? { node, model, typeRoot: false } : { node: typeModel.root, model: typeModel, typeRoot: true };
  }

  /**
   * Occurrences of each child element of the objects being walked, one slot per child from
   * {@link #countsTop} up (a stack: a nested object takes the slots above its parent's and gives them
   * back), instead of a Map per object. Grows to the deepest nesting of the widest elements met.
   */
  #counts = new Int32Array(1_024);
  #countsTop = 0;

  /** `keys`: `Object.keys(value)`, when the caller has them already. */
  #walkObject(value: Json, node: ElementNode, model: TypeModel, base: string, expression: string, scope: ResourceScope, findings: Findings, isResourceRoot: boolean, skip?: ReadonlySet<string>, keys: readonly string[] = Object.keys(value)): void {
    const plan = this.#planOf(node);
    const { children, properties } = plan;
    const first = this.#countsTop;
    const end = first + children.length;
    if (end > this.#counts.length) {
      const grown = new Int32Array(Math.max(end, this.#counts.length * 2));
      grown.set(this.#counts);
      this.#counts = grown;
    }
    this.#counts.fill(0, first, end);
    this.#countsTop = end;
    try {
      // Which JSON names a choice element was given under: while only one choice element with one
      // name occurs (an Extension's value) in two variables, then in a Map as before.
      let choiceNode: ElementNode | undefined;
      let choiceName = '';
      let choiceNames: Map<ElementNode, string[]> | undefined;
      for (const property of keys) {
        if (isResourceRoot && property === 'resourceType') continue;
        const child = value[property];
        const isShadow = property.startsWith('_');
        const name = isShadow ? property.slice(1) : property;
        const target = properties.get(name);
        if (target === undefined || (isShadow && !target.primitive)) {
          this.#report(findings, { rule: STRUCTURE_RULES.unknownElement, source: model.url, expression: `${expression}.${property}`, message: `${property} is not an element of ${node.path}` });
          continue;
        }
        const found = target.found;
        const location = `${expression}.${name}`;
        if (found.node.isChoice) {
          if (choiceNames === undefined && (choiceNode === undefined || (choiceNode === found.node && choiceName === name))) {
            choiceNode = found.node;
            choiceName = name;
          } else {
            if (choiceNames === undefined) {
              choiceNames = new Map();
              if (choiceNode !== undefined) choiceNames.set(choiceNode, [choiceName]);
            }
            const names = choiceNames.get(found.node) ?? [];
            if (!names.includes(name)) names.push(name);
            choiceNames.set(found.node, names);
          }
        }
        // A primitive given only through `_name` (an extension instead of a value) still occurs.
        if (!isShadow || value[name] === undefined) this.#counts[first + target.index] = (this.#counts[first + target.index] ?? 0) + (Array.isArray(child) ? child.length : 1);
        if (isShadow) {
          this.#walkShadow(child, value[name], found.node, found.type?.code ?? 'string', location, scope, findings);
        } else {
          this.#walkProperty(child, found.node, found.type, model, location, scope, findings);
        }
      }
      // Only when two choice names were met: `choiceNames ?? []` made an empty array and its iterator for
      // every object walked (≈ 80 kB of a transaction's 2.1 MB, bench/tx-alloc.ts).
      if (choiceNames !== undefined) {
        for (const [child, names] of choiceNames) {
          if (names.length > 1) {
            this.#report(findings, { rule: STRUCTURE_RULES.maxCardinality, source: child.sourceUrl, expression: `${expression}.${names[1] ?? ''}`, message: `${child.path} may have one type only, but has ${names.join(' and ')}` });
          }
        }
      }
      for (let index = 0; index < children.length; index++) {
        const child = children[index];
        if (child === undefined) continue;
        const count = this.#counts[first + index] ?? 0;
        if (count < child.min) {
          const name = child.path.slice(child.path.lastIndexOf('.') + 1);
          this.#report(findings, { rule: STRUCTURE_RULES.minCardinality, code: 'required', source: child.sourceUrl, expression: `${expression}.${name.replace('[x]', '')}`, message: `${child.path} is required (at least ${String(child.min)}), but ${count === 0 ? 'is missing' : `occurs ${String(count)} time${count === 1 ? '' : 's'}`}` });
        } else if (count > child.max && (choiceNames?.get(child)?.length ?? 0) < 2) {
          this.#report(findings, { rule: STRUCTURE_RULES.maxCardinality, source: child.sourceUrl, expression: `${expression}.${child.path.slice(child.path.lastIndexOf('.') + 1)}`, message: `${child.path} may occur at most ${String(child.max)} time${child.max === 1 ? '' : 's'}, but occurs ${String(count)} times` });
        }
      }
    } finally {
      this.#countsTop = first;
    }
    this.#checkConstraints(this.#constraintPlan(node, plan, base), value, expression, scope, findings, skip);
  }

  /** `_name`: the id and extensions of a primitive (or of each item of a repeating primitive, by position). */
  #walkShadow(shadow: unknown, primary: unknown, node: ElementNode, type: string, expression: string, scope: ResourceScope, findings: Findings): void {
    const primitiveModel = this.typeModel(type);
    if (primitiveModel === undefined) return;
    const items = node.isArray ? shadow : [shadow];
    if (!Array.isArray(items) || (node.isArray && Array.isArray(primary) && primary.length !== items.length)) {
      this.#report(findings, { rule: STRUCTURE_RULES.invalidType, source: node.sourceUrl, expression, message: `_${node.path.slice(node.path.lastIndexOf('.') + 1)} must ${node.isArray ? 'be an array as long as its values' : 'be an object'}` });
      return;
    }
    items.forEach((item, index) => {
      const location = node.isArray ? `${expression}[${String(index)}]` : expression;
      if (item === null && node.isArray) return;
      if (!isObject(item)) {
        this.#report(findings, { rule: STRUCTURE_RULES.invalidType, source: node.sourceUrl, expression: location, message: `the id and extensions of ${node.path} must be an object, not ${describe(item)}` });
        return;
      }
      const { value, ...elementPart } = item;
      this.#conformance.element(type, node, elementPart, location, findings);
      if (value !== undefined) this.#report(findings, { rule: STRUCTURE_RULES.unknownElement, source: node.sourceUrl, expression: `${location}.value`, message: 'a primitive\'s value belongs in the property without "_"' });
      this.#walkObject(elementPart, primitiveModel.root, primitiveModel, type, location, scope, findings, false);
    });
  }

  #walkProperty(value: unknown, node: ElementNode, type: TypeChoice | undefined, model: TypeModel, expression: string, scope: ResourceScope, findings: Findings): void {
    if (node.isArray !== Array.isArray(value)) {
      const rule = Array.isArray(value) ? STRUCTURE_RULES.maxCardinality : STRUCTURE_RULES.invalidType;
      this.#report(findings, { rule, source: node.sourceUrl, expression, message: Array.isArray(value) ? `${node.path} is a single value, not an array` : `${node.path} repeats, so it must be a JSON array, not ${describe(value)}` });
      if (!Array.isArray(value)) {
        this.#walkItem(value, node, type, model, expression, scope, findings);
        return;
      }
    }
    const items = asList(value);
    if (items.length === 0) {
      this.#report(findings, { rule: 'ele-1', source: node.sourceUrl, expression, message: `${node.path} is an empty array; leave the property out instead` });
      return;
    }
    for (let index = 0; index < items.length; index++) {
      // A hole of a sparse array is skipped, as forEach did (JSON has none; an object built in code may).
      if (!(index in items)) continue;
      this.#walkItem(items[index], node, type, model, node.isArray ? `${expression}[${String(index)}]` : expression, scope, findings);
    }
    if (node.slices.length > 0) this.#checkSlices(items, node, expression, findings, type?.code);
  }

  #walkItem(item: unknown, node: ElementNode, choice: TypeChoice | undefined, model: TypeModel, expression: string, scope: ResourceScope, findings: Findings): void {
    const type = choice ?? (node.types.length === 1 ? node.types[0] : undefined);
    const code = type?.code;
    if (item === null) {
      this.#report(findings, { rule: 'ele-1', source: node.sourceUrl, expression, message: `${node.path} is null; leave the property out instead` });
      return;
    }
    if (code === 'Resource' || code === 'DomainResource') {
      scope.onNestedResource(item, expression, scope, node.path.endsWith('.contained'));
      return;
    }
    if (code !== undefined && PRIMITIVE_TYPES.has(code)) {
      const problem = this.#primitiveCheckOf(code)(item);
      if (problem !== undefined) {
        this.#report(findings, { rule: problem.rule, code: problem.rule === 'invalid-type' ? 'structure' : 'value', source: node.sourceUrl, expression, message: problem.message });
        return;
      }
      this.#checkValue(item, node, expression, findings);
      this.#conformance.primitive(code, item, expression, findings);
      const plan = this.#planOf(node);
      const binding = code === 'code' ? checkedBinding(node) : undefined;
      if (binding !== undefined) this.#checkBinding(node, binding, plan, [{ code: item as string }], expression, findings, false);
      this.#checkConstraints(this.#constraintPlan(node, plan, node.path), item, expression, scope, findings, undefined);
      return;
    }
    if (!isObject(item)) {
      this.#report(findings, { rule: STRUCTURE_RULES.invalidType, source: node.sourceUrl, expression, message: `${node.path} must be ${code === undefined ? 'an object' : `a ${code} (a JSON object)`}, not ${describe(item)}` });
      return;
    }
    const keys = Object.keys(item);
    if (hasOnlyId(keys)) {
      this.#report(findings, { rule: 'ele-1', source: node.sourceUrl, expression, message: `${node.path} has no value and no children; leave it out instead` });
      return;
    }
    this.#checkValue(item, node, expression, findings);
    this.#conformance.element(code, node, item, expression, findings);
    if (code === 'Reference' && typeof item.reference === 'string') scope.onReference(item.reference, expression);
    const plan = this.#planOf(node);
    const binding = checkedBinding(node);
    if (binding !== undefined && code === 'Coding') this.#checkBinding(node, binding, plan, [item], expression, findings, true);
    if (binding !== undefined && code === 'CodeableConcept' && Array.isArray(item.coding)) this.#checkBinding(node, binding, plan, item.coding.filter(isObject), expression, findings, true);

    const extensionModel = code === 'Extension' && typeof item.url === 'string' ? this.#extensionModel(item.url) : undefined;
    const target = extensionModel !== undefined ? { node: extensionModel.root, model: extensionModel, typeRoot: true } : this.#childrenOf(node, plan, model, code);
    // Constraints of the element itself first, then those of its data type, each key once.
    const own = target.typeRoot ? this.#constraintPlan(node, plan, node.path) : NO_CONSTRAINTS;
    this.#checkConstraints(own, item, expression, scope, findings, undefined);
    this.#walkObject(item, target.node, target.model, target.typeRoot ? target.model.type : target.node.path, expression, scope, findings, false, own.steps.length > 0 ? own.keys : undefined, keys);
  }

  #extensionModel(url: string): TypeModel | undefined {
    const model = this.model(url);
    return model?.type === 'Extension' && model.kind === 'complex-type' && model.url !== `${BASE}Extension` ? model : undefined;
  }

  #primitiveCheckOf(type: string): PrimitiveCheck {
    let check = this.#primitiveChecks.get(type);
    if (check === undefined) {
      check = primitiveCheck(type, this.typeModel(type)?.root.children.get('value')?.regex);
      this.#primitiveChecks.set(type, check);
    }
    return check;
  }

  #checkValue(value: unknown, node: ElementNode, expression: string, findings: Findings): void {
    if (node.fixed !== undefined && !jsonEqual(value, node.fixed)) {
      this.#report(findings, { rule: STRUCTURE_RULES.fixedValue, code: 'value', source: node.sourceUrl, expression, message: `${node.path} must be exactly ${JSON.stringify(node.fixed)}` });
    }
    if (node.pattern !== undefined && !matchesPattern(value, node.pattern)) {
      this.#report(findings, { rule: STRUCTURE_RULES.patternValue, code: 'value', source: node.sourceUrl, expression, message: `${node.path} must contain ${JSON.stringify(node.pattern)}` });
    }
  }

  /**
   * A required binding: some coding (the code, for `code`) must be in the ValueSet; extensible: a
   * warning. Codings of another system than the ValueSet's fail a required binding too
   * (https://hl7.org/fhir/R4/terminologies.html#strength).
   */
  #checkBinding(node: ElementNode, binding: CheckedBinding, plan: NodePlan, codings: readonly Coding[], expression: string, findings: Findings, withSystem: boolean): void {
    if (!codings.some(hasCode)) return;
    plan.expansion ??= this.#terminology.expand(unversioned(binding.valueSet)) ?? null;
    const expansion = plan.expansion;
    if (expansion === null) return;
    // One pass, no list or closure made for the codings that pass (most do): a coding in the ValueSet
    // ends the check; one of another system is noted for an extensible binding.
    let otherSystem = false;
    for (const coding of codings) {
      const code = coding.code;
      if (typeof code !== 'string') continue;
      const system = systemOf(coding);
      if (withSystem ? expansion.pairs.has(`${system ?? ''}|${code}`) : expansion.codes.has(code)) return;
      if (system === undefined || !expansion.systems.has(system)) otherSystem = true;
    }
    // Extensible: a code from another system is allowed when the ValueSet has no suitable concept.
    if (binding.strength === 'extensible' && withSystem && otherSystem) return;
    const coded = codings.filter(hasCode);
    const shown = coded.map((coding) => (withSystem ? `${systemOf(coding) ?? '(no system)'}|${coding.code ?? ''}` : coding.code ?? '')).join(', ');
    const required = binding.strength === 'required';
    this.#report(findings, {
      rule: required ? STRUCTURE_RULES.requiredBinding : STRUCTURE_RULES.extensibleBinding,
      severity: required ? 'error' : 'warning',
      code: 'code-invalid',
      source: node.sourceUrl,
      expression,
      message: `${shown} is not in the value set ${binding.valueSet} that ${node.path} is bound to (${binding.strength})`,
    });
  }

  /** Evaluates a node's prepared constraints on `value`, but those whose key is in `skip` (the element's own, already evaluated). */
  #checkConstraints(plan: ConstraintPlan, value: unknown, expression: string, scope: ResourceScope, findings: Findings, skip: ReadonlySet<string> | undefined): void {
    const { steps } = plan;
    if (steps.length === 0) return;
    const env = { resource: scope.resource, rootResource: scope.rootResource };
    // Two keys with the same expression on the same element (txt-1 and txt-2 are both `htmlChecks()`) are evaluated once.
    const results: (ConstraintResult | undefined)[] | undefined = plan.shared ? [] : undefined;
    for (const step of steps) {
      const { constraint } = step;
      if (skip?.has(constraint.key) === true) continue;
      let result = results?.[step.group];
      if (result === undefined) {
        result = this.#engine.evaluatePrepared(step.prepared, value, env, scope);
        if (results !== undefined) results[step.group] = result;
      }
      if ('error' in result) {
        this.#report(findings, { rule: STRUCTURE_RULES.constraintFailed, severity: 'warning', code: 'exception', source: constraint.sourceUrl, expression, message: `constraint ${constraint.key} could not be evaluated: ${result.error}` });
      } else if (!result.passed) {
        this.#report(findings, { rule: constraint.key, severity: constraint.severity, code: 'invariant', source: constraint.sourceUrl, expression, message: constraint.human });
      }
    }
  }

  /** Which slice an item belongs to, by its `value`/`pattern` discriminators; then each slice's cardinality. */
  #checkSlices(items: readonly unknown[], node: ElementNode, expression: string, findings: Findings, typeCode: string | undefined): void {
    const plan = this.#planOf(node);
    plan.sliceTests ??= node.slices.map((slice) => this.#sliceTests(slice.node, node));
    const tests = plan.sliceTests;
    const counts = new Map<string, number>();
    for (const item of items) {
      const index = tests.findIndex((slice) => matchesSlice(item, slice, typeCode));
      const slice = node.slices[index];
      if (slice !== undefined) counts.set(slice.name, (counts.get(slice.name) ?? 0) + 1);
    }
    for (const slice of node.slices) {
      const count = counts.get(slice.name) ?? 0;
      if (count < slice.node.min || count > slice.node.max) {
        this.#report(findings, {
          rule: STRUCTURE_RULES.sliceCardinality,
          code: count < slice.node.min ? 'required' : 'structure',
          source: slice.node.sourceUrl,
          expression,
          message: `slice ${slice.name} of ${node.path} must occur ${String(slice.node.min)}..${slice.node.max === Number.POSITIVE_INFINITY ? '*' : String(slice.node.max)} times, but occurs ${String(count)} times`,
        });
      }
    }
  }

  /** What an item must have to belong to `slice` of `sliced`, one test per discriminator (worked out once per slice). */
  #sliceTests(slice: ElementNode, sliced: ElementNode): readonly SliceTest[] {
    const discriminators = sliced.slicing?.discriminator ?? [];
    if (discriminators.length === 0) return [{ kind: 'never' }];
    return discriminators.map((discriminator): SliceTest => {
      // A choice element sliced by type (`value[x]` in the vital-signs profiles): the JSON name gave the type.
      if (discriminator.type === 'type') return discriminator.path === '$this' ? { kind: 'type', codes: new Set(slice.types.map((type) => type.code)) } : { kind: 'never' };
      if (discriminator.type !== 'value' && discriminator.type !== 'pattern') return { kind: 'never' };
      const expected = this.#discriminatorValue(slice, discriminator.path);
      if (expected === undefined) return { kind: 'never' };
      return { kind: 'value', self: discriminator.path === '$this', steps: discriminator.path.split('.'), expected };
    });
  }

  #discriminatorValue(slice: ElementNode, path: string): unknown {
    const found = path === '$this' ? slice.fixed ?? slice.pattern : fixedAlong(slice, path.split('.'));
    return found ?? (path === 'url' ? slice.types[0]?.profiles[0] : undefined);
  }

  /**
   * dom-3 (see `REPLACED_CONSTRAINTS`): a contained resource must be referenced from the rest of
   * the resource, or refer to its container (https://hl7.org/fhir/R4/references.html#contained).
   */
  #checkContainedAreReferenced(resource: Json, model: TypeModel, expression: string, findings: Findings): void {
    const contained = resource.contained;
    if (!Array.isArray(contained) || contained.length === 0) return;
    const { contained: _contained, ...rest } = resource;
    const outside = JSON.stringify(rest);
    const inside = JSON.stringify(contained);
    contained.forEach((item, index) => {
      if (!isObject(item) || typeof item.id !== 'string') return;
      const byId = `"#${item.id}"`;
      if (outside.includes(byId) || inside.includes('"#"') || inside.includes(byId)) return;
      const source = model.root.constraints.find((constraint) => constraint.key === 'dom-3')?.sourceUrl ?? `${BASE}DomainResource`;
      this.#report(findings, { rule: 'dom-3', code: 'invariant', source, expression: `${expression}.contained[${String(index)}]`, message: 'If the resource is contained in another resource, it SHALL be referred to from elsewhere in the resource or SHALL refer to the containing resource' });
    });
  }
}
