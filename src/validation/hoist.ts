/**
 * Loop-invariant hoisting for FHIRPath constraints anchored on `%resource` / `%rootResource`.
 *
 * fhirpath.js evaluates the argument of `where()`, `all()`, `select()` … once per item, so a
 * Bundle constraint such as sip-bdl-4, `entry.where(fullUrl in %resource.entry.resource…)`,
 * re-evaluates the whole `%resource.entry…` chain for every entry: quadratic in the entries
 * (issue #13). Such a chain depends on nothing but the variable it starts from
 * (https://hl7.org/fhir/R4/fhirpath.html#variables) — `$this`, `$index` and `$total` inside its
 * own arguments belong to its own iterations, and FHIRPath has no way to name an outer one — so
 * its value is the same wherever and however often it is evaluated within one evaluation of the
 * constraint. This module rewrites an expression so that each such chain (innermost first) becomes
 * a variable `%hoisted<N>` computed once, and the constraint is evaluated with those variables.
 *
 * The rewriting is textual but conservative: only a maximal chain `%resource(.name | .name(args) |
 * [index])*` is replaced, string literals are skipped, and a chain that calls something whose value
 * may change between evaluations (`now()`, `today()`, `timeOfDay()`, `trace()`, `resolve()`) or that
 * refers to `%context`/`$this` of an outer scope is never hoisted. Any prefix of a chain is itself a
 * term, so stopping early (e.g. at whitespace) is always correct, only less effective.
 * The StructureDefinitions keep the expressions as written: this is an evaluation strategy, and
 * test/validation/hoist.test.ts shows it gives the same result as the plain evaluation.
 */

/** A variable the rewritten expression uses, and the (rewritten) chain that computes it. */
export interface Hoisted {
  readonly name: string;
  /** Starts with `%resource` or `%rootResource`; may use earlier variables of the same plan. */
  readonly expression: string;
  /** The chain as written in the original expression: the same text means the same value on the same resource. */
  readonly source: string;
}

export interface HoistPlan {
  /** The expression with each hoisted chain replaced by its variable. */
  readonly expression: string;
  /** Variables in the order they must be computed (each uses only earlier ones). */
  readonly variables: readonly Hoisted[];
}

/** Functions whose value may differ from one call to the next, or that depend on more than the chain's start. */
const UNSTABLE = /\b(?:now|today|timeOfDay|trace|resolve|defineVariable)\s*\(|%context\b/;

const ANCHOR = /%(?:resource|rootResource)(?![A-Za-z0-9_])/y;
const IDENTIFIER = /(?:[A-Za-z_][A-Za-z0-9_]*|`(?:[^`\\]|\\.)*`)/y;

/** The index just after the string literal that starts at `start` (a `'`), escapes included. */
function skipString(text: string, start: number): number {
  let index = start + 1;
  while (index < text.length) {
    const char = text.charAt(index);
    if (char === '\\') index += 2;
    else if (char === "'") return index + 1;
    else index += 1;
  }
  return text.length;
}

/** The index just after the bracket that closes the one at `start`, string literals skipped; -1 when unbalanced. */
function skipBalanced(text: string, start: number): number {
  const open = text.charAt(start);
  const close = open === '(' ? ')' : ']';
  let depth = 0;
  let index = start;
  while (index < text.length) {
    const char = text.charAt(index);
    if (char === "'") {
      index = skipString(text, index);
      continue;
    }
    if (char === '`') {
      IDENTIFIER.lastIndex = index;
      if (IDENTIFIER.exec(text) === null) return -1;
      index = IDENTIFIER.lastIndex;
      continue;
    }
    if (char === open) depth += 1;
    else if (char === close) {
      depth -= 1;
      if (depth === 0) return index + 1;
    }
    index += 1;
  }
  return -1;
}

/** The end of the invocation chain that starts with an anchor at `start`. */
function chainEnd(text: string, start: number, anchorEnd: number): number {
  let index = anchorEnd;
  for (;;) {
    const char = text.charAt(index);
    if (char === '.') {
      IDENTIFIER.lastIndex = index + 1;
      if (IDENTIFIER.exec(text) === null) return index;
      let next = IDENTIFIER.lastIndex;
      if (text.charAt(next) === '(') {
        const closed = skipBalanced(text, next);
        if (closed < 0) return index;
        next = closed;
      }
      index = next;
    } else if (char === '[') {
      const closed = skipBalanced(text, index);
      if (closed < 0) return index;
      index = closed;
    } else {
      return index > start ? index : start;
    }
  }
}

/**
 * Rewrites `expression` so that every `%resource`/`%rootResource` chain is computed once. Returns
 * the plan even when nothing was hoisted (then `variables` is empty).
 */
export function hoistInvariants(expression: string): HoistPlan {
  const variables: Hoisted[] = [];
  const byText = new Map<string, string>();

  const rewrite = (text: string): string => {
    let out = '';
    let index = 0;
    while (index < text.length) {
      const char = text.charAt(index);
      if (char === "'") {
        const end = skipString(text, index);
        out += text.slice(index, end);
        index = end;
        continue;
      }
      if (char === '`') {
        IDENTIFIER.lastIndex = index;
        const end = IDENTIFIER.exec(text) === null ? index + 1 : IDENTIFIER.lastIndex;
        out += text.slice(index, end);
        index = end;
        continue;
      }
      ANCHOR.lastIndex = index;
      const anchored = char === '%' && ANCHOR.exec(text) !== null;
      if (!anchored) {
        out += char;
        index += 1;
        continue;
      }
      const anchorEnd = ANCHOR.lastIndex;
      const end = chainEnd(text, index, anchorEnd);
      const chain = text.slice(index, end);
      if (end === anchorEnd) {
        out += chain;
        index = end;
        continue;
      }
      // `$this`, `$index`, `$total` inside the chain's own arguments are its own; an unstable call is not hoisted.
      if (UNSTABLE.test(chain)) {
        out += text.slice(index, anchorEnd);
        index = anchorEnd;
        continue;
      }
      const inner = text.slice(index, anchorEnd) + rewrite(text.slice(anchorEnd, end));
      let name = byText.get(inner);
      if (name === undefined) {
        name = `%hoisted${String(variables.length)}`;
        byText.set(inner, name);
        variables.push({ name, expression: inner, source: chain });
      }
      out += name;
      index = end;
    }
    return out;
  };

  return { expression: rewrite(expression), variables };
}
