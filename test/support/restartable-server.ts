/**
 * A loopback HTTP server a test can stop and start again on the same port, as a receiver that goes
 * down and comes back.
 *
 * Why the port is not simply the one `listen(0)` gave the first time: while this server is down its
 * port is free, and on Linux `listen(0)` anywhere on the machine (another test file's server, run in
 * parallel) draws from the ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`, 32768–60999 by
 * default) and may take it. The adapter then reaches that other server instead of a refused
 * connection — CI saw exactly this: the "down" receiver answered 401 from another test's adapter.
 * So the port is drawn below the ephemeral range, where nobody's `listen(0)` ever lands.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** The lowest port `listen(0)` may hand out on this machine (32768 when it cannot be read). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 11_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** Binds `port` on 127.0.0.1, or rejects (EADDRINUSE) if someone holds it. */
function listen(server: Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(error);
    };
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export class RestartableServer {
  private server: Server | undefined;
  private port = 0;

  constructor(private readonly handler: (request: IncomingMessage, response: ServerResponse) => void) {}

  /** `http://127.0.0.1:<port>`; the same across stop and start. */
  get url(): string {
    if (this.port === 0) throw new Error('the server has not been started yet');
    return `http://127.0.0.1:${String(this.port)}`;
  }

  /** Listens on its port; the first time, on a free port below the ephemeral range. */
  async start(): Promise<void> {
    const server = createServer(this.handler);
    if (this.port !== 0) {
      await listen(server, this.port);
    } else {
      const low = 10_000;
      const high = ephemeralLow() - 1;
      for (let tries = 0; ; tries += 1) {
        const candidate = low + Math.floor(Math.random() * (high - low));
        try {
          await listen(server, candidate);
          this.port = candidate;
          break;
        } catch (error) {
          if (tries >= 50) throw error;
        }
      }
    }
    this.server = server;
  }

  /** Stops listening and drops every connection: the next connection to the port is refused. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
      server.closeAllConnections();
    });
  }
}
