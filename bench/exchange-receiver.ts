/**
 * The local receiver of `npm run bench:exchange` (bench/exchange.ts), in a child process of its own
 * (started with `fork`, so its CPU is neither the adapter's nor the baseline loop's): a node:http FHIR
 * "server" that answers every POSTed transaction Bundle at once with a `transaction-response` of one
 * `201 Created` per entry sent (what the FHIR connector checks), and counts Idempotency-Keys.
 *
 * Each path is a lane of its own (`/one-4`, `/two-8`, `/baseline-8`…) with its own counts and its own
 * gate: while a lane's gate is closed its requests are held unanswered, so the adapter's workers can
 * be started and warmed up before the clock starts; opening the gate answers the held ones and every
 * later one at once. Controlled over the IPC channel: `{ id, op: 'close' | 'open' | 'stats' | 'keys' |
 * 'reset', lane }`, each answered `{ id, ... }`. Prints nothing; the parent reads the port from the
 * first message, `{ port }`.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

interface Lane {
  gateOpen: boolean;
  held: (() => void)[];
  /** Times each key arrived. */
  keys: Map<string, number>;
  requests: number;
  /** When the gate was opened, and when the last answer went out (performance.now() of this process). */
  openedAt: number;
  lastAnswerAt: number;
}

const lanes = new Map<string, Lane>();
const lane = (name: string): Lane => {
  let found = lanes.get(name);
  if (found === undefined) {
    found = { gateOpen: true, held: [], keys: new Map(), requests: 0, openedAt: performance.now(), lastAnswerAt: 0 };
    lanes.set(name, found);
  }
  return found;
};

const server = createServer((request, response: ServerResponse) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const of = lane((request.url ?? '/').split('/')[1] ?? '');
    const key = String(request.headers['idempotency-key']);
    of.requests++;
    of.keys.set(key, (of.keys.get(key) ?? 0) + 1);
    let entries: number;
    try {
      entries = ((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { entry?: unknown[] }).entry ?? []).length;
    } catch {
      response.writeHead(400).end();
      return;
    }
    const body = JSON.stringify({ resourceType: 'Bundle', type: 'transaction-response', entry: Array.from({ length: entries }, () => ({ response: { status: '201 Created' } })) });
    const answer = (): void => {
      response.writeHead(200, { 'Content-Type': 'application/fhir+json' }).end(body);
      of.lastAnswerAt = performance.now();
    };
    if (of.gateOpen) answer();
    else of.held.push(answer);
  });
});

interface Command {
  readonly id: number;
  readonly op: 'close' | 'open' | 'stats' | 'keys' | 'reset';
  readonly lane: string;
}

process.on('message', (message: Command) => {
  const of = lane(message.lane);
  const reply = (fields: Record<string, unknown>): void => {
    process.send?.({ id: message.id, ...fields });
  };
  switch (message.op) {
    case 'close':
      of.gateOpen = false;
      reply({});
      return;
    case 'open': {
      of.gateOpen = true;
      of.openedAt = performance.now();
      for (const answer of of.held.splice(0)) answer();
      reply({});
      return;
    }
    case 'stats':
      reply({
        keys: of.keys.size,
        requests: of.requests,
        duplicates: [...of.keys.values()].filter((times) => times > 1).length,
        held: of.held.length,
        elapsedMs: of.lastAnswerAt - of.openedAt,
      });
      return;
    case 'keys':
      reply({ keys: [...of.keys.keys()] });
      return;
    case 'reset':
      lanes.delete(message.lane);
      reply({});
      return;
  }
});
process.on('disconnect', () => {
  server.closeAllConnections();
  server.close();
});

server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
