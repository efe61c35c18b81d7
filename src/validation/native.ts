/**
 * Native checks for the two base R4 constraints met most often in a SIP Bundle — ref-1 on every
 * Reference and ext-1 on every Extension — each evaluated on the JSON directly instead of through
 * fhirpath.js, which costs 20–50 µs a call (issue #13, "speed on fresh data").
 *
 * A native check is looked up by the exact text of the expression it replaces, so a profile that
 * words a constraint differently is evaluated as written. It answers only for the JSON shapes whose
 * FHIRPath meaning is plain (strings where strings belong, arrays of objects); for anything else
 * (`_reference`, `_valueString` without a value, nulls, a non-array `extension` …) it answers
 * `undefined` and the expression is evaluated through FHIRPath. test/validation/native.test.ts
 * compares every answer with fhirpath.js's on the example Bundles, the invalid examples, the profile
 * breakers, the mutated official examples and generated plans.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import r4 from 'fhirpath/fhir-context/r4/index.js';

/** Where `resolve()` looks, as the engine sets it for FHIRPath (src/validation/invariants.ts `ResolveScope`). */
export interface NativeResolveScope {
  /** The resource a `#id` reference is looked up in. */
  readonly container: object;
  /** A reference's target in the Bundle being validated. */
  readonly resolve: (reference: string) => object | undefined;
}

/**
 * The pass (true) or failure (false) of a constraint, or undefined when the JSON is not a shape the
 * check decides. `scope` is what FHIRPath's `resolve()` would look in; a check that needs it and is
 * not given it answers undefined.
 */
export type NativeCheck = (node: unknown, env: { readonly resource: unknown; readonly rootResource: unknown }, scope?: NativeResolveScope) => boolean | undefined;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * ref-1, https://hl7.org/fhir/R4/references.html#Reference (R4 4.0.1 wording): a `#id` reference
 * must name a resource contained in the root resource.
 * `reference.startsWith('#').not()` is true for any string not starting with `#` (and empty with no
 * reference, which passes); otherwise `reference.substring(1) in %rootResource.contained.id` is
 * string equality with the ids of the contained resources.
 */
const ref1: NativeCheck = (node, env) => {
  if (!isPlainObject(node) || node._reference !== undefined) return undefined;
  const { reference } = node;
  if (reference === undefined) return true;
  if (typeof reference !== 'string') return undefined;
  if (!reference.startsWith('#')) return true;
  // `'#'.substring(1)` is empty in FHIRPath (the start is past the end), so `in` is empty and the rule holds.
  if (reference === '#') return true;
  const root = env.rootResource;
  if (!isPlainObject(root)) return undefined;
  const { contained } = root;
  if (contained === undefined) return false;
  if (!Array.isArray(contained)) return undefined;
  const ids: string[] = [];
  for (const resource of contained) {
    if (!isPlainObject(resource) || resource._id !== undefined) return undefined;
    if (resource.id === undefined) continue;
    if (typeof resource.id !== 'string') return undefined;
    ids.push(resource.id);
  }
  return ids.includes(reference.slice(1));
};

/** The JSON names of Extension.value[x] in the R4 model fhirpath.js uses (`valueString`, `valueCoding` …). */
const EXTENSION_VALUE_NAMES: ReadonlySet<string> = new Set((r4.choiceTypePaths['Extension.value'] ?? []).map((type) => `value${type}`));

/**
 * ext-1, https://hl7.org/fhir/R4/extensibility.html#Extension: an extension has either a value or
 * nested extensions, not both and not neither.
 */
const ext1: NativeCheck = (node) => {
  if (!isPlainObject(node)) return undefined;
  let hasExtension = false;
  let hasValue = false;
  for (const [name, value] of Object.entries(node)) {
    if (name === 'extension') {
      if (!Array.isArray(value) || !value.every(isPlainObject)) return undefined;
      hasExtension = value.length > 0;
    } else if (name.startsWith('_value')) {
      return undefined;
    } else if (EXTENSION_VALUE_NAMES.has(name)) {
      if (value === null || Array.isArray(value)) return undefined;
      hasValue = true;
    }
  }
  return hasExtension !== hasValue;
};

/** The items of a repeating element as fhirpath.js sees them, or undefined when the JSON is not a plain array of objects. */
function objects(value: unknown): readonly Record<string, unknown>[] | undefined {
  if (value === undefined) return [];
  return Array.isArray(value) && value.every(isPlainObject) ? value : undefined;
}

/** A singleton string element: its value, `null` when absent, undefined when the shape is not plain (`_name`, a non-string). */
function stringOf(node: Record<string, unknown>, name: string): string | null | undefined {
  if (node[`_${name}`] !== undefined) return undefined;
  const value = node[name];
  if (value === undefined) return null;
  return typeof value === 'string' ? value : undefined;
}

/** Whether a singleton complex element is present (`null` is not a plain shape: undefined). */
function present(node: Record<string, unknown>, name: string): boolean | undefined {
  const value = node[name];
  if (value === undefined) return false;
  return isPlainObject(value) ? true : undefined;
}

/** The contained resources of a DomainResource (JSON objects), or undefined when `contained` is not a plain array. */
const containedOf = (node: unknown): readonly Record<string, unknown>[] | undefined => (isPlainObject(node) ? objects(node.contained) : undefined);

/** dom-2, https://hl7.org/fhir/R4/domainresource.html: `contained.contained.empty()`, no contained resource contains others. */
const dom2: NativeCheck = (node) => {
  const contained = containedOf(node);
  if (contained === undefined) return undefined;
  for (const resource of contained) {
    const nested = objects(resource.contained);
    if (nested === undefined || resource._contained !== undefined) return undefined;
    if (nested.length > 0) return false;
  }
  return true;
};

/** The `meta` of each contained resource that has one, or undefined when a shape is not plain. */
function containedMetas(node: unknown): Record<string, unknown>[] | undefined {
  const contained = containedOf(node);
  if (contained === undefined) return undefined;
  const metas: Record<string, unknown>[] = [];
  for (const resource of contained) {
    const has = present(resource, 'meta');
    if (has === undefined) return undefined;
    if (has) metas.push(resource.meta as Record<string, unknown>);
  }
  return metas;
}

/** dom-4: `contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()`. */
const dom4: NativeCheck = (node) => {
  const metas = containedMetas(node);
  if (metas === undefined) return undefined;
  for (const meta of metas) {
    const versionId = stringOf(meta, 'versionId');
    const lastUpdated = stringOf(meta, 'lastUpdated');
    if (versionId === undefined || lastUpdated === undefined) return undefined;
    if (versionId !== null || lastUpdated !== null) return false;
  }
  return true;
};

/** dom-5: `contained.meta.security.empty()`. */
const dom5: NativeCheck = (node) => {
  const metas = containedMetas(node);
  if (metas === undefined) return undefined;
  for (const meta of metas) {
    const security = objects(meta.security);
    if (security === undefined) return undefined;
    if (security.length > 0) return false;
  }
  return true;
};

/** dom-6 (a best practice, a warning): ``text.`div`.exists()``, the resource has a narrative. */
const dom6: NativeCheck = (node) => {
  if (!isPlainObject(node)) return undefined;
  const has = present(node, 'text');
  if (has !== true) return has;
  const div = stringOf(node.text as Record<string, unknown>, 'div');
  return div === undefined ? undefined : div !== null;
};

/** `type` of a Bundle when it is a plain string; undefined otherwise (absent included: the three-valued logic is left to FHIRPath). */
function bundleType(node: unknown): string | undefined {
  if (!isPlainObject(node)) return undefined;
  return stringOf(node, 'type') ?? undefined;
}

/** bdl-1, https://hl7.org/fhir/R4/bundle.html: `total.empty() or (type = 'searchset') or (type = 'history')`. */
const bdl1: NativeCheck = (node) => {
  if (!isPlainObject(node) || node._total !== undefined) return undefined;
  if (node.total === undefined) return true;
  const type = bundleType(node);
  return type === undefined ? undefined : type === 'searchset' || type === 'history';
};

/** bdl-2: `entry.search.empty() or (type = 'searchset')`. */
const bdl2: NativeCheck = (node) => {
  if (!isPlainObject(node)) return undefined;
  const entries = objects(node.entry);
  if (entries === undefined) return undefined;
  let searched = false;
  for (const entry of entries) {
    const has = present(entry, 'search');
    if (has === undefined) return undefined;
    searched ||= has;
  }
  if (!searched) return true;
  const type = bundleType(node);
  return type === undefined ? undefined : type === 'searchset';
};

/** bdl-3 and bdl-4: `entry.all(<part>.exists() = (%resource.type = … ))`, the part present exactly in Bundles of the listed types. */
function entriesHaveIf(part: string, types: readonly string[]): NativeCheck {
  return (node, env) => {
    if (!isPlainObject(node)) return undefined;
    const entries = objects(node.entry);
    if (entries === undefined) return undefined;
    if (entries.length === 0) return true;
    const type = bundleType(env.resource);
    if (type === undefined) return undefined;
    const expected = types.includes(type);
    for (const entry of entries) {
      const has = present(entry, part);
      if (has === undefined) return undefined;
      if (has !== expected) return false;
    }
    return true;
  };
}

/** bdl-5, on each entry: `resource.exists() or request.exists() or response.exists()`. */
const bdl5: NativeCheck = (node) => {
  if (!isPlainObject(node)) return undefined;
  let somePresent = false;
  for (const part of ['resource', 'request', 'response']) {
    const has = present(node, part);
    if (has === undefined) return undefined;
    somePresent ||= has;
  }
  return somePresent;
};

/**
 * bdl-7: `(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()`.
 * fhirpath.js compares every pair of the concatenated strings (quadratic in the entries: 4 s of a
 * 10,000-entry Bundle); `&` makes plain strings, equal exactly when `===`, so a Set decides it.
 */
const bdl7: NativeCheck = (node) => {
  const type = bundleType(node);
  if (type === undefined || !isPlainObject(node)) return undefined;
  if (type === 'history') return true;
  const entries = objects(node.entry);
  if (entries === undefined) return undefined;
  const seen = new Set<string>();
  for (const entry of entries) {
    const fullUrl = stringOf(entry, 'fullUrl');
    if (fullUrl === undefined) return undefined;
    if (fullUrl === null) continue;
    let versionId: string | null = null;
    const hasResource = present(entry, 'resource');
    if (hasResource === undefined) return undefined;
    if (hasResource) {
      const resource = entry.resource as Record<string, unknown>;
      const hasMeta = present(resource, 'meta');
      if (hasMeta === undefined) return undefined;
      if (hasMeta) {
        const found = stringOf(resource.meta as Record<string, unknown>, 'versionId');
        if (found === undefined) return undefined;
        versionId = found;
      }
    }
    const key = fullUrl + (versionId ?? '');
    if (seen.has(key)) return false;
    seen.add(key);
  }
  return true;
};

/** bdl-8, on each entry: `fullUrl.contains('/_history/').not()`. */
const bdl8: NativeCheck = (node) => {
  if (!isPlainObject(node)) return undefined;
  const fullUrl = stringOf(node, 'fullUrl');
  if (fullUrl === undefined) return undefined;
  return fullUrl === null ? true : !fullUrl.includes('/_history/');
};

/** bdl-9 … bdl-12, `type = 'document' implies …` (or `'message'`): true for any other type; that type is left to FHIRPath. */
function onlyFor(kind: string): NativeCheck {
  return (node) => {
    const type = bundleType(node);
    return type === undefined || type === kind ? undefined : true;
  };
}

/**
 * Whether a child element named `name` is present on a JSON object: true or false when the JSON
 * says so plainly, undefined when fhirpath.js might see it otherwise (`_name`, a choice-type name
 * such as `valueQuantity` for `value`, null, an empty array).
 */
function has(node: Record<string, unknown>, name: string): boolean | undefined {
  for (const property in node) {
    if (property.length > name.length && property.startsWith(name) && /[A-Z]/.test(property.charAt(name.length))) return undefined;
  }
  if (node[`_${name}`] !== undefined) return undefined;
  const value = node[name];
  if (value === undefined) return false;
  if (value === null || (Array.isArray(value) && value.length === 0)) return undefined;
  return true;
}

const TERM = /^([a-z][A-Za-z0-9]*)\.(exists|empty)\(\)$/;

/**
 * A constraint that is a disjunction of `name.exists()` and `name.empty()` over child elements
 * (cpt-2 `value.empty() or system.exists()`, qty-3, att-1, tim-1/2/6/7/8, and the like across R4),
 * checked on the JSON; undefined when the expression has another form.
 */
export function presenceDisjunction(expression: string): NativeCheck | undefined {
  const terms = expression.split(' or ').map((term) => TERM.exec(term.trim()));
  if (terms.length < 2 || terms.some((term) => term === null)) return undefined;
  const parts = terms.map((term) => ({ name: term?.[1] ?? '', exists: term?.[2] === 'exists' }));
  return (node) => {
    if (!isPlainObject(node)) return undefined;
    let passed = false;
    for (const part of parts) {
      const found = has(node, part.name);
      if (found === undefined) return undefined;
      if (found === part.exists) passed = true;
    }
    return passed;
  };
}

/**
 * The CodeableConcepts of the child element `name` as fhirpath.js sees them (a singleton or the items
 * of an array), or undefined when the JSON is not plainly that (`_name`, a choice-type name such as
 * `nameString`, null, a non-object item).
 */
function conceptsOf(node: Record<string, unknown>, name: string): readonly Record<string, unknown>[] | undefined {
  if (has(node, name) === undefined) return undefined;
  const value = node[name];
  if (value === undefined) return [];
  if (isPlainObject(value)) return [value];
  return objects(value);
}

/** `<concept>.coding.where(system = '<system>' and code = '<code>').exists()` on one concept element, or undefined when a shape is not plain. */
function hasCoding(node: Record<string, unknown>, name: string, system: string, code: string): boolean | undefined {
  const concepts = conceptsOf(node, name);
  if (concepts === undefined) return undefined;
  let found = false;
  for (const concept of concepts) {
    const codings = conceptsOf(concept, 'coding');
    if (codings === undefined) return undefined;
    for (const coding of codings) {
      const codingSystem = stringOf(coding, 'system');
      const codingCode = stringOf(coding, 'code');
      if (codingSystem === undefined || codingCode === undefined) return undefined;
      // `system = 'x' and code = 'y'` is true only when both are present and equal (an absent one makes it empty or false).
      if (codingSystem === system && codingCode === code) found = true;
    }
  }
  return found;
}

const NAME = '([a-z][A-Za-z0-9]*)';
const LITERAL = "'([^'\\\\]*)'";
const CODING_WHERE = `${NAME}\\.coding\\.where\\(system ?= ?${LITERAL} and code ?= ?${LITERAL}\\)\\.exists\\(\\)`;
/** sip-cpl-1, sip-con-8, sip-dec-1: `category.coding.where(system = '…' and code = '…').exists()`. */
const HAS_CODING = new RegExp(`^${CODING_WHERE}$`);
/** ppc-2 … ppc-5 (R4 Consent): `patient.exists() or scope.coding.where(system='something' and code='…').exists().not()`. */
const PRESENT_OR_NO_CODING = new RegExp(`^${NAME}\\.exists\\(\\) or ${CODING_WHERE}\\.not\\(\\)$`);
/** sip-ctm-1: `participant.where(role.coding.where(system = '…' and code = 'coordinator').exists()).count() <= 1`. */
const AT_MOST_WITH_CODING = new RegExp(`^${NAME}\\.where\\(${CODING_WHERE}\\)\\.count\\(\\) <= (\\d+)$`);

/**
 * Constraints that ask whether a CodeableConcept has a coding of a given system and code — that one
 * exists, that it does not unless another element is present, or that at most n items of a repeating
 * element have one — checked on the JSON; undefined when the expression has another form. The system
 * and code are compared as strings, as FHIRPath's `=` compares a `uri` or `code` with a string literal
 * (https://hl7.org/fhirpath/#equality).
 */
export function codingCheck(expression: string): NativeCheck | undefined {
  const exists = HAS_CODING.exec(expression);
  if (exists !== null) {
    const [, name = '', system = '', code = ''] = exists;
    return (node) => (isPlainObject(node) ? hasCoding(node, name, system, code) : undefined);
  }
  const unless = PRESENT_OR_NO_CODING.exec(expression);
  if (unless !== null) {
    const [, present = '', name = '', system = '', code = ''] = unless;
    return (node) => {
      if (!isPlainObject(node)) return undefined;
      const found = has(node, present);
      if (found === undefined) return undefined;
      const coded = hasCoding(node, name, system, code);
      return coded === undefined ? undefined : found || !coded;
    };
  }
  const atMost = AT_MOST_WITH_CODING.exec(expression);
  if (atMost !== null) {
    const [, items = '', name = '', system = '', code = '', limit = '0'] = atMost;
    const most = Number(limit);
    return (node) => {
      if (!isPlainObject(node)) return undefined;
      const all = conceptsOf(node, items);
      if (all === undefined) return undefined;
      let count = 0;
      for (const item of all) {
        const coded = hasCoding(item, name, system, code);
        if (coded === undefined) return undefined;
        if (coded) count += 1;
      }
      return count <= most;
    };
  }
  return undefined;
}

const EXISTS = new RegExp(`^${NAME}\\.exists\\(\\)$`);
const IMPLIES_EXISTS = new RegExp(`^${NAME} = ${LITERAL} implies ${NAME}\\.exists\\(\\)$`);

/**
 * `name.exists()` (sip-con-1 `patient.exists()`, sip-tsk-2, sip-con-5) and `code = 'value' implies
 * name.exists()` (sip-cpl-2/3/5 `status = 'active' implies goal.exists()`, sip-app-1), checked on the
 * JSON; undefined when the expression has another form. `implies` holds when its left side is false
 * or empty (https://hl7.org/fhirpath/#implies), so only an element whose code equals the value needs
 * the other present.
 */
export function presenceCheck(expression: string): NativeCheck | undefined {
  const exists = EXISTS.exec(expression);
  if (exists !== null) {
    const [, name = ''] = exists;
    return (node) => (isPlainObject(node) ? has(node, name) : undefined);
  }
  const implies = IMPLIES_EXISTS.exec(expression);
  if (implies !== null) {
    const [, code = '', value = '', name = ''] = implies;
    return (node) => {
      if (!isPlainObject(node) || has(node, code) === undefined) return undefined;
      const given = stringOf(node, code);
      if (given === undefined) return undefined;
      return given === value ? has(node, name) : true;
    };
  }
  return undefined;
}

/**
 * org-1, https://hl7.org/fhir/R4/organization.html#invs: `(identifier.count() + name.count()) > 0`,
 * an organisation has an identifier or a name.
 */
const org1: NativeCheck = (node) => {
  if (!isPlainObject(node)) return undefined;
  const identifiers = conceptsOf(node, 'identifier');
  if (identifiers === undefined || has(node, 'name') === undefined) return undefined;
  const name = stringOf(node, 'name');
  if (name === undefined) return undefined;
  return identifiers.length > 0 || name !== null;
};

/** Dates and instants whose order fhirpath.js decides the way string or time order does: the same precision, a date or a dateTime to the second with a zone. */
const DATE = /^\d{4}(?:-\d{2}(?:-\d{2})?)?$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * per-1, https://hl7.org/fhir/R4/datatypes.html#Period: `start.hasValue().not() or end.hasValue().not() or (start <= end)`.
 * Decided here when a bound is missing, or both are dates of the same precision (compared as text),
 * or both are dateTimes to the second with a zone (compared as instants); other precisions are left
 * to FHIRPath, where a comparison across precisions may be empty.
 */
/**
 * Whether the text's calendar date and time of day exist (fhirpath.js fails to convert `2016-04-31`,
 * and the constraint cannot be evaluated: that is left to it).
 */
function realMoment(text: string): boolean {
  const [year = 0, month = 1, day = 1] = text.slice(0, 10).split('-').map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return false;
  if (text.length <= 10) return true;
  const hours = Number(text.slice(11, 13));
  const minutes = Number(text.slice(14, 16));
  const seconds = Number(text.slice(17, 19));
  return hours < 24 && minutes < 60 && seconds < 60;
}

const per1: NativeCheck = (node) => {
  if (!isPlainObject(node)) return undefined;
  const start = stringOf(node, 'start');
  const end = stringOf(node, 'end');
  if (start === undefined || end === undefined) return undefined;
  if (start === null || end === null) return true;
  if (!realMoment(start) || !realMoment(end)) return undefined;
  if (DATE.test(start) && DATE.test(end) && start.length === end.length) return start <= end;
  if (INSTANT.test(start) && INSTANT.test(end)) {
    const from = Date.parse(start);
    const to = Date.parse(end);
    return Number.isNaN(from) || Number.isNaN(to) ? undefined : from <= to;
  }
  return undefined;
};

/**
 * ctm-1, https://hl7.org/fhir/R4/careteam.html (CareTeam.participant): a participant acting on behalf
 * of an organisation is a Practitioner — `onBehalfOf.exists() implies (member.resolve().iif(empty(),
 * true, ofType(Practitioner).exists()))`. `member` is resolved exactly as the engine's `resolve()`
 * does (src/validation/invariants.ts: `#` the container, `#id` a contained resource, anything else
 * through the Bundle); a member that resolves to nothing passes. Met once per participant of every
 * CareTeam, each a `resolve()` through fhirpath.js.
 */
const ctm1: NativeCheck = (node, _env, scope) => {
  if (!isPlainObject(node) || scope === undefined) return undefined;
  const { onBehalfOf, member } = node;
  if (onBehalfOf === undefined) return true;
  if (!isPlainObject(onBehalfOf) || Object.keys(onBehalfOf).length === 0) return undefined;
  if (member === undefined) return true;
  if (!isPlainObject(member) || member._reference !== undefined) return undefined;
  const { reference } = member;
  if (reference === undefined) return true;
  if (typeof reference !== 'string') return undefined;
  let target: unknown;
  if (reference === '#') target = scope.container;
  else if (reference.startsWith('#')) {
    const { contained } = scope.container as { contained?: unknown };
    if (contained !== undefined && !Array.isArray(contained)) return undefined;
    target = (contained ?? []).find((resource: unknown) => isPlainObject(resource) && resource.id === reference.slice(1));
  } else target = scope.resolve(reference);
  if (target === undefined) return true;
  if (!isPlainObject(target) || typeof target.resourceType !== 'string') return undefined;
  return target.resourceType === 'Practitioner';
};

/** Native checks by the exact expression they replace (as the R4 StructureDefinitions write them). */
export const NATIVE_CHECKS: ReadonlyMap<string, NativeCheck> = new Map([
  ["reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))", ref1],
  ['extension.exists() != value.exists()', ext1],
  ['contained.contained.empty()', dom2],
  ['contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()', dom4],
  ['contained.meta.security.empty()', dom5],
  ['text.`div`.exists()', dom6],
  ["total.empty() or (type = 'searchset') or (type = 'history')", bdl1],
  ["entry.search.empty() or (type = 'searchset')", bdl2],
  ["entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or %resource.type = 'history'))", entriesHaveIf('request', ['batch', 'transaction', 'history'])],
  ["entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = 'transaction-response' or %resource.type = 'history'))", entriesHaveIf('response', ['batch-response', 'transaction-response', 'history'])],
  ['resource.exists() or request.exists() or response.exists()', bdl5],
  ["(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()", bdl7],
  ["fullUrl.contains('/_history/').not()", bdl8],
  ["type = 'document' implies (identifier.system.exists() and identifier.value.exists())", onlyFor('document')],
  ["type = 'document' implies (timestamp.hasValue())", onlyFor('document')],
  ["type = 'document' implies entry.first().resource.is(Composition)", onlyFor('document')],
  ["type = 'message' implies entry.first().resource.is(MessageHeader)", onlyFor('message')],
  ['start.hasValue().not() or end.hasValue().not() or (start <= end)', per1],
  ['onBehalfOf.exists() implies (member.resolve().iif(empty(), true, ofType(Practitioner).exists()))', ctm1],
  ['(identifier.count() + name.count()) > 0', org1],
]);

/**
 * The narrative checker of the fhirpath.js this validator evaluates FHIRPath with: the function its
 * `htmlChecks()` calls (src/html-checks.js, `checkHtml(text, isFragment)`), reached by its file since
 * the package does not export it. Undefined when that fhirpath.js has no such function, and then
 * `htmlChecks()` is evaluated through FHIRPath as before.
 */
const checkHtml: ((text: string, isFragment: boolean) => boolean) | undefined = (() => {
  try {
    const require = createRequire(import.meta.url);
    // The parsed-JSON-like boundary of an untyped CommonJS module.
    const module = require(path.join(path.dirname(require.resolve('fhirpath')), 'html-checks.js')) as { _checkHtml?: unknown };
    const found = module._checkHtml;
    return typeof found === 'function' ? (found as (text: string, isFragment: boolean) => boolean) : undefined;
  } catch {
    return undefined;
  }
})();

/**
 * txt-1 and txt-2, https://hl7.org/fhir/R4/narrative.html#Narrative: both `htmlChecks()` on
 * `Narrative.div`, an `xhtml` value. fhirpath.js answers an xhtml string with `checkHtml(text, false)`
 * (a whole `<div>` document) and anything else with the empty collection (which passes); this calls
 * the same function without the FHIRPath around it (a compiled expression's run, its node wrappers
 * and the result cache's key: ≈ 20–40 µs a narrative). Anything but a string is left to FHIRPath.
 */
const narrativeDiv: NativeCheck = (node) => (typeof node === 'string' && checkHtml !== undefined ? checkHtml(node, false) : undefined);

/**
 * Native checks whose cost grows with the text they read (a narrative is kilobytes of XHTML, ≈ 10–30 µs
 * to scan): the engine asks its result cache first, as it would for the FHIRPath they replace, so a
 * narrative met again is not scanned again. The others cost less than a cache lookup.
 */
export const REMEMBERED_NATIVE_CHECKS: ReadonlySet<NativeCheck> = new Set([narrativeDiv]);

/** Native checks of an expression on one element path only: `htmlChecks()` means one thing on xhtml and another on a string. */
const NATIVE_CHECKS_ON: ReadonlyMap<string, NativeCheck> = new Map([['Narrative.div\u0000htmlChecks()', narrativeDiv]]);

/**
 * The native check of an expression: one of {@link NATIVE_CHECKS}, a {@link presenceDisjunction}, a {@link codingCheck} or a {@link presenceCheck};
 * with `base` (the element path it is evaluated on), also one that holds only there
 * (`htmlChecks()` on `Narrative.div`); undefined when it has none.
 */
export function nativeCheckFor(expression: string, base?: string): NativeCheck | undefined {
  return NATIVE_CHECKS.get(expression) ?? presenceDisjunction(expression) ?? codingCheck(expression) ?? presenceCheck(expression) ?? (base === undefined ? undefined : NATIVE_CHECKS_ON.get(`${base}\u0000${expression}`));
}
