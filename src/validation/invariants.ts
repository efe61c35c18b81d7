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

/** Expressions whose result depends on more than the element they are evaluated on. */
const CONTEXT_DEPENDENT = /%resource|%rootResource|resolve\(|now\(|today\(|timeOfDay\(/;

/** Results kept per expression, keyed by the element's JSON; cleared when this many pile up. */
const MEMO_LIMIT = 5_000;

export class InvariantEngine {
  readonly #compiled = new Map<string, Compiled | string>();
  readonly #memo = new Map<string, Map<string, boolean>>();
  readonly #remember: boolean;

  constructor(remember = true) {
    this.#remember = remember;
  }

  /**
   * Evaluates `expression` on `node`, whose element path (or type name) is `base`. An expression
   * that looks at nothing but the element gives the same answer for the same JSON, so its results
   * are remembered: a Bundle repeats the same references, codings and extensions many times.
   */
  evaluate(expression: string, base: string, node: unknown, env: { resource: unknown; rootResource: unknown }, scope: ResolveScope): ConstraintResult {
    const key = `${base}\u0000${expression}`;
    const compiled = this.#compile(key, expression, base);
    if (typeof compiled === 'string') return { error: compiled };
    const memo = this.#memo.get(key);
    const json = memo === undefined ? undefined : JSON.stringify(node);
    const known = json === undefined ? undefined : memo?.get(json);
    if (known !== undefined) return { passed: known };
    currentScope = scope;
    try {
      const result = compiled(node, env);
      const passed = !(result.length === 1 && result[0] === false);
      if (memo !== undefined && json !== undefined) {
        if (memo.size >= MEMO_LIMIT) memo.clear();
        memo.set(json, passed);
      }
      return { passed };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    } finally {
      currentScope = undefined;
    }
  }

  #compile(key: string, expression: string, base: string): Compiled | string {
    let compiled = this.#compiled.get(key);
    if (compiled === undefined) {
      try {
        compiled = fhirpath.compile({ base, expression }, r4, { userInvocationTable, resolveInternalTypes: false }) as Compiled;
      } catch (error) {
        compiled = `cannot compile: ${error instanceof Error ? error.message : String(error)}`;
      }
      this.#compiled.set(key, compiled);
      if (this.#remember && typeof compiled !== 'string' && !CONTEXT_DEPENDENT.test(expression)) this.#memo.set(key, new Map());
    }
    return compiled;
  }
}
