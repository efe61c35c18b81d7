/**
 * A node:http server on a loopback port for the tests: listening on 127.0.0.1 at a port the system
 * chooses, and closed again. One place for what eleven test files each wrote out, so a test's server
 * that cannot listen fails the test with the error instead of leaving it waiting for a callback.
 */
import { once } from 'node:events';
import type { RequestListener, Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';

export interface Loopback<S extends NetServer = Server> {
  readonly server: S;
  readonly port: number;
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly origin: string;
}

/**
 * Listens on 127.0.0.1 at a free port: `server` as given (a plain TCP server too, for a test that
 * writes HTTP bytes itself), or a new server of `listener` (an Express app is one, as its own
 * `app.listen` makes it).
 */
export async function listenOnLoopback(server: Server | RequestListener): Promise<Loopback>;
export async function listenOnLoopback<S extends NetServer>(server: S): Promise<Loopback<S>>;
export async function listenOnLoopback(server: NetServer | RequestListener): Promise<Loopback<NetServer>> {
  const listening = typeof server === 'function' ? createServer(server) : server;
  listening.listen(0, '127.0.0.1');
  await once(listening, 'listening');
  const { port } = listening.address() as AddressInfo;
  return { server: listening, port, origin: `http://127.0.0.1:${String(port)}` };
}

/**
 * Stops `server` and waits until its connections are closed; an error of `close` rejects. With
 * `dropConnections`, idle and active connections are closed at once rather than waited for.
 */
export function closeServer(server: Server, options: { readonly dropConnections?: boolean } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => {
      if (error === undefined) resolve();
      else reject(error);
    });
    if (options.dropConnections === true) server.closeAllConnections();
  });
}
