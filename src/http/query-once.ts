/**
 * `request.query` parsed once per URL. Express 5 defines `query` as a getter on its request
 * prototype that parses the query string anew at every reading (`app.get('query parser fn')`, then
 * the parser), and a FHIR search reads it some fifteen times (each parameter, `_count`, `_offset`,
 * `_summary`, the unknown names …): 2.5 % of the server's CPU under `GET /fhir/CarePlan?…`
 * (docs/performance.md, branch `i11-reads8`).
 *
 * {@link parseQueryOnce} gives the app's request prototype (`app.request`, which every request of
 * that app inherits from) a `query` getter that asks Express's getter — the same parser, the same
 * settings — once for each `request.url` a request has, and hands out that result until the URL
 * changes (a router trimming its mount path, a POST search's form merged into the URL:
 * src/http/fhir-post-search.ts), when it asks again. No middleware runs and nothing is added to a
 * request that does not read its query. The value is frozen, so code that would change the query it was
 * given (Express hands each reading a new object) fails loudly rather than changing what the next
 * reading sees; nothing in src/ does. test/http/query-once.test.ts holds every reading equal to
 * Express's own, the URL rewritten between them.
 */
import type { Express } from 'express';

/**
 * Where a request keeps the last query parsed for it, and the URL it was parsed from: on the request,
 * under a symbol (not enumerable). Not in a module-level `WeakMap`, whose values V8's scavenger promotes
 * to the old space when their key was alive at one scavenge: every request still in flight at a
 * scavenge would leave its parsed query there (src/sip/plan-index.ts `INDEX` says how).
 */
const PARSED_QUERY: unique symbol = Symbol('parsedQuery');

interface ParsedQuery {
  readonly url: unknown;
  readonly query: unknown;
}

interface WithQuery {
  readonly url?: unknown;
  [PARSED_QUERY]?: ParsedQuery;
}

/** A parsed query frozen, with its arrays (a repeated parameter). The simple parser's values are strings or arrays of them. */
function frozen(query: unknown): unknown {
  if (typeof query === 'object' && query !== null) {
    for (const value of Object.values(query)) if (Array.isArray(value)) Object.freeze(value);
    Object.freeze(query);
  }
  return query;
}

/** Makes the app's `request.query` parse once for each URL a request has (see the module's comment). */
export function parseQueryOnce(app: Express): void {
  const requests = app.request as object;
  // Express's own getter, on the prototype the app's request object was made from.
  const express = Object.getPrototypeOf(requests) as object;
  if (Object.getOwnPropertyDescriptor(express, 'query')?.get === undefined) throw new Error("Express's request has no query getter");
  Object.defineProperty(requests, 'query', {
    configurable: true,
    enumerable: true,
    get(this: WithQuery): unknown {
      const parsed = this[PARSED_QUERY];
      if (parsed !== undefined && parsed.url === this.url) return parsed.query;
      const query = frozen(Reflect.get(express, 'query', this));
      Object.defineProperty(this, PARSED_QUERY, { value: { url: this.url, query }, writable: true, configurable: true });
      return query;
    },
  });
}
