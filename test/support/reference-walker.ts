/**
 * The validator's walker as it was before it was compiled per StructureDefinition node (commit
 * fa4e519, src/validation/walker.ts), kept unchanged but for its imports as the reference of
 * test/validation/walker-differential.test.ts: the walker in src must give the same findings, in the
 * same order, on every input. One change since (commit cbb82e8's rule): a binding's check takes a
 * coding's `system` only when it is a string, as src does; before, a system without a string form
 * threw here, and an array of one system matched as that system.
 */
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
import type { Coding } from 'fhir/r4.js';
import { STRUCTURE_RULES } from '../../src/validation/api.js';
import { ConformanceChecks } from '../../src/validation/conformance-checks.js';
import { unversioned, type DefinitionStore } from '../../src/validation/definitions.js';
import type { Finding, Findings } from '../../src/validation/issues.js';
import type { ConstraintResult, InvariantEngine, ResolveScope } from '../../src/validation/invariants.js';
import { checkPrimitive } from '../../src/validation/primitives.js';
import type { Terminology } from '../../src/validation/terminology.js';
import { childFor, compileTypeModel, PRIMITIVE_TYPES, type Constraint, type ElementNode, type TypeChoice, type TypeModel } from '../../src/validation/type-model.js';

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

/** Whether an object has no property but `id` (or none at all): an element with no value and no children. */
function hasOnlyId(item: Json): boolean {
  for (const key of Object.keys(item)) if (key !== 'id') return false;
  return true;
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

export class Walker {
  readonly #store: DefinitionStore;
  readonly #terminology: Terminology;
  readonly #engine: InvariantEngine;
  readonly #models = new Map<string, TypeModel | null>();
  readonly #primitiveRegex = new Map<string, RegExp | undefined>();
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

  /** The element definitions of an object's properties: inline children, or those of its data type. */
  #childrenOf(node: ElementNode, model: TypeModel, type: string | undefined): { node: ElementNode; model: TypeModel; typeRoot: boolean } {
    if (node.contentReference !== undefined) {
      const target = model.byId.get(node.contentReference.slice(node.contentReference.indexOf('#') + 1));
      if (target !== undefined) return { node: target, model, typeRoot: false };
    }
    if (node.children.size > 0 || type === undefined || type === 'BackboneElement' || type === 'Element') return { node, model, typeRoot: false };
    const typeModel = this.typeModel(type);
    return typeModel === undefined ? { node, model, typeRoot: false } : { node: typeModel.root, model: typeModel, typeRoot: true };
  }

  #walkObject(value: Json, node: ElementNode, model: TypeModel, base: string, expression: string, scope: ResourceScope, findings: Findings, isResourceRoot: boolean, done = new Set<string>()): void {
    // Occurrences per child element, and which JSON names a choice element was given under.
    const counts = new Map<ElementNode, number>();
    let choiceNames: Map<ElementNode, string[]> | undefined;
    for (const property of Object.keys(value)) {
      if (isResourceRoot && property === 'resourceType') continue;
      const child = value[property];
      const isShadow = property.startsWith('_');
      const name = isShadow ? property.slice(1) : property;
      const found = childFor(node, name);
      const location = `${expression}.${name}`;
      if (found === undefined || (isShadow && !PRIMITIVE_TYPES.has(found.type?.code ?? ''))) {
        this.#report(findings, { rule: STRUCTURE_RULES.unknownElement, source: model.url, expression: `${expression}.${property}`, message: `${property} is not an element of ${node.path}` });
        continue;
      }
      if (found.node.isChoice) {
        choiceNames ??= new Map();
        const names = choiceNames.get(found.node) ?? [];
        if (!names.includes(name)) names.push(name);
        choiceNames.set(found.node, names);
      }
      // A primitive given only through `_name` (an extension instead of a value) still occurs.
      if (!isShadow || value[name] === undefined) counts.set(found.node, (counts.get(found.node) ?? 0) + (Array.isArray(child) ? child.length : 1));
      if (isShadow) {
        this.#walkShadow(child, value[name], found.node, found.type?.code ?? 'string', location, scope, findings);
      } else {
        this.#walkProperty(child, found.node, found.type, model, location, scope, findings);
      }
    }
    for (const [child, names] of choiceNames ?? []) {
      if (names.length > 1) {
        this.#report(findings, { rule: STRUCTURE_RULES.maxCardinality, source: child.sourceUrl, expression: `${expression}.${names[1] ?? ''}`, message: `${child.path} may have one type only, but has ${names.join(' and ')}` });
      }
    }
    for (const child of node.children.values()) {
      const count = counts.get(child) ?? 0;
      if (count < child.min) {
        const name = child.path.slice(child.path.lastIndexOf('.') + 1);
        this.#report(findings, { rule: STRUCTURE_RULES.minCardinality, code: 'required', source: child.sourceUrl, expression: `${expression}.${name.replace('[x]', '')}`, message: `${child.path} is required (at least ${String(child.min)}), but ${count === 0 ? 'is missing' : `occurs ${String(count)} time${count === 1 ? '' : 's'}`}` });
      } else if (count > child.max && (choiceNames?.get(child)?.length ?? 0) < 2) {
        this.#report(findings, { rule: STRUCTURE_RULES.maxCardinality, source: child.sourceUrl, expression: `${expression}.${child.path.slice(child.path.lastIndexOf('.') + 1)}`, message: `${child.path} may occur at most ${String(child.max)} time${child.max === 1 ? '' : 's'}, but occurs ${String(count)} times` });
      }
    }
    this.#checkConstraints(node.constraints, base, value, expression, scope, findings, done);
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
      const problem = checkPrimitive(code, item, this.#regexOf(code));
      if (problem !== undefined) {
        this.#report(findings, { rule: problem.rule, code: problem.rule === 'invalid-type' ? 'structure' : 'value', source: node.sourceUrl, expression, message: problem.message });
        return;
      }
      this.#checkValue(item, node, expression, findings);
      this.#conformance.primitive(code, item, expression, findings);
      if (code === 'code') this.#checkBinding(node, [{ code: item as string }], expression, findings, false);
      this.#checkConstraints(node.constraints, node.path, item, expression, scope, findings, new Set());
      return;
    }
    if (!isObject(item)) {
      this.#report(findings, { rule: STRUCTURE_RULES.invalidType, source: node.sourceUrl, expression, message: `${node.path} must be ${code === undefined ? 'an object' : `a ${code} (a JSON object)`}, not ${describe(item)}` });
      return;
    }
    if (hasOnlyId(item)) {
      this.#report(findings, { rule: 'ele-1', source: node.sourceUrl, expression, message: `${node.path} has no value and no children; leave it out instead` });
      return;
    }
    this.#checkValue(item, node, expression, findings);
    this.#conformance.element(code, node, item, expression, findings);
    if (code === 'Reference' && typeof item.reference === 'string') scope.onReference(item.reference, expression);
    if (code === 'Coding') this.#checkBinding(node, [item], expression, findings, true);
    if (code === 'CodeableConcept' && Array.isArray(item.coding)) this.#checkBinding(node, item.coding.filter(isObject), expression, findings, true);

    const extensionModel = code === 'Extension' && typeof item.url === 'string' ? this.#extensionModel(item.url) : undefined;
    const target = extensionModel !== undefined ? { node: extensionModel.root, model: extensionModel, typeRoot: true } : this.#childrenOf(node, model, code);
    // Constraints of the element itself first, then those of its data type, each key once.
    const done = new Set<string>();
    if (target.typeRoot) this.#checkConstraints(node.constraints, node.path, item, expression, scope, findings, done);
    this.#walkObject(item, target.node, target.model, target.typeRoot ? target.model.type : target.node.path, expression, scope, findings, false, done);
  }

  #extensionModel(url: string): TypeModel | undefined {
    const model = this.model(url);
    return model?.type === 'Extension' && model.kind === 'complex-type' && model.url !== `${BASE}Extension` ? model : undefined;
  }

  #regexOf(type: string): RegExp | undefined {
    if (!this.#primitiveRegex.has(type)) this.#primitiveRegex.set(type, this.typeModel(type)?.root.children.get('value')?.regex);
    return this.#primitiveRegex.get(type);
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
  #checkBinding(node: ElementNode, codings: readonly Coding[], expression: string, findings: Findings, withSystem: boolean): void {
    const binding = node.binding;
    if (binding?.valueSet === undefined || (binding.strength !== 'required' && binding.strength !== 'extensible')) return;
    const coded = codings.filter((coding) => typeof coding.code === 'string');
    if (coded.length === 0) return;
    const expansion = this.#terminology.expand(unversioned(binding.valueSet));
    if (expansion === undefined) return;
    const systemOf = (coding: Coding): string | undefined => (typeof coding.system === 'string' ? coding.system : undefined);
    const inSet = (coding: Coding) => (withSystem ? expansion.pairs.has(`${systemOf(coding) ?? ''}|${coding.code ?? ''}`) : expansion.codes.has(coding.code ?? ''));
    if (coded.some(inSet)) return;
    // Extensible: a code from another system is allowed when the ValueSet has no suitable concept.
    if (binding.strength === 'extensible' && withSystem && coded.some((coding) => { const system = systemOf(coding); return system === undefined || !expansion.systems.has(system); })) return;
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

  #checkConstraints(constraints: readonly Constraint[], base: string, value: unknown, expression: string, scope: ResourceScope, findings: Findings, done: Set<string>): void {
    // Two keys with the same expression on the same element (txt-1 and txt-2 are both `htmlChecks()`) are evaluated once.
    let results: Map<string, ConstraintResult> | undefined;
    for (const constraint of constraints) {
      if (constraint.key === 'ele-1' || constraint.key === 'dom-3' || done.has(constraint.key)) continue;
      done.add(constraint.key);
      const text = constraint.expression ?? 'true';
      let result = results?.get(text);
      if (result === undefined) {
        result = this.#engine.evaluate(text, withoutChoiceMarker(base), value, { resource: scope.resource, rootResource: scope.rootResource }, scope);
        (results ??= new Map()).set(text, result);
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
    const counts = new Map<string, number>();
    for (const item of items) {
      const slice = node.slices.find((candidate) => this.#matchesSlice(item, candidate.node, node, typeCode));
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

  #matchesSlice(item: unknown, slice: ElementNode, sliced: ElementNode, typeCode: string | undefined): boolean {
    const discriminators = sliced.slicing?.discriminator ?? [];
    if (discriminators.length === 0) return false;
    return discriminators.every((discriminator) => {
      // A choice element sliced by type (`value[x]` in the vital-signs profiles): the JSON name gave the type.
      if (discriminator.type === 'type') return discriminator.path === '$this' && typeCode !== undefined && slice.types.some((type) => type.code === typeCode);
      if (discriminator.type !== 'value' && discriminator.type !== 'pattern') return false;
      const expected = this.#discriminatorValue(slice, discriminator.path);
      if (expected === undefined) return false;
      const actual = discriminator.path === '$this' ? [item] : discriminator.path.split('.').reduce<unknown[]>((values, step) => values.flatMap((value) => (isObject(value) ? asList(value[step]).filter((v) => v !== undefined) : [])), [item]);
      return actual.some((value) => matchesPattern(value, expected));
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
