/**
 * A version's derivation after the answer, in the event loop's idle turns (src/http/idle-derivations.ts,
 * `SIP_DERIVE_WHEN=idle`):
 * - the queue alone, over a store that records what it is asked to keep: nothing is derived while a
 *   request is in flight; a newer version of a plan replaces its older one; the queue is bounded, the
 *   oldest dropped; a store that fails is logged and the next version still kept; close drops what waits;
 * - what the idle turn keeps is what the write would have kept (`derivedVersion` of the plan as stored);
 * - the app with the queue, over the machine's PostgreSQL: a write answers without the derived data,
 *   which is kept once no request is in flight and not while one is; a version routed to receivers is
 *   derived before its statement as before.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planResourceIds, planToBundle } from '../../src/fhir/index.js';
import { createApp } from '../../src/http/app.js';
import { currentDeriver, derivedVersion } from '../../src/http/derived-view.js';
import { DEFAULT_MAX_PENDING, IdleDerivations, derivesLater } from '../../src/http/idle-derivations.js';
import { sendBasisOf, type SipPlan } from '../../src/sip/index.js';
import { createPlanStore, type DerivedVersion, type PlanStore } from '../../src/store/index.js';
import { NOW, freshPlan, openAppDependencies } from '../support/http-server.js';
import { createScratchDatabase, type ScratchDatabase } from '../store/postgres-scratch.js';

/** A store that records what it is asked to keep, and fails for the plan ids in `failing`. */
function recordingStore(failing: ReadonlySet<string> = new Set()) {
  const kept: { planId: string; version: number; derived: DerivedVersion }[] = [];
  return {
    kept,
    derive: (planId: string, version: number, derived: DerivedVersion): Promise<void> => {
      if (failing.has(planId)) return Promise.reject(new Error(`no room for ${planId}`));
      kept.push({ planId, version, derived });
      return Promise.resolve();
    },
  };
}

const silent = { warn: () => undefined };

/** Lets the event loop run its immediate and timer turns a few times. */
async function turns(count = 5): Promise<void> {
  for (let index = 0; index < count; index++) await new Promise((resolve) => setTimeout(resolve, 1));
}

const plan = (id: string, version = 1): SipPlan => ({ ...freshPlan(id), version });

describe('the idle derivations queue', () => {
  it('derives nothing while a request is in flight, and each version once when none is', async () => {
    const store = recordingStore();
    const derivations = new IdleDerivations({ store, logger: silent });
    derivations.requestStarted();
    derivations.later(plan('a'), sendBasisOf(plan('a')));
    derivations.later(plan('b'), sendBasisOf(plan('b')));
    await turns();
    expect(store.kept).toEqual([]);
    expect(derivations.pending).toBe(2);
    derivations.requestEnded();
    await derivations.settled();
    expect(store.kept.map(({ planId, version }) => `${planId}/${String(version)}`)).toEqual(['a/1', 'b/1']);
    expect(derivations.pending).toBe(0);
  });

  it('keeps what the write would have kept: derivedVersion of the plan as stored', async () => {
    const store = recordingStore();
    const derivations = new IdleDerivations({ store, logger: silent });
    const stored = plan('same-texts');
    derivations.later(stored, sendBasisOf(stored));
    await derivations.settled();
    expect(store.kept).toHaveLength(1);
    expect(store.kept[0]?.derived).toEqual(derivedVersion(stored));
    expect(store.kept[0]?.derived.texts.length).toBeGreaterThan(10);
  });

  it('stops between two versions when a request comes in, and goes on when it ends', async () => {
    const store = recordingStore();
    const derivations = new IdleDerivations({ store, logger: silent });
    derivations.requestStarted();
    for (const id of ['a', 'b', 'c']) derivations.later(plan(id), sendBasisOf(plan(id)));
    derivations.requestEnded();
    // The first turn runs; a request then comes in before the next.
    while (store.kept.length === 0) await turns(1);
    derivations.requestStarted();
    await turns();
    expect(store.kept.length).toBeLessThan(3);
    derivations.requestEnded();
    await derivations.settled();
    expect(store.kept.map(({ planId }) => planId)).toEqual(['a', 'b', 'c']);
  });

  it('derives only the newest version of a plan that waits', async () => {
    const store = recordingStore();
    const derivations = new IdleDerivations({ store, logger: silent });
    derivations.requestStarted();
    derivations.later(plan('a', 1), sendBasisOf(plan('a', 1)));
    derivations.later(plan('b', 1), sendBasisOf(plan('b', 1)));
    derivations.later(plan('a', 2), sendBasisOf(plan('a', 2)));
    expect(derivations.pending).toBe(2);
    derivations.requestEnded();
    await derivations.settled();
    expect(store.kept.map(({ planId, version }) => `${planId}/${String(version)}`)).toEqual(['b/1', 'a/2']);
    expect(derivations.dropped).toBe(0);
  });

  it('does not take a version older than the one of its plan that waits, and finds the basis when not given', async () => {
    const store = recordingStore();
    const derivations = new IdleDerivations({ store, logger: silent });
    derivations.requestStarted();
    derivations.later(plan('a', 3));
    derivations.later(plan('a', 2), sendBasisOf(plan('a', 2)));
    derivations.requestEnded();
    await derivations.settled();
    expect(store.kept.map(({ planId, version }) => `${planId}/${String(version)}`)).toEqual(['a/3']);
    expect(store.kept[0]?.derived).toEqual(derivedVersion(plan('a', 3)));
  });

  it('holds at most maxPending plans, dropping the oldest', async () => {
    const store = recordingStore();
    const derivations = new IdleDerivations({ store, logger: silent, maxPending: 2 });
    derivations.requestStarted();
    for (const id of ['a', 'b', 'c', 'd']) derivations.later(plan(id), sendBasisOf(plan(id)));
    expect(derivations.pending).toBe(2);
    expect(derivations.dropped).toBe(2);
    derivations.requestEnded();
    await derivations.settled();
    expect(store.kept.map(({ planId }) => planId)).toEqual(['c', 'd']);
    expect(DEFAULT_MAX_PENDING).toBeGreaterThan(0);
    expect(() => new IdleDerivations({ store, logger: silent, maxPending: 0 })).toThrow(/maxPending/);
  });

  it('logs a version the store could not keep and keeps the next', async () => {
    const store = recordingStore(new Set(['broken']));
    const warned: unknown[] = [];
    const derivations = new IdleDerivations({ store, logger: { warn: (details: unknown) => { warned.push(details); } } });
    derivations.later(plan('broken'), sendBasisOf(plan('broken')));
    derivations.later(plan('fine'), sendBasisOf(plan('fine')));
    await derivations.settled();
    expect(store.kept.map(({ planId }) => planId)).toEqual(['fine']);
    expect(warned).toMatchObject([{ planId: 'broken', version: 1 }]);
  });

  it('drops what waits when closed, and takes nothing after', async () => {
    const store = recordingStore();
    const derivations = new IdleDerivations({ store, logger: silent });
    derivations.requestStarted();
    derivations.later(plan('a'), sendBasisOf(plan('a')));
    await derivations.close();
    derivations.later(plan('b'), sendBasisOf(plan('b')));
    derivations.requestEnded();
    await turns();
    expect(store.kept).toEqual([]);
    expect(derivations.pending).toBe(0);
  });

  it('leaves a version routed to receivers to its write', () => {
    const derivations = new IdleDerivations({ store: recordingStore(), logger: silent });
    expect(derivesLater({ derivations }, [])).toBe(true);
    expect(derivesLater({ derivations }, ['kommunen'])).toBe(false);
    expect(derivesLater({}, [])).toBe(false);
  });
});

describe('the app deriving in its idle turns, on PostgreSQL', () => {
  let scratch: ScratchDatabase;
  let store: PlanStore;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    store = await createPlanStore({ databaseUrl: scratch.url });
    await store.migrate();
  }, 60_000);

  afterAll(async () => {
    await store.close();
    await scratch.drop();
  });

  /** A text as compared: what a read answers from. */
  const textKey = ({ resourceType, id, head, tail }: { resourceType: string; id: string; head: string; tail: string }) => ({ resourceType, id, head, tail });
  const byKey = (a: { resourceType: string; id: string }, b: { resourceType: string; id: string }) => `${a.resourceType}/${a.id}`.localeCompare(`${b.resourceType}/${b.id}`);

  /** What the store keeps derived from the plan's current version (its basis and every text), or undefined when nothing is. */
  const derivedOf = async (planId: string) => {
    const stored = await store.get(planId, undefined, { derived: { deriver: currentDeriver() } });
    if (stored?.derived === undefined) return undefined;
    const types = [...new Set(planResourceIds(stored.plan).map(({ resourceType }) => resourceType))];
    const texts = (await Promise.all(types.map((type) => store.keptTexts([{ planId, version: stored.version }], currentDeriver(), type)))).flat();
    return { basis: stored.derived.basis, texts: texts.map(textKey).sort(byKey) };
  };

  it('answers a write without the derived data, and keeps it once no request is in flight', async () => {
    // A read held at a gate keeps one request in flight.
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const held: PlanStore = Object.assign(Object.create(store) as PlanStore, {
      search: async (...args: Parameters<PlanStore['search']>) => {
        await gate;
        return store.search(...args);
      },
    });
    const derivations = new IdleDerivations({ store, logger: silent });
    const app = createApp({ ...openAppDependencies(held), derivations });
    const holding = request(app).get('/sip/plans').then((response) => response.status);
    await new Promise((resolve) => setTimeout(resolve, 100));

    const created = await request(app).post('/sip/plans').send(freshPlan('sip-idle-1'));
    expect(created.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(derivations.pending).toBe(1);
    expect(await derivedOf('sip-idle-1')).toBeUndefined();

    open();
    expect(await holding).toBe(200);
    await derivations.settled();
    const kept = await derivedOf('sip-idle-1');
    const stored = await store.get('sip-idle-1');
    if (stored === undefined) throw new Error('the plan was not recorded');
    const expected = derivedVersion(stored.plan);
    expect(kept?.basis).toBe(expected.basis);
    expect(kept?.texts).toEqual(expected.texts.map(textKey).sort(byKey));
  });

  it('derives a FHIR transaction\'s version after the answer, read then as from an app that derives at the write', async () => {
    const derivations = new IdleDerivations({ store, logger: silent });
    const app = createApp({ ...openAppDependencies(store), derivations });
    const created = await request(app).post('/fhir').set('Content-Type', 'application/fhir+json').send(JSON.stringify(planToBundle(freshPlan('sip-idle-2'), undefined, NOW)));
    expect(created.status).toBe(200);
    await derivations.settled();
    const carePlan = planResourceIds((await store.get('sip-idle-2'))?.plan ?? freshPlan('none')).find(({ resourceType }) => resourceType === 'CarePlan');
    const read = await request(app).get(`/fhir/CarePlan/${carePlan?.id ?? ''}`);
    expect(read.status).toBe(200);
    expect((await derivedOf('sip-idle-2'))?.texts.length).toBeGreaterThan(10);

    // The same plan written by an app that derives before the statement reads the same.
    const inline = createApp(openAppDependencies(store));
    const again = await request(inline).get(`/fhir/CarePlan/${carePlan?.id ?? ''}`);
    expect(again.text).toBe(read.text);
  });

  it('hands a version a SIP read finds not derived to the idle turns', async () => {
    const written = freshPlan('sip-idle-4');
    await store.create(written, 'system', planResourceIds(written));
    expect(await derivedOf('sip-idle-4')).toBeUndefined();
    const derivations = new IdleDerivations({ store, logger: silent });
    const app = createApp({ ...openAppDependencies(store), derivations });
    const read = await request(app).get('/sip/plans/sip-idle-4');
    expect(read.status).toBe(200);
    await derivations.settled();
    const kept = await derivedOf('sip-idle-4');
    const stored = await store.get('sip-idle-4');
    if (stored === undefined) throw new Error('the plan was not recorded');
    expect(kept?.texts).toEqual(derivedVersion(stored.plan).texts.map(textKey).sort(byKey));
    // Read again, it is answered the same from what is kept.
    const again = await request(app).get('/sip/plans/sip-idle-4');
    expect(again.text).toBe(read.text);
    expect(derivations.pending).toBe(0);
  });

  it('derives a version routed to receivers before its statement', async () => {
    const derivations = new IdleDerivations({ store, logger: silent });
    const app = createApp({ ...openAppDependencies(store), derivations, routeDeliveries: () => ['kommunen'] });
    const created = await request(app).post('/sip/plans').send(freshPlan('sip-idle-3'));
    expect(created.status).toBe(201);
    expect(derivations.pending).toBe(0);
    expect((await derivedOf('sip-idle-3'))?.texts.length).toBeGreaterThan(10);
  });
});
