/**
 * The FHIR connector (issue #14, "What to build" 1): the plan's transaction Bundle posted to a FHIR
 * R4 server, and every kind of answer judged into a delivery outcome. nock plays the receiver; one
 * test posts to a real HTTP server on loopback and reads the bytes it got.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Bundle, BundleEntry, OperationOutcome } from 'fhir/r4.js';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFhirConnector, parseRetryAfter, refusesSize } from '../../../src/exchange/connectors/index.js';
import type { Connector, DeliveryOutcome } from '../../../src/exchange/delivery.js';
import { DEFAULT_MAPPING_OPTIONS, EXTENSION, IDENTIFIER_SYSTEM, planToBundle } from '../../../src/fhir/index.js';
import { examplePlan, fhirReceiver, messageOf } from './support.js';
import { closeServer, listenOnLoopback } from '../../support/loopback.js';

const ORIGIN = 'https://fhir.region.example';
const BASE = `${ORIGIN}/r4`;
const NOW = new Date('2026-02-05T14:30:00Z');
const plan = examplePlan('elderly-discharge-multimorbidity');
const message = messageOf(plan, 'region-fhir');
const sentBundle = planToBundle(plan, DEFAULT_MAPPING_OPTIONS, message.at);
const entryCount = sentBundle.entry?.length ?? 0;
const byteSize = Buffer.byteLength(JSON.stringify(sentBundle));

function transactionResponse(count: number, status: (index: number) => string = () => '201 Created'): Bundle {
  return { resourceType: 'Bundle', type: 'transaction-response', entry: Array.from({ length: count }, (_, index): BundleEntry => ({ response: { status: status(index) } })) };
}

function outcome(diagnostics: string, code = 'invalid', expression?: string[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics, ...(expression === undefined ? {} : { expression }) }] };
}

/** A CarePlan search answer holding version `version` of the plan (or nothing). */
function searchset(version: number | undefined): Bundle {
  const entry: BundleEntry[] =
    version === undefined
      ? []
      : [
          {
            search: { mode: 'match' },
            resource: {
              resourceType: 'CarePlan',
              id: 'cp-1',
              identifier: [{ system: IDENTIFIER_SYSTEM.sipPlan, value: plan.id }],
              extension: [{ url: EXTENSION.planVersion, valueInteger: version }],
              status: 'active',
              intent: 'plan',
              subject: { reference: 'Patient/p1' },
            },
          },
        ];
  return { resourceType: 'Bundle', type: 'searchset', total: entry.length, entry };
}

const FHIR_HEADERS = { 'Content-Type': 'application/fhir+json' };

/** The Bundle nock was sent (parsed by nock when it could tell it was JSON, else the text). */
const sentTo = (body: unknown): Bundle => (typeof body === 'string' ? (JSON.parse(body) as Bundle) : (body as Bundle));
let connector: Connector;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterEach(async () => {
  await connector.close?.();
  nock.cleanAll();
});
afterAll(() => {
  nock.enableNetConnect();
});

function connect(timeoutMs = 2_000): Connector {
  connector = createFhirConnector(fhirReceiver(BASE, { type: 'bearer', token: 'static-token' }, timeoutMs), { now: () => NOW });
  return connector;
}

describe('a transaction the receiver accepts', () => {
  it('posts the plan as a transaction Bundle with the FHIR media type, idempotency key and token', async () => {
    let seen: { headers: Record<string, string | string[] | undefined>; body: unknown } | undefined;
    const scope = nock(ORIGIN)
      .post('/r4')
      .reply(function (_uri, body) {
        seen = { headers: this.req.headers, body: typeof body === 'string' ? JSON.parse(body) : body };
        return [200, transactionResponse(entryCount), FHIR_HEADERS];
      });
    const result = await connect().deliver(message);
    expect(result).toEqual({ kind: 'delivered', status: 200, detail: `${String(entryCount)} entries` });
    expect(scope.isDone()).toBe(true);
    expect(seen?.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    expect(seen?.headers.accept).toBe('application/fhir+json');
    expect(seen?.headers['idempotency-key']).toBe(`${plan.id}/v${String(plan.version)}/region-fhir`);
    expect(seen?.headers.authorization).toBe('Bearer static-token');
    expect(seen?.body).toEqual(sentBundle);
    expect((seen?.body as Bundle).type).toBe('transaction');
  });

  it('is not delivered when an entry of the answer did not succeed, or the answer is no transaction-response', async () => {
    nock(ORIGIN).post('/r4').reply(200, transactionResponse(entryCount, (index) => (index === 3 ? '400 Bad Request' : '200 OK')), FHIR_HEADERS);
    const partial = await connect().deliver(message);
    expect(partial).toMatchObject({ kind: 'failed', status: 200 });
    expect(partial.kind === 'failed' && partial.reason).toContain('entry 3: 400 Bad Request');

    nock(ORIGIN).post('/r4').reply(200, '<html>welcome</html>', { 'Content-Type': 'text/html' });
    const html = await connector.deliver(message);
    expect(html).toMatchObject({ kind: 'failed', status: 200 });
    expect(html.kind === 'failed' && html.reason).toContain('without a transaction-response Bundle (<html>welcome</html>)');

    nock(ORIGIN).post('/r4').reply(200, transactionResponse(2), FHIR_HEADERS);
    const short = await connector.deliver(message);
    expect(short.kind === 'failed' && short.reason).toBe(`${BASE} answered a transaction-response with 2 entries for the ${String(entryCount)} sent`);
  });
});

describe('a plan that may not be sent at the moment of sending', () => {
  it('fails without a request when its consent is not in force then', async () => {
    const scope = nock(ORIGIN).post('/r4').reply(200, transactionResponse(0), FHIR_HEADERS);
    const withdrawn = examplePlan('closed-consent-withdrawn');
    const result = await connect().deliver(messageOf(withdrawn, 'region-fhir'));
    expect(result.kind).toBe('failed');
    expect(result.kind === 'failed' && result.reason).toMatch(/^the plan may not be sent at .*: consent\.withdrawn at /);
    expect(scope.isDone()).toBe(false);
  });

  it('sends nothing the judgement the message carries refused, though the plan itself would pass', async () => {
    const scope = nock(ORIGIN).post('/r4').reply(200, transactionResponse(entryCount), FHIR_HEADERS);
    const judgement = [{ severity: 'error' as const, code: 'consent.expired', pointer: '/consents/0', message: 'the consent expired' }];
    const result = await connect().deliver({ ...message, judgement });
    expect(result).toEqual({ kind: 'failed', reason: `the plan may not be sent at ${message.at.toISOString()}: consent.expired at /consents/0: the consent expired` });
    expect(scope.isDone()).toBe(false);
  });

  it('trusts a judgement without errors, and judges itself only when the message carries none', async () => {
    // The withdrawn plan with a judgement that found nothing: the connector does not judge again (the decision did, at this instant).
    const withdrawn = examplePlan('closed-consent-withdrawn');
    const scope = nock(ORIGIN).post('/r4').reply(200, (_uri, body) => transactionResponse(sentTo(body).entry?.length ?? 0), FHIR_HEADERS);
    const result = await connect().deliver(messageOf(withdrawn, 'region-fhir', { judgement: [] }));
    expect(result.kind).toBe('delivered');
    expect(scope.isDone()).toBe(true);
  });
});

describe('every attempt under one Idempotency-Key', () => {
  it('sends the same Bundle, timestamped when the version was recorded, whenever the attempt is made', async () => {
    const bodies: string[] = [];
    nock(ORIGIN)
      .post('/r4')
      .times(2)
      .reply(200, (_uri, body) => {
        bodies.push(JSON.stringify(sentTo(body)));
        return transactionResponse(sentTo(body).entry?.length ?? 0);
      }, FHIR_HEADERS);
    const recordedAt = new Date(plan.updatedAt);
    const first = await connect().deliver({ ...message, at: new Date(recordedAt.getTime() + 60_000), attempt: 1 });
    const retry = await connect().deliver({ ...message, at: new Date(recordedAt.getTime() + 3 * 3_600_000), attempt: 2 });
    expect([first.kind, retry.kind]).toEqual(['delivered', 'delivered']);
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toBe(bodies[0]);
    expect((JSON.parse(bodies[0] ?? '{}') as Bundle).timestamp).toBe(planToBundle(plan, DEFAULT_MAPPING_OPTIONS, recordedAt).timestamp);
  });
});

describe('answers worth trying again', () => {
  it('retries after a timeout', async () => {
    nock(ORIGIN).post('/r4').delay(1_000).reply(200, transactionResponse(entryCount), FHIR_HEADERS);
    const result = await connect(100).deliver(message);
    expect(result).toEqual({ kind: 'retry', reason: `no answer from ${BASE} within 100 ms (timeout)` });
  });

  it('retries a reset and a refused connection, naming the error', async () => {
    nock(ORIGIN).post('/r4').replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const reset = await connect().deliver(message);
    expect(reset.kind).toBe('retry');
    expect(reset.kind === 'retry' && reset.reason).toMatch(/^no answer from https:\/\/fhir\.region\.example\/r4: ECONNRESET/);

    nock(ORIGIN).post('/r4').replyWithError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const refused = await connector.deliver(message);
    expect(refused.kind === 'retry' && refused.reason).toMatch(/ECONNREFUSED/);
  });

  it('retries a real refused connection on loopback (nothing listens)', async () => {
    const { server, port } = await listenOnLoopback(createServer());
    await closeServer(server);
    connector = createFhirConnector(fhirReceiver(`http://127.0.0.1:${String(port)}/fhir`));
    const result = await connector.deliver(message);
    expect(result.kind === 'retry' && result.reason).toMatch(/ECONNREFUSED/);
  });

  it('retries a 500 with the OperationOutcome in the reason', async () => {
    nock(ORIGIN).post('/r4').reply(500, outcome('database unavailable', 'exception'), FHIR_HEADERS);
    const result = await connect().deliver(message);
    expect(result).toEqual({ kind: 'retry', status: 500, reason: `${BASE} answered 500: error exception: database unavailable` });
  });

  it('honours Retry-After in delta-seconds and as an HTTP-date, of a 429 and of a 503', async () => {
    nock(ORIGIN).post('/r4').reply(429, outcome('slow down', 'throttled'), { ...FHIR_HEADERS, 'Retry-After': '120' });
    const seconds = await connect().deliver(message);
    expect(seconds).toMatchObject({ kind: 'retry', status: 429, retryAfterMs: 120_000 });

    nock(ORIGIN).post('/r4').reply(503, 'maintenance', { 'Retry-After': 'Thu, 05 Feb 2026 14:31:30 GMT' });
    const date = await connector.deliver(message);
    expect(date).toMatchObject({ kind: 'retry', status: 503, retryAfterMs: 90_000 });
    expect(date.kind === 'retry' && date.reason).toBe(`${BASE} answered 503: maintenance`);

    nock(ORIGIN).post('/r4').reply(429, outcome('slow down', 'throttled'), { ...FHIR_HEADERS, 'Retry-After': 'Thu, 05 Feb 2026 14:32:00 GMT' });
    expect(await connector.deliver(message)).toMatchObject({ kind: 'retry', status: 429, retryAfterMs: 120_000 });

    nock(ORIGIN).post('/r4').reply(429, '');
    expect(await connector.deliver(message)).not.toHaveProperty('retryAfterMs');
  });
});

describe('Retry-After', () => {
  it('reads delta-seconds and HTTP-dates, a past date as 0, and nothing else', () => {
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(' 30 ', NOW)).toBe(30_000);
    expect(parseRetryAfter('Thu, 05 Feb 2026 14:30:10 GMT', NOW)).toBe(10_000);
    expect(parseRetryAfter('Thu, 05 Feb 2026 14:00:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter('-5', NOW)).toBeUndefined();
    expect(parseRetryAfter('1.5', NOW)).toBeUndefined();
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });
});

describe('409 and 412: the receiver is read back', () => {
  const search = { identifier: `${IDENTIFIER_SYSTEM.sipPlan}|${plan.id}` };

  async function conflictThenHolds(status: number, held: number | undefined): Promise<DeliveryOutcome> {
    nock(ORIGIN).post('/r4').reply(status, outcome('version conflict', 'conflict'), FHIR_HEADERS);
    nock(ORIGIN).get('/r4/CarePlan').query(search).matchHeader('authorization', 'Bearer static-token').reply(200, searchset(held), FHIR_HEADERS);
    const result = await connect().deliver(message);
    expect(nock.isDone()).toBe(true);
    return result;
  }

  it('is delivered when the receiver holds this version or a later one', async () => {
    expect(await conflictThenHolds(409, plan.version)).toEqual({
      kind: 'delivered',
      status: 409,
      detail: `the receiver already holds version ${String(plan.version)} of the plan (answered 409 to version ${String(plan.version)})`,
    });
    expect(await conflictThenHolds(412, plan.version + 3)).toMatchObject({ kind: 'delivered', status: 412 });
  });

  it('is retried when the receiver holds an earlier version or none', async () => {
    const earlier = await conflictThenHolds(409, plan.version - 1);
    expect(earlier).toEqual({
      kind: 'retry',
      status: 409,
      reason: `${BASE} answered 409 (error conflict: version conflict); it holds version ${String(plan.version - 1)} of the plan, not ${String(plan.version)}`,
    });
    const none = await conflictThenHolds(412, undefined);
    expect(none.kind === 'retry' && none.reason).toContain('it holds no version of the plan');
  });

  it('is retried when the read-back fails', async () => {
    nock(ORIGIN).post('/r4').reply(409, outcome('conflict', 'conflict'), FHIR_HEADERS);
    nock(ORIGIN).get('/r4/CarePlan').query(search).reply(503, 'busy');
    const result = await connect().deliver(message);
    expect(result).toMatchObject({ kind: 'retry', status: 409 });
    expect(result.kind === 'retry' && result.reason).toContain('reading its CarePlan back answered 503: busy');
  });
});

describe('a transaction too large for the receiver', () => {
  function postCounted(status: number, body: unknown): { posts: () => number } {
    let posts = 0;
    nock(ORIGIN)
      .post(/.*/)
      .times(5)
      .reply(() => {
        posts += 1;
        return [status, body, FHIR_HEADERS];
      });
    return { posts: () => posts };
  }

  it('fails at once on 413, naming entries and bytes, without a second (batch) request', async () => {
    const counter = postCounted(413, outcome('Request Entity Too Large', 'too-costly'));
    const result = await connect().deliver(message);
    expect(result).toMatchObject({ kind: 'failed', status: 413 });
    expect(result.kind === 'failed' && result.reason).toContain(`(a transaction of ${String(entryCount)} entries, ${String(byteSize)} bytes)`);
    expect(counter.posts()).toBe(1);
  });

  it("fails at once on an OperationOutcome saying so, like Medplum's strict isolation limit", async () => {
    const counter = postCounted(400, outcome('Transaction requires strict isolation but has too many entries (22 > 20)', 'invalid'));
    const result = await connect().deliver(message);
    expect(result).toMatchObject({ kind: 'failed', status: 400 });
    expect(result.kind === 'failed' && result.reason).toBe(
      `${BASE} refuses a request of this size (a transaction of ${String(entryCount)} entries, ${String(byteSize)} bytes): 400 error invalid: Transaction requires strict isolation but has too many entries (22 > 20); it is not split or sent otherwise — raise the receiver's limit or deliver a smaller plan`,
    );
    expect(counter.posts()).toBe(1);
  });

  it('fails at once on a 5xx whose OperationOutcome is too-costly (retrying cannot help)', async () => {
    postCounted(500, outcome('Bundle exceeds the maximum of 100 entries', 'processing'));
    const result = await connect().deliver(message);
    expect(result).toMatchObject({ kind: 'failed', status: 500 });
  });
});

describe('refusesSize', () => {
  const answer = (status: number, diagnostics: string, code = 'processing') => ({ status, headers: {}, body: JSON.stringify(outcome(diagnostics, code)) });

  it('knows 413, the too-costly and too-long issue codes, and the words servers use', () => {
    expect(refusesSize({ status: 413, headers: {}, body: '' })).toBe(true);
    expect(refusesSize(answer(400, 'anything', 'too-costly'))).toBe(true);
    expect(refusesSize(answer(400, 'anything', 'too-long'))).toBe(true);
    expect(refusesSize(answer(400, 'Transaction requires strict isolation but has too many entries (30 > 20)'))).toBe(true);
    expect(refusesSize(answer(400, 'Can not process transaction with 120 entries: maximum is 100'))).toBe(true);
    expect(refusesSize(answer(400, 'Bundle size exceeds the maximum allowed'))).toBe(true);
  });

  it('does not take other refusals, or a success, for one', () => {
    expect(refusesSize(answer(400, 'CarePlan.subject: minimum required = 1', 'required'))).toBe(false);
    expect(refusesSize(answer(422, 'Unknown code in value set', 'code-invalid'))).toBe(false);
    expect(refusesSize({ status: 200, headers: {}, body: JSON.stringify(outcome('too many entries')) })).toBe(false);
    expect(refusesSize({ status: 400, headers: {}, body: 'too many entries' })).toBe(false);
  });
});

describe('other refusals', () => {
  it('fails a 422 with the diagnostics and expressions of its OperationOutcome', async () => {
    nock(ORIGIN).post('/r4').reply(422, outcome('CarePlan.subject: minimum required = 1, but only found 0', 'required', ['Bundle.entry[12].resource.subject']), FHIR_HEADERS);
    const result = await connect().deliver(message);
    expect(result).toEqual({
      kind: 'failed',
      status: 422,
      reason: `${BASE} refused the delivery with 422: error required: CarePlan.subject: minimum required = 1, but only found 0 (at Bundle.entry[12].resource.subject)`,
    });
  });

  it('fails a 403 with a plain body, and a redirect it does not follow', async () => {
    nock(ORIGIN).post('/r4').reply(403, 'Forbidden');
    expect(await connect().deliver(message)).toEqual({ kind: 'failed', status: 403, reason: `${BASE} refused the delivery with 403: Forbidden` });
    nock(ORIGIN).post('/r4').reply(301, '', { Location: 'https://elsewhere.example/r4' });
    const moved = await connector.deliver(message);
    expect(moved.kind === 'failed' && moved.reason).toBe(`${BASE} answered 301 (a redirect to https://elsewhere.example/r4, not followed): configure the final URL`);
  });

  it('fails a static bearer token refused with 401, without asking twice', async () => {
    let posts = 0;
    nock(ORIGIN)
      .post('/r4')
      .times(2)
      .reply(() => {
        posts += 1;
        return [401, outcome('token expired', 'login'), FHIR_HEADERS];
      });
    const result = await connect().deliver(message);
    expect(result).toMatchObject({ kind: 'failed', status: 401 });
    expect(posts).toBe(1);
  });
});

describe('a real FHIR receiver on loopback', () => {
  let server: Server;
  let base: string;
  const received: { method?: string; url?: string; headers: IncomingHttpHeaders; bytes: Buffer }[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const bytes = Buffer.concat(chunks);
        received.push({ method: request.method, url: request.url, headers: request.headers, bytes });
        const bundle = JSON.parse(bytes.toString('utf8')) as Bundle;
        response.writeHead(200, { 'Content-Type': 'application/fhir+json' });
        response.end(JSON.stringify(transactionResponse(bundle.entry?.length ?? 0)));
      });
    });
    base = `${(await listenOnLoopback(server)).origin}/fhir`;
  });
  afterAll(async () => {
    await closeServer(server);
  });

  it('receives exactly the transaction Bundle of the plan, as UTF-8 JSON', async () => {
    connector = createFhirConnector(fhirReceiver(base, { type: 'bearer', token: 'loopback-token' }));
    const result = await connector.deliver(message);
    expect(result).toEqual({ kind: 'delivered', status: 200, detail: `${String(entryCount)} entries` });
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/fhir');
    expect(request?.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    expect(request?.headers['idempotency-key']).toBe(message.idempotencyKey);
    expect(request?.headers.authorization).toBe('Bearer loopback-token');
    expect(Number(request?.headers['content-length'])).toBe(request?.bytes.length);
    expect(request?.bytes.equals(Buffer.from(JSON.stringify(sentBundle), 'utf8'))).toBe(true);
    // Swedish letters arrive as UTF-8, not escaped or mangled.
    expect(request?.bytes.toString('utf8')).toContain('Linköping');
  });
});
