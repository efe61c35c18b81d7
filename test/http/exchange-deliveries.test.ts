/**
 * The exchange wired into the server (issue #14): a plan written through `/sip` is queued for the
 * routed receivers in its transaction and delivered by the server's worker to a receiver on loopback;
 * operators listed in SIP_OPERATORS list, inspect, retry and skip deliveries at `/exchange/deliveries`,
 * everyone else is refused with a problem document.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueLocalToken } from '../../src/http/auth/index.js';
import { serverConfigSchema } from '../../src/http/config.js';
import { startServer, type RunningServer } from '../../src/http/server.js';
import type { Delivery } from '../../src/store/index.js';
import { consentDecision, httpConnector, startReceiver, type TestReceiver } from '../exchange/outbox-support.js';
import { freshPlan, NOW, REGION } from '../support/http-server.js';

const OPERATOR = 'SE2321000180-9000';

describe('/exchange/deliveries on the running server', () => {
  let folder: string;
  let server: RunningServer;
  let receiver: TestReceiver;
  let regionToken: string;
  let operatorToken: string;
  let refuse = true;
  /** Idempotency keys the receiver refuses for good (422), whatever `refuse` says. */
  const refusedKeys = new Set<string>();

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'sip-exchange-http-'));
    receiver = await startReceiver((key) => (refuse || refusedKeys.has(key) ? { status: 422 } : undefined));
    const config = serverConfigSchema.parse({ port: 0, dataDir: folder, loadExamples: false, rateLimitPerMinute: 1_000_000, operators: ` ${OPERATOR} ,` });
    server = await startServer(config, {
      clock: () => NOW,
      logger: pino({ level: 'silent' }),
      exchange: {
        receivers: [{ id: 'kommun-falun', organization: '212000-2080' }],
        connectorFor: () => httpConnector(receiver.url),
        decide: consentDecision(),
        route: () => ['kommun-falun'],
        worker: { pollIntervalMs: 20 },
      },
    });
    if (server.authenticator.mode !== 'local') throw new Error('the test server signs its own tokens');
    regionToken = await issueLocalToken({ org: REGION, scopes: 'system/*.*', ttlSeconds: 3600 }, server.authenticator.localKey, NOW);
    operatorToken = await issueLocalToken({ org: OPERATOR, scopes: 'system/*.*', ttlSeconds: 3600 }, server.authenticator.localKey, NOW);
  }, 120_000);
  afterAll(async () => {
    await server.close();
    await receiver.close();
    rmSync(folder, { recursive: true, force: true });
  }, 120_000);

  const call = (path: string, token: string | undefined, method = 'GET', body?: unknown): Promise<Response> =>
    fetch(`${server.url}${path}`, {
      method,
      headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  async function until(check: () => Promise<boolean>): Promise<void> {
    for (const end = Date.now() + 20_000; Date.now() < end; ) {
      if (await check()) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('timed out');
  }

  it('queues a written plan for its receivers, and lets only operators list, inspect and retry its delivery', async () => {
    const created = await call('/sip/plans', regionToken, 'POST', freshPlan('sip-exchange-http-1'));
    expect(created.status).toBe(201);
    await until(async () => (await server.store.outbox.list({ state: 'dead' })).length === 1);
    expect(receiver.requests.map((request) => request.key)).toEqual(['sip-exchange-http-1/1/kommun-falun']);

    const anonymous = await call('/exchange/deliveries', undefined);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const notOperator = await call('/exchange/deliveries', regionToken);
    expect(notOperator.status).toBe(403);
    expect(notOperator.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await notOperator.json()) as { detail: string }).detail).toBe(`Organisation ${REGION} is not an operator of the exchange (SIP_OPERATORS lists who is)`);
    expect((await call('/exchange/deliveries/1/retry', regionToken, 'POST')).status).toBe(403);

    const listed = await call('/exchange/deliveries?state=dead&receiver=kommun-falun&plan=sip-exchange-http-1', operatorToken);
    expect(listed.status).toBe(200);
    const { deliveries } = (await listed.json()) as { deliveries: Delivery[] };
    expect(deliveries.map((delivery) => [delivery.planId, delivery.version, delivery.receiverId, delivery.state, delivery.attempts, delivery.lastStatus, delivery.lastError])).toEqual([
      ['sip-exchange-http-1', 1, 'kommun-falun', 'dead', 1, 422, 'refused by the receiver: HTTP 422 (HTTP 422)'],
    ]);
    expect(((await (await call('/exchange/deliveries?state=delivered', operatorToken)).json()) as { deliveries: Delivery[] }).deliveries).toEqual([]);
    const id = deliveries[0]?.id ?? '';

    const shown = await call(`/exchange/deliveries/${id}`, operatorToken);
    expect(shown.status).toBe(200);
    expect(await shown.json()).toEqual(deliveries[0]);
    const missing = await call('/exchange/deliveries/424242', operatorToken);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const bad = await call('/exchange/deliveries?state=lost', operatorToken);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toMatch(/^state: /);

    refuse = false;
    const retried = await call(`/exchange/deliveries/${id}/retry`, operatorToken, 'POST');
    expect(retried.status).toBe(200);
    expect(await retried.json()).toMatchObject({ id, state: 'pending', attempts: 0 });
    await until(async () => (await server.store.outbox.get(id))?.state === 'delivered');
    expect(receiver.accepted).toEqual(['sip-exchange-http-1/1/kommun-falun']);
    const again = await call(`/exchange/deliveries/${id}/retry`, operatorToken, 'POST');
    expect(again.status).toBe(409);
    expect(((await again.json()) as { detail: string }).detail).toBe(`Delivery ${id} is delivered; only a dead letter can be retried`);

    const audit = await server.store.auditLog({ organization: OPERATOR });
    expect(audit.map((entry) => [entry.action, entry.what, entry.outcome, entry.detail])).toContainEqual(['execute', `POST /exchange/deliveries/${id}/retry`, 'success', '200']);
    const refused = await server.store.auditLog({ organization: REGION });
    expect(refused.map((entry) => [entry.what, entry.outcome])).toContainEqual(['GET /exchange/deliveries', 'refused']);
  }, 120_000);

  it('lets only operators skip a dead letter, with a reason, which lets the next version go and is audited', async () => {
    refuse = false;
    refusedKeys.add('sip-exchange-http-2/1/kommun-falun');
    const created = await call('/sip/plans', regionToken, 'POST', freshPlan('sip-exchange-http-2'));
    expect(created.status).toBe(201);
    await until(async () => (await server.store.outbox.list({ planId: 'sip-exchange-http-2', state: 'dead' })).length === 1);
    const stored = await server.store.get('sip-exchange-http-2');
    await server.store.update({ ...(stored?.plan ?? freshPlan('')), version: 2, notes: 'version 2' }, 1, REGION, [], { deliverTo: ['kommun-falun'] });
    const [dead, second] = await server.store.outbox.list({ planId: 'sip-exchange-http-2' });
    const deadId = dead?.id ?? '';
    const secondId = second?.id ?? '';
    // Held back behind the dead letter.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await server.store.outbox.get(secondId))?.state).toBe('pending');

    const reason = { reason: 'the municipality’s system cannot read version 1; version 2 carries the whole plan' };
    const notOperator = await call(`/exchange/deliveries/${deadId}/skip`, regionToken, 'POST', reason);
    expect(notOperator.status).toBe(403);
    expect(notOperator.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await call(`/exchange/deliveries/${deadId}/skip`, undefined, 'POST', reason)).status).toBe(401);

    const pending = await call(`/exchange/deliveries/${secondId}/skip`, operatorToken, 'POST', reason);
    expect(pending.status).toBe(409);
    expect(pending.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await pending.json()) as { detail: string }).detail).toBe(`Delivery ${secondId} is pending; only a dead letter can be skipped`);
    const unknown = await call('/exchange/deliveries/424242/skip', operatorToken, 'POST', reason);
    expect(unknown.status).toBe(404);
    for (const [body, detail] of [
      [undefined, /^body: /],
      [{}, /^\/reason: /],
      [{ reason: '   ' }, /^\/reason: a reason is required/],
      [{ reason: 'x'.repeat(1_001) }, /^\/reason: /],
      [{ reason: 'ok', by: 'someone else' }, /^body: Unrecognized key/],
      [{ reason: 'a\u0000b' }, /^\/reason: holds U\+0000/],
      [{ reason: 'a\ud800b' }, /^\/reason: holds U\+0000 or an unpaired surrogate/],
    ] as const) {
      const refused = await call(`/exchange/deliveries/${deadId}/skip`, operatorToken, 'POST', body);
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { detail: string }).detail).toMatch(detail);
    }
    const malformed = await fetch(`${server.url}/exchange/deliveries/${deadId}/skip`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
      body: '{"reason": ',
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { detail: string }).detail).toMatch(/^The body must be a JSON object/);
    expect((await server.store.outbox.get(deadId))?.state).toBe('dead');

    const skipped = await call(`/exchange/deliveries/${deadId}/skip`, operatorToken, 'POST', reason);
    expect(skipped.status).toBe(200);
    expect(await skipped.json()).toMatchObject({ id: deadId, state: 'skipped', lastError: `skipped by ${OPERATOR}: ${reason.reason}; the dead letter: refused by the receiver: HTTP 422 (HTTP 422)` });
    await until(async () => (await server.store.outbox.get(secondId))?.state === 'delivered');
    expect(receiver.accepted.filter((key) => key.startsWith('sip-exchange-http-2/'))).toEqual(['sip-exchange-http-2/2/kommun-falun']);
    const delivered = await call(`/exchange/deliveries/${secondId}/skip`, operatorToken, 'POST', reason);
    expect(delivered.status).toBe(409);
    expect(((await delivered.json()) as { detail: string }).detail).toBe(`Delivery ${secondId} is delivered; only a dead letter can be skipped`);
    const again = await call(`/exchange/deliveries/${deadId}/skip`, operatorToken, 'POST', reason);
    expect(((await again.json()) as { detail: string }).detail).toBe(`Delivery ${deadId} is skipped; only a dead letter can be skipped`);

    // The skip, and each refused skip with what was asked, why it was refused and the reason given.
    const refusal = (id: string, version: number, state: string): string[] => [
      'execute',
      `POST /exchange/deliveries/${id}/skip`,
      'failed',
      `409: refused to skip plan sip-exchange-http-2 version ${String(version)} to receiver kommun-falun (delivery ${id}): it is ${state}, only a dead letter can be skipped; reason given: ${reason.reason}`,
    ];
    const audit = await server.store.auditLog({ organization: OPERATOR, planId: 'sip-exchange-http-2' });
    const entries = audit.map((entry) => [entry.action, entry.what, entry.outcome, entry.detail]);
    expect(entries).toHaveLength(4);
    expect(entries).toEqual(
      expect.arrayContaining([
        ['execute', `POST /exchange/deliveries/${deadId}/skip`, 'success', `200: skipped plan sip-exchange-http-2 version 1 to receiver kommun-falun (delivery ${deadId}); reason: ${reason.reason}`],
        refusal(secondId, 2, 'pending'),
        refusal(secondId, 2, 'delivered'),
        refusal(deadId, 1, 'skipped'),
      ]),
    );
    const refused = await server.store.auditLog({ organization: REGION });
    expect(refused.map((entry) => [entry.what, entry.outcome, entry.detail])).toContainEqual([`POST /exchange/deliveries/${deadId}/skip`, 'refused', '403']);
    const operatorCalls = await server.store.auditLog({ organization: OPERATOR });
    expect(operatorCalls.map((entry) => [entry.what, entry.outcome, entry.detail])).toContainEqual([
      'POST /exchange/deliveries/424242/skip',
      'failed',
      `404: refused to skip delivery 424242, which does not exist; reason given: ${reason.reason}`,
    ]);
    // A body refused before it was read has no reason to record: the status alone.
    expect(operatorCalls.map((entry) => [entry.what, entry.outcome, entry.detail])).toContainEqual([`POST /exchange/deliveries/${deadId}/skip`, 'failed', '400']);
  }, 120_000);

  it('reads SIP_OPERATORS as comma-separated HSA-ids, nobody by default', () => {
    expect(serverConfigSchema.parse({}).operators).toEqual([]);
    expect(serverConfigSchema.parse({ operators: 'SE1-1, SE2-2' }).operators).toEqual(['SE1-1', 'SE2-2']);
    expect(serverConfigSchema.safeParse({ operators: 'SE1-1,not an id' }).success).toBe(false);
  });
});
