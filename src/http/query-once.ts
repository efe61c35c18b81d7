/**
 * `request.query` parsed once per URL. Express 5 defines `query` as a getter on its request
 * prototype that parses the query string anew at every reading (`app.get('query parser fn')`, then
 * the parser), and a FHIR search reads it some fifteen times (each parameter, `_count`, `_offset`,
 * `_summary`, the unknown names …): 2.5 % of the server's CPU under `GET /fhir/CarePlan?…`
 * (docs/performance.md, branch `i11-reads8`).
 *
 * The middleware gives each request an own `query` getter that asks Express's getter — the same
 * parser, the same settings — once for each `request.url` it sees, and hands out that result until the
 * URL changes (a router trimming its mount path, a POST search's form merged into the URL:
 * src/http/fhir-post-search.ts), when it asks again. The value is frozen, so code that would change
 * the query it was given (Express hands each reading a new object) fails loudly rather than changing
 * what the next reading sees; nothing in src/ does. test/http/query-once.test.ts holds every reading
 * equal to Express's own, the URL rewritten between them.
 */
import type { RequestHandler } from 'express';

/** The query as Express's own getter reads it from the request's current URL: the getter found on the request's prototype chain. */
function expressQuery(request: object): unknown {
  return Reflect.get(Object.getPrototypeOf(request) as object, 'query', request);
}

/** A parsed query frozen, with its arrays (a repeated parameter). The simple parser's values are strings or arrays of them. */
function frozen(query: unknown): unknown {
  if (typeof query === 'object' && query !== null) {
    for (const value of Object.values(query)) if (Array.isArray(value)) Object.freeze(value);
    Object.freeze(query);
  }
  return query;
}

/** Middleware: `request.query` parsed once for each URL the request has (see the module's comment). */
export function queryParsedOnce(): RequestHandler {
  return (request, _response, next) => {
    let parsedUrl: string | undefined;
    let parsed: unknown;
    Object.defineProperty(request, 'query', {
      configurable: true,
      enumerable: true,
      get(): unknown {
        if (parsedUrl !== request.url) {
          parsed = frozen(expressQuery(request));
          parsedUrl = request.url;
        }
        return parsed;
      },
    });
    next();
  };
}
