/**
 * The app's node:http server makes each request and response with Express's `app.request` and
 * `app.response` as prototypes (src/http/node-server.ts), so Express's per-request
 * `Object.setPrototypeOf` finds them there; Express still answers as it does on `app.listen`.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { createAppServer, listen } from '../../src/http/node-server.js';

describe('createAppServer', () => {
  it("makes requests and responses with the app's prototypes before Express sees them, and Express answers through them", async () => {
    const app = express();
    app.get('/hello/:name', (request, response) => {
      response.status(201).json({ hello: request.params.name, secure: request.secure });
    });
    const server = createAppServer(app);
    const seen: { request: boolean; response: boolean }[] = [];
    // Ahead of the app's own listener: the objects as node:http made them.
    server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
      seen.push({ request: Object.getPrototypeOf(request) === app.request, response: Object.getPrototypeOf(response) === app.response });
    });
    await listen(server, 0, '127.0.0.1');
    try {
      const { port } = server.address() as AddressInfo;
      const answer = await fetch(`http://127.0.0.1:${String(port)}/hello/v%C3%A4rld`);
      expect(answer.status).toBe(201);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await answer.json()).toEqual({ hello: 'värld', secure: false });
      expect(seen).toEqual([{ request: true, response: true }]);
    } finally {
      server.close();
      server.closeAllConnections();
      await once(server, 'close');
    }
  });

  it('makes every request with one hidden class and every response with one, each with fast properties (else every access to them is megamorphic or a dictionary lookup)', async () => {
    // V8's %HaveSameMap and %HasFastProperties need --allow-natives-syntax, so the check runs in a node of its own.
    const { stdout } = await promisify(execFile)(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', 'test/support/request-maps-child.ts'], { timeout: 25_000 });
    const seen = JSON.parse(stdout) as { requestsSharing: number; responsesSharing: number; fastProperties: Record<string, number> };
    // Of the last eight of each, at least six share one (a hidden class each gives 1; all eight shared in 40 runs of 40).
    expect(seen.requestsSharing).toBeGreaterThanOrEqual(6);
    expect(seen.responsesSharing).toBeGreaterThanOrEqual(6);
    expect(seen.fastProperties).toEqual({ requestsMade: 8, responsesMade: 8, requestsRouted: 8, responsesRouted: 8 });
  });

  it('rejects with the listen error when the port is taken', async () => {
    const first = createAppServer(express());
    await listen(first, 0, '127.0.0.1');
    try {
      const { port } = first.address() as AddressInfo;
      await expect(listen(createAppServer(express()), port, '127.0.0.1')).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      first.close();
      await once(first, 'close');
    }
  });
});
