/**
 * The node:http server the app runs on.
 */
import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { Socket } from 'node:net';
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
 * **How they are made matters as much.** Each is made by `new` on an ordinary function whose
 * `prototype` is Express's, which runs node's constructor on `this` — node 20's `IncomingMessage` and
 * `ServerResponse` are plain functions, as node's own `Readable.call(this)` chains are. The form
 * before, `Reflect.construct(IncomingMessage, [socket], AppRequest)`, gave every request and every
 * response a hidden class of its own: V8 keeps the derived initial map for a `new.target` only when
 * that function's own initial map was made for the constructor called. Every property access on a
 * request or response in Express, the router, the middlewares and the routes then met a new map and
 * went megamorphic, and `/health` cost 0.27–0.45 ms of server CPU instead of 0.08–0.10 (docs/performance.md,
 * "One hidden class a request"; test/http/node-server.test.ts checks that requests share theirs).
 */
export function createAppServer(app: Express): Server {
  // Node's constructors as the plain functions they are (lib/_http_incoming.js, lib/_http_server.js):
  // called on an object already made with the right prototype.
  const incoming = IncomingMessage as unknown as (this: IncomingMessage, socket: Socket) => void;
  const outgoing = ServerResponse as unknown as (this: ServerResponse, request: IncomingMessage, options?: unknown) => void;
  function AppRequest(this: IncomingMessage, socket: Socket): void {
    incoming.call(this, socket);
  }
  AppRequest.prototype = app.request;
  function AppResponse(this: ServerResponse, request: IncomingMessage, options?: unknown): void {
    outgoing.call(this, request, options);
  }
  AppResponse.prototype = app.response;
  return createServer({ IncomingMessage: AppRequest as unknown as typeof IncomingMessage, ServerResponse: AppResponse as unknown as typeof ServerResponse }, app);
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
