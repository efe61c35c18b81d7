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
};

/** Some R4 constraints call `trace()`; their output is not the validator's. */
const ignoreTrace = (): void => undefined;

export type ConstraintResult = { readonly passed: boolean } | { readonly error: string };

export class InvariantEngine {
  readonly #compiled = new Map<string, Compiled | string>();

  /** Evaluates `expression` on `node`, whose element path (or type name) is `base`. */
  evaluate(expression: string, base: string, node: unknown, env: { resource: unknown; rootResource: unknown }, scope: ResolveScope): ConstraintResult {
    const compiled = this.#compile(expression, base);
    if (typeof compiled === 'string') return { error: compiled };
    currentScope = scope;
    try {
      const result = compiled(node, env);
      return { passed: !(result.length === 1 && result[0] === false) };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    } finally {
      currentScope = undefined;
    }
  }

  #compile(expression: string, base: string): Compiled | string {
    const key = `${base}\u0000${expression}`;
    let compiled = this.#compiled.get(key);
    if (compiled === undefined) {
      try {
        compiled = fhirpath.compile({ base, expression }, r4, { userInvocationTable, traceFn: ignoreTrace }) as Compiled;
      } catch (error) {
        compiled = `cannot compile: ${error instanceof Error ? error.message : String(error)}`;
      }
      this.#compiled.set(key, compiled);
    }
    return compiled;
  }
}
