/**
 * The durable outbox and its worker (issue #14 point 2) on PGlite and on the machine's PostgreSQL:
 * deliveries written with their version, order kept under retries, Retry-After honoured, dead letters
 * and their retry, consent judged at the moment of sending. The receiver is a real HTTP server on
 * loopback; the clock is fixed and moved by the tests.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxWorker, type OutboxWorkerOptions } from '../../src/exchange/index.js';
import { DeliveryNotRetryableError, DeliveryNotSkippableError } from '../../src/store/index.js';
import { consentDecision, httpConnector, openStore, startReceiver, writeVersions, type OpenedStore, type TestReceiver } from './outbox-support.js';
import { freshPlan, NOW } from '../support/http-server.js';

const REGION = 'SE2321000180-1000';
const RECEIVERS = [
  { id: 'kommun-falun', organization: '212000-2080' },
  { id: 'region-ehr', organization: 'SE2321000180-2000' },
];

describe.each([['PGlite', 'pglite'] as const, ['PostgreSQL', 'postgres'] as const])('the outbox on %s', (_name, driver) => {
  let opened: OpenedStore;
  let receiver: TestReceiver;
  let now: Date;
  beforeEach(async () => {
    opened = await openStore(driver);
    receiver = await startReceiver();
    now = NOW;
  }, 120_000);
  afterEach(async () => {
    await receiver.close();
    await opened.dispose();
  }, 120_000);

  function worker(options: Partial<OutboxWorkerOptions> = {}): OutboxWorker {
    return new OutboxWorker({
      outbox: opened.store.outbox,
      audit: (entry) => opened.store.audit(entry),
      receivers: RECEIVERS,
      connectorFor: () => httpConnector(receiver.url),
      decide: consentDecision(),
      clock: () => now,
      random: () => 0.5,
      baseDelayMs: 1_000,
      maxDelayMs: 60_000,
      ...options,
    });
  }

  it('writes the deliveries of a version in its transaction, and a failing write leaves neither', async () => {
    const { store, sql } = opened;
    await writeVersions(store, 'sip-outbox-1', 1, ['kommun-falun', 'region-ehr']);
    expect((await store.outbox.list()).map((row) => [row.planId, row.version, row.receiverId, row.state, row.attempts])).toEqual([
      ['sip-outbox-1', 1, 'kommun-falun', 'pending', 0],
      ['sip-outbox-1', 1, 'region-ehr', 'pending', 0],
    ]);
    // A failure inside the transaction, after the version is inserted: the outbox refuses one receiver.
    await sql.query(`ALTER TABLE outbox ADD CONSTRAINT test_refuses_r9 CHECK (receiver_id <> 'r9')`);
    const next = { ...freshPlan('sip-outbox-1'), version: 2, notes: 'v2' };
    await expect(store.update(next, 1, REGION, [], { deliverTo: ['kommun-falun', 'r9'] })).rejects.toThrow(/test_refuses_r9/);
    expect((await store.get('sip-outbox-1'))?.version).toBe(1);
    expect(await store.get('sip-outbox-1', 2)).toBeUndefined();
    expect((await store.outbox.list()).filter((row) => row.version === 2)).toEqual([]);
    // …and a failing create leaves no plan and no delivery.
    await expect(store.create(freshPlan('sip-outbox-2'), REGION, [], { deliverTo: ['r9'] })).rejects.toThrow(/test_refuses_r9/);
    expect(await store.get('sip-outbox-2')).toBeUndefined();
    expect(await store.outbox.list({ planId: 'sip-outbox-2' })).toEqual([]);
    // A malformed or repeated receiver id is refused before anything is written.
    await expect(store.update(next, 1, REGION, [], { deliverTo: ['bad id'] })).rejects.toThrow(RangeError);
    await expect(store.update(next, 1, REGION, [], { deliverTo: ['a', 'a'] })).rejects.toThrow(/distinct/);
    // The same write without the refused receiver goes through with its delivery.
    await store.update(next, 1, REGION, [], { deliverTo: ['kommun-falun'] });
    expect((await store.outbox.list({ planId: 'sip-outbox-1', receiverId: 'kommun-falun' })).map((row) => row.version)).toEqual([1, 2]);
  });

  it('delivers each version with its idempotency key, and records it in the audit log', async () => {
    await writeVersions(opened.store, 'sip-outbox-3', 2, ['kommun-falun']);
    expect(await worker().runUntilIdle()).toBe(2);
    expect(receiver.requests.map((request) => [request.key, request.status])).toEqual([
      ['sip-outbox-3/1/kommun-falun', 200],
      ['sip-outbox-3/2/kommun-falun', 200],
    ]);
    const rows = await opened.store.outbox.list({ planId: 'sip-outbox-3' });
    expect(rows.map((row) => [row.state, row.attempts, row.lastStatus, row.endedAt !== undefined])).toEqual([
      ['delivered', 1, 200, true],
      ['delivered', 1, 200, true],
    ]);
    const audit = await opened.store.auditLog({ planId: 'sip-outbox-3', agent: 'sip-fhir-adapter/outbox' });
    expect(audit.map((entry) => [entry.action, entry.organization, entry.outcome])).toEqual([
      ['execute', '212000-2080', 'success'],
      ['execute', '212000-2080', 'success'],
    ]);
    expect(audit[1]?.what).toMatch(/^deliver plan sip-outbox-3 version 1 to receiver kommun-falun/);
    expect(audit[1]?.detail).toMatch(/^delivered \(HTTP 200\); consent /);
    expect(audit[1]?.personIdentifier).toBe(freshPlan('x').individual.identifier.value);
  });

  it('writes the audit entry of an attempt in the statement that records its result: both or neither', async () => {
    await writeVersions(opened.store, 'sip-outbox-audit', 1, ['kommun-falun']);
    // The store records the entry itself; the worker must not write it a second time through `audit`.
    const writtenApart: string[] = [];
    const audited = worker({ audit: (entry) => Promise.resolve(void writtenApart.push(entry.what)) });
    // The audit log refuses this plan's entry: the result is not recorded either, the delivery stays pending.
    await opened.sql.query(`ALTER TABLE audit_log ADD CONSTRAINT test_refuses_audit CHECK (plan_id IS DISTINCT FROM 'sip-outbox-audit')`);
    await expect(audited.runUntilIdle()).rejects.toThrow(/test_refuses_audit/);
    expect((await opened.store.outbox.list({ planId: 'sip-outbox-audit' })).map((row) => [row.state, row.attempts])).toEqual([['pending', 0]]);
    expect(await opened.store.auditLog({ planId: 'sip-outbox-audit' })).toEqual([]);
    await opened.sql.query(`ALTER TABLE audit_log DROP CONSTRAINT test_refuses_audit`);
    expect(await audited.runUntilIdle()).toBe(1);
    // Sent twice with one key (the first result was lost with its entry), recorded once, audited once.
    expect(receiver.requests.map((request) => request.key)).toEqual(['sip-outbox-audit/1/kommun-falun', 'sip-outbox-audit/1/kommun-falun']);
    expect((await opened.store.outbox.list({ planId: 'sip-outbox-audit' })).map((row) => [row.state, row.attempts])).toEqual([['delivered', 1]]);
    const audit = await opened.store.auditLog({ planId: 'sip-outbox-audit', agent: 'sip-fhir-adapter/outbox' });
    expect(audit.map((entry) => [entry.organization, entry.outcome, entry.what])).toEqual([
      ['212000-2080', 'success', expect.stringMatching(/^deliver plan sip-outbox-audit version 1 to receiver kommun-falun \(delivery \d+, attempt 1\)$/)],
    ]);
    expect(writtenApart).toEqual([]);
  });

  it('keeps per-plan order under retries: version 1 failing twice still arrives before version 2', async () => {
    receiver.script = (key, nth) => (key.endsWith('/1/kommun-falun') && nth < 2 ? { status: 503 } : undefined);
    await writeVersions(opened.store, 'sip-outbox-4', 3, ['kommun-falun']);
    const delivering = worker({ random: () => 0 });
    // With no wait (jitter 0) version 1 is retried at once; 2 and 3 wait for it.
    expect(await delivering.runUntilIdle()).toBe(5);
    expect(receiver.requests.map((request) => [request.version, request.status])).toEqual([
      [1, 503],
      [1, 503],
      [1, 200],
      [2, 200],
      [3, 200],
    ]);
    const [first] = await opened.store.outbox.list({ planId: 'sip-outbox-4' });
    expect([first?.state, first?.attempts]).toEqual(['delivered', 3]);
  });

  it('does not send version 2 while version 1 waits for its retry', async () => {
    receiver.script = (key, nth) => (key.endsWith('/1/kommun-falun') && nth === 0 ? { status: 500 } : undefined);
    await writeVersions(opened.store, 'sip-outbox-5', 2, ['kommun-falun']);
    const delivering = worker({ random: () => 0.5 });
    expect(await delivering.runUntilIdle()).toBe(1);
    // Backoff 0.5 · 1 s: nothing is due for 500 ms, version 2 included.
    now = new Date(NOW.getTime() + 499);
    expect(await delivering.runUntilIdle()).toBe(0);
    now = new Date(NOW.getTime() + 500);
    expect(await delivering.runUntilIdle()).toBe(2);
    expect(receiver.requests.map((request) => [request.version, request.status])).toEqual([
      [1, 500],
      [1, 200],
      [2, 200],
    ]);
  });

  it('honours Retry-After: never earlier, even when the backoff is shorter', async () => {
    receiver.script = (_key, nth) => (nth === 0 ? { status: 429, headers: { 'Retry-After': '120' } } : undefined);
    await writeVersions(opened.store, 'sip-outbox-6', 1, ['kommun-falun']);
    const delivering = worker({ random: () => 0.999 });
    expect(await delivering.runUntilIdle()).toBe(1);
    const [waiting] = await opened.store.outbox.list({ planId: 'sip-outbox-6' });
    expect(waiting).toMatchObject({ state: 'pending', attempts: 1, lastStatus: 429, lastError: 'HTTP 429 (HTTP 429)' });
    expect(waiting?.nextAttemptAt).toBe(new Date(NOW.getTime() + 120_000).toISOString());
    now = new Date(NOW.getTime() + 119_999);
    expect(await delivering.runUntilIdle()).toBe(0);
    now = new Date(NOW.getTime() + 120_000);
    expect(await delivering.runUntilIdle()).toBe(1);
    expect(receiver.requests.map((request) => request.status)).toEqual([429, 200]);
    const audit = await opened.store.auditLog({ planId: 'sip-outbox-6' });
    expect(audit.map((entry) => entry.outcome)).toEqual(['success', 'failed']);
    expect(audit[1]?.detail).toMatch(/^attempt 1 failed: HTTP 429 \(HTTP 429\); next attempt not before 2026-04-01T08:02:00.000Z/);
  });

  it('makes a dead letter after the most attempts, holds later versions back, and delivers both after an operator retry', async () => {
    let down = true;
    receiver.script = () => (down ? { status: 502 } : undefined);
    await writeVersions(opened.store, 'sip-outbox-7', 2, ['kommun-falun']);
    const delivering = worker({ random: () => 0, maxAttempts: 3 });
    expect(await delivering.runUntilIdle()).toBe(3);
    const [dead, held] = await opened.store.outbox.list({ planId: 'sip-outbox-7' });
    expect(dead).toMatchObject({ state: 'dead', attempts: 3, lastStatus: 502, lastError: 'gave up after 3 attempts; the last: HTTP 502 (HTTP 502)' });
    expect(held).toMatchObject({ state: 'pending', attempts: 0 });
    expect(receiver.requests.every((request) => request.version === 1)).toBe(true);
    expect(await opened.store.outbox.list({ state: 'dead' })).toEqual([dead]);
    const [deadAudit] = await opened.store.auditLog({ planId: 'sip-outbox-7' });
    expect([deadAudit?.outcome, deadAudit?.detail]).toEqual(['failed', 'dead letter: gave up after 3 attempts; the last: HTTP 502 (HTTP 502); consent ' + String(freshPlan('sip-outbox-7').consents[0]?.id)]);

    await expect(opened.store.outbox.retry(held?.id ?? '')).rejects.toThrow(DeliveryNotRetryableError);
    await expect(opened.store.outbox.retry('999999')).rejects.toThrow(/does not exist/);
    down = false;
    const retried = await opened.store.outbox.retry(dead?.id ?? '');
    expect(retried).toMatchObject({ state: 'pending', attempts: 0 });
    expect(retried.endedAt).toBeUndefined();
    expect(await delivering.runUntilIdle()).toBe(2);
    expect(receiver.accepted).toEqual(['sip-outbox-7/1/kommun-falun', 'sip-outbox-7/2/kommun-falun']);
  });

  it('lets an operator skip a dead letter for good: the later versions then go, in order; nothing but a dead letter can be skipped', async () => {
    receiver.script = (key) => (key === 'sip-outbox-skip/1/kommun-falun' ? { status: 400 } : undefined);
    await writeVersions(opened.store, 'sip-outbox-skip', 3, ['kommun-falun']);
    const delivering = worker();
    expect(await delivering.runUntilIdle()).toBe(1);
    const [dead, second, third] = await opened.store.outbox.list({ planId: 'sip-outbox-skip' });
    expect([dead?.state, second?.state, third?.state]).toEqual(['dead', 'pending', 'pending']);

    // Refused: a pending one, an unknown one, a malformed id, no reason, no one.
    await expect(opened.store.outbox.skip(second?.id ?? '', { reason: 'receiver gone', by: 'SE-op' })).rejects.toThrow(
      new DeliveryNotSkippableError(second?.id ?? '', 'pending'),
    );
    await expect(opened.store.outbox.skip('999999', { reason: 'receiver gone', by: 'SE-op' })).rejects.toThrow(/delivery 999999 does not exist/);
    await expect(opened.store.outbox.skip('x', { reason: 'receiver gone', by: 'SE-op' })).rejects.toThrow(DeliveryNotSkippableError);
    await expect(opened.store.outbox.skip(dead?.id ?? '', { reason: '  ', by: 'SE-op' })).rejects.toThrow(/reason must be 1–1000 characters/);
    await expect(opened.store.outbox.skip(dead?.id ?? '', { reason: 'x'.repeat(1_001), by: 'SE-op' })).rejects.toThrow(RangeError);
    await expect(opened.store.outbox.skip(dead?.id ?? '', { reason: 'receiver gone', by: ' ' })).rejects.toThrow(/who gives/);
    expect(await opened.store.outbox.get(dead?.id ?? '')).toEqual(dead);
    // Still held back: nothing more is sent.
    expect(await delivering.runUntilIdle()).toBe(0);

    const skipped = await opened.store.outbox.skip(dead?.id ?? '', { reason: ' the receiver cannot read version 1 ', by: 'SE2321000180-9000 (ops)' });
    expect(skipped).toMatchObject({
      id: dead?.id,
      state: 'skipped',
      attempts: 1,
      lastStatus: 400,
      lastError: 'skipped by SE2321000180-9000 (ops): the receiver cannot read version 1; the dead letter: refused by the receiver: HTTP 400 (HTTP 400)',
    });
    expect(skipped.endedAt).toBeDefined();
    expect(skipped.nextAttemptAt).toBeUndefined();
    expect(await opened.store.outbox.list({ state: 'skipped' })).toEqual([skipped]);
    // Final: neither skipped again nor retried.
    await expect(opened.store.outbox.skip(dead?.id ?? '', { reason: 'again', by: 'SE-op' })).rejects.toThrow(`delivery ${dead?.id ?? ''} is skipped; only a dead letter can be skipped`);
    await expect(opened.store.outbox.retry(dead?.id ?? '')).rejects.toThrow(DeliveryNotRetryableError);

    expect(await delivering.runUntilIdle()).toBe(2);
    expect(receiver.accepted).toEqual(['sip-outbox-skip/2/kommun-falun', 'sip-outbox-skip/3/kommun-falun']);
    expect((await opened.store.outbox.list({ planId: 'sip-outbox-skip' })).map((row) => row.state)).toEqual(['skipped', 'delivered', 'delivered']);
  });

  it('makes a dead letter at once when the receiver refuses for good (4xx)', async () => {
    receiver.script = () => ({ status: 400 });
    await writeVersions(opened.store, 'sip-outbox-8', 1, ['kommun-falun']);
    expect(await worker().runUntilIdle()).toBe(1);
    const [dead] = await opened.store.outbox.list({ planId: 'sip-outbox-8' });
    expect(dead).toMatchObject({ state: 'dead', attempts: 1, lastStatus: 400, lastError: 'refused by the receiver: HTTP 400 (HTTP 400)' });
  });

  it('makes a dead letter of a delivery to a receiver no longer configured', async () => {
    await writeVersions(opened.store, 'sip-outbox-9', 1, ['gone']);
    expect(await worker().runUntilIdle()).toBe(1);
    const [dead] = await opened.store.outbox.list({ planId: 'sip-outbox-9' });
    expect(dead).toMatchObject({ state: 'dead', lastError: 'receiver "gone" is not configured (anymore); nothing was sent' });
    expect(receiver.requests).toEqual([]);
  });

  it('withholds from a receiver consent does not allow, and records why', async () => {
    await writeVersions(opened.store, 'sip-outbox-10', 1, ['kommun-falun', 'region-ehr']);
    expect(await worker({ decide: consentDecision(new Set(['region-ehr'])) }).runUntilIdle()).toBe(2);
    expect(receiver.requests.map((request) => request.receiverId)).toEqual(['kommun-falun']);
    const rows = await opened.store.outbox.list({ planId: 'sip-outbox-10' });
    expect(rows.map((row) => [row.receiverId, row.state, row.attempts])).toEqual([
      ['kommun-falun', 'delivered', 1],
      ['region-ehr', 'withheld', 0],
    ]);
    expect(rows[1]?.lastError).toBe('excluded: the person excluded region-ehr');
    const refused = await opened.store.auditLog({ planId: 'sip-outbox-10', organization: 'SE2321000180-2000' });
    expect(refused.map((entry) => [entry.outcome, entry.detail])).toEqual([['refused', 'withheld: excluded: the person excluded region-ehr']]);
  });

  it('withholds queued versions once the consent is withdrawn in a later version', async () => {
    const plan = await writeVersions(opened.store, 'sip-outbox-11', 2, ['kommun-falun']);
    const [consent] = plan.consents;
    if (consent === undefined) throw new Error('the example has a consent');
    const withdrawn = {
      ...plan,
      version: 3,
      consents: [{ ...consent, withdrawal: { withdrawnAt: '2026-03-30T09:00:00+02:00', withdrawnBy: consent.givers[0] ?? { kind: 'individual' as const } } }],
    };
    await opened.store.update(withdrawn as typeof plan, 2, REGION, [], { deliverTo: ['kommun-falun'] });
    expect(await worker().runUntilIdle()).toBe(3);
    expect(receiver.requests).toEqual([]);
    const rows = await opened.store.outbox.list({ planId: 'sip-outbox-11' });
    expect(rows.map((row) => row.state)).toEqual(['withheld', 'withheld', 'withheld']);
    expect(rows[0]?.lastError).toMatch(/^noConsentInForce: /);
  });

  it('withholds a version whose consent has expired by the moment of sending', async () => {
    await writeVersions(opened.store, 'sip-outbox-12', 1, ['kommun-falun']);
    now = new Date('2027-03-01T10:00:00+01:00');
    expect(await worker().runUntilIdle()).toBe(1);
    expect(receiver.requests).toEqual([]);
    expect((await opened.store.outbox.list({ planId: 'sip-outbox-12' }))[0]?.state).toBe('withheld');
  });
  // PGlite on a loaded machine takes seconds per statement batch; the default 30 s was close.
}, 120_000);
