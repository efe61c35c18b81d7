/**
 * The request log's lines (src/http/app.ts `requestLogOptions`): the serializers take the raw request
 * and response instead of pino-std-serializers' objects of every field, and the lines stay the lines
 * pino-http wrote with the wrapped serializers the service had before — the same members, the same
 * values but the query's — for answers, errors, a request whose answer never left, a routed and a query
 * URL. And no header, query value (a personnummer searched for) or address is in them.
 */
import { request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import express, { Router, type ErrorRequestHandler } from 'express';
import { pino } from 'pino';
import { pinoHttp, type Options } from 'pino-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestLogOptions } from '../../src/http/app.js';
import { listenOnLoopback } from '../support/loopback.js';

/** pino-http's options as src/http/app.ts gave them before `requestLogOptions`: the serializers wrapped by pino-std-serializers. */
function wrappedOptions(logger: pino.Logger): Options {
  return {
    logger,
    genReqId: (_request: IncomingMessage, response: ServerResponse) => {
      const id = `id-${String(next++)}`;
      response.setHeader('X-Request-Id', id);
      return id;
    },
    serializers: {
      req: (request: { id: unknown; method: unknown; url: unknown }) => ({ id: request.id, method: request.method, url: request.url }),
      res: (response: { statusCode: unknown }) => ({ statusCode: response.statusCode }),
    },
  };
}
let next = 0;

interface Lane {
  readonly lines: Record<string, unknown>[];
  readonly server: Server;
  readonly port: number;
}

/** An Express app logging with `options` into memory, with the kinds of routes the service has. */
async function lane(options: (logger: pino.Logger) => Options): Promise<Lane> {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const logger = pino({ name: 'sip-fhir' }, sink);
  const app = express();
  app.use(pinoHttp(options(logger)));
  app.get('/health', (_request, response) => {
    response.json({ status: 'ok' });
  });
  const fhir = Router();
  fhir.get('/CarePlan', (_request, response) => {
    response.status(200).type('application/fhir+json').send('{"resourceType":"Bundle"}');
  });
  fhir.get('/CarePlan/:id', (_request, response) => {
    response.status(200).type('application/fhir+json').send('{"resourceType":"CarePlan"}');
  });
  fhir.get('/fail', () => {
    throw new Error('a fault of the server');
  });
  fhir.get('/hang', () => {
    // Never answers: the client gives up, and the line is written on `close` with no status.
  });
  app.use('/fhir', fhir);
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const errors: ErrorRequestHandler = (error: unknown, request, response, _next) => {
    request.log.error({ err: error }, 'request failed');
    response.status(500).json({ error: 'failed' });
  };
  app.use(errors);
  const { server, port } = await listenOnLoopback(app);
  return { lines, server, port };
}

function get(port: number, path: string, abortAfterMs?: number): Promise<void> {
  return new Promise((resolve) => {
    const call = httpRequest({ host: '127.0.0.1', port, path, headers: { authorization: 'Bearer secret', 'x-personnummer': '191212121212' } }, (response) => {
      response.resume();
      response.on('end', resolve);
    });
    call.on('error', () => {
      resolve();
    });
    if (abortAfterMs !== undefined)
      setTimeout(() => {
        call.destroy();
        setTimeout(resolve, 50);
      }, abortAfterMs);
    call.end();
  });
}

/** A line without what differs from run to run (time, pid, host, duration) and with the request id numbered by order. */
function comparable(line: Record<string, unknown>): Record<string, unknown> {
  const { time: _time, pid: _pid, hostname: _hostname, responseTime, req, err, ...rest } = line;
  const request = req as { id?: unknown } | undefined;
  const error = err as { stack?: unknown } | undefined;
  return {
    ...rest,
    responseTime: typeof responseTime,
    ...(request === undefined ? {} : { req: { ...request, id: typeof request.id } }),
    ...(error === undefined ? {} : { err: { ...error, stack: typeof error.stack } }),
  };
}

const PERSON = encodeURIComponent('http://electronichealth.se/identifier/personnummer|191212121212');
const PATHS: readonly [string, number?][] = [
  ['/health'],
  ['/fhir/CarePlan/abc-123?_format=json&patient:identifier=x'],
  [`/fhir/CarePlan?patient:identifier=${PERSON}&_count=&flag`],
  ['/fhir/fail'],
  ['/nowhere'],
  ['/fhir/hang', 100],
];

describe('the request log lines', () => {
  let now: Lane;
  let before: Lane;

  beforeAll(async () => {
    now = await lane(requestLogOptions);
    before = await lane(wrappedOptions);
    for (const [path, abort] of PATHS) {
      await get(now.port, path, abort);
      await get(before.port, path, abort);
    }
    // The aborted request's line is written on `close`.
    await new Promise((resolve) => setTimeout(resolve, 100));
  });

  afterAll(() => {
    now.server.close();
    before.server.close();
    now.server.closeAllConnections();
    before.server.closeAllConnections();
  });

  it('writes the lines the wrapped serializers wrote, the query values of the URLs written *', () => {
    expect(now.lines.length).toBeGreaterThanOrEqual(PATHS.length);
    const withoutUrl = (line: Record<string, unknown>): Record<string, unknown> => {
      const { req, ...rest } = comparable(line);
      const { url: _url, ...request } = (req ?? {}) as Record<string, unknown>;
      return req === undefined ? rest : { ...rest, req: request };
    };
    expect(now.lines.map(withoutUrl)).toEqual(before.lines.map(withoutUrl));
  });

  it('names the request by id, method and the URL as sent, the response by status, and nothing else', () => {
    const completed = now.lines.filter((line) => line.msg === 'request completed');
    expect(completed.map((line) => (line.req as { url: string }).url)).toEqual([
      '/health',
      '/fhir/CarePlan/abc-123?_format=*&patient:identifier=*',
      '/fhir/CarePlan?patient:identifier=*&_count=*&flag',
      '/nowhere',
    ]);
    for (const line of now.lines) {
      const req = line.req as Record<string, unknown>;
      expect(Object.keys(req).sort()).toEqual(['id', 'method', 'url']);
      expect(typeof req.id).toBe('string');
      expect(JSON.stringify(line)).not.toContain('191212121212');
      expect(JSON.stringify(line)).not.toContain('secret');
    }
    const statuses = now.lines.filter((line) => line.res !== undefined).map((line) => (line.res as { statusCode: unknown }).statusCode);
    expect(statuses).toEqual([200, 200, 200, 500, 404, null]);
    expect(now.lines.find((line) => line.msg === 'request aborted')).toBeDefined();
  });
});
