/**
 * The receivers' keep-alive sockets are not reconfigured on every request (src/exchange/connectors/http.ts
 * `KEEP_ALIVE_MS`): axios sets a 60 s TCP keep-alive delay on each request's socket, and an agent with
 * node's default of 1 s set it back when the socket was freed — two system calls a delivery. Counted on
 * the socket's handle, where node's `setKeepAlive` reaches the system only when the setting changes.
 */
import { createServer, type Agent, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { receiverHttp } from '../../../src/exchange/connectors/http.js';

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/fhir+json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

it('sets a reused socket’s keep-alive once, not twice a request', async () => {
  const client = receiverHttp(5_000);
  try {
    await client.http.post(url, Buffer.from('{}'));
    const agent = client.http.defaults.httpAgent as Agent;
    const sockets = Object.values(agent.freeSockets).flat() as Socket[];
    expect(sockets).toHaveLength(1);
    const handle = (sockets[0] as unknown as { _handle: { setKeepAlive: (...args: unknown[]) => unknown } })._handle;
    const original = handle.setKeepAlive.bind(handle);
    let calls = 0;
    handle.setKeepAlive = (...args: unknown[]) => {
      calls++;
      return original(...args);
    };
    for (let n = 0; n < 5; n++) {
      const answer = await client.http.post(url, Buffer.from('{}'));
      expect(answer.status).toBe(200);
    }
    // The same socket served every request, and its keep-alive was never set again.
    expect(Object.values(agent.freeSockets).flat()).toEqual(sockets);
    expect(calls).toBe(0);
  } finally {
    client.close();
  }
});
