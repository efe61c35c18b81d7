/**
 * The exchange survives its receiver being down and its own process being killed, and several
 * instances on one PostgreSQL share the outbox (issue #14, "Done when": "Receiver down … killed with
 * SIGKILL … every version arrives exactly once and in order", "Two adapter instances on the same
 * PostgreSQL deliver every message exactly once").
 *
 * Everything is real: `sip-fhir serve` runs as child processes (as crash.test.ts starts it) on a
 * scratch database of the machine's PostgreSQL or on PGlite in a folder, with a receivers file in a
 * temp folder naming one FHIR receiver — Försäkringskassan (202100-5521), an other actor of the adult
 * example and covered by its consent, so routing sends it every version Region Dalarna writes and
 * consent at sending lets it through. The receiver is a node:http server in this process that
 * records every request (Idempotency-Key, body bytes, arrival order, path, whether it was answered)
 * and answers a `transaction-response`; it can be stopped and started again on the same port, and
 * told to hold requests unanswered (so the adapter can be killed in the middle of an attempt).
 *
 * The server runs on the real clock, so the plans' consent runs from today (as in crash.test.ts).
 * The backoff is capped at 500 ms (`SIP_DELIVERY_MAX_BACKOFF_MS`) and the attempts raised to 100
 * (`SIP_DELIVERY_MAX_ATTEMPTS`) so that a receiver coming back is served within a second or so and
 * nothing turns into a dead letter while it is away. Every wait polls; none sleeps blindly.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Bundle, CarePlan } from 'fhir/r4.js';
import { afterAll, describe, expect, it } from 'vitest';
import { EXTENSION, IDENTIFIER_SYSTEM } from '../../src/fhir/index.js';
import { formatDate, stockholmDate } from '../../src/sip/index.js';
import { DRIVERS, freshPlan, REGION } from '../support/http-server.js';
import { createScratchDatabase, type ScratchDatabase } from '../store/postgres-scratch.js';
import { RestartableServer } from '../support/restartable-server.js';

const CLI = ['--import', 'tsx', 'src/cli/bin.ts'];
/** Försäkringskassan: an other actor of the adult example, covered by its consent. */
const FK = '202100-5521';
const RECEIVER_ID = 'fk';
/** An organisation that may read the outbox through `/exchange/deliveries` (SIP_OPERATORS). */
const OPERATOR = 'SE2321000180-9000';
/** How long any one wait may take on a loaded machine before the test fails saying what it waited for. */
const WAIT_MS = 60_000;

// ---------------------------------------------------------------------------------------------
// The receiver

interface Arrival {
  /** 0, 1, 2 … in the order requests arrived (whole body read). */
  readonly seq: number;
  readonly path: string;
  readonly key: string;
  readonly body: Buffer;
  /** The plan and version the bytes carry (the CarePlan's SIP identifier and plan-version extension). */
  readonly planId: string | undefined;
  readonly version: number | undefined;
  /** Answered with a complete 2xx transaction-response. */
  answered: boolean;
  /** The connection closed before an answer was written: the attempt was cut off. */
  cutOff: boolean;
}

/** A loopback FHIR server that records what arrives, and can be down, up, or holding requests. */
class RecordingFhirReceiver {
  readonly arrivals: Arrival[] = [];
  /** `answer`: a transaction-response at once; `hold`: record, then answer nothing until the connection closes. */
  mode: 'answer' | 'hold' = 'answer';
  private readonly server = new RestartableServer((request, response) => {
    this.handle(request, response);
  });

  get base(): string {
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

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const bundle = JSON.parse(body.toString('utf8')) as Bundle;
      const carePlan = bundle.entry?.map((entry) => entry.resource).find((resource): resource is CarePlan => resource?.resourceType === 'CarePlan');
      const arrival: Arrival = {
        seq: this.arrivals.length,
        path: request.url ?? '',
        key: String(request.headers['idempotency-key']),
        body,
        planId: carePlan?.identifier?.find((identifier) => identifier.system === IDENTIFIER_SYSTEM.sipPlan)?.value,
        version: carePlan?.extension?.find((extension) => extension.url === EXTENSION.planVersion)?.valueInteger,
        answered: false,
        cutOff: false,
      };
      this.arrivals.push(arrival);
      response.once('close', () => {
        if (!response.writableFinished) arrival.cutOff = true;
      });
      if (this.mode === 'hold') return;
      const answer = JSON.stringify({
        resourceType: 'Bundle',
        type: 'transaction-response',
        entry: (bundle.entry ?? []).map(() => ({ response: { status: '201 Created' } })),
      });
      response.writeHead(200, { 'Content-Type': 'application/fhir+json' }).end(answer, () => {
        arrival.answered = true;
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// The adapter as child processes

interface Child {
  readonly process: ChildProcess;
  readonly url: string;
  readonly exited: Promise<void>;
  /** What it wrote to stderr (its log), for a failure's message. */
  readonly log: () => string;
}

/** Starts `sip-fhir serve` on a free loopback port and resolves once it listens. */
function serve(env: Record<string, string>): Promise<Child> {
  const child = spawn(process.execPath, [...CLI, 'serve', '--port', '0', '--host', '127.0.0.1'], {
    env: { ...process.env, SIP_LOAD_EXAMPLES: 'false', SIP_RATE_LIMIT: '1000000', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }));
  let stderr = '';
  return new Promise<Child>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sip-fhir serve did not start within ${String(WAIT_MS)} ms:\n${stderr}`));
    }, WAIT_MS);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve({ process: child, url: match[1], exited, log: () => stderr });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`sip-fhir serve ended (${String(code ?? signal)}) before listening:\n${stderr}`));
    });
  });
}

async function kill(child: Child): Promise<void> {
  child.process.kill('SIGKILL');
  await child.exited;
}

async function token(dataDir: string, org: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [...CLI, 'token', '--data-dir', dataDir, '--org', org, '--scope', 'system/*.*']);
  return stdout.trim();
}

/** Polls `check` every 50 ms until it holds; fails after WAIT_MS naming what it waited for. */
async function until(what: string, check: () => boolean | Promise<boolean>, detail: () => string = () => ''): Promise<void> {
  for (const end = Date.now() + WAIT_MS; Date.now() < end; ) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${String(WAIT_MS)} ms waiting for ${what}${detail() === '' ? '' : `:\n${detail()}`}`);
}

/** A new plan recorded now, whose consent is in force on the real date, from today for 300 days. */
function planOfToday(id: string): ReturnType<typeof freshPlan> {
  const plan = freshPlan(id);
  const today = new Date();
  const givenAt = formatDate(stockholmDate(today));
  const validUntil = formatDate(stockholmDate(new Date(today.getTime() + 300 * 86_400_000)));
  return { ...plan, updatedAt: today.toISOString(), consents: plan.consents.map((consent) => ({ ...consent, givenAt, validUntil })) };
}

/** Writes versions 1 … `versions` of plan `id` through the SIP API of `url` (create, then updates). */
async function writePlan(url: string, bearer: string, id: string, versions: number): Promise<void> {
  const headers = { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' };
  const plan = planOfToday(id);
  const created = await fetch(`${url}/sip/plans`, { method: 'POST', headers, body: JSON.stringify({ ...plan, notes: 'version 1' }) });
  if (created.status !== 201) throw new Error(`create of ${id} answered ${String(created.status)}: ${await created.text()}`);
  await created.arrayBuffer();
  for (let version = 2; version <= versions; version++) {
    const updated = await fetch(`${url}/sip/plans/${id}`, {
      method: 'PUT',
      headers: { ...headers, 'If-Match': `W/"${String(version - 1)}"` },
      body: JSON.stringify({ ...plan, notes: `version ${String(version)}` }),
    });
    if (updated.status !== 200) throw new Error(`update of ${id} to version ${String(version)} answered ${String(updated.status)}: ${await updated.text()}`);
    await updated.arrayBuffer();
  }
}

interface DeliveryRow {
  readonly planId: string;
  readonly version: number;
  readonly receiverId: string;
  readonly state: string;
  readonly attempts: number;
}

/** The outbox as an operator lists it through the running server. */
async function deliveries(url: string, bearer: string): Promise<DeliveryRow[]> {
  const response = await fetch(`${url}/exchange/deliveries?limit=1000`, { headers: { Authorization: `Bearer ${bearer}` } });
  if (response.status !== 200) throw new Error(`GET /exchange/deliveries answered ${String(response.status)}: ${await response.text()}`);
  return ((await response.json()) as { deliveries: DeliveryRow[] }).deliveries;
}

/** `plan/version/receiver` → the parts. */
function keyParts(key: string): { planId: string; version: number } {
  const [planId, version] = key.split('/');
  return { planId: String(planId), version: Number(version) };
}

function receiversFile(folder: string, name: string, base: string): string {
  const file = join(folder, name);
  // A long timeout: an attempt the test holds open must end by the kill, never by the connector giving up.
  writeFileSync(file, JSON.stringify({ receivers: [{ id: RECEIVER_ID, organization: FK, kind: 'fhir', base, timeoutMs: 120_000, auth: { type: 'none' } }] }, null, 2));
  return file;
}

const expectedKeys = (plans: readonly string[], versions: number): string[] =>
  plans.flatMap((planId) => Array.from({ length: versions }, (_, index) => `${planId}/${String(index + 1)}/${RECEIVER_ID}`));

/** Per plan, the versions in the order their requests arrived. */
function arrivalOrder(arrivals: readonly Arrival[]): Map<string, number[]> {
  const byPlan = new Map<string, number[]>();
  for (const arrival of arrivals) {
    const { planId, version } = keyParts(arrival.key);
    byPlan.set(planId, [...(byPlan.get(planId) ?? []), version]);
  }
  return byPlan;
}

/** Every request carries the plan version its key names, as a FHIR transaction Bundle. */
function expectBodiesMatchKeys(arrivals: readonly Arrival[]): void {
  for (const arrival of arrivals) {
    const { planId, version } = keyParts(arrival.key);
    expect({ planId: arrival.planId, version: arrival.version, type: (JSON.parse(arrival.body.toString('utf8')) as Bundle).type }, arrival.key).toEqual({ planId, version, type: 'transaction' });
    expect(arrival.body.length).toBeGreaterThan(0);
  }
}

// ---------------------------------------------------------------------------------------------

describe.each(DRIVERS)('the receiver down and the adapter killed on %s', (_name, driver) => {
  const children: Child[] = [];
  const folder = mkdtempSync(join(tmpdir(), 'sip-exchange-crash-'));
  const receiver = new RecordingFhirReceiver();
  let scratch: ScratchDatabase | undefined;

  afterAll(async () => {
    for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) await kill(child);
    await receiver.stop();
    await scratch?.drop();
    rmSync(folder, { recursive: true, force: true });
  }, 60_000);

  it('delivers every version exactly once by Idempotency-Key, in order per plan, once the receiver is back', async () => {
    const VERSIONS = 6;
    const plans = [`sip-down-${driver}-a`, `sip-down-${driver}-b`];
    const keys = expectedKeys(plans, VERSIONS);
    scratch = driver === 'postgres' ? await createScratchDatabase() : undefined;
    // A free port for the receiver, then down: the adapter finds nobody there.
    await receiver.start();
    await receiver.stop();
    const env = {
      SIP_DATA_DIR: join(folder, 'data'),
      SIP_RECEIVERS: receiversFile(folder, 'receivers.json', `${receiver.base}/fhir`),
      SIP_OPERATORS: OPERATOR,
      SIP_DELIVERY_MAX_BACKOFF_MS: '500',
      SIP_DELIVERY_MAX_ATTEMPTS: '100',
      ...(scratch === undefined ? {} : { DATABASE_URL: scratch.url }),
    };

    // 1. The receiver is down; six versions of each of two plans are written.
    const first = await serve(env);
    children.push(first);
    const writer = await token(env.SIP_DATA_DIR, REGION);
    const operator = await token(env.SIP_DATA_DIR, OPERATOR);
    await Promise.all(plans.map((id) => writePlan(first.url, writer, id, VERSIONS)));
    // Mid-retry: both plans' first versions have been tried (refused connections) and wait to be tried again.
    let rows: DeliveryRow[] = [];
    await until(
      'both first versions to have failed attempts',
      async () => {
        rows = await deliveries(first.url, operator);
        return plans.every((planId) => (rows.find((row) => row.planId === planId && row.version === 1)?.attempts ?? 0) >= 2);
      },
      () => JSON.stringify(rows),
    );
    expect(rows.map((row) => `${row.planId}/${String(row.version)}/${row.receiverId}`).sort()).toEqual([...keys].sort());
    expect(rows.every((row) => row.state === 'pending')).toBe(true);
    // The later versions wait behind the first (per-plan order): none was tried.
    expect(rows.filter((row) => row.version > 1 && row.attempts > 0)).toEqual([]);
    await kill(first);
    expect(receiver.arrivals).toEqual([]);

    // 2. Restarted; the receiver comes back but holds what it gets unanswered, and the adapter is
    // killed again in the middle of those attempts (the bytes arrived, the answer never left).
    const second = await serve(env);
    children.push(second);
    receiver.mode = 'hold';
    await receiver.start();
    await until('a request held by the receiver', () => receiver.arrivals.length >= 1);
    await kill(second);
    await until('the held requests to be cut off by the kill', () => receiver.arrivals.every((arrival) => arrival.cutOff), () => JSON.stringify(receiver.arrivals.map(({ key, cutOff }) => ({ key, cutOff }))));
    const cutOff = receiver.arrivals.length;
    // Only first versions could have gone: version 2 of a plan waits until version 1 is delivered.
    expect(receiver.arrivals.map((arrival) => keyParts(arrival.key).version)).toEqual(Array.from({ length: cutOff }, () => 1));

    // 3. Restarted once more with the receiver answering: everything arrives.
    receiver.mode = 'answer';
    const third = await serve(env);
    children.push(third);
    const answeredKeys = (): string[] => receiver.arrivals.filter((arrival) => arrival.answered).map((arrival) => arrival.key);
    await until(`all ${String(keys.length)} versions answered by the receiver`, () => keys.every((key) => answeredKeys().includes(key)), () => third.log());
    await until(
      'every delivery recorded as delivered',
      async () => {
        rows = await deliveries(third.url, operator);
        return rows.length === keys.length && rows.every((row) => row.state === 'delivered');
      },
      () => JSON.stringify(rows),
    );

    const { arrivals } = receiver;
    // Exactly once by Idempotency-Key: each key answered once, and nothing else was.
    expect([...answeredKeys()].sort()).toEqual([...keys].sort());
    // In order per plan: by the order of arrival of every request (repeats included), versions never go back.
    const order = arrivalOrder(arrivals);
    for (const planId of plans) {
      const versions = order.get(planId) ?? [];
      expect(versions, planId).toEqual([...versions].sort((a, b) => a - b));
      expect([...new Set(versions)], planId).toEqual(Array.from({ length: VERSIONS }, (_, index) => index + 1));
    }
    expectBodiesMatchKeys(arrivals);
    // Raw requests: a key may arrive more than once only when an attempt carrying it was cut off by a
    // kill before the adapter could record the answer — the receiver got the bytes, the outbox still
    // says pending, and the next process sends the same key again (which is what the Idempotency-Key
    // is for). So the repeats are at most the attempts cut off, and every repeat is of a cut-off key.
    const repeats = arrivals.length - new Set(arrivals.map((arrival) => arrival.key)).size;
    const cutOffKeys = new Set(arrivals.filter((arrival) => arrival.cutOff).map((arrival) => arrival.key));
    expect(cutOff).toBeGreaterThanOrEqual(1);
    expect(repeats).toBeLessThanOrEqual(cutOff);
    for (const arrival of arrivals.filter((each, index) => arrivals.findIndex((other) => other.key === each.key) !== index)) expect(cutOffKeys.has(arrival.key), arrival.key).toBe(true);
    console.info(`[${driver}] ${String(keys.length)} versions, ${String(arrivals.length)} raw requests (${String(repeats)} repeats, ${String(cutOff)} attempts cut off by the kill)`);

    third.process.kill('SIGTERM');
    await third.exited;
  }, 240_000);
});

describe('two adapter instances on one PostgreSQL', () => {
  const children: Child[] = [];
  const folder = mkdtempSync(join(tmpdir(), 'sip-exchange-two-'));
  const receiver = new RecordingFhirReceiver();
  let scratch: ScratchDatabase | undefined;

  afterAll(async () => {
    for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) await kill(child);
    await receiver.stop();
    await scratch?.drop();
    rmSync(folder, { recursive: true, force: true });
  }, 60_000);

  it('delivers every message exactly once, the work shared by both', async () => {
    const PLANS = 10;
    const VERSIONS = 3;
    const plans = Array.from({ length: PLANS }, (_, index) => `sip-two-${String(index)}`);
    const keys = expectedKeys(plans, VERSIONS);
    scratch = await createScratchDatabase();
    await receiver.start();
    // The same receiver (same id, so the same outbox rows) under a different path per instance: the
    // path a request arrives on says which instance sent it. Nothing else tells them apart — the
    // audit log names the worker as `sip-fhir-adapter/outbox` in both.
    const common = { SIP_DATA_DIR: join(folder, 'data'), DATABASE_URL: scratch.url, SIP_OPERATORS: OPERATOR, SIP_DELIVERY_MAX_BACKOFF_MS: '500' };
    // One after the other: each runs the migrations at start.
    const one = await serve({ ...common, SIP_RECEIVERS: receiversFile(folder, 'one.json', `${receiver.base}/one/fhir`) });
    children.push(one);
    const two = await serve({ ...common, SIP_RECEIVERS: receiversFile(folder, 'two.json', `${receiver.base}/two/fhir`) });
    children.push(two);
    const writer = await token(common.SIP_DATA_DIR, REGION);
    const operator = await token(common.SIP_DATA_DIR, OPERATOR);

    await Promise.all(plans.map((id, index) => writePlan(index % 2 === 0 ? one.url : two.url, writer, id, VERSIONS)));
    await until(`all ${String(keys.length)} messages answered`, () => receiver.arrivals.filter((arrival) => arrival.answered).length >= keys.length);
    let rows: DeliveryRow[] = [];
    await until(
      'every delivery recorded as delivered',
      async () => {
        rows = await deliveries(one.url, operator);
        return rows.length === keys.length && rows.every((row) => row.state === 'delivered');
      },
      () => JSON.stringify(rows),
    );

    const { arrivals } = receiver;
    // Nothing was killed: exactly once by key and by raw request.
    expect(arrivals.map((arrival) => arrival.key).sort()).toEqual([...keys].sort());
    expect(arrivals.every((arrival) => arrival.answered)).toBe(true);
    const order = arrivalOrder(arrivals);
    for (const planId of plans) expect(order.get(planId), planId).toEqual(Array.from({ length: VERSIONS }, (_, index) => index + 1));
    expectBodiesMatchKeys(arrivals);
    const byOne = arrivals.filter((arrival) => arrival.path === '/one/fhir').length;
    const byTwo = arrivals.filter((arrival) => arrival.path === '/two/fhir').length;
    expect(byOne + byTwo).toBe(keys.length);
    expect(byOne).toBeGreaterThan(0);
    expect(byTwo).toBeGreaterThan(0);
    console.info(`[two instances] ${String(keys.length)} messages: ${String(byOne)} by the first instance, ${String(byTwo)} by the second`);

    for (const child of [one, two]) child.process.kill('SIGTERM');
    await Promise.all([one.exited, two.exited]);
  }, 240_000);
});
