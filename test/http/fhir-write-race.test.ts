/**
 * The write side's answer to losing a race, made certain: the app on a loopback port over a real
 * store (PGlite, and PostgreSQL) whose `get` holds the first ten reads of the plan until all ten
 * have read it, so every transaction decides on the same stale state. Then the store must refuse all
 * but one write (its unique key, its version check), and each loser must read again and decide
 * again: a replay finds the plan equal and records nothing; a different edit becomes the next version.
 * Without the barrier the requests may happen to run one after another and never race.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from 'fhir/r4.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planToBundle } from '../../src/fhir/index.js';
import { createApp } from '../../src/http/app.js';
import type { SipPlan } from '../../src/sip/index.js';
import { PlanExistsError, VersionConflictError, createPlanStore, type VersionWriteOptions, type PlanResource, type PlanStore, type StoredPlan } from '../../src/store/index.js';
import { DRIVERS, NOW, freshPlan, openAppDependencies } from '../support/http-server.js';
import { createScratchDatabase, type ScratchDatabase } from '../store/postgres-scratch.js';
import { closeServer, listenOnLoopback } from '../support/loopback.js';

const RACERS = 10;

/** The store, with a barrier on reads of one plan and a count of the writes it refused. */
class RacingStore {
  readonly refused = { exists: 0, conflict: 0 };
  #held: (() => void)[] = [];
  #armed = 0;

  constructor(readonly inner: PlanStore) {}

  /** The next `count` reads are held until all of them have been asked for. */
  arm(count: number): void {
    this.#armed = count;
    this.#held = [];
  }

  async get(planId: string, version?: number): Promise<StoredPlan | undefined> {
    const read = await this.inner.get(planId, version);
    if (this.#armed > 0) {
      this.#armed -= 1;
      const released = new Promise<void>((resolve) => this.#held.push(resolve));
      if (this.#armed === 0) for (const release of this.#held) release();
      await released;
    }
    return read;
  }

  async create(plan: SipPlan, recordedBy: string, resources: readonly PlanResource[], options?: VersionWriteOptions): Promise<StoredPlan> {
    try {
      return await this.inner.create(plan, recordedBy, resources, options);
    } catch (error) {
      if (error instanceof PlanExistsError) this.refused.exists += 1;
      throw error;
    }
  }

  async update(plan: SipPlan, expectedVersion: number, recordedBy: string, resources: readonly PlanResource[], options?: VersionWriteOptions): Promise<StoredPlan> {
    try {
      return await this.inner.update(plan, expectedVersion, recordedBy, resources, options);
    } catch (error) {
      if (error instanceof VersionConflictError) this.refused.conflict += 1;
      throw error;
    }
  }

  asStore(): PlanStore {
    const inner = this.inner;
    return {
      migrate: (options) => inner.migrate(options),
      create: (plan, recordedBy, resources, options) => this.create(plan, recordedBy, resources, options),
      update: (plan, expected, recordedBy, resources, options) => this.update(plan, expected, recordedBy, resources, options),
      derive: (planId, version, derived) => inner.derive(planId, version, derived),
      get: (planId, version) => this.get(planId, version),
      keptWithResource: (type, id, deriver) => inner.keptWithResource(type, id, deriver),
      history: (planId) => inner.history(planId),
      versionTimes: (planId) => inner.versionTimes(planId),
      recentVersions: (query) => inner.recentVersions(query),
      versions: (planId, versions, options) => inner.versions(planId, versions, options),
      search: (query) => inner.search(query),
      searchHeads: (query) => inner.searchHeads(query),
      keptTexts: (versions, deriver, type) => inner.keptTexts(versions, deriver, type),
      plansWithResource: (type, id) => inner.plansWithResource(type, id),
      currentWithResource: (type, id, options) => inner.currentWithResource(type, id, options),
      audit: (entry) => inner.audit(entry),
      auditLog: (query) => inner.auditLog(query),
      auditCount: (query) => inner.auditCount(query),
      auditEntry: (id) => inner.auditEntry(id),
      outbox: inner.outbox,
      statistics: inner.statistics,
      close: () => inner.close(),
    };
  }
}

describe.each(DRIVERS)('transactions that lose a race on %s', (_name, driver) => {
  let folder: string;
  let scratch: ScratchDatabase | undefined;
  let racing: RacingStore;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'sip-fhir-race-'));
    scratch = driver === 'postgres' ? await createScratchDatabase() : undefined;
    const inner = await createPlanStore(scratch === undefined ? { dataDir: folder } : { databaseUrl: scratch.url });
    await inner.migrate();
    racing = new RacingStore(inner);
    const app = createApp(openAppDependencies(racing.asStore()));
    ({ server, origin: url } = await listenOnLoopback(app));
  }, 60_000);

  afterAll(async () => {
    await closeServer(server, { dropConnections: true });
    await racing.inner.close();
    await scratch?.drop();
    rmSync(folder, { recursive: true, force: true });
  });

  const post = async (bundle: Bundle): Promise<{ status: number; body: Bundle }> => {
    const response = await fetch(`${url}/fhir`, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body: JSON.stringify(bundle) });
    return { status: response.status, body: (await response.json()) as Bundle };
  };
  const carePlanStatus = (bundle: Bundle, request: Bundle): string | undefined =>
    bundle.entry?.[(request.entry ?? []).findIndex((entry) => entry.resource?.resourceType === 'CarePlan')]?.response?.status;

  it('ten replays that all read the plan as absent: the unique key refuses nine creates, and each of them, read again, finds the plan equal', async () => {
    const plan = freshPlan('sip-race-replay');
    const bundle = planToBundle(plan, undefined, NOW);
    racing.arm(RACERS);
    const answers = await Promise.all(Array.from({ length: RACERS }, () => post(bundle)));
    expect(answers.map((answer) => answer.status)).toEqual(Array<number>(RACERS).fill(200));
    expect(answers.map((answer) => carePlanStatus(answer.body, bundle)).sort()).toEqual([...Array<string>(RACERS - 1).fill('200 OK'), '201 Created']);
    expect(racing.refused.exists).toBe(RACERS - 1);
    expect((await racing.inner.history(plan.id)).map((stored) => stored.version)).toEqual([1]);
  });

  it('ten different edits that all read version 1: the version check refuses nine, and each, read again, is recorded as a later version', async () => {
    const plan = freshPlan('sip-race-edits');
    expect((await post(planToBundle(plan, undefined, NOW))).status).toBe(200);
    const conflictsBefore = racing.refused.conflict;
    racing.arm(RACERS);
    const answers = await Promise.all(Array.from({ length: RACERS }, (_, racer) => post(planToBundle({ ...plan, notes: `Racer ${String(racer)}` }, undefined, NOW))));
    expect(answers.map((answer) => answer.status)).toEqual(Array<number>(RACERS).fill(200));
    expect(racing.refused.conflict - conflictsBefore).toBeGreaterThanOrEqual(RACERS - 1);
    const history = await racing.inner.history(plan.id);
    expect(history.map((stored) => stored.version)).toEqual(Array.from({ length: RACERS + 1 }, (_, i) => i + 1));
    expect(new Set(history.slice(1).map((stored) => stored.plan.notes))).toEqual(new Set(Array.from({ length: RACERS }, (_, racer) => `Racer ${String(racer)}`)));
  });
});
