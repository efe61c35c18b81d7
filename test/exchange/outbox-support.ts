/**
 * For the outbox tests: a receiver that is a real HTTP server on loopback and records every request
 * (raw) and every idempotency key (first arrival), a small connector that POSTs to it, the store on
 * PGlite or on a scratch PostgreSQL database, and a consent decision from the plan's own consents.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connector, DeliveryOutcome, OutboundMessage, SendDecision } from '../../src/exchange/index.js';
import { consentsInForce, type SipPlan } from '../../src/sip/index.js';
import type { PlanStore } from '../../src/store/index.js';
import { openPg, openPglite, type SqlClient } from '../../src/store/sql-client.js';
import { SqlPlanStore } from '../../src/store/sql-plan-store.js';
import { createScratchDatabase } from '../store/postgres-scratch.js';
import { freshPlan } from '../support/http-server.js';
import { closeServer, listenOnLoopback } from '../support/loopback.js';

export interface ReceivedRequest {
  readonly key: string;
  readonly planId: string;
  readonly version: number;
  readonly receiverId: string;
  readonly worker: string;
  readonly status: number;
}

/** What the receiver answers to the n-th request (0-based) carrying a key; 200 unless told. */
export type Script = (key: string, nth: number) => { status: number; headers?: Record<string, string>; holdMs?: number } | undefined;

export interface TestReceiver {
  readonly url: string;
  /** Every request, in arrival order. */
  readonly requests: ReceivedRequest[];
  /** Keys accepted (2xx), each once, in the order first accepted. */
  readonly accepted: string[];
  /** Called when a request arrives, before it is answered. */
  onRequest?: (request: ReceivedRequest) => void;
  script: Script;
  close(): Promise<void>;
}

export async function startReceiver(script: Script = () => undefined): Promise<TestReceiver> {
  const seen = new Map<string, number>();
  const receiver: TestReceiver = {
    url: '',
    requests: [],
    accepted: [],
    script,
    close: () => closeServer(server, { dropConnections: true }),
  };
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { planId: string; version: number; receiverId: string; plan: SipPlan };
      const key = String(request.headers['idempotency-key']);
      const nth = seen.get(key) ?? 0;
      seen.set(key, nth + 1);
      const answer = receiver.script(key, nth) ?? { status: 200 };
      const received: ReceivedRequest = { key, planId: body.planId, version: body.version, receiverId: body.receiverId, worker: String(request.headers['x-worker']), status: answer.status };
      receiver.requests.push(received);
      receiver.onRequest?.(received);
      const reply = (): void => {
        if (answer.status >= 200 && answer.status < 300 && !receiver.accepted.includes(key)) receiver.accepted.push(key);
        response.writeHead(answer.status, answer.headers ?? {}).end();
      };
      if (answer.holdMs === undefined) reply();
      else setTimeout(reply, answer.holdMs);
    });
  });
  (receiver as { url: string }).url = (await listenOnLoopback(server)).origin;
  return receiver;
}

/** A connector that POSTs the message as JSON with its idempotency key, and judges the answer as the contract says. */
export function httpConnector(url: string, worker = 'test'): Connector {
  return {
    async deliver(message: OutboundMessage): Promise<DeliveryOutcome> {
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': message.idempotencyKey, 'x-worker': worker },
          body: JSON.stringify({ planId: message.planId, version: message.version, receiverId: message.receiverId, plan: message.plan }),
          signal: AbortSignal.timeout(10_000),
        });
      } catch (error) {
        return { kind: 'retry', reason: `no answer: ${error instanceof Error ? error.message : String(error)}` };
      }
      const status = response.status;
      if (status >= 200 && status < 300) return { kind: 'delivered', status };
      if (status === 429 || status >= 500) {
        const after = response.headers.get('retry-after');
        return { kind: 'retry', reason: `HTTP ${String(status)}`, status, ...(after === null ? {} : { retryAfterMs: Number(after) * 1000 }) };
      }
      return { kind: 'failed', reason: `HTTP ${String(status)}`, status };
    },
  };
}

/** Consent from the plan's own consents: send when one is in force, unless the receiver is in `excluded`. */
export function consentDecision(excluded: ReadonlySet<string> = new Set()) {
  return (plan: SipPlan, receiverId: string, at: Date): SendDecision => {
    if (excluded.has(receiverId)) return { send: false, reason: 'excluded', detail: `the person excluded ${receiverId}` };
    const [consent] = consentsInForce(plan, at);
    if (consent === undefined) return { send: false, reason: 'noConsentInForce', detail: `no consent of plan ${plan.id} is in force at ${at.toISOString()}` };
    return { send: true, plan, consentId: consent.id, removed: [] };
  };
}

export type Driver = 'pglite' | 'postgres';

export interface OpenedStore {
  readonly store: SqlPlanStore;
  /** A second connection for what a test checks or breaks behind the store's back. */
  readonly sql: SqlClient;
  readonly databaseUrl?: string;
  readonly dataDir?: string;
  dispose(): Promise<void>;
}

export async function openStore(driver: Driver): Promise<OpenedStore> {
  if (driver === 'pglite') {
    const folder = await mkdtemp(join(tmpdir(), 'sip-outbox-'));
    const client = await openPglite(join(folder, 'data'));
    const store = new SqlPlanStore(client);
    await store.migrate();
    return {
      store,
      sql: client,
      dataDir: join(folder, 'data'),
      dispose: async () => {
        await store.close();
        await rm(folder, { recursive: true, force: true });
      },
    };
  }
  const database = await createScratchDatabase();
  const store = new SqlPlanStore(openPg(database.url));
  await store.migrate();
  const sql = openPg(database.url, { maxConnections: 2 });
  return {
    store,
    sql,
    databaseUrl: database.url,
    dispose: async () => {
      await store.close();
      await sql.close();
      await database.drop();
    },
  };
}

/** Writes versions 1 … `versions` of a new plan `id`, each routed to `receivers`. */
export async function writeVersions(store: PlanStore, id: string, versions: number, receivers: readonly string[]): Promise<SipPlan> {
  let plan = freshPlan(id);
  await store.create(plan, 'SE2321000180-1000', [], { deliverTo: receivers });
  for (let version = 2; version <= versions; version++) {
    plan = { ...plan, version, notes: `version ${String(version)}` };
    await store.update(plan, version - 1, 'SE2321000180-1000', [], { deliverTo: receivers });
  }
  return plan;
}
