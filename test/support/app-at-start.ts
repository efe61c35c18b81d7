/**
 * The app as it was built at `aa11e79` (src/http/app.ts `createApp` and `jsonBody`, copied verbatim
 * but for the imports and the name): helmet's own middleware on every request, the docs Router before
 * `/sip` and `/fhir`, and the FHIR read side as five Routers mounted one after the other. The
 * differential of test/http/request-routing.test.ts holds the app of today to it: every route's
 * status, headers and body.
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import express from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { parseJsonText } from '../../src/sip/index.js';
import { asHttpError, mayHoldUnstorableText, requestLogOptions, unstorableText, JSON_TYPES, type AppDependencies } from '../../src/http/app.js';
import { auditEventRouter } from '../../src/http/audit-event-routes.js';
import { deliveryRouter } from '../../src/http/delivery-routes.js';
import { docsRouter } from '../../src/http/docs-routes.js';
import { fhirFormat } from '../../src/http/fhir-format.js';
import { fhirHistoryRouter } from '../../src/http/fhir-history-routes.js';
import { isFormSearch, postSearch } from '../../src/http/fhir-post-search.js';
import { fhirRouter } from '../../src/http/fhir-routes.js';
import { fhirTypeHistoryRouter } from '../../src/http/fhir-type-history.js';
import { fhirTypeSearchRouter } from '../../src/http/fhir-type-search.js';
import { fhirWriteRouter } from '../../src/http/fhir-write-routes.js';
import { INBOUND_BASE, inboundRouter } from '../../src/http/inbound-routes.js';
import { HttpError, operationOutcome, problemDocument } from '../../src/http/problem.js';
import { parseQueryOnce } from '../../src/http/query-once.js';
import { sipRouter } from '../../src/http/sip-routes.js';
import { createValidator } from '../../src/validation/index.js';

function jsonBody(maxBodyBytes: number): RequestHandler[] {
  const text = express.text({ type: JSON_TYPES, limit: maxBodyBytes });
  const parse: RequestHandler = (request, _response, next) => {
    if ((request.method !== 'POST' && request.method !== 'PUT') || isFormSearch(request)) {
      next();
      return;
    }
    if (!request.is(JSON_TYPES)) {
      throw new HttpError(415, 'Unsupported Media Type', `Send the body as application/json or application/fhir+json; got ${request.headers['content-type'] ?? 'no Content-Type'}`);
    }
    const body: unknown = request.body;
    const parsed = parseJsonText(typeof body === 'string' ? body : '');
    if (!parsed.ok) throw new HttpError(400, 'Malformed JSON', parsed.problems.map((problem) => problem.message).join('; '), parsed.problems);
    const unstorable = typeof body === 'string' && !mayHoldUnstorableText(body) ? undefined : unstorableText(parsed.value);
    if (unstorable !== undefined) throw new HttpError(400, 'Bad Request', `The body holds text the store cannot keep (U+0000 or an unpaired surrogate) at ${unstorable === '' ? '(document)' : unstorable}`);
    request.body = parsed.value;
    next();
  };
  return [text, parse];
}

export function createAppAtStart(given: AppDependencies): express.Express {
  // One validator (its definitions load once) for the facade's writes and the inbound mappings.
  const dependencies: AppDependencies = { ...given, validator: given.validator ?? createValidator() };
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Express 5 parses the query at every reading of request.query: once per URL here (src/http/query-once.ts).
  parseQueryOnce(app);
  app.use(pinoHttp(requestLogOptions(dependencies.logger)));
  app.use(helmet());
  app.use(
    rateLimit({
      windowMs: 60_000,
      limit: dependencies.rateLimitPerMinute,
      // The primary's counts are asked over the cluster's channel, which answers within a second or
      // fails (an event loop held up longer, e.g. by the first validation's definitions): such a
      // request passes uncounted, and is logged, rather than failing on the limiter.
      ...(dependencies.rateLimitStore === undefined
        ? {}
        : {
            store: dependencies.rateLimitStore,
            passOnStoreError: true,
            logger: {
              error: (error: unknown, message?: string) => { dependencies.logger.error({ err: error }, message); },
              warn: (error: unknown, message?: string) => { dependencies.logger.warn({ err: error }, message); },
            },
          }),
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      handler: (_request, _response, next) => {
        next(new HttpError(429, 'Too Many Requests', `More than ${String(dependencies.rateLimitPerMinute)} requests a minute from this address; wait and try again`));
      },
    }),
  );
  // Before the JSON reader: an export is read by its mapping's format (XML or JSON), as text.
  app.use(INBOUND_BASE, inboundRouter(dependencies));
  // The operators' routes take no body (a retry is a bare POST), so they come before the JSON reader.
  app.use('/exchange', deliveryRouter({ ...dependencies, outbox: dependencies.store.outbox, operators: dependencies.operators ?? [] }));
  // A FHIR search by POST sends a form, not JSON (src/http/fhir-post-search.ts).
  app.use('/fhir', postSearch(dependencies.maxBodyBytes));
  app.use(jsonBody(dependencies.maxBodyBytes));
  app.get('/health', (_request, response) => {
    response.json({ status: 'ok' });
  });
  app.use(docsRouter());
  app.use('/sip', sipRouter(dependencies));
  // Before the read side: its `/{type}` and `/{type}/{id}` would take `/AuditEvent/…` and `…/_history` otherwise.
  // _format, _pretty and Accept, which R4 allows on every interaction, before any FHIR route reads the query.
  app.use('/fhir', fhirFormat());
  app.use('/fhir', auditEventRouter(dependencies), fhirTypeHistoryRouter(dependencies), fhirHistoryRouter(dependencies));
  app.use('/fhir', fhirTypeSearchRouter(dependencies));
  app.use('/fhir', fhirRouter(dependencies));
  // The write side after every read route, so its 405s answer only what no route takes.
  app.use('/fhir', fhirWriteRouter(dependencies));
  app.use((request, _response, next) => {
    next(new HttpError(404, 'Not Found', `No ${request.method} ${request.path} here; the SIP API is under /sip, the FHIR facade under /fhir`));
  });
  // Express tells an error handler by its four parameters, so `_next` stays though it is not called.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const errors: ErrorRequestHandler = (error: unknown, request: Request, response: Response, _next: NextFunction) => {
    const requestId = typeof request.id === 'string' || typeof request.id === 'number' ? String(request.id) : 'unknown';
    const known = asHttpError(error) ?? new HttpError(500, 'Internal Server Error', `The server failed on this request (request id ${requestId}); it is logged`);
    if (known.status >= 500) request.log.error({ err: error }, 'request failed');
    for (const [name, value] of Object.entries(known.headers)) response.setHeader(name, value);
    if (request.path.startsWith('/fhir') || request.path.startsWith(INBOUND_BASE)) {
      response.status(known.status).type('application/fhir+json').send(JSON.stringify(operationOutcome(known)));
    } else {
      response.status(known.status).type('application/problem+json').send(JSON.stringify(problemDocument(known, request.originalUrl)));
    }
  };
  app.use(errors);
  return app;
}
