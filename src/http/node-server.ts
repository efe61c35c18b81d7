/**
 * The node:http server the app runs on.
 */
import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { Express } from 'express';

/**
 * A node:http server for `app` whose requests and responses are made with `app.request` and
 * `app.response` as their prototypes from the start (node:http's `IncomingMessage` and
 * `ServerResponse` options, https://nodejs.org/docs/latest-v20.x/api/http.html#httpcreateserveroptions-requestlistener).
 *
 * Express 5 gives every request and response those prototypes as it starts to handle them
 * (`Object.setPrototypeOf` in express/lib/application.js, `app.handle`). Changing an object's
 * prototype after it is made costs the garbage collector: under a constant load of FHIR reads each
 * scavenge kept ≈ 12 MB of requests long answered and promoted them to the old space, and its pauses
 * (8–31 ms) were the reads' p99. A bare Express 5 server promoted 7–11 % of what it allocated, the same
 * server made this way 0 % (docs/performance.md, "the garbage collector"). Made with the prototypes
 * Express would set, its `setPrototypeOf` finds them already there and changes nothing
 * (expressjs/express#5998 proposes the same for `app.listen`).
 *
 * **How they are made matters as much** (docs/performance.md, "One hidden class a request"). They are
 * made by two classes that extend node's, as node's documentation of the two options shows, and whose
 * prototypes *become* the app's: each takes the members and the prototype of the object Express made
 * ({@link adopt}), and is set as `app.request` / `app.response`. So one server per app: a second one
 * would take the prototypes from the first, whose objects Express would then re-prototype again.
 * - `Reflect.construct(IncomingMessage, [socket], AppRequest)` with a function whose `prototype` is
 *   Express's, the form before, gave every request and every response a hidden class of its own: V8
 *   keeps the initial map it derives for a `new.target` only when that function's own initial map was
 *   made for the constructor called. Every access to them in Express, the router, the middlewares and
 *   the routes went megamorphic, and `/health` cost 0.30–0.45 ms of server CPU instead of 0.08–0.15.
 *   Express's own `setPrototypeOf` does the same.
 * - `new` on a plain function that calls node's constructor on `this` shares one hidden class, but
 *   V8 sizes such an object for the properties the function itself assigns: none. Node's constructors
 *   then give a response 40, 9 under symbols, and past a dozen outside the object a keyed store turns
 *   it into a dictionary. Every response was one from its start.
 * - A class that extends node's is sized from node's constructor, as node's own objects are: one
 *   hidden class, and fast properties (test/http/node-server.test.ts checks both, with V8's intrinsics).
 */
export function createAppServer(app: Express): Server {
  class AppRequest extends IncomingMessage {}
  class AppResponse extends ServerResponse {}
  adopt(AppRequest.prototype, app.request);
  adopt(AppResponse.prototype, app.response);
  app.request = AppRequest.prototype as Express['request'];
  app.response = AppResponse.prototype as Express['response'];
  return createServer({ IncomingMessage: AppRequest, ServerResponse: AppResponse }, app);
}

/**
 * Makes `prototype` (a class's) what `from` is to Express: `from`'s own members (the `app` it points
 * back to, and what src/http sets on it, such as query-once.ts's `query` getter) and `from`'s
 * prototype (Express's request or response, then node's). Its own `constructor` stays the class's.
 */
function adopt(prototype: object, from: object): void {
  Object.setPrototypeOf(prototype, Object.getPrototypeOf(from) as object | null);
  for (const key of Reflect.ownKeys(from)) {
    const descriptor = Object.getOwnPropertyDescriptor(from, key);
    if (key !== 'constructor' && descriptor !== undefined) Object.defineProperty(prototype, key, descriptor);
  }
}

/** Starts `server` listening; rejects with the listen error (a port in use) instead of emitting it. */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
