/**
 * Helmet's security headers, worked out by helmet once when the app is built and set by one
 * middleware on every response.
 *
 * `helmet()` under its defaults is twelve middlewares run one after the other through a closure made
 * for every request, each setting one header whose value does not depend on the request (or, for
 * `X-Powered-By`, removing one): 1.8–2 % of the server's CPU under `GET /fhir/CarePlan/{id}`
 * (docs/performance.md, branch `i11-http9`). {@link staticHeaders} runs a helmet middleware once against
 * a response that only records what is done to its headers, twice — for two requests that differ in
 * every part helmet could read — and, when both recordings are the same, answers a middleware that does
 * those header operations, in the same order, on each response. Helmet stays the source of truth for
 * what the headers are: a helmet middleware whose headers depend on the request (a CSP directive given
 * as a function, say), or that calls `next` with an error or not at all, is refused when the app is
 * built. test/http/security-headers.test.ts holds every route's response headers equal to helmet's own.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';

/** One thing a helmet middleware did to the response's headers. */
export type HeaderOperation = { readonly set: string; readonly value: string | number | readonly string[] } | { readonly remove: string };

/** A request with only what a helmet middleware could look at, different in each of the two recordings. */
function probeRequest(variant: 0 | 1): IncomingMessage {
  return {
    method: variant === 0 ? 'GET' : 'POST',
    url: variant === 0 ? '/fhir/CarePlan/a' : '/sip/plans?x=1',
    headers: variant === 0 ? { host: 'a.example' } : { host: 'b.example', 'user-agent': 'probe', 'x-forwarded-proto': 'https' },
    secure: variant === 1,
  } as unknown as IncomingMessage;
}

/** The header operations `middleware` does on a response to the probe request `variant`; throws when it does anything else. */
export function recordHeaderOperations(middleware: RequestHandler, variant: 0 | 1 = 0): HeaderOperation[] {
  const operations: HeaderOperation[] = [];
  const headers = new Map<string, unknown>();
  const response = {
    setHeader(name: string, value: string | number | readonly string[]) {
      operations.push({ set: name, value });
      headers.set(name.toLowerCase(), value);
      return response;
    },
    removeHeader(name: string) {
      operations.push({ remove: name });
      headers.delete(name.toLowerCase());
    },
    getHeader: (name: string) => headers.get(name.toLowerCase()),
    hasHeader: (name: string) => headers.has(name.toLowerCase()),
    headersSent: false,
  };
  let nexts = 0;
  let failure: unknown;
  middleware(probeRequest(variant) as never, response as unknown as ServerResponse as never, (error?: unknown) => {
    nexts += 1;
    failure = error;
  });
  if (nexts !== 1 || failure !== undefined) throw new Error(`The security headers' middleware called next ${String(nexts)} times${failure === undefined ? '' : ' with an error'}: it cannot be recorded once`);
  return operations;
}

/** A middleware doing `middleware`'s header operations, recorded once, on every response (see the module's comment). */
export function staticHeaders(middleware: RequestHandler): RequestHandler {
  const operations = recordHeaderOperations(middleware, 0);
  if (JSON.stringify(recordHeaderOperations(middleware, 1)) !== JSON.stringify(operations)) throw new Error("The security headers depend on the request: they cannot be recorded once");
  const names = operations.map((operation) => ('set' in operation ? operation.set : undefined));
  const values = operations.map((operation) => ('set' in operation ? operation.value : undefined));
  const removed = operations.map((operation) => ('remove' in operation ? operation.remove : undefined));
  const count = operations.length;
  return (_request, response, next) => {
    for (let index = 0; index < count; index++) {
      const name = names[index];
      if (name !== undefined) response.setHeader(name, values[index] as string | number | readonly string[]);
      else response.removeHeader(removed[index] as string);
    }
    next();
  };
}
