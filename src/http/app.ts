/**
 * The adapter as an HTTP service (Express 5): the SIP JSON API under `/sip` and the FHIR R4 facade
 * under `/fhir`, built by a function that takes everything it depends on, so a test starts it on a
 * loopback port with its own store and clock and no globals.
 *
 * Every answer that is not a success is a problem document (RFC 9457) on `/sip` and an
 * OperationOutcome on `/fhir`, with a 4xx status for anything the caller can fix; a fault of the
 * server is a 500 with the request id, never a stack trace.
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import express, { Router } from 'express';
import { rateLimit, type Store as RateLimitStore } from 'express-rate-limit';
import helmet from 'helmet';
import { parse as parseContentType } from 'content-type';
import type { Logger } from 'pino';
import { pinoHttp, stdSerializers, type Options } from 'pino-http';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { parseJsonText, type SipPlan } from '../sip/index.js';
import type { PlanStore } from '../store/plan-store.js';
import type { Admission } from './reserved-acts.js';
import { keepBodyText } from './body-text.js';
import { utf8BodyText } from './utf8.js';
import { deliveryRouter } from './delivery-routes.js';
import type { TransactionReader } from './transaction-reader.js';
import { createValidator, type Validator } from '../validation/index.js';
import type { Mapping } from '../exchange/index.js';
import { fhirFormat } from './fhir-format.js';
import { parseQueryOnce } from './query-once.js';
import { HttpError, operationOutcome, problemDocument } from './problem.js';
import { auditEventRouter } from './audit-event-routes.js';
import { docsRouter } from './docs-routes.js';
import { fhirHistoryRouter } from './fhir-history-routes.js';
import { fhirTypeHistoryRouter } from './fhir-type-history.js';
import { fhirRouter } from './fhir-routes.js';
import { fhirTypeSearchRouter } from './fhir-type-search.js';
import { isFormSearch, postSearch } from './fhir-post-search.js';
import { fhirWriteRouter } from './fhir-write-routes.js';
import { INBOUND_BASE, inboundRouter } from './inbound-routes.js';
import { sipRouter } from './sip-routes.js';
import { SMART_CONFIGURATION_PATH, smartConfigurationRoute } from './smart-configuration.js';

/** Who calls: the organisation (HSA-id) and agent the caller's token names, and what its scopes allow. */
export interface Caller {
  readonly organization: string;
  readonly agent?: string;
  /**
   * Whether the caller's scopes allow an interaction on a resource type: the plans are `CarePlan`
   * (SMART `system/CarePlan.*`, the default), the audit log `AuditEvent`.
   */
  readonly may: (interaction: 'create' | 'read' | 'update' | 'search', resourceType?: string) => boolean;
}

export interface AppDependencies {
  readonly store: PlanStore;
  /** The server's clock: when a change is recorded, and when consent is judged for what is sent. */
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  readonly rateLimitPerMinute: number;
  /**
   * Where the rate limit counts an address's requests: this process's memory when not given; the
   * primary's, shared by every process, when the server runs several (src/http/processes.ts).
   */
  readonly rateLimitStore?: RateLimitStore;
  /** Who is calling, or an HttpError 401/403; the auth module provides it. */
  readonly authenticate: (request: Request) => Promise<Caller>;
  /**
   * Whether the caller's organisation may see and change a plan, judged at `at`, and as which party:
   * an other actor (`role: 'otherActor'`) reads the plan narrowed as a send to it would be
   * (src/http/narrowing.ts); a principal, a unit, or an access without a role reads it whole.
   */
  /**
   * Whether the caller may see and change the plan at `at`, as whom (`role`), and the principals whose
   * own acts it may record (src/http/reserved-acts.ts); neither is named when authentication is off.
   */
  readonly mayAccess: (plan: SipPlan, caller: Caller, at: Date) => Admission | { allowed: false; reason: string };
  /** The FHIR validator with the SIP profiles, for the facade's writes and `$validate`; one is made when not given. */
  readonly validator?: Validator;
  /** Where `POST /fhir` validates and reads a transaction: a pool of worker threads, or (when not given) the event loop with `validator`. */
  readonly transactionReader?: TransactionReader;
  /** The municipal systems' mappings by name, for `POST /exchange/inbound/{mapping}`; none when not given. */
  readonly mappings?: ReadonlyMap<string, Mapping>;
  /**
   * The receivers a new plan version is delivered to (issue #14): the ids the writes of `/sip` and
   * `POST /fhir` hand the store, which queues them in the version's transaction. None when not given.
   */
  readonly routeDeliveries?: (plan: SipPlan, writtenBy: string) => readonly string[];
  /** The organisations (HSA-ids) that may use `/exchange/deliveries` (`SIP_OPERATORS`); none when not given. */
  readonly operators?: readonly string[];
  /**
   * The external issuer's OAuth token endpoint (`SIP_AUTH_TOKEN_ENDPOINT`), named to SMART clients at
   * `/fhir/.well-known/smart-configuration` and in the CapabilityStatement; none when not given
   * (src/http/smart-configuration.ts).
   */
  readonly tokenEndpoint?: URL;
}

export const JSON_TYPES = ['application/json', 'application/fhir+json', 'application/problem+json'];

/** `POST /fhir`, whose body a transaction reader may take as text (src/http/body-text.ts). */
function isTransactionPost(request: Request): boolean {
  return request.method === 'POST' && (request.path === '/fhir' || request.path === '/fhir/');
}

/**
 * Whether a body is sent as UTF-8: its Content-Type names no charset (UTF-8 is body-parser's default
 * for text) or names UTF-8. A Content-Type that does not parse is left to body-parser's text reader,
 * which answers it as before.
 */
function sentAsUtf8(request: Request): boolean {
  const header = request.headers['content-type'];
  if (header === undefined) return true;
  try {
    const charset = parseContentType(header).parameters.charset?.toLowerCase();
    return charset === undefined || charset === 'utf-8' || charset === 'utf8';
  } catch {
    return false;
  }
}

/**
 * Request bodies are read as text and parsed by the project's one JSON reader, so errors say line and
 * column. A body sent as UTF-8 (nearly every one) is read as bytes and decoded through ICU
 * (src/http/utf8.ts `utf8BodyText`, the same text body-parser's text reader gives, sooner); one in
 * another charset by body-parser's text reader, as before. With `keepTransactionText`, the text of a
 * `POST /fhir` body is kept beside it for the reader.
 */
function jsonBody(maxBodyBytes: number, keepTransactionText: boolean): RequestHandler[] {
  const bytes = express.raw({ type: (request) => sentAsUtf8(request as Request) && (request as Request).is(JSON_TYPES) !== false, limit: maxBodyBytes });
  const text = express.text({ type: JSON_TYPES, limit: maxBodyBytes });
  const parse: RequestHandler = (request, _response, next) => {
    if ((request.method !== 'POST' && request.method !== 'PUT') || isFormSearch(request)) {
      next();
      return;
    }
    if (!request.is(JSON_TYPES)) {
      throw new HttpError(415, 'Unsupported Media Type', `Send the body as application/json or application/fhir+json; got ${request.headers['content-type'] ?? 'no Content-Type'}`);
    }
    const sent: unknown = request.body;
    const body = Buffer.isBuffer(sent) ? utf8BodyText(sent) : sent;
    const parsed = parseJsonText(typeof body === 'string' ? body : '');
    if (!parsed.ok) throw new HttpError(400, 'Malformed JSON', parsed.problems.map((problem) => problem.message).join('; '), parsed.problems);
    const unstorable = typeof body === 'string' && !mayHoldUnstorableText(body) ? undefined : unstorableText(parsed.value);
    if (unstorable !== undefined) throw new HttpError(400, 'Bad Request', `The body holds text the store cannot keep (U+0000 or an unpaired surrogate) at ${unstorable === '' ? '(document)' : unstorable}`);
    request.body = parsed.value;
    if (keepTransactionText && typeof body === 'string' && isTransactionPost(request)) keepBodyText(request, body);
    next();
  };
  return [bytes, text, parse];
}

/** An unpaired UTF-16 surrogate: valid in a JSON string (`"\\ud800"`), not in PostgreSQL text or jsonb. */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/**
 * Any UTF-16 surrogate, paired or not: text without one holds no unpaired one, and this plain class
 * scans a 60 kB body several times faster than {@link UNPAIRED_SURROGATE}'s lookarounds, which were
 * 1.6 % of the server's CPU under `POST /fhir` (docs/performance.md, branch `i11-tx5`).
 */
const ANY_SURROGATE = /[\ud800-\udfff]/;
/** Any sign of what {@link mayHoldUnstorableText} looks for, in one pattern: the escapes (`\u0000`, `\ud800`–`\udfff`, any case), U+0000, any surrogate. */
// U+0000 itself is one of the signs looked for, so the pattern holds that control character on purpose.
// eslint-disable-next-line no-control-regex
const ANY_UNSTORABLE_SIGN = /\\[uU](?:0000|[dD][89a-fA-F])|\u0000|[\ud800-\udfff]/;

/**
 * Whether JSON text may hold a string {@link unstorableText} finds; when false, the parsed value need
 * not be walked (on a transaction Bundle the walk cost more than the parse). Such a string comes from
 * JSON text as an escape (`\u0000`, `\ud800`–`\udfff`, any case) — JSON allows no unescaped U+0000, and
 * text decoded from UTF-8 holds no lone surrogate — yet both are looked for unescaped too. An escaped
 * backslash before `u0000` is a false alarm, which only costs the walk.
 */
export function mayHoldUnstorableText(text: string): boolean {
  // One pass over the text for any of them; most bodies hold none, and are done after it.
  if (!ANY_UNSTORABLE_SIGN.test(text)) return false;
  return /\\u(?:0000|d[89a-f])/i.test(text) || text.includes('\u0000') || (ANY_SURROGATE.test(text) && UNPAIRED_SURROGATE.test(text));
}

/**
 * The JSON pointer of the first string (value or member name) in `value` that PostgreSQL cannot
 * store — one holding U+0000 or an unpaired surrogate — or undefined when there is none. Such text is
 * the caller's error (400), not the server's: without this check the store's refusal was a 500.
 */
export function unstorableText(value: unknown, pointer = ''): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') || UNPAIRED_SURROGATE.test(value) ? pointer : undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = unstorableText(item, `${pointer}/${String(index)}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const at = `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      if (unstorableText(key) !== undefined) return at;
      const found = unstorableText(item, at);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * Errors of Express's router and of body-parser, as the HTTP errors they are: a path parameter with a
 * malformed percent-encoding (`/sip/plans/%E0`), a body that does not decompress, and so on carry a
 * 4xx status of their own, and were answered 500 before.
 */
export function asHttpError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  const type = (error as { type?: unknown }).type;
  if (type === 'entity.too.large') return new HttpError(413, 'Payload Too Large', 'The request body is larger than the server accepts (SIP_MAX_BODY)');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return new HttpError(415, 'Unsupported Media Type', 'Send the body as UTF-8');
  if (type === 'request.aborted' || type === 'request.size.invalid') return new HttpError(400, 'Bad Request', 'The request body was not received whole');
  if (error instanceof URIError) return new HttpError(400, 'Bad Request', 'The path holds a malformed percent-encoding');
  const status = (error as { status?: unknown }).status;
  if (typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500) {
    const expose = (error as { expose?: unknown }).expose === true && error instanceof Error;
    return new HttpError(status, STATUS_CODES[status] ?? 'Bad Request', expose ? `The request cannot be read: ${error.message}` : 'The request cannot be read');
  }
  return undefined;
}

/** What a request's log line names of the request: its id, method and URL as the caller sent it. */
interface LoggedRequest {
  readonly id: unknown;
  readonly method: unknown;
  readonly url: unknown;
}

/**
 * A request's URL as the request log writes it: the path, and the query's parameter names with each
 * value written `*`. A search names the person in its values (`patient:identifier=…|<personnummer>`,
 * `/sip/plans?personnummer=…`), and who read whose plan belongs to the audit log, not to the log
 * (issue #11: "no personal data in logs"); the names still say what kind of request it was.
 */
export function loggedUrl(url: unknown): unknown {
  if (typeof url !== 'string') return url;
  const question = url.indexOf('?');
  if (question < 0) return url;
  const names = url
    .slice(question + 1)
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const equals = pair.indexOf('=');
      return equals < 0 ? pair : `${pair.slice(0, equals)}=*`;
    });
  return `${url.slice(0, question)}${names.length === 0 ? '' : `?${names.join('&')}`}`;
}

/**
 * pino-http's options for the service's request log: one line per request with the request's id,
 * method and URL and the response's status — no personal data (the path may hold a plan id, never the
 * person's identity; the query's values, bodies and headers are not logged: {@link loggedUrl}).
 *
 * The serializers take the raw request and response (`wrapSerializers: false`). pino-http's default
 * first hands each to pino-std-serializers, which builds an object of every field — the request's
 * query (which Express 5 parses anew on each reading), its headers, the socket's remote address and
 * port (a native call each), a copy of the response's headers — only for these serializers to keep
 * three fields and one. The lines written are the same but for the query's values: `url` is the URL
 * as sent (`originalUrl`, as the standard serializer takes it under Express), and the status is null for a request whose answer
 * never left, as the standard serializer has it (test/http/request-log-lines.test.ts holds the lines
 * equal to the wrapped serializers').
 */
export function requestLogOptions(logger: Logger): Options {
  return {
    logger,
    genReqId: (_request, response) => {
      const id = randomUUID();
      response.setHeader('X-Request-Id', id);
      return id;
    },
    wrapSerializers: false,
    serializers: {
      req: (request: LoggedRequest & { readonly originalUrl?: string }) => ({
        id: request.id,
        method: request.method,
        url: loggedUrl(request.originalUrl !== undefined && request.originalUrl !== '' ? request.originalUrl : request.url),
      }),
      res: (response: { statusCode: unknown; headersSent: unknown }) => ({ statusCode: response.headersSent === true ? response.statusCode : null }),
      err: stdSerializers.err,
    },
  };
}

/**
 * The FHIR facade's read side: the AuditEvent routes, the type and instance histories, the other types'
 * searches and the CarePlan routes, in that order (the AuditEvent and history routes before the rest:
 * `/{type}` and `/{type}/{id}` would take `/AuditEvent/…` and `…/_history` otherwise).
 *
 * One Router rather than five mounted one after the other: a request went into every Router before the
 * one holding its route — each Router's dispatch (`Router.handle`: its closures and the request's saved
 * `baseUrl`, `next` and `params` made anew, `req.url` trimmed and restored, its layers matched) — seven
 * dispatches for a CarePlan read or search with the app's own and the docs Router's, two now; the FHIR
 * read's 41 layer matches became 36 (docs/performance.md, branch `i11-http9`). OPTIONS is answered
 * before it by {@link fhirReadOptions}.
 */
export function fhirReadRouter(dependencies: AppDependencies): Router {
  const router = Router();
  auditEventRouter(dependencies, router);
  fhirTypeHistoryRouter(dependencies, router);
  fhirHistoryRouter(dependencies, router);
  fhirTypeSearchRouter(dependencies, router);
  fhirRouter(dependencies, router);
  return router;
}

/**
 * OPTIONS on the FHIR read side, through its five Routers one after the other as before
 * {@link fhirReadRouter} (built again for it: their builders hold nothing but closures); every other
 * method goes on. The router package answers OPTIONS with the methods of every route of a Router that
 * matches the path, on leaving that Router: the one Router would name the methods of all five sections'
 * routes where the first section with a matching route answered before (`OPTIONS /fhir/CarePlan/_search`:
 * `POST`, not `GET, HEAD, POST`). An OPTIONS request none of the five answers matches no route of the one
 * Router either (it holds the same routes), and goes on through it unanswered as before.
 * test/http/request-routing.test.ts holds both to the app as it was.
 */
export function fhirReadOptions(dependencies: AppDependencies): RequestHandler {
  const sections = Router();
  sections.use(auditEventRouter(dependencies), fhirTypeHistoryRouter(dependencies), fhirHistoryRouter(dependencies), fhirTypeSearchRouter(dependencies), fhirRouter(dependencies));
  return (request, response, next) => {
    if (request.method === 'OPTIONS') sections(request, response, next);
    else next();
  };
}

export function createApp(given: AppDependencies): express.Express {
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
  app.use(jsonBody(dependencies.maxBodyBytes, dependencies.transactionReader?.takesText === true));
  app.get('/health', (_request, response) => {
    response.json({ status: 'ok' });
  });
  app.use('/sip', sipRouter(dependencies));
  // SMART discovery: JSON whatever the Accept header asks, and without a token, so before the FHIR format check and every FHIR route.
  app.get(SMART_CONFIGURATION_PATH, smartConfigurationRoute(dependencies.tokenEndpoint));
  // _format, _pretty and Accept, which R4 allows on every interaction, before any FHIR route reads the query.
  app.use('/fhir', fhirFormat());
  app.use('/fhir', fhirReadOptions(dependencies));
  app.use('/fhir', fhirReadRouter(dependencies));
  // The write side after every read route, so its 405s answer only what no route takes. A Router of its
  // own: an OPTIONS request the read side has routes for is answered (Allow) on leaving the read side's
  // Router, before the write side's `all` routes would take it.
  app.use('/fhir', fhirWriteRouter(dependencies));
  // After /sip and /fhir, whose requests never match its two paths: every request went into this Router
  // (mounted at `/`) while it came first.
  app.use(docsRouter());
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
