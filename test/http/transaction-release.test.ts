/**
 * What a `POST /fhir` transaction holds while the store records it (src/http/fhir-write-routes.ts,
 * src/http/record-plan.ts): neither the parsed body nor the version's FHIR view (every resource mapped).
 * With ten transactions in flight, what is held across the store's await outlives scavenges and is
 * promoted (docs/performance.md, branch `i11-tx11`). Each test holds the store's call until a garbage
 * collection has run, and asks a WeakRef whether the object is still alive.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planToBundle } from '../../src/fhir/index.js';
import { createApp } from '../../src/http/app.js';
import { recordPlan } from '../../src/http/record-plan.js';
import { transactionReaderInThread } from '../../src/http/transaction-reader.js';
import type { SipPlan } from '../../src/sip/index.js';
import { createPlanStore, type PlanResource, type PlanStore, type StoredPlan, type VersionWriteOptions } from '../../src/store/index.js';
import { NOW, REGION, freshPlan } from '../support/http-server.js';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** A full collection, twice, with a turn of the event loop between (WeakRefs are cleared after the job that made them). */
async function collected(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    collect();
  }
}

describe('what a transaction holds while the store records it', () => {
  it('recordPlan: the version’s FHIR view, mapped, is garbage once the store is asked', async () => {
    let view: WeakRef<object> | undefined;
    let aliveDuringCreate: boolean | undefined;
    const plan = freshPlan('sip-release-view');
    const store = {
      get: () => Promise.resolve(undefined),
      create: async (created: SipPlan, recordedBy: string): Promise<StoredPlan> => {
        await collected();
        aliveDuringCreate = view?.deref() !== undefined;
        return { plan: created, version: 1, recordedAt: NOW.toISOString(), recordedBy };
      },
    } as unknown as PlanStore;
    await recordPlan(
      { store, clock: () => NOW, mayAccess: () => ({ allowed: true }), routeDeliveries: undefined },
      {
        incoming: plan,
        caller: { organization: REGION, may: () => true },
        subject: {},
        earlierApprovals: 'refuse',
        refusals: { rules: () => new Error('rules'), earlierApproval: () => new Error('approval'), closure: () => new Error('closure') },
        prepare: (step) => {
          if (step.kind !== 'create') throw new Error(`a ${step.kind}`);
          // Every resource mapped, as the derived texts map them.
          for (const entry of step.view) entry.entry();
          view = new WeakRef(step.view);
        },
      },
    );
    expect(view).toBeDefined();
    expect(aliveDuringCreate).toBe(false);
  });

  describe('POST /fhir', () => {
    let folder: string;
    let inner: PlanStore;
    let server: Server;
    let url: string;
    let body: WeakRef<object> | undefined;
    const aliveDuringCreate: boolean[] = [];

    beforeAll(async () => {
      folder = mkdtempSync(join(tmpdir(), 'sip-fhir-release-'));
      inner = await createPlanStore({ dataDir: folder });
      await inner.migrate();
      const reader = transactionReaderInThread();
      const create = async (plan: SipPlan, recordedBy: string, resources: readonly PlanResource[], options?: VersionWriteOptions): Promise<StoredPlan> => {
        await collected();
        aliveDuringCreate.push(body?.deref() !== undefined);
        return inner.create(plan, recordedBy, resources, options);
      };
      // The store as it is, but for its create.
      const store = new Proxy(inner, {
        get: (target, property): unknown => {
          if (property === 'create') return create;
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      const app = createApp({
        store,
        clock: () => NOW,
        logger: pino({ level: 'silent' }),
        maxBodyBytes: 1024 * 1024,
        rateLimitPerMinute: 1_000_000,
        authenticate: () => Promise.resolve({ organization: REGION, may: () => true }),
        mayAccess: () => ({ allowed: true }),
        transactionReader: {
          read: (sent) => {
            if (typeof sent === 'object' && sent !== null) body = new WeakRef(sent);
            return reader.read(sent);
          },
          close: () => reader.close(),
        },
      });
      server = await new Promise<Server>((resolve) => {
        const listening = app.listen(0, '127.0.0.1', () => {
          resolve(listening);
        });
      });
      url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
    }, 60_000);

    afterAll(async () => {
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
      await inner.close();
      rmSync(folder, { recursive: true, force: true });
    });

    it('the parsed body is garbage once the store is asked, and the plan is recorded', async () => {
      const plan = freshPlan('sip-release-body');
      const response = await fetch(`${url}/fhir`, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body: JSON.stringify(planToBundle(plan, undefined, NOW)) });
      expect(response.status).toBe(200);
      expect(body).toBeDefined();
      expect(aliveDuringCreate).toEqual([false]);
      expect((await inner.get(plan.id))?.version).toBe(1);
    });
  });
});
