/**
 * The mapping connector (issue #14, "What to build" 1): the plan written in a municipal system's
 * format, posted to its endpoint (nock for the answers, a real loopback server for the bytes) or
 * dropped as a file in its folder, atomically and under one name per plan version and receiver.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createConnector, createMappingConnector, dropFileName, loadReceiverMappings } from '../../../src/exchange/connectors/index.js';
import type { Connector } from '../../../src/exchange/delivery.js';
import { loadMapping, translateOutbound, type Mapping } from '../../../src/exchange/mapping/index.js';
import { examplePlan, MAPPINGS_DIR, mappingReceiver, messageOf } from './support.js';
import { closeServer, listenOnLoopback } from '../../support/loopback.js';

const ORIGIN = 'https://kommun.example';
const ENDPOINT = `${ORIGIN}/api/sip`;
const NOW = new Date('2026-02-05T14:30:00Z');

let json: Mapping;
let xml: Mapping;
let connector: Connector | undefined;
beforeAll(async () => {
  json = await loadMapping(path.join(MAPPINGS_DIR, 'modern-case-api'));
  xml = await loadMapping(path.join(MAPPINGS_DIR, 'legacy-xml-export'));
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterEach(async () => {
  await connector?.close?.();
  connector = undefined;
  nock.cleanAll();
});
afterAll(() => {
  nock.enableNetConnect();
});

/** Plans each mapping can write (the other examples use codes the modern API has no value for). */
const jsonPlan = examplePlan('protected-identity');
const xmlPlan = examplePlan('elderly-discharge-multimorbidity');

function postTo(mapping: Mapping, timeoutMs = 2_000): Connector {
  connector = createMappingConnector(mappingReceiver(mapping.name, { endpoint: ENDPOINT }, { type: 'bearer', token: 'kommun-token' }, timeoutMs), mapping, { now: () => NOW });
  return connector;
}

describe('posting to an endpoint', () => {
  const message = messageOf(jsonPlan, 'kommun');
  let expected: string | undefined;
  beforeAll(() => {
    expected = translateOutbound(json, jsonPlan, { at: message.at, reportLoss: false }).text;
  });

  it('posts the JSON document with its media type, the idempotency key and the token', async () => {
    let seen: { headers: Record<string, string | string[] | undefined>; body: unknown } | undefined;
    nock(ORIGIN)
      .post('/api/sip')
      .reply(function (_uri, body) {
        seen = { headers: this.req.headers, body };
        return [201, ''];
      });
    expect(await postTo(json).deliver(message)).toEqual({ kind: 'delivered', status: 201 });
    expect(seen?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(seen?.headers['idempotency-key']).toBe(message.idempotencyKey);
    expect(seen?.headers.authorization).toBe('Bearer kommun-token');
    expect(expected).toBeDefined();
    expect(seen?.body).toEqual(JSON.parse(expected ?? 'null'));
  });

  it('retries a 503 with Retry-After, a timeout, a reset, and a 409 (same key still being processed)', async () => {
    nock(ORIGIN).post('/api/sip').reply(503, 'busy', { 'Retry-After': '7' });
    expect(await postTo(json, 150).deliver(message)).toEqual({ kind: 'retry', status: 503, reason: `${ENDPOINT} answered 503: busy`, retryAfterMs: 7_000 });
    nock(ORIGIN).post('/api/sip').delay(1_000).reply(201);
    expect(await connector?.deliver(message)).toEqual({ kind: 'retry', reason: `no answer from ${ENDPOINT} within 150 ms (timeout)` });
    nock(ORIGIN).post('/api/sip').replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const reset = await connector?.deliver(message);
    expect(reset?.kind === 'retry' && reset.reason).toMatch(/ECONNRESET/);
    nock(ORIGIN).post('/api/sip').reply(409, 'in progress');
    expect(await connector?.deliver(message)).toMatchObject({ kind: 'retry', status: 409 });
  });

  it('fails a 413 naming the document size, and a 400 with what the system said', async () => {
    nock(ORIGIN).post('/api/sip').reply(413, 'Payload Too Large');
    const large = await postTo(json).deliver(message);
    expect(large).toMatchObject({ kind: 'failed', status: 413 });
    expect(large.kind === 'failed' && large.reason).toContain(`(a JSON document of ${String(Buffer.byteLength(expected ?? ''))} bytes)`);
    nock(ORIGIN).post('/api/sip').reply(400, { error: 'unknown case type' });
    expect(await connector?.deliver(message)).toEqual({ kind: 'failed', status: 400, reason: `${ENDPOINT} refused the delivery with 400: {"error":"unknown case type"}` });
  });

  it('fails a plan the format cannot hold, with the mapping issues, and sends nothing', async () => {
    const scope = nock(ORIGIN).post('/api/sip').reply(201);
    const result = await postTo(json).deliver(messageOf(xmlPlan, 'kommun'));
    expect(result.kind).toBe('failed');
    expect(result.kind === 'failed' && result.reason).toMatch(/^the plan cannot be written in the format of "modern-case-api": .*mapping\.value-unknown/);
    expect(scope.isDone()).toBe(false);
  });

  it('fails a plan whose consent is not in force at the moment of sending', async () => {
    const withdrawn = examplePlan('closed-consent-withdrawn');
    const result = await postTo(xml).deliver(messageOf(withdrawn, 'kommun'));
    expect(result.kind === 'failed' && result.reason).toContain('consent.withdrawn');
  });
});

describe('a real municipal receiver on loopback, XML', () => {
  let server: Server;
  let endpoint: string;
  const received: { url?: string; headers: IncomingHttpHeaders; bytes: Buffer }[] = [];
  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ url: request.url, headers: request.headers, bytes: Buffer.concat(chunks) });
        response.writeHead(202).end();
      });
    });
    endpoint = `${(await listenOnLoopback(server)).origin}/import/sip`;
  });
  afterAll(async () => {
    await closeServer(server);
  });

  it('receives the XML document, byte for byte, as application/xml in UTF-8', async () => {
    connector = createMappingConnector(mappingReceiver('legacy-xml-export', { endpoint }), xml);
    const message = messageOf(xmlPlan, 'kommun');
    expect(await connector.deliver(message)).toEqual({ kind: 'delivered', status: 202 });
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request?.url).toBe('/import/sip');
    expect(request?.headers['content-type']).toBe('application/xml; charset=utf-8');
    expect(request?.headers['idempotency-key']).toBe(message.idempotencyKey);
    expect(request?.headers.authorization).toBeUndefined();
    const text = request?.bytes.toString('utf8') ?? '';
    expect(text).toBe(translateOutbound(xml, xmlPlan, { at: message.at }).text);
    expect(text.startsWith('<?xml')).toBe(true);
    expect(text).toContain('Linköping');
    const parsed = new XMLParser().parse(text) as Record<string, unknown>;
    expect(Object.keys(parsed).length).toBeGreaterThan(0);
  });
});

describe('a folder drop', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'sip-drop-'));
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('writes one file per plan version and receiver; a retry overwrites it; no temporary file stays', async () => {
    const target = path.join(folder, 'kommun-a');
    const receiver = mappingReceiver('legacy-xml-export', { folder: target });
    const dropper = createConnector(receiver, { mappings: await loadReceiverMappings([receiver], MAPPINGS_DIR) });
    connector = dropper;
    const first = messageOf(xmlPlan, 'kommun');
    const name = `${xmlPlan.id}.v${String(xmlPlan.version)}.kommun.xml`;
    expect(dropFileName(first, xml)).toBe(name);
    expect(await dropper.deliver(first)).toEqual({ kind: 'delivered', detail: `written to ${path.join(target, name)}` });
    // Attempts of the same message, some at once: still one file, whole.
    const again = await Promise.all([2, 3, 4, 5].map((attempt) => dropper.deliver({ ...first, attempt })));
    expect(again.every((outcome) => outcome.kind === 'delivered')).toBe(true);
    expect(await readdir(target)).toEqual([name]);
    expect(await readFile(path.join(target, name), 'utf8')).toBe(translateOutbound(xml, xmlPlan, { at: first.at }).text);

    const next = { ...first, version: first.version + 1, plan: { ...xmlPlan, version: xmlPlan.version + 1 } };
    expect((await dropper.deliver(next)).kind).toBe('delivered');
    expect((await readdir(target)).sort()).toEqual([name, `${xmlPlan.id}.v${String(xmlPlan.version + 1)}.kommun.xml`].sort());
  });

  it('overwrites what a crashed earlier attempt left under the name', async () => {
    const target = path.join(folder, 'kommun-b');
    connector = createMappingConnector(mappingReceiver('legacy-xml-export', { folder: target }), xml);
    const message = messageOf(xmlPlan, 'kommun');
    await connector.deliver(message);
    const file = path.join(target, dropFileName(message, xml));
    await writeFile(file, '<half');
    await connector.deliver({ ...message, attempt: 2 });
    expect(await readFile(file, 'utf8')).toBe(translateOutbound(xml, xmlPlan, { at: message.at }).text);
  });

  it('fails when the folder cannot be made (a file is in the way), leaving nothing behind', async () => {
    const blocker = path.join(folder, 'not-a-folder');
    await writeFile(blocker, 'x');
    connector = createMappingConnector(mappingReceiver('legacy-xml-export', { folder: path.join(blocker, 'inside') }), xml);
    const result = await connector.deliver(messageOf(xmlPlan, 'kommun'));
    expect(result.kind).toBe('failed');
    expect(result.kind === 'failed' && result.reason).toMatch(/^cannot write .*not-a-folder\/inside\/.*: (ENOTDIR|EEXIST)/);
    expect(await readFile(blocker, 'utf8')).toBe('x');
  });

  it('names files of odd ids without leaving the folder', () => {
    const name = dropFileName({ planId: '../etc/passwd', version: 3, receiverId: 'a b' }, json);
    expect(name).toBe('..%2Fetc%2Fpasswd.v3.a%20b.json');
    expect(path.basename(name)).toBe(name);
  });
});

describe('createConnector', () => {
  it('refuses a mapping receiver whose mapping was not loaded', () => {
    expect(() => createConnector(mappingReceiver('legacy-xml-export', { endpoint: ENDPOINT }), {})).toThrow(/the mapping "legacy-xml-export" of the receiver kommun was not loaded/);
  });
});
