/**
 * Several adapter instances on one PostgreSQL (issue #14, "Done when"): outbox workers in child
 * processes of their own (outbox-child.ts), each with its own connections, share the outbox. The
 * receiver on loopback counts what arrives by idempotency key and by raw request.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, startReceiver, writeVersions, type OpenedStore, type TestReceiver } from './outbox-support.js';

const CHILD = fileURLToPath(new URL('./outbox-child.ts', import.meta.url));

interface Instance {
  readonly process: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;
}

function startInstance(databaseUrl: string, receiverUrl: string, name: string, concurrency = 4): Instance {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, DATABASE_URL: databaseUrl, RECEIVER_URL: receiverUrl, WORKER_NAME: name, CONCURRENCY: String(concurrency) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    resolve(code);
  }));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    void exited.then((code) => {
      reject(new Error(`instance ${name} ended (${String(code)}) before it was ready: ${errors}`));
    });
  });
  return { process: child, ready, exited };
}

async function stopInstance(instance: Instance): Promise<void> {
  if (instance.process.exitCode === null && instance.process.signalCode === null) instance.process.kill('SIGTERM');
  await instance.exited;
}

/** Waits until no delivery is pending (or fails after `ms`). */
async function drained(opened: OpenedStore, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if ((await opened.store.outbox.list({ state: 'pending', limit: 1 })).length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`deliveries still pending after ${String(ms)} ms: ${JSON.stringify(await opened.store.outbox.list({ state: 'pending' }))}`);
}

/** The versions each (plan, receiver) received, by the first arrival of each idempotency key. */
function firstArrivals(receiver: TestReceiver): Map<string, number[]> {
  const byPair = new Map<string, number[]>();
  for (const key of receiver.accepted) {
    const [plan, version, receiverId] = key.split('/');
    const pair = `${String(plan)}→${String(receiverId)}`;
    byPair.set(pair, [...(byPair.get(pair) ?? []), Number(version)]);
  }
  return byPair;
}

describe('outbox workers of several instances on one PostgreSQL', () => {
  let opened: OpenedStore;
  let receiver: TestReceiver;
  const instances: Instance[] = [];
  beforeEach(async () => {
    opened = await openStore('postgres');
    receiver = await startReceiver(() => ({ status: 200, holdMs: 5 }));
  }, 120_000);
  afterEach(async () => {
    for (const instance of instances.splice(0)) await stopInstance(instance);
    await receiver.close();
    await opened.dispose();
  }, 120_000);

  it('two instances deliver 200 messages, each exactly once and in order per plan', async () => {
    const { databaseUrl } = opened;
    if (databaseUrl === undefined) throw new Error('a PostgreSQL store');
    instances.push(startInstance(databaseUrl, receiver.url, 'a'), startInstance(databaseUrl, receiver.url, 'b'));
    await Promise.all(instances.map((instance) => instance.ready));
    // 20 plans × 5 versions × 2 receivers, written while both instances poll.
    for (let plan = 1; plan <= 20; plan++) await writeVersions(opened.store, `sip-many-${String(plan)}`, 5, ['kommun-falun', 'region-ehr']);
    await drained(opened, 120_000);

    const keys = new Set(receiver.requests.map((request) => request.key));
    const byInstance = { a: receiver.requests.filter((request) => request.worker === 'a').length, b: receiver.requests.filter((request) => request.worker === 'b').length };
    console.info(`two instances: ${String(keys.size)} idempotency keys, ${String(receiver.requests.length)} raw requests; a sent ${String(byInstance.a)}, b ${String(byInstance.b)}`);
    expect(keys.size).toBe(200);
    expect(receiver.requests).toHaveLength(200);
    expect(receiver.accepted).toHaveLength(200);
    for (const versions of firstArrivals(receiver).values()) expect(versions).toEqual([1, 2, 3, 4, 5]);
    expect(firstArrivals(receiver).size).toBe(40);
    // Both instances took a share.
    expect(byInstance.a).toBeGreaterThan(0);
    expect(byInstance.b).toBeGreaterThan(0);
    expect((await opened.store.outbox.list({ state: 'delivered', limit: 1000 })).length).toBe(200);
  }, 300_000);

  it('an instance killed with SIGKILL mid-delivery releases its claim at once; a restarted one delivers every version once, in order', async () => {
    const { databaseUrl } = opened;
    if (databaseUrl === undefined) throw new Error('a PostgreSQL store');
    const held = 'sip-kill-2/3/kommun-falun';
    // The first request for one version is never answered: the instance is killed while it waits.
    receiver.script = (key, nth) => ({ status: 200, holdMs: key === held && nth === 0 ? 600_000 : 5 });
    let killedAt = 0;
    const first = startInstance(databaseUrl, receiver.url, 'first', 2);
    instances.push(first);
    receiver.onRequest = (request) => {
      if (request.key === held && killedAt === 0) {
        killedAt = Date.now();
        first.process.kill('SIGKILL');
      }
    };
    await first.ready;
    for (let plan = 1; plan <= 3; plan++) await writeVersions(opened.store, `sip-kill-${String(plan)}`, 5, ['kommun-falun']);
    expect(await first.exited).toBeNull();
    expect(first.process.signalCode).toBe('SIGKILL');
    // The killed instance held the row in a transaction on its own connection: the server rolled it
    // back when the connection died, so the row is pending and claimable now (no lease to expire).
    const [row] = await opened.store.outbox.list({ planId: 'sip-kill-2', receiverId: 'kommun-falun', state: 'pending' });
    expect([row?.version, row?.attempts]).toEqual([3, 0]);
    // (The server learns of the closed socket within moments; allow it two seconds, not the hours of a lease.)
    let claimable: { version: number }[] = [];
    for (const until = Date.now() + 2_000; claimable.length === 0 && Date.now() < until; ) {
      claimable = await opened.sql.transaction((tx) =>
        tx.query<{ version: number }>(`SELECT version FROM outbox WHERE plan_id = 'sip-kill-2' AND version = 3 FOR UPDATE SKIP LOCKED`),
      );
    }
    expect(claimable).toEqual([{ version: 3 }]);

    const second = startInstance(databaseUrl, receiver.url, 'second', 2);
    instances.push(second);
    await second.ready;
    await drained(opened, 120_000);

    const forHeld = receiver.requests.filter((request) => request.key === held);
    console.info(`after SIGKILL: ${String(new Set(receiver.requests.map((request) => request.key)).size)} idempotency keys, ${String(receiver.requests.length)} raw requests; ${held} arrived ${String(forHeld.length)} times (${forHeld.map((request) => request.worker).join(', ')})`);
    expect(forHeld.map((request) => request.worker)).toEqual(['first', 'second']);
    expect(receiver.accepted).toHaveLength(15);
    expect(new Set(receiver.requests.map((request) => request.key)).size).toBe(15);
    for (const versions of firstArrivals(receiver).values()) expect(versions).toEqual([1, 2, 3, 4, 5]);
    expect(firstArrivals(receiver).size).toBe(3);
    // Nothing after the held version went out before it was delivered.
    const heldDelivered = receiver.requests.findIndex((request) => request.key === held && request.worker === 'second');
    expect(receiver.requests.findIndex((request) => request.planId === 'sip-kill-2' && request.version > 3)).toBeGreaterThan(heldDelivered);
  }, 300_000);
});
