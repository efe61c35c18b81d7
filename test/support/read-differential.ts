/**
 * What the differential tests of a read answered two ways share (test/http/kept-read.test.ts,
 * test/http/sip-read-text.test.ts, test/http/kept-search.test.ts): the instants, the callers, a plan an
 * other actor reads narrowed, generated plans whose parties can call, the two apps over one store, and
 * the answer compared.
 */
import type { Server } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, expect } from 'vitest';
import { planResourceIds } from '../../src/fhir/index.js';
import { createApp, type AppDependencies } from '../../src/http/app.js';
import { mayAccess } from '../../src/http/auth/access.js';
import { derivedVersion } from '../../src/http/derived-view.js';
import { loadExamples } from '../../src/http/server.js';
import { parsePlan, type SipPlan } from '../../src/sip/index.js';
import { createPlanStore, type AuditEntry, type PlanStore } from '../../src/store/index.js';
import { createScratchDatabase, type ScratchDatabase } from '../store/postgres-scratch.js';
import { readExample } from './examples.js';
import { closeServer, listenOnLoopback } from './loopback.js';

export const INSTANTS = ['2025-06-01T10:00:00Z', '2026-04-01T10:00:00Z', '2027-03-01T10:00:00Z', '2028-09-01T10:00:00Z'].map((text) => new Date(text));
export const STRANGER = 'SE5560000000-X001';

/**
 * The adult example under its own id with a goal and an intervention tagged with the class its consent
 * excludes (as test/http/read-narrowing.test.ts records it): a covered other actor (Försäkringskassan)
 * reads it narrowed, so its CarePlan differs from the kept text and a removed Goal is a 404.
 */
export const NARROWED: SipPlan = (() => {
  const adult = readExample('adult-psychiatry-addiction.json');
  const id = 'sip-kept-narrowed';
  const plan: SipPlan = {
    ...adult,
    id,
    version: 1,
    approvals: [],
    consents: adult.consents.map((consent) => ({ ...consent, planId: id })),
    goals: adult.goals.map((goal) => (goal.id === 'goal-2' ? { ...goal, informationClasses: ['familySituation' as const] } : goal)),
    interventions: adult.interventions.map((intervention) => (intervention.id === 'int-4' ? { ...intervention, informationClasses: ['familySituation' as const] } : intervention)),
  };
  delete plan.closure;
  const parsed = parsePlan(plan);
  if (!parsed.ok) throw new Error(`the plan does not parse: ${JSON.stringify(parsed.problems)}`);
  return parsed.plan;
})();

/** Every HSA-id the plan names, one issued under each organisationsnummer it names, and a stranger's. */
export function callersOf(plan: SipPlan): string[] {
  const text = JSON.stringify(plan);
  const hsaIds = text.match(/SE\d{10}-[A-Za-z0-9]+/g) ?? [];
  const issued = (text.match(/"\d{6}-\d{4}"/g) ?? []).map((quoted) => `SE${quoted.slice(1, 7)}${quoted.slice(8, 12)}-T001`);
  return [...new Set([...hsaIds, ...issued, STRANGER])];
}

/** A generated plan with an HSA-id on every principal, unit and other actor (generated plans have none), so its parties can call, and its other actors covered by its consents. */
export function withHsaIds(plan: SipPlan): SipPlan {
  let n = 0;
  const hsaId = (): { hsaId: string } => ({ hsaId: `SE2321000016-U${String((n += 1))}` });
  const principals = plan.principals.map((principal) => ({ ...principal, ...hsaId(), units: principal.units.map((unit) => ({ ...unit, ...hsaId() })) }));
  const otherActors = plan.otherActors.map((actor) => ({ ...actor, ...hsaId() }));
  // The principals and every other actor covered by the consents, the first other actor excluded by the last consent: readers whole, narrowed and refused.
  const actors = otherActors.map((actor) => actor.id);
  const parties = [...principals.map((principal) => principal.id), ...actors];
  const last = plan.consents.length - 1;
  const consents = plan.consents.map((consent, i) => ({ ...consent, planId: plan.id, coveredActors: i === last ? parties.filter((party) => party !== actors[0]) : parties, excludedParties: i === last ? actors.slice(0, 1) : [] }));
  const changed = parsePlan({ ...plan, principals, otherActors, consents });
  if (!changed.ok) throw new Error(`plan with HSA-ids does not parse: ${JSON.stringify(changed.problems)}`);
  return changed.plan;
}

export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | null>;
  readonly audit: Omit<AuditEntry, 'at'> | undefined;
}

/** Two apps over one store, each a lane of a differential read test, asked as one caller at one instant. */
export interface ReadLanes<L extends string> {
  /** The store both lanes share, as it is (not as a lane sees it); set once `beforeAll` has run. */
  readonly store: PlanStore;
  /** Every audit entry a lane's app wrote, in order. */
  readonly audits: Readonly<Record<L, AuditEntry[]>>;
  /** Who asks, and at which instant the apps' clock stands, for the requests that follow. */
  as(who: string, at: Date): void;
  /** One GET of `path` from a lane's app: its answer and the one audit entry it wrote (without its time). */
  ask(lane: L, path: string): Promise<Answer>;
}

export interface ReadLaneOptions<L extends string> {
  /**
   * What a lane's app sees of the store beyond the audit log: the store's methods that lane counts or
   * changes (each a function of the shared store, not a copy of it).
   */
  readonly seen: (store: PlanStore, lane: L) => Partial<PlanStore>;
  /** The response headers compared besides the status, body and audit entry. */
  readonly headers: readonly string[];
}

/**
 * Two apps (`createApp`, as the server builds it) over one store on a scratch database of the machine's
 * PostgreSQL, holding the examples and {@link NARROWED}, each listening on a loopback port; the same
 * clock and the same caller for both, access judged as src/http/server.ts judges it. Registers the
 * `beforeAll` that starts them and the `afterAll` that stops them in the calling `describe`.
 *
 * The two apps listen on different ports, which a searchset's links and fullUrls name: `ask` writes
 * each lane's own base as `http://base` so the bodies compare.
 */
export function readLanes<L extends string>(lanes: readonly [L, L], options: ReadLaneOptions<L>): ReadLanes<L> {
  let scratch: ScratchDatabase | undefined;
  let shared: PlanStore | undefined;
  let now = INSTANTS[1] ?? new Date();
  let caller = STRANGER;
  const servers: Server[] = [];
  const urls = new Map<L, string>();
  const audits = Object.fromEntries(lanes.map((lane) => [lane, [] as AuditEntry[]])) as Record<L, AuditEntry[]>;
  const storeOf = (): PlanStore => {
    if (shared === undefined) throw new Error('the store is not open: readLanes is used before its beforeAll ran');
    return shared;
  };

  const dependencies = (store: PlanStore, lane: L): AppDependencies => ({
    store: Object.assign(Object.create(store) as PlanStore, {
      audit: async (entry: AuditEntry) => {
        await store.audit(entry);
        audits[lane].push(entry);
      },
      ...options.seen(store, lane),
    }),
    clock: () => now,
    logger: pino({ level: 'silent' }),
    maxBodyBytes: 1024 * 1024,
    rateLimitPerMinute: 100_000_000,
    authenticate: () => Promise.resolve({ organization: caller, may: () => true }),
    // As the server judges access (src/http/server.ts).
    mayAccess: (plan, asked, at) => {
      const decision = mayAccess(plan, asked.organization, at);
      return decision.allowed ? { allowed: true, role: decision.role, principals: decision.principals, partyId: decision.partyId } : { allowed: false, reason: decision.message };
    },
  });

  const listen = async (lane: L, store: PlanStore): Promise<void> => {
    const { server, origin } = await listenOnLoopback(createApp(dependencies(store, lane)));
    servers.push(server);
    urls.set(lane, origin);
  };

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    const store = await createPlanStore({ databaseUrl: scratch.url });
    shared = store;
    await store.migrate();
    await loadExamples(store);
    await store.create(NARROWED, 'system', planResourceIds(NARROWED), { derived: derivedVersion(NARROWED) });
    for (const lane of lanes) await listen(lane, store);
  }, 120_000);

  afterAll(async () => {
    for (const server of servers) await closeServer(server, { dropConnections: true });
    await shared?.close();
    await scratch?.drop();
  });

  return {
    get store() {
      return storeOf();
    },
    audits,
    as(who, at) {
      caller = who;
      now = at;
    },
    async ask(lane, path) {
      const base = urls.get(lane);
      if (base === undefined) throw new Error(`no app listens for the lane ${lane}`);
      const before = audits[lane].length;
      const response = await fetch(`${base}${path}`);
      const body = (await response.text()).replaceAll(base, 'http://base');
      const entries = audits[lane].slice(before);
      expect(entries, `the audit entries of ${path}`).toHaveLength(1);
      const [entry] = entries;
      const audit = entry === undefined ? undefined : (({ at: _at, ...rest }: AuditEntry) => rest)(entry);
      return { status: response.status, body, headers: Object.fromEntries(options.headers.map((name) => [name, response.headers.get(name)])), audit };
    },
  };
}
