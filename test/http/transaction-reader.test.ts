/**
 * Where `POST /fhir` validates and reads a transaction (src/http/transaction-reader.ts): on the event
 * loop or in a pool of worker threads (`SIP_VALIDATION_WORKERS`). The pool must answer exactly what
 * the event loop does — the plan, the warnings, the 422 outcome with every issue — and a server that
 * uses it records, replays and refuses as one without.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, OperationOutcome } from 'fhir/r4.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planToBundle } from '../../src/fhir/index.js';
import { issueLocalToken } from '../../src/http/auth/index.js';
import { serverConfigSchema } from '../../src/http/config.js';
import { createApp } from '../../src/http/app.js';
import { startServer, type RunningServer } from '../../src/http/server.js';
import { createPlanStore } from '../../src/store/index.js';
import { closeServer, listenOnLoopback } from '../support/loopback.js';
import { readTransaction, transactionReaderInThread, transactionReaderPool, type TransactionReader } from '../../src/http/transaction-reader.js';
import { isParsedPlan } from '../../src/sip/index.js';
import { createValidator } from '../../src/validation/index.js';
import { NOW, REGION, freshPlan, openAppDependencies } from '../support/http-server.js';

const bundleOf = (id: string): Bundle => planToBundle(freshPlan(id), undefined, NOW);

/** A Bundle whose Patient has an element FHIR does not know: refused by the profiles. */
function withUnknownElement(bundle: Bundle): Bundle {
  return { ...bundle, entry: (bundle.entry ?? []).map((entry) => (entry.resource?.resourceType === 'Patient' ? { ...entry, resource: { ...entry.resource, favouriteColour: 'blå' } as typeof entry.resource } : entry)) };
}

/** A plan whose meeting ends before it starts, mapped: the rules refuse it (summons.ends-before-start). */
function endingBeforeStart(id: string): Bundle {
  const plan = freshPlan(id);
  const meetings = plan.meetings.map((meeting, index) => (index === 0 && meeting.summons !== undefined ? { ...meeting, summons: { ...meeting.summons, end: '2026-03-05T12:00:00+01:00' } } : meeting));
  return planToBundle({ ...plan, meetings }, undefined, NOW);
}

describe('readTransaction', () => {
  const validator = createValidator();

  it('reads the plan of a conforming Bundle, and refuses one the profiles refuse with their issues at FHIRPath locations', () => {
    const good = readTransaction(bundleOf('sip-reader-good'), validator);
    expect(good.ok && good.plan.id).toBe('sip-reader-good');
    const bad = readTransaction(withUnknownElement(bundleOf('sip-reader-bad')), validator);
    expect(bad.ok).toBe(false);
    const issues = bad.ok ? [] : bad.outcome.issue;
    expect(issues).toContainEqual(expect.objectContaining({ severity: 'error', expression: [expect.stringMatching(/^Bundle\.entry\[\d+\]\.resource\.favouriteColour$/) as unknown] }));
  });
});

describe('transactionReaderPool', () => {
  let pool: TransactionReader;
  const inThread = transactionReaderInThread();

  beforeAll(() => {
    pool = transactionReaderPool(2);
  });

  afterAll(async () => {
    await pool.close();
  });

  it('answers what the event loop answers: a plan with its warnings, a refusal by the profiles, a refusal by the rules', async () => {
    const bundles = [bundleOf('sip-pool-a'), withUnknownElement(bundleOf('sip-pool-b')), endingBeforeStart('sip-pool-c')];
    const expected = await Promise.all(bundles.map((bundle) => inThread.read(bundle)));
    expect(expected.map((result) => result.ok)).toEqual([true, false, false]);
    expect(expected[2]?.ok === false && expected[2].outcome.issue.map((issue) => issue.details?.coding?.[0]?.code)).toContain('summons.ends-before-start');
    // Several at once, spread over both workers, each answered with its own result.
    const answered = await Promise.all([...bundles, ...bundles].map((bundle) => pool.read(bundle)));
    expect(answered).toEqual([...expected, ...expected]);
    // The plan a worker read is the schema's there: its clone is taken as parsed here, so the store does not parse it again.
    expect(answered.map((result) => result.ok && isParsedPlan(result.plan))).toEqual([true, false, false, true, false, false]);
  }, 120_000);

  it('reads the JSON text it is given, as the request brought it, instead of writing the Bundle out again', async () => {
    const sent = bundleOf('sip-pool-sent');
    const text = JSON.stringify(bundleOf('sip-pool-text'), undefined, 2);
    const read = await pool.read(sent, text);
    expect(read.ok && read.plan.id).toBe('sip-pool-text');
    expect(pool.takesText).toBe(true);
    expect(inThread.takesText).toBeUndefined();
  }, 120_000);

  it('refuses a pool of no workers', () => {
    expect(() => transactionReaderPool(0)).toThrow(RangeError);
  });
});

describe('a server validating transactions in a worker (SIP_VALIDATION_WORKERS=1)', () => {
  let server: RunningServer | undefined;
  let token: string;
  const folder = mkdtempSync(join(tmpdir(), 'sip-http-workers-'));

  beforeAll(async () => {
    const config = serverConfigSchema.parse({ port: 0, dataDir: folder, loadExamples: false, rateLimitPerMinute: 1_000_000, validationWorkers: 1 });
    const started = await startServer(config, { clock: () => NOW, logger: pino({ level: 'silent' }) });
    server = started;
    if (started.authenticator.mode !== 'local') throw new Error('the test server signs its own tokens');
    token = await issueLocalToken({ org: REGION, scopes: 'system/*.*', ttlSeconds: 3600 }, started.authenticator.localKey, NOW);
  }, 180_000);

  afterAll(async () => {
    await server?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  const running = (): RunningServer => {
    if (server === undefined) throw new Error('the server did not start');
    return server;
  };

  const post = async (bundle: unknown): Promise<{ status: number; body: unknown }> => {
    const response = await fetch(`${running().url}/fhir`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json' }, body: JSON.stringify(bundle) });
    return { status: response.status, body: await response.json() };
  };

  it('records a new plan once, answers its replay with the same version, and refuses a Bundle the profiles refuse with 422 and the OperationOutcome', async () => {
    const bundle = bundleOf('sip-worker-write');
    const created = await post(bundle);
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ resourceType: 'Bundle', type: 'transaction-response' });
    const replayed = await post(bundle);
    expect(replayed.status).toBe(200);
    expect((await running().store.history('sip-worker-write')).map((stored) => stored.version)).toEqual([1]);

    const refused = await post(withUnknownElement(bundleOf('sip-worker-refused')));
    expect(refused.status).toBe(422);
    expect((refused.body as OperationOutcome).issue).toContainEqual(expect.objectContaining({ severity: 'error', expression: [expect.stringMatching(/favouriteColour$/) as unknown] }));
    expect(await running().store.get('sip-worker-refused')).toBeUndefined();
  }, 120_000);
});

describe('the body text of POST /fhir', () => {
  /** Posts `text` to an app whose transaction reader says whether it takes text, and returns what the reader was given. */
  async function textGiven(takesText: boolean, text: string): Promise<{ status: number; given: (string | undefined)[] }> {
    const folder = mkdtempSync(join(tmpdir(), 'sip-body-text-'));
    const store = await createPlanStore({ dataDir: folder });
    await store.migrate();
    const inThread = transactionReaderInThread();
    const given: (string | undefined)[] = [];
    const app = createApp({
      ...openAppDependencies(store),
      transactionReader: {
        ...(takesText ? { takesText: true } : {}),
        read: (sent, sentText) => {
          given.push(sentText);
          return inThread.read(sent);
        },
        close: () => inThread.close(),
      },
    });
    const { server, origin } = await listenOnLoopback(app);
    try {
      const response = await fetch(`${origin}/fhir`, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body: text });
      await response.arrayBuffer();
      return { status: response.status, given };
    } finally {
      await closeServer(server, { dropConnections: true });
      await store.close();
      rmSync(folder, { recursive: true, force: true });
    }
  }

  it('is handed to a reader that takes text as the request brought it, and to no other', async () => {
    const text = JSON.stringify(bundleOf('sip-body-text'), undefined, 2);
    expect(await textGiven(true, text)).toEqual({ status: 200, given: [text] });
    expect(await textGiven(false, text)).toEqual({ status: 200, given: [undefined] });
  }, 120_000);
});
