import { once } from 'node:events';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer, type Server } from 'node:http';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { consumeChunked, parseHead, RawHttpPool, type RawOutcome } from '../../bench/raw-http.js';
import { listenOnLoopback } from '../support/loopback.js';

function send(pool: RawHttpPool, request: Parameters<RawHttpPool['request']>[0]): Promise<RawOutcome> {
  return new Promise((resolve) => {
    pool.request(request, resolve);
  });
}

/** A TCP server on a loopback port, each connection handed to `handler`, with its `http://` origin. */
function netServer(handler: (socket: Socket) => void): Promise<{ server: NetServer; origin: string }> {
  return listenOnLoopback(createNetServer(handler));
}

/** A TCP server that answers every request on a connection with `answer` (raw bytes), cut into pieces as `split` says. */
function rawServer(answer: Buffer, split: (bytes: Buffer) => Buffer[]): Promise<{ server: NetServer; origin: string }> {
  return netServer((socket: Socket) => {
    let seen = '';
    socket.on('data', (bytes: Buffer) => {
      seen += bytes.toString('latin1');
      // One answer per request head (the requests here have no body).
      while (seen.includes('\r\n\r\n')) {
        seen = seen.slice(seen.indexOf('\r\n\r\n') + 4);
        for (const piece of split(answer)) socket.write(piece);
      }
    });
  });
}

describe('parseHead: the status and where the body ends', () => {
  it('reads the status and a Content-Length, whatever the header names’ case', () => {
    expect(parseHead('HTTP/1.1 201 Created\r\ncontent-LENGTH: 12\r\nX-A: b\r\n\r\n')).toEqual({ statusCode: 201, body: { kind: 'length', remaining: 12 }, close: false });
  });

  it('reads chunked encoding and Connection: close', () => {
    expect(parseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n')).toEqual({ statusCode: 200, body: { kind: 'chunked', pending: 0, line: '', last: false }, close: true });
  });

  it('has no body for 204 and 304, nor for a Content-Length of 0', () => {
    expect(parseHead('HTTP/1.1 204 No Content\r\n\r\n')).toMatchObject({ statusCode: 204, body: undefined });
    expect(parseHead('HTTP/1.1 304 Not Modified\r\nContent-Length: 40\r\n\r\n')).toMatchObject({ statusCode: 304, body: undefined });
    expect(parseHead('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')).toMatchObject({ statusCode: 200, body: undefined });
  });

  it('refuses what is not an HTTP/1.x status line, and a body it cannot delimit', () => {
    expect(parseHead('SSH-2.0-OpenSSH\r\n\r\n')).toBeInstanceOf(Error);
    expect(parseHead('HTTP/1.1 200 OK\r\nX-A: b\r\n\r\n')).toBeInstanceOf(Error);
    expect(parseHead('HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n')).toBeInstanceOf(Error);
  });
});

describe('consumeChunked: a chunked body cut anywhere', () => {
  /** `chunks` as a chunked body, with `after` bytes following it. */
  const encoded = (chunks: readonly string[], after = ''): Buffer =>
    Buffer.from(`${chunks.map((chunk) => `${Buffer.byteLength(chunk).toString(16)};ext=1\r\n${chunk}\r\n`).join('')}0\r\n\r\n${after}`);

  it('ends exactly after the blank line that follows the last chunk, however the bytes are cut', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }), { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (chunks, cuts) => {
        const body = encoded(chunks);
        // Cut points strictly inside the body, so that every piece holds at least a byte.
        const points = [...new Set(cuts.map((cut) => 1 + (cut % (body.length - 1))))].sort((a, b) => a - b);
        const bounds = [0, ...points, body.length];
        const pieces = bounds.slice(1).map((end, index) => body.subarray(bounds[index], end));
        const state = { kind: 'chunked' as const, pending: 0, line: '', last: false };
        const ends = pieces.map((piece) => consumeChunked(state, piece, 0));
        // Every piece before the last is consumed whole; the last ends the body at its own end.
        expect(ends.slice(0, -1).every((end) => end === -1)).toBe(true);
        expect(ends.at(-1)).toBe(pieces.at(-1)?.length);
      }),
    );
  });

  it('says where the body ends when more bytes follow it', () => {
    const body = encoded(['abc', 'Åsa'], 'HTTP/1.1 200');
    const state = { kind: 'chunked' as const, pending: 0, line: '', last: false };
    expect(consumeChunked(state, body, 0)).toBe(body.length - 'HTTP/1.1 200'.length);
  });

  it('refuses a size line that is not hexadecimal', () => {
    const state = { kind: 'chunked' as const, pending: 0, line: '', last: false };
    expect(consumeChunked(state, Buffer.from('zz\r\nabc\r\n'), 0)).toBeInstanceOf(Error);
  });
});

describe('RawHttpPool against real servers on loopback', () => {
  let server: Server | NetServer | undefined;
  let pool: RawHttpPool | undefined;
  afterEach(async () => {
    pool?.close();
    pool = undefined;
    server?.close();
    if (server !== undefined) await once(server, 'close');
    server = undefined;
  });

  it("reads node's answers with a Content-Length and chunked, sends bodies and headers, and keeps the connection", async () => {
    const seen: { method: string; url: string; body: string; auth: string | undefined; connection: number }[] = [];
    const sockets = new Map<unknown, number>();
    const http = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (!sockets.has(request.socket)) sockets.set(request.socket, sockets.size);
        seen.push({ method: request.method ?? '', url: request.url ?? '', body: Buffer.concat(chunks).toString('utf8'), auth: request.headers.authorization, connection: sockets.get(request.socket) ?? -1 });
        if (request.url === '/chunked') {
          response.write('Åsa ');
          response.write('x'.repeat(70_000));
          response.end('slut');
        } else if (request.url === '/missing') {
          response.statusCode = 404;
          response.end('{"resourceType":"OperationOutcome"}');
        } else response.end('ok');
      });
    });
    server = http;
    const { origin } = await listenOnLoopback(http);
    pool = new RawHttpPool(origin, { connections: 1, timeoutMs: 5_000 });
    const text = JSON.stringify({ note: `Åsa Öberg – samordnad plan ${'ä'.repeat(40_000)} 🙂` });
    expect(await send(pool, { method: 'GET', path: '/chunked', headers: { Authorization: 'Bearer t' } })).toEqual({ statusCode: 200 });
    expect(await send(pool, { method: 'POST', path: '/fhir', headers: { 'Content-Type': 'application/fhir+json' }, body: text })).toEqual({ statusCode: 200 });
    expect(await send(pool, { method: 'POST', path: '/fhir', body: Buffer.from(text) })).toEqual({ statusCode: 200 });
    expect(await send(pool, { method: 'GET', path: '/missing' })).toEqual({ statusCode: 404 });
    expect(seen.map(({ method, url }) => `${method} ${url}`)).toEqual(['GET /chunked', 'POST /fhir', 'POST /fhir', 'GET /missing']);
    expect(seen[0]?.auth).toBe('Bearer t');
    expect(seen[1]?.body).toBe(text);
    expect(seen[2]?.body).toBe(text);
    // One connection, kept alive for all four.
    expect(new Set(seen.map(({ connection }) => connection))).toEqual(new Set([0]));
  });

  it('reads an answer that comes a byte at a time', async () => {
    const started = await rawServer(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'), (bytes) => [...bytes].map((byte) => Buffer.from([byte])));
    server = started.server;
    pool = new RawHttpPool(started.origin, { connections: 1, timeoutMs: 5_000 });
    expect(await send(pool, { method: 'GET', path: '/a' })).toEqual({ statusCode: 200 });
    expect(await send(pool, { method: 'GET', path: '/b' })).toEqual({ statusCode: 200 });
  });

  it('opens a new connection after an answer that says Connection: close, even for a request sent from its callback', async () => {
    const started = await rawServer(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'), (bytes) => [bytes]);
    server = started.server;
    let connections = 0;
    started.server.on('connection', () => connections++);
    const open = new RawHttpPool(started.origin, { connections: 1, timeoutMs: 5_000 });
    pool = open;
    const outcomes = await new Promise<RawOutcome[]>((resolve) => {
      open.request({ method: 'GET', path: '/a' }, (first) => {
        // Sent before the closed connection's 'close' event: it must not be given that connection.
        open.request({ method: 'GET', path: '/b' }, (second) => {
          resolve([first, second]);
        });
      });
    });
    expect(outcomes).toEqual([{ statusCode: 200 }, { statusCode: 200 }]);
    expect(connections).toBe(2);
  });

  it('fails a request whose connection closes before its answer ends, and opens a new connection for the next', async () => {
    let connections = 0;
    const started = await netServer((socket) => {
      connections++;
      socket.once('data', () => {
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort');
      });
    });
    server = started.server;
    pool = new RawHttpPool(started.origin, { connections: 1, timeoutMs: 5_000 });
    const first = await send(pool, { method: 'GET', path: '/' });
    expect('error' in first && first.error.message).toMatch(/closed before the answer ended/);
    const second = await send(pool, { method: 'GET', path: '/' });
    expect('error' in second).toBe(true);
    expect(connections).toBe(2);
  });

  it('fails a request with no answer within its timeout', async () => {
    const started = await netServer((socket) => socket.resume());
    server = started.server;
    pool = new RawHttpPool(started.origin, { connections: 1, timeoutMs: 200 });
    const outcome = await send(pool, { method: 'GET', path: '/' });
    expect('error' in outcome && outcome.error.message).toMatch(/no answer within 200 ms/);
  });

  it('refuses a request when every connection is busy', async () => {
    const started = await netServer((socket) => socket.resume());
    server = started.server;
    const busy = new RawHttpPool(started.origin, { connections: 1, timeoutMs: 5_000 });
    pool = busy;
    busy.request({ method: 'GET', path: '/' }, () => undefined);
    expect(() => {
      busy.request({ method: 'GET', path: '/' }, () => undefined);
    }).toThrow(/all 1 connections are busy/);
  });
});
