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
 */
export function createAppServer(app: Express): Server {
  const AppRequest = function (socket: Socket): IncomingMessage {
    return Reflect.construct(IncomingMessage, [socket], AppRequest);
  } as unknown as typeof IncomingMessage;
  Object.defineProperty(AppRequest, 'prototype', { value: app.request });
  const AppResponse = function (request: IncomingMessage, options?: unknown): ServerResponse {
    return Reflect.construct(ServerResponse, [request, options], AppResponse) as ServerResponse;
  } as unknown as typeof ServerResponse;
  Object.defineProperty(AppResponse, 'prototype', { value: app.response });
  return createServer({ IncomingMessage: AppRequest, ServerResponse: AppResponse }, app);
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
