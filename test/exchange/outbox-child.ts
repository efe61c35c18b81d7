/**
 * An adapter instance's outbox worker in a process of its own, for the tests of several instances on
 * one PostgreSQL and of an instance killed mid-delivery (outbox-instances.test.ts). Run with
 * `node --import tsx`; settings in the environment: DATABASE_URL, RECEIVER_URL, WORKER_NAME,
 * CONCURRENCY. Prints `ready` once it polls; stops cleanly on SIGTERM.
 */
import { OutboxWorker } from '../../src/exchange/index.js';
import { createPlanStore } from '../../src/store/index.js';
import { NOW } from '../support/http-server.js';
import { consentDecision, httpConnector } from './outbox-support.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const store = await createPlanStore({ databaseUrl: env('DATABASE_URL') });
const connector = httpConnector(env('RECEIVER_URL'), env('WORKER_NAME'));
const decide = consentDecision();
const worker = new OutboxWorker({
  outbox: store.outbox,
  audit: (entry) => store.audit(entry),
  receivers: [
    { id: 'kommun-falun', organization: '212000-2080' },
    { id: 'region-ehr', organization: 'SE2321000180-2000' },
  ],
  connectorFor: () => connector,
  // Consent is judged at a moment the example's consent is in force; the worker's own clock is real.
  decide: (plan, receiverId) => decide(plan, receiverId, NOW),
  concurrency: Number(process.env.CONCURRENCY ?? '4'),
  pollIntervalMs: 50,
  baseDelayMs: 50,
});
worker.start();
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void worker
    .stop()
    .then(() => store.close())
    .then(() => process.exit(0));
});
