/**
 * The delivery settings reach the server's outbox worker: `SIP_DELIVERY_MAX_ATTEMPTS` and
 * `SIP_DELIVERY_MAX_BACKOFF_MS` (src/http/config.ts) are what the worker of `startServer` uses when
 * the exchange handed in does not say otherwise — as with the receivers file, which says nothing
 * about the worker. (They were parsed, documented and then dropped, so every instance ran with the
 * defaults: 12 attempts, a 5-minute cap.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { issueLocalToken } from '../../src/http/auth/index.js';
import { loadConfig, serverConfigSchema } from '../../src/http/config.js';
import { startServer, type RunningServer } from '../../src/http/server.js';
import { consentDecision, httpConnector, startReceiver, type TestReceiver } from '../exchange/outbox-support.js';
import { freshPlan, NOW, REGION } from '../support/http-server.js';

describe('the delivery settings on the running server', () => {
  let folder: string | undefined;
  let server: RunningServer | undefined;
  let receiver: TestReceiver | undefined;
  afterEach(async () => {
    await server?.close();
    await receiver?.close();
    if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
    server = undefined;
    receiver = undefined;
    folder = undefined;
  }, 60_000);

  it('gives up after SIP_DELIVERY_MAX_ATTEMPTS attempts, waiting at most SIP_DELIVERY_MAX_BACKOFF_MS between them', async () => {
    folder = mkdtempSync(join(tmpdir(), 'sip-delivery-settings-'));
    receiver = await startReceiver(() => ({ status: 503 }));
    const loaded = loadConfig({ SIP_DELIVERY_MAX_ATTEMPTS: '8', SIP_DELIVERY_MAX_BACKOFF_MS: '50' }, { port: 0, dataDir: folder, loadExamples: false });
    if (!loaded.ok) throw new Error(loaded.problems.join('; '));
    const url = receiver.url;
    // A clock that runs from NOW (the consent's time), so that a retry's time comes.
    const started = Date.now();
    server = await startServer(loaded.config, {
      clock: () => new Date(NOW.getTime() + Date.now() - started),
      logger: pino({ level: 'silent' }),
      // No `worker` options: the settings decide (with the defaults — 12 attempts, and the 8th alone waiting up to 64 s — there would be no dead letter in 20 s; with 8 attempts and a 5-minute cap, the waits up to 1 + 2 + … + 64 s would still take about a minute).
      exchange: { receivers: [{ id: 'kommun-falun', organization: '212000-2080' }], connectorFor: () => httpConnector(url), decide: consentDecision(), route: () => ['kommun-falun'] },
    });
    if (server.authenticator.mode !== 'local') throw new Error('the test server signs its own tokens');
    const token = await issueLocalToken({ org: REGION, scopes: 'system/*.*', ttlSeconds: 3600 }, server.authenticator.localKey, NOW);
    const created = await fetch(`${server.url}/sip/plans`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(freshPlan('sip-settings-1')) });
    expect(created.status).toBe(201);

    const running = server;
    const end = Date.now() + 20_000;
    while ((await running.store.outbox.list({ state: 'dead' })).length === 0 && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 50));
    const [dead] = await running.store.outbox.list({ state: 'dead' });
    expect(dead).toMatchObject({ planId: 'sip-settings-1', attempts: 8, lastStatus: 503 });
    expect(receiver.requests.map((request) => request.key)).toEqual(Array.from({ length: 8 }, () => 'sip-settings-1/1/kommun-falun'));
  }, 60_000);

  it('reads SIP_DELIVERY_MAX_BACKOFF_MS as whole milliseconds, 5 minutes by default', () => {
    expect(serverConfigSchema.parse({}).deliveryMaxBackoffMs).toBe(300_000);
    expect(serverConfigSchema.parse({ deliveryMaxBackoffMs: '2000' }).deliveryMaxBackoffMs).toBe(2_000);
    const bad = loadConfig({ SIP_DELIVERY_MAX_BACKOFF_MS: '0.5s' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems).toEqual([expect.stringMatching(/^SIP_DELIVERY_MAX_BACKOFF_MS \(deliveryMaxBackoffMs\) /)]);
  });
});
