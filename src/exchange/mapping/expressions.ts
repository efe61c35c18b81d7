/**
 * FHIRPath for mappings: every expression of a mapping is compiled once, when the mapping is
 * loaded, over plain JSON (no FHIR model: a source document is not FHIR). One function is added to
 * the language, `mapped('valueMap')`, which translates codes through one of the mapping's value maps
 * inside an expression (e.g. `participants.where(role.mapped('roles') = 'coordinator')`).
 */
import fhirpath from 'fhirpath';

/** The variables an expression may use (mappings/README.md, "Expressions"). */
export const EXPRESSION_VARIABLES = ['doc', 'plan', 'item', 'index'] as const;
export type ExpressionEnv = Partial<Record<(typeof EXPRESSION_VARIABLES)[number], unknown>>;

/** How `mapped()` looks a code up; set by the evaluation that runs the expression. */
export type CodeLookup = (mapName: string, code: unknown) => unknown;

/** A compiled expression and its text. */
export interface Expression {
  readonly text: string;
  readonly evaluate: (input: unknown, env: ExpressionEnv) => unknown[];
}

/**
 * The `mapped()` function's lookup. Expressions are evaluated synchronously, one at a time, so the
 * evaluation in progress sets it for the duration of its call (`withLookup`).
 */
let currentLookup: CodeLookup | undefined;

export function withLookup<T>(lookup: CodeLookup, run: () => T): T {
  const previous = currentLookup;
  currentLookup = lookup;
  try {
    return run();
  } finally {
    currentLookup = previous;
  }
}

const USER_FUNCTIONS = {
  mapped: {
    fn: (inputs: unknown[], mapName: unknown): unknown[] =>
      inputs.map((code) => (currentLookup === undefined ? code : currentLookup(String(mapName), code))).filter((value) => value !== undefined),
    arity: { 1: ['String' as const] },
  },
};

/** Thrown by `compileExpression`; its message is fhirpath's, with line and column. */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
}

/** Values every variable holds during the dry run that finds unknown functions and variables at load. */
const DRY_RUN_ENV: Required<ExpressionEnv> = { doc: {}, plan: {}, item: {}, index: 0 };

/**
 * Compiles `text`. A syntax error, an unknown function or an undefined variable is an
 * `ExpressionError`: the parser finds the first, a dry run over an empty document the others
 * (fhirpath resolves functions and variables only when it runs).
 */
export function compileExpression(text: string): Expression {
  let compiled: (resource: unknown, env?: Record<string, unknown>) => unknown;
  try {
    compiled = fhirpath.compile(text, undefined, { userInvocationTable: USER_FUNCTIONS }) as typeof compiled;
    withLookup(() => undefined, () => compiled({}, DRY_RUN_ENV));
  } catch (error) {
    throw new ExpressionError(error instanceof Error ? error.message : String(error));
  }
  return {
    text,
    evaluate: (input, env) => {
      const result = compiled(input, env);
      return Array.isArray(result) ? (result as unknown[]) : [result];
    },
  };
}
