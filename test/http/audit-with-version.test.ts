/**
 * A call that records a plan version has its success entry committed with the version, in the
 * version's transaction (src/http/audited-route.ts `VersionAudit`), on the machine's PostgreSQL:
 * for every route that ends in a store create or update — `POST /sip/plans`, `PUT /sip/plans/{id}`,
 * a change recorded as the next version (an approval), `POST /fhir`, `POST /exchange/inbound/{mapping}` —
 * a success leaves exactly one entry, saying the status answered, written by the version's own
 * transaction (the rows share its id); a failed write exactly one, the failure, and nothing of the
 * transaction it rolled back; an error after the version was committed both, the success and then
 * the failure answered. A call that records nothing new (a replay) is audited as before, alone.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import express from 'express';
import type { Bundle, CarePlan } from 'fhir/r4.js';
import pg from 'pg';
import request from 'supertest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMapping, translateInbound } from '../../src/exchange/index.js';
import { planToBundle } from '../../src/fhir/index.js';
import { createApp } from '../../src/http/app.js';
import { auditedRoutes } from '../../src/http/audited-route.js';
import type { SipPlan } from '../../src/sip/index.js';
import { createPlanStore, type AuditEntry, type PlanStore } from '../../src/store/index.js';
import { NOW, REGION, freshPlan } from '../support/http-server.js';
import { createScratchDatabase, type ScratchDatabase } from '../store/postgres-scratch.js';
import { closeServer, listenOnLoopback } from '../support/loopback.js';

const AGENT = 'kurator@test';
const MAPPING = 'modern-case-api';
const SAMPLE = readFileSync(join('mappings', MAPPING, 'samples', 'elderly-home-help.json'), 'utf8');

/** An audit entry of a call as the log keeps it, and whether the transaction that wrote it also wrote a version of its plan. */
interface Row {
  organization: string;
  agent: string | null;
  plan_id: string | null;
  person_identifier: string | null;
  action: string;
  what: string;
  outcome: string;
  detail: string | null;
  with_version: boolean;
}

describe('the audit entry of a recorded version, on PostgreSQL', () => {
  let scratch: ScratchDatabase;
  let store: PlanStore;
  let sql: pg.Client;
  let server: Server;
  let url: string;
  let now = NOW;
  /** When set, the store's writes throw once the version is committed: an error after the commit. */
  let failAfterCommit = false;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    store = await createPlanStore({ databaseUrl: scratch.url });
    await store.migrate();
    sql = new pg.Client({ connectionString: scratch.url });
    await sql.connect();
    // A database error in the version's transaction, after its first statement: plans named in `doomed` cannot be written.
    await sql.query('CREATE TABLE doomed (plan_id text PRIMARY KEY)');
    await sql.query(`CREATE FUNCTION refuse_doomed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM doomed WHERE plan_id = NEW.plan_id) THEN RAISE EXCEPTION 'plan % is doomed', NEW.plan_id; END IF;
        RETURN NEW;
      END $$`);
    await sql.query('CREATE TRIGGER refuse_doomed BEFORE INSERT OR UPDATE ON plans FOR EACH ROW EXECUTE FUNCTION refuse_doomed()');
    const afterCommit = async <T>(write: Promise<T>): Promise<T> => {
      const written = await write;
      if (failAfterCommit) throw new Error('the answer could not be made after the version was committed');
      return written;
    };
    const faulty: PlanStore = Object.assign(Object.create(store) as PlanStore, {
      create: (...args: Parameters<PlanStore['create']>) => afterCommit(store.create(...args)),
      update: (...args: Parameters<PlanStore['update']>) => afterCommit(store.update(...args)),
    });
    const app = createApp({
      store: faulty,
      clock: () => now,
      logger: pino({ level: 'silent' }),
      maxBodyBytes: 1024 * 1024,
      rateLimitPerMinute: 1_000_000,
      authenticate: () => Promise.resolve({ organization: REGION, agent: AGENT, may: () => true }),
      mayAccess: () => ({ allowed: true }),
      mappings: new Map([[MAPPING, await loadMapping(join('mappings', MAPPING))]]),
    });
    ({ server, origin: url } = await listenOnLoopback(app));
  }, 120_000);

  afterAll(async () => {
    await closeServer(server, { dropConnections: true });
    await sql.end();
    await store.close();
    await scratch.drop();
  });

  /** The call's answer, and the audit entries about `planId` appended while it ran, oldest first. */
  async function call(planId: string, method: string, path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; rows: Row[] }> {
    const [last] = (await sql.query<{ id: string }>('SELECT coalesce(max(id), 0)::text AS id FROM audit_log')).rows;
    const response = await fetch(`${url}${path}`, { method, headers: { 'Content-Type': 'application/json', ...headers }, body });
    await response.arrayBuffer();
    const rows = await sql.query<Row>(
      `SELECT a.organization, a.agent, a.plan_id, a.person_identifier, a.action, a.what, a.outcome, a.detail,
         EXISTS (SELECT 1 FROM plan_versions v WHERE v.plan_id = a.plan_id AND v.xmin::text = a.xmin::text) AS with_version
       FROM audit_log a WHERE a.id > $1::bigint AND a.plan_id = $2 ORDER BY a.id`,
      [last?.id ?? '0', planId],
    );
    return { status: response.status, rows: rows.rows };
  }

  const doom = async (planId: string): Promise<void> => {
    await sql.query('INSERT INTO doomed (plan_id) VALUES ($1)', [planId]);
  };
  const spare = async (planId: string): Promise<void> => {
    await sql.query('DELETE FROM doomed WHERE plan_id = $1', [planId]);
  };

  /** The entry a call leaves, as the log keeps it. */
  const entry = (plan: SipPlan, action: string, what: string, outcome: string, status: number, withVersion: boolean): Row => ({
    organization: REGION,
    agent: AGENT,
    plan_id: plan.id,
    person_identifier: plan.individual.identifier.value,
    action,
    what,
    outcome,
    detail: String(status),
    with_version: withVersion,
  });

  it('POST /sip/plans: one entry committed with the version; a taken id, a database error: one entry, the failure', async () => {
    const plan = freshPlan('sip-audit-tx-create');
    const created = await call(plan.id, 'POST', '/sip/plans', JSON.stringify(plan));
    expect(created).toEqual({ status: 201, rows: [entry(plan, 'create', 'POST /sip/plans', 'success', 201, true)] });
    expect(await call(plan.id, 'POST', '/sip/plans', JSON.stringify(plan))).toEqual({ status: 409, rows: [entry(plan, 'create', 'POST /sip/plans', 'failed', 409, false)] });

    const doomed = freshPlan('sip-audit-tx-create-doomed');
    await doom(doomed.id);
    expect(await call(doomed.id, 'POST', '/sip/plans', JSON.stringify(doomed))).toEqual({ status: 500, rows: [entry(doomed, 'create', 'POST /sip/plans', 'failed', 500, false)] });
    expect(await store.get(doomed.id)).toBeUndefined();
  });

  it('PUT /sip/plans/{id} and an approval: one entry committed with the version; a stale If-Match, a database error: one entry, the failure', async () => {
    const plan = freshPlan('sip-audit-tx-update');
    expect((await call(plan.id, 'POST', '/sip/plans', JSON.stringify(plan))).status).toBe(201);
    const path = `/sip/plans/${plan.id}`;
    const edited = JSON.stringify({ ...plan, notes: 'Edited' });
    expect(await call(plan.id, 'PUT', path, edited, { 'If-Match': 'W/"1"' })).toEqual({ status: 200, rows: [entry(plan, 'update', `PUT ${path}`, 'success', 200, true)] });
    expect(await call(plan.id, 'PUT', path, edited, { 'If-Match': 'W/"1"' })).toEqual({ status: 412, rows: [entry(plan, 'update', `PUT ${path}`, 'failed', 412, false)] });
    const approval = JSON.stringify({ principal: 'region-dalarna', approvedBy: 'prof-erik-berg' });
    expect(await call(plan.id, 'POST', `${path}/approvals`, approval)).toEqual({ status: 201, rows: [entry(plan, 'update', `POST ${path}/approvals`, 'success', 201, true)] });

    await doom(plan.id);
    try {
      expect(await call(plan.id, 'PUT', path, JSON.stringify({ ...plan, notes: 'Doomed' }), { 'If-Match': 'W/"3"' })).toEqual({ status: 500, rows: [entry(plan, 'update', `PUT ${path}`, 'failed', 500, false)] });
    } finally {
      await spare(plan.id);
    }
    expect((await store.get(plan.id))?.version).toBe(3);
  });

  it('POST /fhir: one entry committed with each version (200); a stale ifMatch, a database error: one entry, the failure; a replay: one entry, alone', async () => {
    const plan = freshPlan('sip-audit-tx-fhir');
    const post = (sent: SipPlan, ifMatch?: string) => {
      const bundle: Bundle = planToBundle(sent, undefined, NOW);
      const carePlan = bundle.entry?.find((each) => (each.resource as CarePlan | undefined)?.resourceType === 'CarePlan');
      if (ifMatch !== undefined && carePlan?.request !== undefined) carePlan.request.ifMatch = ifMatch;
      return call(plan.id, 'POST', '/fhir', JSON.stringify(bundle), { 'Content-Type': 'application/fhir+json' });
    };
    expect(await post(plan)).toEqual({ status: 200, rows: [entry(plan, 'create', 'POST /fhir', 'success', 200, true)] });
    expect(await post({ ...plan, notes: 'Edited' })).toEqual({ status: 200, rows: [entry(plan, 'update', 'POST /fhir', 'success', 200, true)] });
    // Nothing new to record: the entry goes through the audit writer, in a transaction of its own.
    expect(await post({ ...plan, notes: 'Edited' })).toEqual({ status: 200, rows: [entry(plan, 'update', 'POST /fhir', 'success', 200, false)] });
    expect(await post({ ...plan, notes: 'Stale' }, 'W/"1"')).toEqual({ status: 412, rows: [entry(plan, 'update', 'POST /fhir', 'failed', 412, false)] });

    await doom(plan.id);
    try {
      expect(await post({ ...plan, notes: 'Doomed' })).toEqual({ status: 500, rows: [entry(plan, 'update', 'POST /fhir', 'failed', 500, false)] });
    } finally {
      await spare(plan.id);
    }
    expect((await store.get(plan.id))?.version).toBe(2);
  });

  it('POST /exchange/inbound/{mapping}: one entry committed with the version (201); a database error: one entry, the failure', async () => {
    const mapping = await loadMapping(join('mappings', MAPPING));
    const plan = translateInbound(mapping, SAMPLE).plan;
    if (plan === undefined) throw new Error('the sample translates');
    now = new Date(new Date(plan.updatedAt).getTime() + 3_600_000);
    const what = `POST /exchange/inbound/${MAPPING}`;
    try {
      await doom(plan.id);
      expect(await call(plan.id, 'POST', `/exchange/inbound/${MAPPING}`, SAMPLE)).toEqual({ status: 500, rows: [entry(plan, 'create', what, 'failed', 500, false)] });
      await spare(plan.id);
      expect(await call(plan.id, 'POST', `/exchange/inbound/${MAPPING}`, SAMPLE)).toEqual({ status: 201, rows: [entry(plan, 'create', what, 'success', 201, true)] });
      expect(await call(plan.id, 'POST', `/exchange/inbound/${MAPPING}`, SAMPLE)).toEqual({ status: 200, rows: [entry(plan, 'update', what, 'success', 200, false)] });
    } finally {
      now = NOW;
    }
  });

  it('an error after the version was committed: the success committed with it, then the failure answered', async () => {
    const plan = freshPlan('sip-audit-tx-after-commit');
    failAfterCommit = true;
    try {
      expect(await call(plan.id, 'POST', '/sip/plans', JSON.stringify(plan))).toEqual({
        status: 500,
        rows: [entry(plan, 'create', 'POST /sip/plans', 'success', 201, true), entry(plan, 'create', 'POST /sip/plans', 'failed', 500, false)],
      });
    } finally {
      failAfterCommit = false;
    }
    expect((await store.get(plan.id))?.version).toBe(1);
  });
});

describe('auditedRoutes with an entry written with the version', () => {
  /** A route that records a "version" with its entry named `named` and answers `answered`; what went to the store's write and to `audit`. */
  async function run(named: number, answered: number): Promise<{ withVersion: AuditEntry[]; alone: AuditEntry[] }> {
    const withVersion: AuditEntry[] = [];
    const alone: AuditEntry[] = [];
    const store = { audit: (entry: AuditEntry) => Promise.resolve(void alone.push(entry)) } as unknown as PlanStore;
    const route = auditedRoutes({ store, authenticate: () => Promise.resolve({ organization: REGION, may: () => true }) });
    const app = express();
    app.post(
      '/plans',
      route('create', async (_request, response, _caller, subject, versionAudit) => {
        subject.planId = 'sip-named';
        await versionAudit.recording(named, (entry) => Promise.resolve(void withVersion.push(entry)));
        response.status(answered).json({});
      }),
    );
    expect((await request(app).post('/plans')).status).toBe(answered);
    return { withVersion, alone };
  }

  it('does not write the success again when the answer has the status the entry named', async () => {
    const { withVersion, alone } = await run(201, 201);
    expect(withVersion).toMatchObject([{ planId: 'sip-named', action: 'create', what: 'POST /plans', outcome: 'success', detail: '201' }]);
    expect(alone).toEqual([]);
  });

  it('writes the status answered too when it is not the one the entry named, so the log holds what the caller got', async () => {
    const { withVersion, alone } = await run(201, 200);
    expect(withVersion).toMatchObject([{ outcome: 'success', detail: '201' }]);
    expect(alone).toMatchObject([{ planId: 'sip-named', outcome: 'success', detail: '200' }]);
  });
});
