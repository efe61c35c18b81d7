/**
 * Run by test/http/node-server.test.ts as `node --allow-natives-syntax --import tsx <this file>`:
 * serves twelve requests of one route through `createAppServer` and prints, as one JSON line, for the
 * last eight requests and their responses: how many share one hidden class (V8 map) — the most that
 * share any one — and how many had fast properties (not a dictionary) when node:http handed them to
 * the server's listeners and when the route answered. Made alike, they end alike; made with a hidden
 * class each, none share (the count is 1). Not all must share: a field whose kind widens (a small
 * integer, later a double) leaves the objects made before on a map V8 has deprecated. V8's intrinsics
 * (`%HaveSameMap`, `%HasFastProperties`) are only parsed with `--allow-natives-syntax`, so they are
 * compiled from strings here (node:vm) rather than written in TypeScript.
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runInThisContext } from 'node:vm';
import express from 'express';
import { createAppServer, listen } from '../../src/http/node-server.js';

// The parsed-code boundary: a V8 intrinsic, callable only under --allow-natives-syntax.
const haveSameMap = runInThisContext('(a, b) => %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
const hasFastProperties = runInThisContext('(a) => %HasFastProperties(a)') as (a: object) => boolean;

const app = express();
/** Per request, in order: whether the request and the response had fast properties as made, and at the route. */
const fast: { made: boolean[]; routed: boolean[] }[] = [];
app.get('/one/:id', (request, response) => {
  fast.at(-1)?.routed.push(hasFastProperties(request), hasFastProperties(response));
  response.json({ id: request.params.id });
});
const server = createAppServer(app);
const requests: IncomingMessage[] = [];
const responses: ServerResponse[] = [];
server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
  requests.push(request);
  responses.push(response);
  fast.push({ made: [hasFastProperties(request), hasFastProperties(response)], routed: [] });
});
await listen(server, 0, '127.0.0.1');
const { port } = server.address() as AddressInfo;
for (let index = 0; index < 12; index++) {
  const answer = await fetch(`http://127.0.0.1:${String(port)}/one/${String(index)}`);
  await answer.arrayBuffer();
}
// Compared once every request has been answered, each having taken the same route.
const mostSharing = (objects: readonly object[]): number => Math.max(...objects.map((one) => objects.filter((other) => haveSameMap(one, other)).length));
const requestsSharing = mostSharing(requests.slice(-8));
const responsesSharing = mostSharing(responses.slice(-8));
const count = (pick: (seen: { made: boolean[]; routed: boolean[] }) => boolean | undefined): number => fast.slice(-8).filter((seen) => pick(seen) === true).length;
const fastProperties = {
  requestsMade: count((seen) => seen.made[0]),
  responsesMade: count((seen) => seen.made[1]),
  requestsRouted: count((seen) => seen.routed[0]),
  responsesRouted: count((seen) => seen.routed[1]),
};
server.close();
server.closeAllConnections();
await once(server, 'close');
process.stdout.write(`${JSON.stringify({ requestsSharing, responsesSharing, fastProperties })}\n`);
