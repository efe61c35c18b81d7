/**
 * An answer leaves only after its audit entry is committed (src/http/audited-route.ts): the app on a
 * loopback port over the machine's PostgreSQL, with the store's `audit` held at a gate or failing.
 * While the entry is not written the caller has no answer; when it cannot be written the caller gets
 * a 500 without the plan, never the plan without an entry.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planResourceIds } from '../../src/fhir/index.js';
import { createApp } from '../../src/http/app.js';
import { createPlanStore, type AuditEntry, type PlanStore } from '../../src/store/index.js';
import { readExample } from '../support/examples.js';
import { openAppDependencies } from '../support/http-server.js';
import { createScratchDatabase, type ScratchDatabase } from '../store/postgres-scratch.js';

const adult = readExample('adult-psychiatry-addiction.json');

describe('the audit entry before the answer', () => {
  let scratch: ScratchDatabase;
  let store: PlanStore;
  /** What the store's audit does now: pass the entry on, hold it, or fail. */
  let audit: (entry: AuditEntry) => Promise<void>;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    store = await createPlanStore({ databaseUrl: scratch.url });
    await store.migrate();
    const plan = { ...adult, version: 1, approvals: [] };
    await store.create(plan, 'system', planResourceIds(plan));
  }, 60_000);

  afterAll(async () => {
    await store.close();
    await scratch.drop();
  });

  /** What the store's create does now: write the version (with its entry) at once, or after a gate. */
  let create: PlanStore['create'] = (...args) => store.create(...args);

  const app = () => {
    const audited: PlanStore = Object.assign(Object.create(store) as PlanStore, { audit: (entry: AuditEntry) => audit(entry), create: (...args: Parameters<PlanStore['create']>) => create(...args) });
    return createApp({ ...openAppDependencies(audited), rateLimitPerMinute: 1_000 });
  };

  it('sends nothing until the entry is written, then the plan', async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const written: AuditEntry[] = [];
    audit = async (entry) => {
      await gate;
      await store.audit(entry);
      written.push(entry);
    };
    let answered = false;
    const answer = request(app())
      .get(`/sip/plans/${adult.id}`)
      .then((response) => {
        answered = true;
        return response;
      });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answered).toBe(false);
    open();
    const response = await answer;
    expect(response.status).toBe(200);
    expect((response.body as { plan: { id: string } }).plan.id).toBe(adult.id);
    expect(written).toMatchObject([{ action: 'read', outcome: 'success', detail: '200', planId: adult.id, what: `GET /sip/plans/${adult.id}` }]);
  });

  it("sends a recorded version's answer only once the version's transaction, which holds its entry, is committed", async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const handed: (AuditEntry | undefined)[] = [];
    create = async (...args) => {
      handed.push(args[3]?.audit);
      await gate;
      return store.create(...args);
    };
    audit = (entry) => store.audit(entry);
    const plan = { ...adult, id: 'sip-audit-before-answer-write', version: 1, approvals: [], consents: adult.consents.map((consent) => ({ ...consent, planId: 'sip-audit-before-answer-write' })) };
    let answered = false;
    const answer = request(app())
      .post('/sip/plans')
      .send(plan)
      .then((response) => {
        answered = true;
        return response;
      });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answered).toBe(false);
    expect(await store.auditLog({ planId: plan.id })).toEqual([]);
    open();
    const response = await answer;
    expect(response.status).toBe(201);
    expect(handed).toMatchObject([{ action: 'create', outcome: 'success', detail: '201', planId: plan.id }]);
    expect(await store.auditLog({ planId: plan.id })).toMatchObject([{ action: 'create', outcome: 'success', detail: '201' }]);
  });

  it('answers 500 without the plan when the entry cannot be written', async () => {
    audit = () => Promise.reject(new Error('the audit log is unreachable'));
    for (const path of [`/sip/plans/${adult.id}`, `/sip/plans?person=${adult.individual.identifier.value}`]) {
      const response = await request(app()).get(path);
      expect(response.status).toBe(500);
      expect(response.headers['content-type']).toContain('application/problem+json');
      // The person's name and address are in the plan, never in a problem document.
      expect(response.text).not.toContain('Eriksson');
      expect(response.text).not.toContain('Stigaregatan');
    }
  });
});
