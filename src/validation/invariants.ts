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
import { NATIVE_CHECKS } from './native.js';
import { repairConstraint } from './repaired-constraints.js';

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
interface Prepared {
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
/** All remembered keys together, in characters; past it every memo is cleared. */
const MEMO_BUDGET = 8 * 1_024 * 1_024;

interface Memo {
  readonly results: Map<string, boolean>;
  /** Whether a JSON property is one the expression can reach by name. */
  readonly reaches: (property: string) => boolean;
  readonly usesResource: boolean;
  /** Set once a key was longer than {@link MAX_KEY_LENGTH}: the expression is no longer remembered. */
  oversized: boolean;
  /** Characters of its keys. */
  characters: number;
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
  /** Characters of all remembered keys. */
  #memoBytes = 0;
  readonly #remember: boolean;

  readonly #hoist: boolean;
  readonly #native: boolean;

  /**
   * @param options.remember - remember results of constraints that look only at their element (see {@link evaluate}); default true.
   * @param options.hoist - compute each `%resource`/`%rootResource` chain once per resource ({@link hoistInvariants}); default true.
   * @param options.native - check ref-1 and ext-1 on the JSON ({@link NATIVE_CHECKS}); default true.
   * Off, expressions run only as written; the benchmark and the differential tests compare both.
   */
  constructor(options: { readonly remember?: boolean; readonly hoist?: boolean; readonly native?: boolean } = {}) {
    this.#remember = options.remember ?? true;
    this.#hoist = options.hoist ?? true;
    this.#native = options.native ?? true;
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
    // The five R4 constraints fhirpath.js cannot evaluate as written (src/validation/repaired-constraints.ts).
    const expression = repairConstraint(written, node);
    if (typeof expression === 'boolean') return { passed: expression };
    const key = `${base}\u0000${expression}`;
    const compiled = this.#compile(key, expression, base);
    if (typeof compiled === 'string') return { error: compiled };
    const verdict = this.#native ? NATIVE_CHECKS.get(expression)?.(node, env) : undefined;
    if (verdict !== undefined) return { passed: verdict };
    const memo = this.#memo.get(key);
    const seen = memo === undefined || memo.oversized ? undefined : this.#memoKey(memo, node, env);
    const known = seen === undefined ? undefined : memo?.results.get(seen);
    if (known !== undefined) return { passed: known };
    currentScope = scope;
    try {
      const result = this.#run(compiled, node, env);
      const passed = !(result.length === 1 && result[0] === false);
      if (memo !== undefined && seen !== undefined) this.#rememberResult(memo, seen, passed);
      return { passed };
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
    return { results, characters: this.#memoBytes };
  }

  /** The part of the element (and of its resources, when the expression uses them) the result depends on, as JSON; undefined when too long to keep. */
  #memoKey(memo: Memo, node: unknown, env: { resource: unknown; rootResource: unknown }): string | undefined {
    const seen = JSON.stringify(memo.usesResource ? [project(node, memo.reaches), project(env.resource, memo.reaches), project(env.rootResource, memo.reaches)] : project(node, memo.reaches));
    if (seen.length <= MAX_KEY_LENGTH) return seen;
    memo.oversized = true;
    this.#clear(memo);
    return undefined;
  }

  #clear(memo: Memo): void {
    memo.results.clear();
    this.#memoBytes -= memo.characters;
    memo.characters = 0;
  }

  #rememberResult(memo: Memo, seen: string, passed: boolean): void {
    if (memo.results.size >= MEMO_LIMIT) this.#clear(memo);
    if (this.#memoBytes + seen.length > MEMO_BUDGET) for (const other of this.#memo.values()) this.#clear(other);
    memo.results.set(seen, passed);
    memo.characters += seen.length;
    this.#memoBytes += seen.length;
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

  #compile(key: string, expression: string, base: string): Prepared | string {
    let compiled = this.#compiled.get(key);
    if (compiled === undefined) {
      try {
        compiled = prepare(expression, base, this.#hoist);
      } catch (error) {
        compiled = `cannot compile: ${error instanceof Error ? error.message : String(error)}`;
      }
      this.#compiled.set(key, compiled);
      if (this.#remember && typeof compiled !== 'string' && !NOT_REMEMBERED.test(expression)) {
        this.#memo.set(key, { results: new Map(), reaches: reachableProperties(expression), usesResource: /%resource|%rootResource/.test(expression), oversized: false, characters: 0 });
      }
    }
    return compiled;
  }
}
