/**
 * Run by test/http/transaction-memory.test.ts as `node --expose-gc --import tsx <this file>`: posts one
 * transaction Bundle to the app (on an embedded store in a new folder) and, while the plan is being
 * recorded — the store's `create` held at a gate — collects the garbage and asks whether the parsed
 * Bundle is still reachable. Then it lets the write finish. Prints one JSON line: whether the Bundle
 * was released during the write, and the answer's status.
 *
 * A request's objects that are held across the store's round trips outlive the scavenges that happen
 * meanwhile and are promoted to the old space; the parsed Bundle (some 2,000 JSON values) was most of
 * what a transaction left there (docs/performance.md, "What a transaction leaves behind").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planToBundle } from '../../src/fhir/index.js';
import { createApp } from '../../src/http/app.js';
import { transactionReaderInThread } from '../../src/http/transaction-reader.js';
import { createPlanStore, type PlanStore } from '../../src/store/index.js';
import { NOW, freshPlan, openAppDependencies } from './http-server.js';
import { closeServer, listenOnLoopback } from './loopback.js';

const collect = (globalThis as { gc?: () => void }).gc;
if (collect === undefined) throw new Error('run with node --expose-gc');

const folder = mkdtempSync(join(tmpdir(), 'sip-released-bundle-'));
const inner = await createPlanStore({ dataDir: folder });
await inner.migrate();

let openGate: () => void = () => undefined;
const gate = new Promise<void>((resolve) => (openGate = resolve));
let reachedCreate: () => void = () => undefined;
const inCreate = new Promise<void>((resolve) => (reachedCreate = resolve));
const store: PlanStore = Object.create(inner, {
  create: {
    value: async (...args: Parameters<PlanStore['create']>) => {
      reachedCreate();
      await gate;
      return inner.create(...args);
    },
  },
}) as PlanStore;

const bundles: WeakRef<object>[] = [];
const reader = transactionReaderInThread();
const app = createApp({
  ...openAppDependencies(store),
  transactionReader: {
    read: (sent) => {
      bundles.push(new WeakRef(sent as object));
      return reader.read(sent);
    },
    close: () => reader.close(),
  },
});
const { server, origin } = await listenOnLoopback(app);
try {
  const answer = fetch(`${origin}/fhir`, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body: JSON.stringify(planToBundle(freshPlan('sip-released-bundle'), undefined, NOW)) });
  await inCreate;
  // Twice, a turn of the event loop apart: a WeakRef's target is kept to the end of the job that made it.
  await new Promise((resolve) => setImmediate(resolve));
  collect();
  await new Promise((resolve) => setImmediate(resolve));
  collect();
  const released = bundles.length === 1 && bundles[0]?.deref() === undefined;
  openGate();
  const response = await answer;
  await response.arrayBuffer();
  process.stdout.write(`${JSON.stringify({ readers: bundles.length, releasedWhileRecording: released, status: response.status })}\n`);
} finally {
  await closeServer(server, { dropConnections: true });
  await inner.close();
  rmSync(folder, { recursive: true, force: true });
}
