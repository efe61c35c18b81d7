/**
 * One log line per request, as pino-http wrote it (`req` {id, method, url}, `res` {statusCode},
 * `responseTime`, "request completed"; "request errored" at error level for a 5xx), without its per-request
 * child loggers: pino-http made two `logger.child` per request (serialising the request's bindings
 * each time) and kept lists of loggers on the request and response, ≈ 5 % of a read's server time for a
 * line that says the same (docs/performance.md, ninth run). The request id is a new UUID, answered as
 * `X-Request-Id` and kept in `response.locals.requestId` for the error handler.
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Logger } from 'pino';

/** The request id this middleware gave the request, or `unknown` before it ran. */
export function requestIdOf(response: Response): string {
  const id: unknown = response.locals.requestId;
  return typeof id === 'string' ? id : 'unknown';
}

export function requestLog(logger: Logger): RequestHandler {
  return (request, response, next) => {
    const id = randomUUID();
    const started = Date.now();
    // The URL as asked: a mounted router rewrites request.url while it routes.
    const url = request.url;
    response.locals.requestId = id;
    response.setHeader('X-Request-Id', id);
    const done = (): void => {
      response.removeListener('finish', done);
      response.removeListener('close', done);
      // No personal data in logs: the path may hold a plan id, never the person's identity; bodies are not logged.
      const line = { req: { id, method: request.method, url }, res: { statusCode: response.statusCode }, responseTime: Date.now() - started };
      if (response.statusCode >= 500) logger.error(line, 'request errored');
      else logger.info(line, 'request completed');
    };
    response.on('finish', done);
    response.on('close', done);
    next();
  };
}
