/**
 * Issue #14, "Done when", end to end over real HTTP on loopback: the real server (`startServer`,
 * port 0) reads a real receivers file (`SIP_RECEIVERS` → `loadExchange`, the real connectors), and
 * real receivers — node:http servers that record method, headers and the raw bytes, answering as a
 * FHIR server (a `transaction-response` with one 201 entry per entry) or a municipal system would —
 * get what the outbox worker sends.
 *
 * 1. A municipal JSON export and a municipal XML export posted to `/exchange/inbound/{mapping}` by the
 *    municipality arrive at the region's FHIR receiver as transaction Bundles that both the project's
 *    validator and Medplum (with the SIP profiles) accept, each with an `Idempotency-Key`.
 * 2. A regional Bundle (`POST /fhir` by the region) arrives at the municipality's receivers in their
 *    formats (a modern-case-api JSON endpoint, a legacy-xml-export folder drop) and reads back
 *    through the mappings to the plan that was sent.
 * 3. Consent, judged on what the receivers got: an excluded unit gets nothing (and the audit log says
 *    why), an excluded information class is in no byte on the wire, and after withdrawal or expiry
 *    nothing more goes out — queued versions included.
 * 4. Retries on the real path: 500, 500, 429 with `Retry-After: 1`, then 201 — one delivery, four
 *    attempts with the same key, the wait honoured, every attempt in the audit log.
 *
 * Every expected value is read from the samples' source text or written here, never produced by the
 * code under test. The clock is the real clock shifted to a chosen instant (the worker's backoff needs
 * time to pass); each sample's consent is in force at that instant.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import type { Bundle, CarePlan, Goal, Patient, Resource } from 'fhir/r4.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExchange, loadMapping, translateInbound, type Exchange, type Mapping } from '../../src/exchange/index.js';
import { DEFAULT_MAPPING_OPTIONS, PROFILE, planToBundle } from '../../src/fhir/index.js';
import { issueLocalToken } from '../../src/http/auth/index.js';
import { serverConfigSchema } from '../../src/http/config.js';
import { startServer, type RunningServer } from '../../src/http/server.js';
import { stockholmInstant, type SipPlan } from '../../src/sip/index.js';
import type { Delivery } from '../../src/store/index.js';
import { createValidator } from '../../src/validation/index.js';
import { loadMedplumWithProfiles, medplumProfileErrors } from '../support/medplum-profiles.js';
import { createScratchDatabase, type ScratchDatabase } from '../store/postgres-scratch.js';
import { RestartableServer } from '../support/restartable-server.js';

// ---------------------------------------------------------------------------------------------
// The samples, and what they say (read from their text here).

const JSON_SAMPLE = readFileSync('mappings/modern-case-api/samples/elderly-home-help.json', 'utf8');
const XML_SAMPLE = readFileSync('mappings/legacy-xml-export/samples/aldre-hemtjanst-hemsjukvard.xml', 'utf8');

/** elderly-home-help.json: Linköpings kommun (212000-0449) and Region Östergötland (SE2321000040-1000), unit Vårdcentralen Ekholmen (SE2321000040-VCEK). */
const LINKOPING = { caseNumber: 'SIP-2026-0142', person: '194108224538', orgNumber: '212000-0449', caller: 'SE2120000449-1000' };
const OSTERGOTLAND = 'SE2321000040-1000';
const EKHOLMEN = 'SE2321000040-VCEK';
const LINKOPING_GOALS = ['Jag vill bo kvar hemma och klara morgnarna själv så mycket som möjligt.', 'Jag vill att Karin kan vila ibland utan att oroa sig för mig.'];
const LINKOPING_ACTION = 'Hemsjukvård: distriktssköterskan lägger om såret och följer upp smärtlindringen varannan vecka.';
/** Its consent, samtycke-1, is valid until 2027-02-15; the case officer st-2231 records for the municipality. */
const LINKOPING_CONSENT = 'samtycke-1';
const LINKOPING_OFFICER = 'st-2231';

/** aldre-hemtjanst-hemsjukvard.xml: Huddinge kommun (212000-0076) and Region Stockholm (SE2321000016-1000). */
const HUDDINGE = { caseNumber: 'SIP-2026-0031', person: '193803052384', caller: 'SE2120000076-1000' };
const STOCKHOLM = 'SE2321000016-1000';
const HUDDINGE_GOAL = 'Jag vill kunna duscha utan att vara rädd för att ramla.';

/** After both samples last changed (2026-03-11, 2026-03-09), while both consents are in force. */
const IN_FORCE = new Date('2026-04-01T10:00:00+02:00');

// ---------------------------------------------------------------------------------------------
// Receivers on loopback.

interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly at: number;
  status: number;
}

type Reply = { status: number; headers?: Record<string, string>; body?: string } | undefined;

/** A node:http server that records every request and answers as a FHIR server (`fhir`) or a municipal system (`plain`). */
class LoopbackReceiver {
  readonly requests: Received[] = [];
  /** Answers a request differently (a failure) when it returns one. */
  script: (request: Received, earlier: readonly Received[]) => Reply = () => undefined;
  private readonly server = new RestartableServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const received: Received = { method: request.method ?? '', path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks), at: Date.now(), status: 0 };
      const earlier = [...this.requests];
      this.requests.push(received);
      const reply = this.script(received, earlier) ?? this.success(received);
      received.status = reply.status;
      response.writeHead(reply.status, reply.headers ?? {});
      response.end(reply.body ?? '');
    });
  });

  constructor(private readonly kind: 'fhir' | 'plain') {}

  get url(): string {
    return this.server.url;
  }

  /** Listens on the port it had (a free one below the ephemeral range the first time). */
  start(): Promise<void> {
    return this.server.start();
  }

  /** Stops listening and drops every connection: the adapter's next attempt is refused. */
  stop(): Promise<void> {
    return this.server.stop();
  }

  private success(received: Received): NonNullable<Reply> {
    if (this.kind === 'plain') return { status: 201, headers: { 'content-type': 'application/json' }, body: '{}' };
    const bundle = JSON.parse(received.body.toString('utf8')) as Bundle;
    const answer: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction-response',
      entry: (bundle.entry ?? []).map((entry, index) => ({ response: { status: '201 Created', location: `${entry.resource?.resourceType ?? 'Resource'}/${String(index + 1)}/_history/1` } })),
    };
    return { status: 200, headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(answer) };
  }
}

const textOf = (request: Received): string => request.body.toString('utf8');
const keyOf = (request: Received): string => String(request.headers['idempotency-key'] ?? '');

// ---------------------------------------------------------------------------------------------
// The server with a receivers file.

const FHIR_TOKEN = 'region-ostergotland-token-1b7c';

interface Harness {
  readonly server: RunningServer;
  readonly fhir: LoopbackReceiver;
  readonly municipal: LoopbackReceiver;
  readonly dropFolder: string;
  setClock(at: Date): void;
  token(organization: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * The server with the receivers file. With `serverLoads`, the server reads the file itself (as
 * `sip-fhir serve` with SIP_RECEIVERS does) and its worker runs with the default delays; otherwise the
 * test loads it with `loadExchange` and hands it in with short delays.
 */
async function startHarness(driver: 'pglite' | 'postgres', settings: Readonly<Record<string, unknown>> = {}, serverLoads = false): Promise<Harness> {
  const folder = mkdtempSync(join(tmpdir(), 'sip-e2e-'));
  const fhir = new LoopbackReceiver('fhir');
  const municipal = new LoopbackReceiver('plain');
  await fhir.start();
  await municipal.start();
  writeFileSync(join(folder, 'fhir-token.txt'), `${FHIR_TOKEN}\n`);
  const receiversFile = join(folder, 'receivers.json');
  writeFileSync(
    receiversFile,
    `// The receivers of the end-to-end test (JSONC, as receivers.example.json)
{
  "receivers": [
    { "id": "region-ostergotland", "kind": "fhir", "organization": "${OSTERGOTLAND}", "base": "${fhir.url}/ostergotland/", "auth": { "type": "bearer", "token": { "file": "fhir-token.txt" } } },
    { "id": "vc-ekholmen", "kind": "fhir", "organization": "${EKHOLMEN}", "base": "${fhir.url}/ekholmen", "auth": { "type": "none" } },
    { "id": "region-stockholm", "kind": "fhir", "organization": "${STOCKHOLM}", "base": "${fhir.url}/stockholm", "timeoutMs": 5000, "auth": { "type": "none" } },
    { "id": "linkoping-case-api", "kind": "mapping", "mapping": "modern-case-api", "organization": "2120000449", "endpoint": "${municipal.url}/cases", "auth": { "type": "none" } },
    { "id": "linkoping-legacy-drop", "kind": "mapping", "mapping": "legacy-xml-export", "organization": "${LINKOPING.orgNumber}", "folder": "drop", "auth": { "type": "none" } },
  ],
}
`,
  );
  let scratch: ScratchDatabase | undefined;
  let offset = IN_FORCE.getTime() - Date.now();
  const clock = (): Date => new Date(Date.now() + offset);
  let exchange: Exchange | undefined;
  try {
    scratch = driver === 'postgres' ? await createScratchDatabase() : undefined;
    const config = serverConfigSchema.parse({
      port: 0,
      dataDir: join(folder, 'data'),
      loadExamples: false,
      rateLimitPerMinute: 1_000_000,
      receiversFile,
      // Enough attempts that a receiver stopped for a while is still being tried when it comes back.
      deliveryMaxAttempts: 100,
      ...settings,
      ...(scratch === undefined ? {} : { databaseUrl: scratch.url }),
    });
    // The receivers file as the server reads it (loadExchange, the real connectors), with the worker's
    // delays made short so that a test waits milliseconds, not the default seconds.
    exchange = serverLoads ? undefined : await loadExchange(receiversFile);
    const server = await startServer(config, {
      clock,
      logger: pino({ level: 'silent' }),
      ...(exchange === undefined ? {} : { exchange: { ...exchange, worker: { baseDelayMs: 50, maxDelayMs: 400, pollIntervalMs: 25, random: () => 0.5 } } }),
    });
    const loaded = exchange;
    const database = scratch;
    return {
      server,
      fhir,
      municipal,
      dropFolder: join(folder, 'drop'),
      setClock: (at) => {
        offset = at.getTime() - Date.now();
      },
      token: async (organization) => {
        if (server.authenticator.mode !== 'local') throw new Error('the test server signs its own tokens');
        return issueLocalToken({ org: organization, scopes: 'system/*.*', ttlSeconds: 3600 }, server.authenticator.localKey, clock());
      },
      close: async () => {
        await server.close();
        await loaded?.close();
        await fhir.stop();
        await municipal.stop();
        await database?.drop();
        rmSync(folder, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await exchange?.close();
    await fhir.stop();
    await municipal.stop();
    await scratch?.drop();
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; ) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function call(h: Harness, method: string, path: string, organization: string, body: string, contentType: string, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${h.server.url}${path}`, { method, headers: { Authorization: `Bearer ${await h.token(organization)}`, 'Content-Type': contentType, ...headers }, body });
  const text = await response.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // kept as text for the failure message
  }
  return { status: response.status, json };
}

/** The deliveries of a plan, once none is pending any more. */
async function settled(h: Harness, planId: string, count: number): Promise<Delivery[]> {
  let deliveries: Delivery[] = [];
  await until(`${String(count)} settled deliveries of ${planId}`, async () => {
    deliveries = await h.server.store.outbox.list({ planId });
    return deliveries.length >= count && deliveries.every((delivery) => delivery.state !== 'pending');
  });
  return deliveries;
}

const summary = (deliveries: readonly Delivery[]): string[] => deliveries.map((delivery) => `${delivery.receiverId} v${String(delivery.version)} ${delivery.state}`).sort();

// ---------------------------------------------------------------------------------------------
// What a FHIR receiver got.

const validator = createValidator();

function expectValidTransaction(bundle: Bundle): void {
  expect(bundle.resourceType).toBe('Bundle');
  expect(bundle.type).toBe('transaction');
  const ours = validator.validate(bundle).issue.filter((issue) => issue.severity === 'error' || issue.severity === 'fatal');
  expect(ours).toEqual([]);
  expect(medplumProfileErrors(bundle, PROFILE.bundle)).toEqual([]);
  for (const entry of bundle.entry ?? []) {
    const resource = entry.resource as Resource;
    for (const profile of resource.meta?.profile ?? []) expect({ resource: resource.resourceType, errors: medplumProfileErrors(resource, profile) }).toEqual({ resource: resource.resourceType, errors: [] });
  }
}

const resourcesOf = (bundle: Bundle, type: Resource['resourceType']): Resource[] => (bundle.entry ?? []).flatMap((entry) => (entry.resource?.resourceType === type ? [entry.resource] : []));
/** The identifier values of the Bundle's resources of one type (Patient, CarePlan). */
const identifiersOf = (bundle: Bundle, type: 'Patient' | 'CarePlan'): string[] =>
  resourcesOf(bundle, type).flatMap((resource) => ((resource as Patient | CarePlan).identifier ?? []).flatMap((identifier) => (identifier.value === undefined ? [] : [identifier.value])));
/** The Goals' description texts. */
const goalTexts = (bundle: Bundle): string[] => resourcesOf(bundle, 'Goal').map((resource) => (resource as Goal).description.text ?? '');

// ---------------------------------------------------------------------------------------------

const mappings = new Map<string, Mapping>();
for (const name of ['modern-case-api', 'legacy-xml-export']) mappings.set(name, await loadMapping(join('mappings', name)));
const mappingOf = (name: string): Mapping => {
  const mapping = mappings.get(name);
  if (mapping === undefined) throw new Error(`no mapping ${name}`);
  return mapping;
};

/** The Linköping sample as a plan of its own (its case number replaced), version 1, not approved: what a region would send. */
function linkopingPlan(id: string): SipPlan {
  const plan = translateInbound(mappingOf('modern-case-api'), JSON_SAMPLE.replaceAll(LINKOPING.caseNumber, id)).plan;
  if (plan?.id !== id) throw new Error('the Linköping sample translates');
  return { ...plan, version: 1, approvals: [] };
}

describe('the exchange end to end on the embedded store (PGlite)', () => {
  let h: Harness;

  beforeAll(async () => {
    loadMedplumWithProfiles();
    h = await startHarness('pglite');
  }, 180_000);
  afterAll(async () => {
    await h.close();
  }, 60_000);

  it('delivers a municipal JSON export to the region’s FHIR server as a valid transaction Bundle, and nothing back to the municipality', async () => {
    h.setClock(IN_FORCE);
    const posted = await call(h, 'POST', '/exchange/inbound/modern-case-api', LINKOPING.caller, JSON_SAMPLE, 'application/json');
    expect(posted.status, JSON.stringify(posted.json)).toBe(201);
    const deliveries = await settled(h, LINKOPING.caseNumber, 2);
    // Routed to the region and its unit (parties of the plan); not to Linköping's own systems, which wrote it.
    expect(summary(deliveries)).toEqual(['region-ostergotland v1 delivered', 'vc-ekholmen v1 delivered']);

    const got = h.fhir.requests.filter((request) => request.path.startsWith('/ostergotland') && textOf(request).includes(LINKOPING.caseNumber));
    expect(got).toHaveLength(1);
    const [request] = got;
    if (request === undefined) throw new Error('unreachable');
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/ostergotland');
    expect(request.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(request.headers.authorization).toBe(`Bearer ${FHIR_TOKEN}`);
    expect(keyOf(request)).not.toBe('');
    const bundle = JSON.parse(textOf(request)) as Bundle;
    expectValidTransaction(bundle);
    expect(resourcesOf(bundle, 'CarePlan')).toHaveLength(1);
    expect(identifiersOf(bundle, 'CarePlan')).toContain(LINKOPING.caseNumber);
    expect(identifiersOf(bundle, 'Patient')).toContain(LINKOPING.person);
    expect(goalTexts(bundle).sort()).toEqual([...LINKOPING_GOALS].sort());
    expect(textOf(request)).toContain(LINKOPING_ACTION);

    // Nothing went back to the municipality that posted it, in any of its formats.
    expect(h.municipal.requests.filter((candidate) => textOf(candidate).includes(LINKOPING.caseNumber))).toEqual([]);
    const dropped = readdirSafe(h.dropFolder).filter((name) => name.includes(LINKOPING.caseNumber));
    expect(dropped).toEqual([]);
  }, 60_000);

  it('delivers a municipal XML export to the region’s FHIR server as a valid transaction Bundle', async () => {
    h.setClock(IN_FORCE);
    const posted = await call(h, 'POST', '/exchange/inbound/legacy-xml-export', HUDDINGE.caller, XML_SAMPLE, 'application/xml');
    expect(posted.status, JSON.stringify(posted.json)).toBe(201);
    const deliveries = await settled(h, HUDDINGE.caseNumber, 1);
    expect(summary(deliveries)).toEqual(['region-stockholm v1 delivered']);
    const got = h.fhir.requests.filter((request) => request.path === '/stockholm' && textOf(request).includes(HUDDINGE.caseNumber));
    expect(got).toHaveLength(1);
    const bundle = JSON.parse(textOf(got[0] as Received)) as Bundle;
    expectValidTransaction(bundle);
    expect(keyOf(got[0] as Received)).not.toBe('');
    expect(identifiersOf(bundle, 'Patient')).toContain(HUDDINGE.person);
    expect(goalTexts(bundle)).toContain(HUDDINGE_GOAL);
    // The two exports were different deliveries: different keys.
    const jsonKey = keyOf(h.fhir.requests.find((request) => request.path === '/ostergotland') as Received);
    expect(keyOf(got[0] as Received)).not.toBe(jsonKey);
  }, 60_000);

  it('delivers a regional Bundle (POST /fhir) to the municipality in its formats: JSON to its endpoint, XML dropped whole in its folder', async () => {
    h.setClock(IN_FORCE);
    const id = 'SIP-2026-8142';
    const plan = linkopingPlan(id);
    const posted = await call(h, 'POST', '/fhir', OSTERGOTLAND, JSON.stringify(planToBundle(plan, DEFAULT_MAPPING_OPTIONS, IN_FORCE)), 'application/fhir+json');
    expect(posted.status, JSON.stringify(posted.json)).toBe(200);
    const deliveries = await settled(h, id, 3);
    expect(summary(deliveries)).toEqual(['linkoping-case-api v1 delivered', 'linkoping-legacy-drop v1 delivered', 'vc-ekholmen v1 delivered']);
    // The region wrote it: its own FHIR server gets nothing back.
    expect(h.fhir.requests.filter((request) => request.path === '/ostergotland' && textOf(request).includes(id))).toEqual([]);

    const got = h.municipal.requests.filter((request) => textOf(request).includes(id));
    expect(got).toHaveLength(1);
    const request = got[0] as Received;
    expect([request.method, request.path]).toEqual(['POST', '/cases']);
    expect(request.headers['content-type']).toMatch(/^application\/json/);
    expect(keyOf(request)).not.toBe('');
    const json = JSON.parse(textOf(request)) as { sipCase: { caseNumber: string }; client: { personnummer: string }; goals: { text: string }[] };
    expect(json.sipCase.caseNumber).toBe(id);
    expect(json.client.personnummer).toBe(LINKOPING.person);
    expect(json.goals.map((goal) => goal.text).sort()).toEqual([...LINKOPING_GOALS].sort());
    const back = translateInbound(mappingOf('modern-case-api'), textOf(request)).plan;
    expect(back?.id).toBe(id);
    expect(back?.individual.identifier.value).toBe(LINKOPING.person);
    expect(back?.goals.map((goal) => goal.description).sort()).toEqual([...LINKOPING_GOALS].sort());
    expect(back?.interventions.map((intervention) => intervention.description)).toContain(LINKOPING_ACTION);

    const files = readdirSafe(h.dropFolder).filter((name) => name.includes(id));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/\.xml$/);
    const xml = readFileSync(join(h.dropFolder, files[0] ?? ''), 'utf8');
    // Whole: a well-formed document that ends with its root element closed.
    const parsed = new XMLParser({ ignoreAttributes: false }).parse(xml) as Record<string, unknown>;
    expect(Object.keys(parsed).filter((name) => !name.startsWith('?'))).toEqual(['Export']);
    expect(xml.trimEnd().endsWith('</Export>')).toBe(true);
    expect(xml).toContain(`nr="${id}"`);
    const xmlBack = translateInbound(mappingOf('legacy-xml-export'), xml).plan;
    expect(xmlBack?.id).toBe(id);
    expect(xmlBack?.individual.identifier.value).toBe(LINKOPING.person);
    expect(xmlBack?.goals.map((goal) => goal.description).sort()).toEqual([...LINKOPING_GOALS].sort());
    // No temporary file is left beside it.
    expect(readdirSafe(h.dropFolder).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  }, 60_000);

  it('retries 500, 500 and 429 (Retry-After: 1) on the real path: accepted once, the same key every time, every attempt audited', async () => {
    h.setClock(IN_FORCE);
    const id = 'SIP-2026-9031';
    const failures = [500, 500, 429];
    h.fhir.script = (request, earlier) => {
      if (request.path !== '/stockholm' || !textOf(request).includes(id)) return undefined;
      const status = failures[earlier.filter((candidate) => candidate.path === '/stockholm' && textOf(candidate).includes(id)).length];
      if (status === undefined) return undefined;
      return {
        status,
        headers: { 'content-type': 'application/fhir+json', ...(status === 429 ? { 'retry-after': '1' } : {}) },
        body: JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: status === 429 ? 'throttled' : 'exception', diagnostics: `status ${String(status)}` }] }),
      };
    };
    try {
      const posted = await call(h, 'POST', '/exchange/inbound/legacy-xml-export', HUDDINGE.caller, XML_SAMPLE.replaceAll(HUDDINGE.caseNumber, id), 'application/xml');
      expect(posted.status, JSON.stringify(posted.json)).toBe(201);
      const [delivery, ...others] = await settled(h, id, 1);
      expect(others).toEqual([]);
      expect([delivery?.receiverId, delivery?.state, delivery?.attempts]).toEqual(['region-stockholm', 'delivered', 4]);

      const got = h.fhir.requests.filter((request) => request.path === '/stockholm' && textOf(request).includes(id));
      expect(got.map((request) => request.status)).toEqual([500, 500, 429, 200]);
      const keys = new Set(got.map(keyOf));
      expect(keys.size).toBe(1);
      expect([...keys][0]).not.toBe('');
      // Every attempt under the one key carried the very same Bundle, timestamped when the version was recorded
      // (consent was judged anew at each attempt's own instant; what is sent is as of the version).
      expect(new Set(got.map(textOf)).size).toBe(1);
      const recorded = await h.server.store.get(id, 1);
      expect((JSON.parse(textOf(got[0] as Received)) as Bundle).timestamp).toBe(stockholmInstant(new Date(recorded?.recordedAt ?? 0)));
      const [, , third, fourth] = got;
      expect((fourth?.at ?? 0) - (third?.at ?? 0)).toBeGreaterThanOrEqual(1000);

      const audit = (await h.server.store.auditLog({ planId: id })).filter((entry) => entry.organization === STOCKHOLM && entry.agent === 'sip-fhir-adapter/outbox');
      const attempts = audit.map((entry) => [entry.outcome, entry.detail ?? '']).sort((a, b) => (a[1] ?? '').localeCompare(b[1] ?? ''));
      expect(attempts.map(([outcome]) => outcome).sort()).toEqual(['failed', 'failed', 'failed', 'success']);
      expect(audit.filter((entry) => entry.outcome === 'failed').map((entry) => /HTTP (\d+)/.exec(entry.detail ?? '')?.[1]).sort()).toEqual(['429', '500', '500']);
      expect(audit.filter((entry) => entry.outcome === 'success').map((entry) => entry.detail)).toEqual([expect.stringMatching(/^delivered \(HTTP 200\)/)]);
    } finally {
      h.fhir.script = () => undefined;
    }
  }, 60_000);

  describe('consent, judged on what the receivers got', () => {
    const id = 'SIP-2026-7142';
    const SENTINEL = 'SENTINEL-familj-8d2f41c7';
    /** In the person's own description of what they exclude: kept in the store, never on the wire. */
    const DESCRIPTION = 'Min dotters placering (BESKRIVNING-SENTINEL-3c90e1) ska inte lämnas ut.';
    let version = 0;

    /** Every byte any receiver got for this plan (FHIR, JSON endpoint, dropped files). */
    function everythingSent(planId: string): { where: string; text: string }[] {
      return [
        ...h.fhir.requests.filter((request) => textOf(request).includes(planId)).map((request) => ({ where: `fhir ${request.path}`, text: textOf(request) })),
        ...h.municipal.requests.filter((request) => textOf(request).includes(planId)).map((request) => ({ where: `municipal ${request.path}`, text: textOf(request) })),
        ...readdirSafe(h.dropFolder)
          .filter((name) => name.includes(planId))
          .map((name) => ({ where: `drop ${name}`, text: readFileSync(join(h.dropFolder, name), 'utf8') })),
      ];
    }

    async function put(plan: SipPlan, organization: string): Promise<void> {
      const answer = await call(h, 'PUT', `/sip/plans/${id}`, organization, JSON.stringify(plan), 'application/json', { 'If-Match': `W/"${String(version)}"` });
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      version++;
    }

    it('withholds everything from a unit the person excluded (with the reason in the audit log), and no byte of an excluded information class reaches anyone', async () => {
      h.setClock(IN_FORCE);
      const base = linkopingPlan(id);
      const template = base.interventions[0];
      if (template === undefined) throw new Error('the sample has interventions');
      const plan: SipPlan = {
        ...base,
        consents: base.consents.map((consent) =>
          consent.id === LINKOPING_CONSENT
            ? { ...consent, excludedParties: ['ro-vc-ekholmen'], excludedInformation: [{ class: 'familySituation', description: DESCRIPTION }] }
            : consent,
        ),
        interventions: [...base.interventions, { ...template, id: 'int-sentinel', description: `Samtal om familjen (${SENTINEL}).`, informationClasses: ['familySituation'] }],
      };
      // Version 1 by the region (to Linköping's systems), version 2 by the municipality (to the region's FHIR server).
      const created = await call(h, 'POST', '/sip/plans', OSTERGOTLAND, JSON.stringify(plan), 'application/json');
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      version = 1;
      await put({ ...plan, goals: plan.goals.map((goal, index) => (index === 0 ? { ...goal, description: `${goal.description} Version 2.` } : goal)) }, LINKOPING.caller);

      const deliveries = await settled(h, id, 5);
      expect(summary(deliveries)).toEqual([
        'linkoping-case-api v1 delivered',
        'linkoping-legacy-drop v1 delivered',
        'region-ostergotland v2 delivered',
        'vc-ekholmen v1 withheld',
        'vc-ekholmen v2 withheld',
      ]);
      // The excluded unit: nothing on the wire, and the audit log says why.
      expect(h.fhir.requests.filter((request) => request.path.startsWith('/ekholmen') && textOf(request).includes(id))).toEqual([]);
      const withheld = (await h.server.store.auditLog({ planId: id })).filter((entry) => entry.organization === EKHOLMEN);
      expect(withheld.map((entry) => entry.outcome)).toEqual(['refused', 'refused']);
      for (const entry of withheld) expect(entry.detail).toMatch(/^withheld: excluded: /);

      // The excluded class: in what was sent to every receiver that got something, not one byte of it.
      const sent = everythingSent(id);
      expect(sent.map((item) => item.where.split(' ')[0]).sort()).toEqual(['drop', 'fhir', 'municipal']);
      for (const item of sent) {
        expect(item.text, item.where).not.toContain(SENTINEL);
        expect(item.text, item.where).not.toContain('int-sentinel');
        // …nor the person's description of what they exclude, while the class that was left out is named.
        expect(item.text, item.where).not.toContain('BESKRIVNING-SENTINEL-3c90e1');
        expect(item.text, item.where).toMatch(item.where.startsWith('fhir') ? /"code":"familySituation"/ : item.where.startsWith('drop') ? /klass="FAM"/ : /"category":\s*"FAMILJ"/);
        // …while the rest of the plan is there.
        expect(item.text, item.where).toContain(LINKOPING_GOALS[1]);
      }
      const removed = (await h.server.store.auditLog({ planId: id })).filter((entry) => entry.agent === 'sip-fhir-adapter/outbox' && entry.outcome === 'success');
      expect(removed.length).toBe(3);
      for (const entry of removed) expect(entry.detail).toContain('removed: familySituation');
      // The description is kept in the store, and a principal's read returns it (README, "The exchange").
      expect((await h.server.store.get(id))?.plan.consents.find((consent) => consent.id === LINKOPING_CONSENT)?.excludedInformation).toEqual([
        { class: 'familySituation', description: DESCRIPTION },
      ]);
      const read = await fetch(`${h.server.url}/sip/plans/${id}`, { headers: { Authorization: `Bearer ${await h.token(LINKOPING.caller)}` } });
      expect(read.status).toBe(200);
      expect(await read.text()).toContain('BESKRIVNING-SENTINEL-3c90e1');
    }, 60_000);

    it('sends nothing more after the consent is withdrawn, not even versions queued while the receiver was down', async () => {
      h.setClock(IN_FORCE);
      const current = (await h.server.store.get(id))?.plan;
      if (current === undefined) throw new Error('the previous test recorded the plan');
      const before = h.municipal.requests.filter((request) => textOf(request).includes(id)).length;
      await h.municipal.stop();
      await put({ ...current, goals: current.goals.map((goal, index) => (index === 1 ? { ...goal, description: `${goal.description} Version 3.` } : goal)) }, OSTERGOTLAND);
      const third = (await h.server.store.get(id))?.plan;
      if (third === undefined) throw new Error('version 3 was recorded');
      await put({ ...third, goals: third.goals.map((goal, index) => (index === 1 ? { ...goal, description: `${goal.description} Version 4.` } : goal)) }, OSTERGOTLAND);
      // The case API is down: version 3 has been tried and waits for its next attempt.
      await until('a failed attempt of version 3 to the stopped case API', async () => {
        const v3 = (await h.server.store.outbox.list({ planId: id, receiverId: 'linkoping-case-api' })).find((candidate) => candidate.version === 3);
        return v3 !== undefined && v3.state === 'pending' && v3.attempts >= 1;
      });
      const withdrawn = await call(h, 'POST', `/sip/plans/${id}/consents/${LINKOPING_CONSENT}/withdrawal`, LINKOPING.caller, JSON.stringify({ withdrawnBy: 'individual', recordedBy: LINKOPING_OFFICER }), 'application/json');
      expect(withdrawn.status, JSON.stringify(withdrawn.json)).toBe(201);
      await h.municipal.start();

      const deliveries = await settled(h, id, 5);
      const toCaseApi = deliveries.filter((delivery) => delivery.receiverId === 'linkoping-case-api');
      expect(toCaseApi.map((delivery) => [delivery.version, delivery.state])).toEqual([
        [1, 'delivered'],
        [3, 'withheld'],
        [4, 'withheld'],
      ]);
      for (const delivery of toCaseApi.filter((candidate) => candidate.state === 'withheld')) expect(delivery.lastError).toMatch(/^noConsentInForce: /);
      // The withdrawal itself (version 5, written by the municipality) goes to no one either.
      expect(summary(deliveries.filter((delivery) => delivery.version === 5))).toEqual(['region-ostergotland v5 withheld', 'vc-ekholmen v5 withheld']);
      expect(h.fhir.requests.filter((request) => textOf(request).includes(id) && textOf(request).includes('"version":5'))).toEqual([]);
      // Give the worker time to do anything it would still do, then look at the wire.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(h.municipal.requests.filter((request) => textOf(request).includes(id))).toHaveLength(before);
      expect(readdirSafe(h.dropFolder).filter((name) => name.includes(id) && name.includes('.v5.'))).toEqual([]);
    }, 60_000);

    it('sends nothing more once the consent has expired (the clock past validUntil), queued versions included', async () => {
      h.setClock(IN_FORCE);
      const expiring = 'SIP-2026-6142';
      const plan = linkopingPlan(expiring);
      const created = await call(h, 'POST', '/sip/plans', OSTERGOTLAND, JSON.stringify(plan), 'application/json');
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      await settled(h, expiring, 3);
      const sentBefore = h.municipal.requests.filter((request) => textOf(request).includes(expiring));
      expect(sentBefore).toHaveLength(1);

      await h.municipal.stop();
      const edited = { ...plan, goals: plan.goals.map((goal, index) => (index === 0 ? { ...goal, description: `${goal.description} Version 2.` } : goal)) };
      const updated = await call(h, 'PUT', `/sip/plans/${expiring}`, OSTERGOTLAND, JSON.stringify(edited), 'application/json', { 'If-Match': 'W/"1"' });
      expect(updated.status, JSON.stringify(updated.json)).toBe(200);
      await until('a failed attempt of version 2 to the stopped case API', async () => {
        const v2 = (await h.server.store.outbox.list({ planId: expiring, receiverId: 'linkoping-case-api' })).find((candidate) => candidate.version === 2);
        return v2 !== undefined && v2.state === 'pending' && v2.attempts >= 1;
      });
      // samtycke-1 is valid until 2027-02-15: the next day it is not in force.
      h.setClock(new Date('2027-02-16T12:00:00+01:00'));
      await h.municipal.start();
      const deliveries = await settled(h, expiring, 6);
      const toCaseApi = deliveries.filter((delivery) => delivery.receiverId === 'linkoping-case-api');
      expect(toCaseApi.map((delivery) => [delivery.version, delivery.state])).toEqual([
        [1, 'delivered'],
        [2, 'withheld'],
      ]);
      expect(toCaseApi[1]?.lastError).toMatch(/^noConsentInForce: /);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(h.municipal.requests.filter((request) => textOf(request).includes(expiring))).toHaveLength(1);
    }, 60_000);
  });
});

describe('the exchange with SIP_DELIVERY_MAX_ATTEMPTS=2', () => {
  let h: Harness;

  beforeAll(async () => {
    // The server reads SIP_RECEIVERS itself here: the path `sip-fhir serve` takes.
    h = await startHarness('pglite', { deliveryMaxAttempts: '2' }, true);
  }, 180_000);
  afterAll(async () => {
    await h.close();
  }, 60_000);

  it('makes a delivery that keeps failing a dead letter after two attempts, as the setting says', async () => {
    expect(h.server.receivers).toEqual(['region-ostergotland', 'vc-ekholmen', 'region-stockholm', 'linkoping-case-api', 'linkoping-legacy-drop']);
    h.setClock(IN_FORCE);
    h.fhir.script = (request) => (request.path === '/stockholm' ? { status: 503, headers: { 'content-type': 'text/plain' }, body: 'down for maintenance' } : undefined);
    const posted = await call(h, 'POST', '/exchange/inbound/legacy-xml-export', HUDDINGE.caller, XML_SAMPLE, 'application/xml');
    expect(posted.status, JSON.stringify(posted.json)).toBe(201);
    const [delivery, ...others] = await settled(h, HUDDINGE.caseNumber, 1);
    expect(others).toEqual([]);
    expect([delivery?.receiverId, delivery?.state, delivery?.attempts, delivery?.lastStatus]).toEqual(['region-stockholm', 'dead', 2, 503]);
    expect(delivery?.lastError).toMatch(/^gave up after 2 attempts; /);
    expect(h.fhir.requests.filter((request) => request.path === '/stockholm').map((request) => request.status)).toEqual([503, 503]);
  }, 60_000);
});

describe('the exchange end to end on PostgreSQL', () => {
  let h: Harness;

  beforeAll(async () => {
    loadMedplumWithProfiles();
    h = await startHarness('postgres');
  }, 180_000);
  afterAll(async () => {
    await h.close();
  }, 60_000);

  it('delivers a municipal JSON export to the region’s FHIR server as a valid transaction Bundle', async () => {
    h.setClock(IN_FORCE);
    const posted = await call(h, 'POST', '/exchange/inbound/modern-case-api', LINKOPING.caller, JSON_SAMPLE, 'application/json');
    expect(posted.status, JSON.stringify(posted.json)).toBe(201);
    const deliveries = await settled(h, LINKOPING.caseNumber, 2);
    expect(summary(deliveries)).toEqual(['region-ostergotland v1 delivered', 'vc-ekholmen v1 delivered']);
    const got = h.fhir.requests.filter((request) => request.path === '/ostergotland');
    expect(got).toHaveLength(1);
    const bundle = JSON.parse(textOf(got[0] as Received)) as Bundle;
    expectValidTransaction(bundle);
    expect(goalTexts(bundle).sort()).toEqual([...LINKOPING_GOALS].sort());
  }, 60_000);
});

function readdirSafe(folder: string): string[] {
  try {
    return readdirSync(folder);
  } catch {
    return [];
  }
}
