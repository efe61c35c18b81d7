/**
 * Run by test/http/node-server.test.ts as `node --allow-natives-syntax --import tsx <this file>`:
 * serves a few requests of one route through `createAppServer` and prints, as one JSON line, whether
 * each request and each response ended with the hidden class (V8 map) of the last. V8's
 * `%HaveSameMap` is only parsed with `--allow-natives-syntax`, so it is compiled from a string here
 * (node:vm) rather than written in TypeScript.
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runInThisContext } from 'node:vm';
import express from 'express';
import { createAppServer, listen } from '../../src/http/node-server.js';

// The parsed-code boundary: a V8 intrinsic, callable only under --allow-natives-syntax.
const haveSameMap = runInThisContext('(a, b) => %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

const app = express();
app.get('/one/:id', (request, response) => {
  response.json({ id: request.params.id });
});
const server = createAppServer(app);
const requests: IncomingMessage[] = [];
const responses: ServerResponse[] = [];
server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
  requests.push(request);
  responses.push(response);
});
await listen(server, 0, '127.0.0.1');
const { port } = server.address() as AddressInfo;
for (let index = 0; index < 5; index++) {
  const answer = await fetch(`http://127.0.0.1:${String(port)}/one/${String(index)}`);
  await answer.arrayBuffer();
}
server.close();
server.closeAllConnections();
await once(server, 'close');
// Compared once every request has been answered, each having taken the same route: the same
// properties were added to each in the same order, so objects made alike end with one map.
const last = requests.length - 1;
const requestsShare = requests.slice(0, last).map((request) => haveSameMap(request, requests[last] as object));
const responsesShare = responses.slice(0, last).map((response) => haveSameMap(response, responses[last] as object));
process.stdout.write(`${JSON.stringify({ requestsShare, responsesShare })}\n`);
