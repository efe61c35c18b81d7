/**
 * The FHIRPath `constraint`s of StructureDefinitions, evaluated with the `fhirpath` package and its
 * R4 model. Each expression is compiled once per element path and kept; `%resource` and
 * `%rootResource` are set as https://hl7.org/fhir/R4/fhirpath.html#variables says; `resolve()` is
 * replaced by a synchronous one that looks inside the resource (`#id`) and the Bundle being
 * validated, because the package's own fetches over HTTP.
 *
 * A constraint holds unless its expression gives `false`: an empty result (for example `start <= end`
 * on dates of different precision, https://hl7.org/fhirpath/#comparison) is not a failure.
 *
 * {@link REPLACED_CONSTRAINTS} lists the base R4 constraints that are not evaluated as written, and why.
 */
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
import { hoistInvariants } from './hoist.js';
import { REMEMBERED_NATIVE_CHECKS, nativeCheckFor, type NativeCheck } from './native.js';
import { SIP_NATIVE_CHECKS } from './native-sip.js';
import { resourceNativeCheck } from './native-resources.js';
import { repairOf } from './repaired-constraints.js';

export interface ResolveScope {
  /** The resource a `#id` reference is looked up in. */
  readonly container: object;
  /** A reference's target in the Bundle being validated. */
  readonly resolve: (reference: string) => object | undefined;
}

/**
 * Base constraints the validator checks itself instead of through FHIRPath, with the reason.
 * Everything else in a StructureDefinition's `constraint` is evaluated as written.
 */
export const REPLACED_CONSTRAINTS: Readonly<Record<string, string>> = {
  'ele-1':
    'On every element of every type ("hasValue() or (children().count() > id.count())"): evaluating it through FHIRPath for each of the hundreds of elements of a Bundle would cost more than all other rules together, so the walker checks the same thing on the JSON (an object with nothing but an id, an empty array, a null).',
  'dom-3':
    'Throws in fhirpath.js 5.2.2 ("Expected singleton on left side of \'as\'", because `descendants().as(canonical)` is applied to a collection). The walker checks the rule itself: every contained resource is referenced by `#id` from the rest of the resource, or refers to its container with `#`.',
};

type Compiled = (resource: unknown, env: Record<string, unknown>) => unknown[];

/**
 * An expression ready to run: as written, and, when it has `%resource`/`%rootResource` chains,
 * rewritten to compute each of them once ({@link hoistInvariants}).
 */
export interface Prepared {
  readonly plain: Compiled;
  readonly hoisted?: { readonly expression: Compiled; readonly variables: readonly { readonly name: string; readonly text: string; readonly compiled: Compiled }[] };
}

const asNode = fhirpath.compile('$this', r4, { resolveInternalTypes: false }) as Compiled;

/** The scope `resolve()` works in during one evaluation (evaluation is synchronous). */
let currentScope: ResolveScope | undefined;

function referenceOf(item: unknown): string | undefined {
  const data = fhirpath.util.valData(item) as unknown;
  if (typeof data === 'string') return data;
  if (typeof data === 'object' && data !== null) {
    const { reference } = data as { reference?: unknown };
    if (typeof reference === 'string') return reference;
  }
  return undefined;
}

function findContained(container: object, id: string): object | undefined {
  const { contained } = container as { contained?: unknown };
  if (!Array.isArray(contained)) return undefined;
  return (contained as unknown[]).find((resource): resource is object => typeof resource === 'object' && resource !== null && (resource as { id?: unknown }).id === id);
}

const userInvocationTable = {
  resolve: {
    fn: (collection: unknown[]): unknown[] =>
      collection.flatMap((item) => {
        const reference = referenceOf(item);
        if (reference === undefined || currentScope === undefined) return [];
        const target = reference.startsWith('#') ? (reference === '#' ? currentScope.container : findContained(currentScope.container, reference.slice(1))) : currentScope.resolve(reference);
        return target === undefined ? [] : asNode(target, {});
      }),
    arity: { 0: [] },
  },
  /**
   * `trace()` returns its input; some R4 constraints (ref-1) call it, and fhirpath.js's own builds
   * the text it would log even when nobody reads it, which made ref-1 three times slower.
   */
  trace: { fn: (collection: unknown[]): unknown[] => collection, arity: { 1: ['String' as const], 2: ['String' as const, 'Expr' as const] }, internalStructures: true },
};

export type ConstraintResult = { readonly passed: boolean } | { readonly error: string };

const PASSED: ConstraintResult = Object.freeze({ passed: true });
const FAILED: ConstraintResult = Object.freeze({ passed: false });
const verdictOf = (passed: boolean): ConstraintResult => (passed ? PASSED : FAILED);

/**
 * One expression on one element path with everything {@link InvariantEngine.evaluate} looks up
 * for it resolved: its compiled form (or why it does not compile), its native check, its result
 * memo and its reach. Made by {@link InvariantEngine.prepare} once per constraint of a
 * StructureDefinition node, so it is bounded by the definitions, never by the data.
 */
export interface ResolvedExpression {
  readonly key: string;
  readonly expression: string;
  readonly compiled: Prepared | string;
  readonly native: NativeCheck | undefined;
  /** Whether the native check is asked after the result cache (its cost grows with its text). */
  readonly afterCache: boolean;
  readonly reach: Reach | undefined;
  readonly memo: Memo | undefined;
}

/**
 * A constraint's expression ready to evaluate: its repair ({@link repairOf}) already applied where the
 * repair does not depend on the element (a rewritten expression), or kept as a verdict on the
 * element's JSON with the written expression to fall back to (ras-1).
 */
export interface PreparedConstraint {
  readonly verdict: ((node: unknown) => boolean | undefined) | undefined;
  readonly resolved: ResolvedExpression;
}

/**
 * Expressions that may look at more of the element than the children they name (`children()`,
 * `$this` …), or at the world outside it (`resolve()`, the clock): their results are not remembered.
 */
const NOT_REMEMBERED = /children\(|descendants\(|repeat\(|aggregate\(|\$this|%context|resolve\(|now\(|today\(|timeOfDay\(/;

/** Results kept per expression; cleared when this many pile up. */
const MEMO_LIMIT = 5_000;
/**
 * The longest key (characters of projected JSON) a result is remembered under. An expression whose
 * key was ever longer — one that names `entry` on a Bundle, say, whose key would be the whole
 * Bundle — is not remembered from then on, so no resource-sized key is kept or even built again.
 */
const MAX_KEY_LENGTH = 1_024;
/**
 * The default bound of the result cache in bytes: each remembered result counts its key (UTF-16, two
 * bytes a character) and {@link ENTRY_BYTES} for the Map entry and boolean; past it every memo is cleared.
 */
export const DEFAULT_CACHE_BYTES = 16 * 1_024 * 1_024;
/** What one remembered result costs besides its key's characters: a Map entry, its hash slot, the boolean (an estimate on the high side for V8). */
const ENTRY_BYTES = 64;
const bytesOf = (key: string): number => key.length * 2 + ENTRY_BYTES;

/**
 * What an expression can see of its element: the JSON properties it names, and whether it looks at
 * `%resource`/`%rootResource`. Only for expressions that reach their element by name alone (see
 * {@link NOT_REMEMBERED}).
 */
export interface Reach {
  /** Whether a JSON property is one the expression can reach by name. */
  readonly reaches: (property: string) => boolean;
  readonly usesResource: boolean;
  /**
   * The verdict on an element that has none of the properties the expression names, by the
   * element's `resourceType` ('' for none): such elements all look the same to the expression
   * (`contained.contained.empty()` on every resource without `contained`), so it is evaluated once
   * per type, not per element. At most one entry per resource type: not a cache of data.
   */
  readonly absent: Map<string, boolean>;
}

export interface Memo {
  readonly results: Map<string, boolean>;
  readonly reach: Reach;
  /** Set once a key was longer than {@link MAX_KEY_LENGTH}: the expression is no longer remembered. */
  oversized: boolean;
  /** Characters of its keys. */
  characters: number;
  /** Bytes of its results ({@link DEFAULT_CACHE_BYTES}). */
  bytes: number;
}

/**
 * Which JSON properties an expression can reach by name: those named anywhere in it (`valueString`
 * through `value`, `_given` through `given`), and `resourceType`. Any name in the text counts,
 * string literals included, so the set is never too small.
 */
function reachableProperties(expression: string): (property: string) => boolean {
  const names = new Set(expression.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []);
  const known = new Map<string, boolean>();
  return (property) => {
    let reached = known.get(property);
    if (reached === undefined) {
      const name = property.startsWith('_') ? property.slice(1) : property;
      reached = name === 'resourceType' || names.has(name) || [...names].some((candidate) => name.startsWith(candidate) && /[A-Z]/.test(name.charAt(candidate.length)));
      known.set(property, reached);
    }
    return reached;
  };
}

/** The part of a JSON object the expression can see; other values are kept whole. */
function project(value: unknown, reaches: (property: string) => boolean): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([property]) => reaches(property)));
}

/** The `resourceType` ('' for none) of a JSON object that has no property the expression reaches besides it; undefined otherwise. */
function absentKeyOf(reach: Reach, node: unknown): string | undefined {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
  let resourceType = '';
  for (const property in node) {
    if (property === 'resourceType') {
      const value = (node as Record<string, unknown>)[property];
      if (typeof value !== 'string') return undefined;
      resourceType = value;
    } else if (reach.reaches(property)) {
      return undefined;
    }
  }
  return resourceType;
}

function compileExpression(expression: string, base: string): Compiled {
  return fhirpath.compile({ base, expression }, r4, { userInvocationTable, resolveInternalTypes: false }) as Compiled;
}

/** Compiles `expression` as written and, when it has chains to hoist, rewritten. */
function prepare(expression: string, base: string, hoist: boolean): Prepared {
  const plain = compileExpression(expression, base);
  const plan = hoistInvariants(expression);
  if (!hoist || plan.variables.length === 0) return { plain };
  try {
    const variables = plan.variables.map((variable) => ({ name: variable.name.slice(1), text: variable.source, compiled: compileExpression(variable.expression, base) }));
    return { plain, hoisted: { expression: compileExpression(plan.expression, base), variables } };
  } catch {
    return { plain };
  }
}

export class InvariantEngine {
  readonly #compiled = new Map<string, Prepared | string>();
  /**
   * Values of hoisted `%resource` chains for the resource whose constraints are being evaluated
   * (one resource at a time, so at most one entry per distinct chain in the loaded profiles).
   */
  #shared: { readonly resource: unknown; readonly rootResource: unknown; readonly values: Map<string, unknown[]> } | undefined;
  readonly #memo = new Map<string, Memo>();
  readonly #reach = new Map<string, Reach>();
  /** Characters of all remembered keys. */
  #memoCharacters = 0;
  /** Bytes of all remembered results, kept under {@link #budget}. */
  #memoBytes = 0;
  readonly #budget: number;
  readonly #remember: boolean;

  readonly #hoist: boolean;
  readonly #native: boolean;
  readonly #skipAbsent: boolean;

  /**
   * @param options.remember - remember results of constraints that look only at their element (see {@link evaluate}); default true.
   * @param options.hoist - compute each `%resource`/`%rootResource` chain once per resource ({@link hoistInvariants}); default true.
   * @param options.native - check the constraints of {@link NATIVE_CHECKS} (ref-1, ext-1, dom-*, bdl-*, per-1) and the presence disjunctions ({@link nativeCheckFor}) on the JSON; default true.
   * @param options.cacheBytes - the bound of the result cache in bytes (default {@link DEFAULT_CACHE_BYTES}).
   * @param options.skipAbsent - evaluate a constraint once per resource type on elements that lack every property it names ({@link Reach}); default true.
   * Off, expressions run only as written; the benchmark and the differential tests compare both.
   */
  constructor(options: { readonly remember?: boolean; readonly hoist?: boolean; readonly native?: boolean; readonly skipAbsent?: boolean; readonly cacheBytes?: number } = {}) {
    this.#remember = options.remember ?? true;
    this.#budget = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
    this.#hoist = options.hoist ?? true;
    this.#native = options.native ?? true;
    this.#skipAbsent = options.skipAbsent ?? true;
  }

  /**
   * Evaluates `expression` on `node`, whose element path (or type name) is `base`.
   *
   * FHIRPath reaches into an element only through the names it uses, so an expression that uses
   * no `children()`, `$this`, `resolve()` or clock gives the same answer for elements that agree on
   * the properties it names (and on those of `%resource`/`%rootResource`, when it uses them). Its
   * results are remembered under that part: the dom-* rules of every resource without `contained`
   * share one answer, and a Bundle repeats the same references and extensions many times.
   */
  evaluate(written: string, base: string, node: unknown, env: { resource: unknown; rootResource: unknown }, scope: ResolveScope): ConstraintResult {
    return this.evaluatePrepared(this.prepare(written, base), node, env, scope);
  }

  /**
   * Resolves a constraint's expression on `base` once: the repair, the compiled expression, the
   * native check, the memo and the reach, which {@link evaluate} resolves on every call. The walker
   * keeps the result per StructureDefinition node ({@link evaluatePrepared}).
   */
  prepare(written: string, base: string): PreparedConstraint {
    const repair = repairOf(written);
    if (repair !== undefined && 'expression' in repair) return { verdict: undefined, resolved: this.#resolve(repair.expression, base) };
    return { verdict: repair?.verdict, resolved: this.#resolve(written, base) };
  }

  #resolve(expression: string, base: string): ResolvedExpression {
    const key = this.#keyOf(expression, base);
    const compiled = this.#compile(key, expression, base);
    const native = typeof compiled === 'string' || !this.#native ? undefined : this.#nativeOf(key, expression, base);
    return {
      key,
      expression,
      compiled,
      native,
      afterCache: native !== undefined && REMEMBERED_NATIVE_CHECKS.has(native),
      reach: this.#skipAbsent ? this.#reach.get(key) : undefined,
      memo: this.#memo.get(key),
    };
  }

  /**
   * Evaluates a {@link prepare}d constraint: the repair's verdict, the native check, the
   * absent-property verdict, the result cache, the native check asked after the cache, then FHIRPath —
   * without looking anything up by the expression's text.
   */
  evaluatePrepared(prepared: PreparedConstraint, node: unknown, env: { resource: unknown; rootResource: unknown }, scope: ResolveScope): ConstraintResult {
    if (prepared.verdict !== undefined) {
      const verdict = prepared.verdict(node);
      if (verdict !== undefined) return verdictOf(verdict);
    }
    const { compiled, native, afterCache, reach, memo } = prepared.resolved;
    if (typeof compiled === 'string') return { error: compiled };
    if (native !== undefined && !afterCache) {
      const verdict = native(node, env, scope);
      if (verdict !== undefined) return verdictOf(verdict);
    }
    const absentKey = reach === undefined ? undefined : absentKeyOf(reach, node);
    const absent = absentKey === undefined ? undefined : reach?.absent.get(absentKey);
    if (absent !== undefined) return verdictOf(absent);
    const seen = memo === undefined || memo.oversized ? undefined : this.#memoKey(memo, node, env);
    const known = seen === undefined ? undefined : memo?.results.get(seen);
    if (known !== undefined) return verdictOf(known);
    const remembered = afterCache ? native?.(node, env, scope) : undefined;
    if (remembered !== undefined) {
      if (memo !== undefined && seen !== undefined) this.#rememberResult(memo, seen, remembered);
      if (absentKey !== undefined) reach?.absent.set(absentKey, remembered);
      return verdictOf(remembered);
    }
    currentScope = scope;
    try {
      const result = this.#run(compiled, node, env);
      const passed = !(result.length === 1 && result[0] === false);
      if (memo !== undefined && seen !== undefined) this.#rememberResult(memo, seen, passed);
      if (absentKey !== undefined) reach?.absent.set(absentKey, passed);
      return verdictOf(passed);
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    } finally {
      currentScope = undefined;
    }
  }

  /** How much is remembered: results over all expressions, and the characters of their keys (for tests and benchmarks). */
  get remembered(): { readonly results: number; readonly characters: number } {
    let results = 0;
    for (const memo of this.#memo.values()) results += memo.results.size;
    return { results, characters: this.#memoCharacters };
  }

  /** The result cache's size in bytes as it counts them, and its bound. */
  get cacheBytes(): { readonly used: number; readonly bound: number } {
    return { used: this.#memoBytes, bound: this.#budget };
  }

  /** The part of the element (and of its resources, when the expression uses them) the result depends on, as JSON; undefined when too long to keep. */
  #memoKey(memo: Memo, node: unknown, env: { resource: unknown; rootResource: unknown }): string | undefined {
    const { reaches, usesResource } = memo.reach;
    const seen = JSON.stringify(usesResource ? [project(node, reaches), project(env.resource, reaches), project(env.rootResource, reaches)] : project(node, reaches));
    if (seen.length <= MAX_KEY_LENGTH) return seen;
    memo.oversized = true;
    this.#clear(memo);
    return undefined;
  }

  #clear(memo: Memo): void {
    memo.results.clear();
    this.#memoCharacters -= memo.characters;
    this.#memoBytes -= memo.bytes;
    memo.characters = 0;
    memo.bytes = 0;
  }

  #rememberResult(memo: Memo, seen: string, passed: boolean): void {
    const bytes = bytesOf(seen);
    if (bytes > this.#budget) return;
    if (memo.results.size >= MEMO_LIMIT) this.#clear(memo);
    if (this.#memoBytes + bytes > this.#budget) for (const other of this.#memo.values()) this.#clear(other);
    memo.results.set(seen, passed);
    memo.characters += seen.length;
    memo.bytes += bytes;
    this.#memoCharacters += seen.length;
    this.#memoBytes += bytes;
  }

  /**
   * Forgets the values of `%resource` chains kept for the resource being validated; the validator
   * calls it when a validation starts and ends, so nothing outlives one call or sees a changed resource.
   */
  forget(): void {
    this.#shared = undefined;
  }

  /**
   * Runs a prepared expression: its hoisted chains first (each once per resource, shared by all the
   * constraints on it that use the same chain), then the rewritten expression. Should a hoisted
   * chain throw — where the expression as written might never have evaluated it — the expression is
   * run as written, so the verdict (and the error) is always the plain evaluation's.
   */
  #run(prepared: Prepared, node: unknown, env: { resource: unknown; rootResource: unknown }): unknown[] {
    const { hoisted } = prepared;
    if (hoisted === undefined) return prepared.plain(node, env);
    const current = this.#shared;
    const shared = current !== undefined && current.resource === env.resource && current.rootResource === env.rootResource ? current : { resource: env.resource, rootResource: env.rootResource, values: new Map<string, unknown[]>() };
    this.#shared = shared;
    const variables: Record<string, unknown> = { resource: env.resource, rootResource: env.rootResource };
    try {
      for (const variable of hoisted.variables) {
        let value = shared.values.get(variable.text);
        if (value === undefined) {
          value = variable.compiled(node, variables);
          shared.values.set(variable.text, value);
        }
        variables[variable.name] = value;
      }
      return hoisted.expression(node, variables);
    } catch {
      return prepared.plain(node, env);
    }
  }

  readonly #natives = new Map<string, NativeCheck | null>();
  /** The key of each expression on each base, built once: the same string each time, so Maps hash it once (SIP expressions run to 2,000 characters). */
  readonly #keys = new Map<string, Map<string, string>>();

  #keyOf(expression: string, base: string): string {
    let byBase = this.#keys.get(expression);
    if (byBase === undefined) {
      byBase = new Map();
      this.#keys.set(expression, byBase);
    }
    let key = byBase.get(base);
    if (key === undefined) {
      key = `${base}\u0000${expression}`;
      byBase.set(base, key);
    }
    return key;
  }

  /** The native check of `expression` on `base`, looked up once per `key` ({@link #keyOf}). */
  #nativeOf(key: string, expression: string, base: string): NativeCheck | undefined {
    let check = this.#natives.get(key);
    if (check === undefined) {
      check = SIP_NATIVE_CHECKS.get(expression) ?? resourceNativeCheck(expression) ?? nativeCheckFor(expression, base) ?? null;
      this.#natives.set(key, check);
    }
    return check ?? undefined;
  }

  #compile(key: string, expression: string, base: string): Prepared | string {
    let compiled = this.#compiled.get(key);
    if (compiled === undefined) {
      try {
        compiled = prepare(expression, base, this.#hoist);
      } catch (error) {
        compiled = `cannot compile: ${error instanceof Error ? error.message : String(error)}`;
      }
      this.#compiled.set(key, compiled);
      if (typeof compiled !== 'string' && !NOT_REMEMBERED.test(expression)) {
        const reach: Reach = { reaches: reachableProperties(expression), usesResource: /%resource|%rootResource/.test(expression), absent: new Map() };
        if (!reach.usesResource) this.#reach.set(key, reach);
        if (this.#remember) this.#memo.set(key, { results: new Map(), reach, oversized: false, characters: 0, bytes: 0 });
      }
    }
    return compiled;
  }
}
