/**
 * A SIP read (`GET /sip/plans/{id}`) answers the plan's stored JSON text spliced into its body instead
 * of serialising the parsed plan again (`documentTextOf`, src/store/plan-rows.ts; `sendPlanBody`,
 * src/http/sip-routes.ts). Differential, on the machine's PostgreSQL: two apps over one store, the same
 * clock and callers — one as the server runs, one whose store hands out a copy of each version (which
 * has no text, so its body is `response.json` of the plan as before). Every example, a version an other
 * actor reads narrowed, and generated plans, by every HSA-id a plan names, one issued under each
 * organisationsnummer it names and a stranger, at instants before, during and after the consents: the
 * status, the body's bytes, ETag and Content-Type, and the audit entry of each request are equal.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planResourceIds } from '../../src/fhir/index.js';
import { createApp, type AppDependencies } from '../../src/http/app.js';
import { mayAccess } from '../../src/http/auth/access.js';
import { derivedVersion } from '../../src/http/derived-view.js';
import { loadExamples } from '../../src/http/server.js';
import { parsePlan, type SipPlan } from '../../src/sip/index.js';
import { createPlanStore, documentTextOf, type AuditEntry, type PlanStore } from '../../src/store/index.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, readExample } from '../support/examples.js';
import { INSTANTS, NARROWED, STRANGER, callersOf, withHsaIds, type Answer } from '../support/read-differential.js';
import { createScratchDatabase, type ScratchDatabase } from '../store/postgres-scratch.js';

describe('a SIP read answered with the stored text of its plan', () => {
  let scratch: ScratchDatabase;
  let store: PlanStore;
  let now = INSTANTS[1] ?? new Date();
  let caller = STRANGER;
  const servers: Server[] = [];
  const audits: { text: AuditEntry[]; json: AuditEntry[] } = { text: [], json: [] };
  const urls = { text: '', json: '' };
  /** Versions the text lane's store handed out with their text. */
  let withText = 0;

  const listen = async (dependencies: AppDependencies): Promise<string> => {
    const server = await new Promise<Server>((resolve) => {
      const listening = createApp(dependencies).listen(0, '127.0.0.1', () => {
        resolve(listening);
      });
    });
    servers.push(server);
    return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  };

  const seen = (lane: 'text' | 'json'): PlanStore =>
    Object.assign(Object.create(store) as PlanStore, {
      audit: async (entry: AuditEntry) => {
        await store.audit(entry);
        audits[lane].push(entry);
      },
      get: async (...args: Parameters<PlanStore['get']>) => {
        const stored = await store.get(...args);
        if (stored === undefined) return undefined;
        if (lane === 'text') {
          if (documentTextOf(stored) !== undefined) withText += 1;
          return stored;
        }
        // A copy: its plan read, no text.
        return { ...stored };
      },
    });

  const dependencies = (lane: 'text' | 'json'): AppDependencies => ({
    store: seen(lane),
    clock: () => now,
    logger: pino({ level: 'silent' }),
    maxBodyBytes: 1024 * 1024,
    rateLimitPerMinute: 100_000_000,
    authenticate: () => Promise.resolve({ organization: caller, may: () => true }),
    mayAccess: (plan, asked, at) => {
      const decision = mayAccess(plan, asked.organization, at);
      return decision.allowed ? { allowed: true, role: decision.role, principals: decision.principals, partyId: decision.partyId } : { allowed: false, reason: decision.message };
    },
  });

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    store = await createPlanStore({ databaseUrl: scratch.url });
    await store.migrate();
    await loadExamples(store);
    await store.create(NARROWED, 'system', planResourceIds(NARROWED), { derived: derivedVersion(NARROWED) });
    urls.text = await listen(dependencies('text'));
    urls.json = await listen(dependencies('json'));
  }, 120_000);

  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    }
    await store.close();
    await scratch.drop();
  });

  const ask = async (lane: 'text' | 'json', path: string): Promise<Answer> => {
    const before = audits[lane].length;
    const response = await fetch(`${urls[lane]}${path}`);
    const body = await response.text();
    const entries = audits[lane].slice(before);
    expect(entries).toHaveLength(1);
    const [entry] = entries;
    const audit = entry === undefined ? undefined : (({ at: _at, ...rest }: AuditEntry) => rest)(entry);
    return { status: response.status, body, headers: Object.fromEntries(['etag', 'content-type'].map((name) => [name, response.headers.get(name)])), audit };
  };

  const compare = async (plan: SipPlan, at: Date): Promise<void> => {
    for (const who of callersOf(plan)) {
      caller = who;
      now = at;
      const path = `/sip/plans/${plan.id}`;
      expect(await ask('text', path), `${path} by ${who} at ${at.toISOString()}`).toEqual(await ask('json', path));
    }
  };

  it('answers every example, and a plan an other actor reads narrowed, as response.json did, by every caller, at every instant', async () => {
    for (const plan of [...exampleFiles.map(readExample), NARROWED]) for (const at of INSTANTS) await compare(plan, at);
    await compare({ ...NARROWED, id: 'sip-no-such-plan' }, INSTANTS[1] ?? now);
    const statuses = new Set(audits.text.map((entry) => Number(entry.detail)));
    expect([...statuses]).toEqual(expect.arrayContaining([200, 403, 404]));
    expect(withText).toBeGreaterThan(50);
  }, 300_000);

  it('answers generated plans as response.json did', async () => {
    const before = withText;
    const entriesBefore = audits.text.length;
    await fc.assert(
      fc.asyncProperty(mappablePlanArbitrary, fc.uuid(), async (json, suffix) => {
        const parsed = parsePlan({ ...json, id: `sip-text-${suffix}` });
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        const plan = withHsaIds(parsed.plan);
        await store.create(plan, 'system', planResourceIds(plan), { derived: derivedVersion(plan) });
        for (const at of [new Date(plan.updatedAt), INSTANTS[3] ?? now]) await compare(plan, at);
      }),
      { numRuns: 40 },
    );
    expect(withText - before).toBeGreaterThan(40);
    const answered = audits.text.slice(entriesBefore).filter((entry) => entry.detail === '200').length;
    expect(answered).toBeGreaterThan(20);
  }, 300_000);
});
