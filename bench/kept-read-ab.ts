/**
 * The Node.js CPU of a read's store and judging steps, in process, the way before and the way now in
 * the same interleaved rounds on one scratch PostgreSQL database of 200 plans recorded with what is
 * derived from them (as the HTTP writes record them), ten reads in flight as bench:http's connections:
 *
 * - default, a FHIR read of a CarePlan: `currentWithResource` (the version with its plan document)
 *   against `keptWithResource` (without it), each then judged for access and the instant's rules on the
 *   judging summary and answered from the kept text, as src/http/fhir-routes.ts does;
 * - `BENCH_AB=sip`, a SIP read's answer: `JSON.stringify` of the body with the parsed plan against the
 *   body with the plan's stored text spliced in (`documentTextOf`, src/http/sip-routes.ts `sendPlanBody`);
 *   both read the plan, as the SIP read does to judge it;
 * - `BENCH_AB=search`, a FHIR CarePlan search by the person (bench:http's `fhir-search`): the page by
 *   `search` (with the plan documents) against `searchHeads` (without them), each judged for access and
 *   the instant's rules on the judging summary and its match answered from the kept text, as
 *   src/http/fhir-routes.ts does.
 *
 * With `BENCH_BEFORE_DIR=<another checkout>` (default and `search` modes), the comparison is of two
 * checkouts instead: the kept read as each checkout's src/http/fhir-routes.ts makes it
 * (`keptWithResource`, or `searchHeads` for `search`; judged on its judging summary, the answer made
 * from the kept text up to the bytes that are sent), each on a scratch database of its own that its own
 * writer filled (its `derivedVersion`, so each reads the summary and texts it writes). "before" is that
 * checkout, "now" this one.
 *
 * `process.cpuUsage` per read (the driver's parse of the rows included), medians over `BENCH_ROUNDS`
 * (default 8; the first is a warm-up, not counted) of `BENCH_READS` (default 2000) each; prints each
 * round's ratio. Run with `npx tsx bench/kept-read-ab.ts`.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { planResourceIds } from '../src/fhir/index.js';
import { mayAccess } from '../src/http/auth/access.js';
import { currentDeriver, derivedResourceText, derivedTextOf, derivedVersion, judgingPlanOf, keptJudging, keptRead, keptSendRefusal, storedSendRefusal } from '../src/http/derived-view.js';
import { parsePlan } from '../src/sip/index.js';
import { createPlanStore, documentTextOf, type StoredPlan } from '../src/store/index.js';
import { MAX_LIMIT } from '../src/store/sql-plan-store.js';
import { median, newPlan, personnummer, write } from './support.js';

const SERVER = process.env.SIP_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const READS = Number(process.env.BENCH_READS ?? 2000);
const PLANS = 200;
const ORG = 'SE2321000180-1000';
const DB = `sip_kept_read_ab_${String(process.pid)}`;

function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`no ${what}`);
  return value;
}

const BEFORE_DIR = process.env.BENCH_BEFORE_DIR;

/** What the checkout lanes call of a checkout's modules (two checkouts, two copies of the types: called through these shapes). */
interface KeptHead {
  readonly recordedAt: string;
  readonly version: number;
}
interface KeptText {
  readonly head: string;
  readonly tail: string;
}
interface CheckoutModules {
  readonly store: {
    createPlanStore(options: { databaseUrl: string }): Promise<{
      migrate(): Promise<void>;
      close(): Promise<void>;
      create(plan: unknown, by: string, resources: unknown, options: unknown): Promise<unknown>;
      keptWithResource(type: string, id: string, deriver: string): Promise<KeptHead[]>;
      searchHeads(query: unknown): Promise<{ plans: KeptHead[] }>;
    }>;
  };
  readonly sqlPlanStore: { MAX_LIMIT: number };
  readonly derived: {
    currentDeriver(): string;
    derivedVersion(plan: unknown): unknown;
    readonly keptRead: (head: KeptHead, type: string, id?: string) => ({ judged: unknown; text: KeptText } & object) | undefined;
    readonly keptSendRefusal: (kept: object, at: Date) => unknown;
    readonly derivedResourceText: (head: KeptHead, text: KeptText) => string;
    /** The answer's bytes, when the checkout sends a kept text as bytes. */
    derivedResourceBytes?: (head: KeptHead, text: KeptText) => Buffer;
  };
  readonly access: { mayAccess(plan: unknown, hsaId: string, at: Date): unknown };
  readonly fhir: { planResourceIds(plan: unknown): { resourceType: string; id: string }[] };
  readonly sip: { parsePlan(plan: unknown): { ok: boolean; plan?: { id: string; individual: { identifier: { value: string } } } } };
}

const closers: (() => Promise<void>)[] = [];

/**
 * The kept FHIR read (or search, `search`) as the checkout in `dir` makes it, on a scratch database of
 * its own filled by its own writer: the read, the judging on the summary, the answer's bytes.
 */
async function checkoutLane(dir: string, name: string, search: boolean): Promise<(i: number) => Promise<number>> {
  // The module boundary: what a checkout exports, taken to have the shapes above.
  const from = async <T>(file: string): Promise<T> => (await import(pathToFileURL(resolve(dir, file)).href)) as T;
  const modules: CheckoutModules = {
    store: await from('src/store/index.ts'),
    sqlPlanStore: await from('src/store/sql-plan-store.ts'),
    derived: await from('src/http/derived-view.ts'),
    access: await from('src/http/auth/access.ts'),
    fhir: await from('src/fhir/index.ts'),
    sip: await from('src/sip/index.ts'),
  };
  const db = `${DB}_${name}`;
  await admin.query(`CREATE DATABASE ${db}`);
  const at = new URL(SERVER);
  at.pathname = `/${db}`;
  const laneStore = await modules.store.createPlanStore({ databaseUrl: at.toString() });
  closers.push(() => laneStore.close());
  await laneStore.migrate();
  const ids: string[] = [];
  const people: string[] = [];
  for (let i = 0; i < PLANS; i++) {
    const parsed = modules.sip.parsePlan(newPlan(`sip-ab-${String(i)}`, personnummer(i)));
    if (!parsed.ok || parsed.plan === undefined) throw new Error('the bench plan does not parse');
    const resources = modules.fhir.planResourceIds(parsed.plan);
    await laneStore.create(parsed.plan, 'system', resources, { derived: modules.derived.derivedVersion(parsed.plan) });
    ids.push(defined(resources.find((resource) => resource.resourceType === 'CarePlan'), 'CarePlan').id);
    people.push(parsed.plan.individual.identifier.value);
  }
  const deriver = modules.derived.currentDeriver();
  const { derivedResourceBytes, derivedResourceText, keptRead: keptReadOf, keptSendRefusal: refusalOf } = modules.derived;
  const bytesOf = derivedResourceBytes ?? ((head: KeptHead, text: KeptText): Buffer => Buffer.from(derivedResourceText(head, text)));
  return async (i) => {
    const id = defined(ids[i % PLANS], 'id');
    const head = search
      ? defined((await laneStore.searchHeads({ personIdentifier: defined(people[i % PLANS], 'person'), limit: modules.sqlPlanStore.MAX_LIMIT, derived: { deriver, resourceType: 'CarePlan' } })).plans[0], 'version')
      : defined((await laneStore.keptWithResource('CarePlan', id, deriver))[0], 'version');
    const kept = defined(search ? keptReadOf(head, 'CarePlan') : keptReadOf(head, 'CarePlan', id), 'kept read');
    modules.access.mayAccess(kept.judged, ORG, new Date());
    if (refusalOf(kept, new Date()) !== undefined) throw new Error(`${name}: refused`);
    return bytesOf(head, kept.text).length;
  };
}

const admin = new pg.Client({ connectionString: SERVER });
await admin.connect();
await admin.query(`CREATE DATABASE ${DB}`);
const url = new URL(SERVER);
url.pathname = `/${DB}`;
const store = await createPlanStore({ databaseUrl: url.toString() });
try {
  await store.migrate();
  const carePlans: string[] = [];
  const planIds: string[] = [];
  const persons: string[] = [];
  for (let i = 0; i < PLANS; i++) {
    const parsed = parsePlan(newPlan(`sip-ab-${String(i)}`, personnummer(i)));
    if (!parsed.ok) throw new Error('the bench plan does not parse');
    const resources = planResourceIds(parsed.plan);
    await store.create(parsed.plan, 'system', resources, { derived: derivedVersion(parsed.plan) });
    carePlans.push(defined(resources.find((resource) => resource.resourceType === 'CarePlan'), 'CarePlan').id);
    planIds.push(parsed.plan.id);
    persons.push(parsed.plan.individual.identifier.value);
  }
  const deriver = currentDeriver();

  const fhirBefore = async (i: number): Promise<number> => {
    const id = defined(carePlans[i % PLANS], 'id');
    const found = defined((await store.currentWithResource('CarePlan', id, { deriver }))[0], 'version');
    mayAccess(judgingPlanOf(found), ORG, new Date());
    if (storedSendRefusal(found, new Date()) !== undefined) throw new Error('refused');
    return derivedResourceText(found, defined(derivedTextOf(found, 'CarePlan', id), 'text')).length;
  };
  const fhirAfter = async (i: number): Promise<number> => {
    const id = defined(carePlans[i % PLANS], 'id');
    const head = defined((await store.keptWithResource('CarePlan', id, deriver))[0], 'version');
    const kept = defined(keptRead(head, 'CarePlan', id), 'kept read');
    mayAccess(kept.judged, ORG, new Date());
    if (keptSendRefusal(kept, new Date()) !== undefined) throw new Error('refused');
    return derivedResourceText(head, kept.text).length;
  };
  const bodyOf = (stored: StoredPlan) => ({ plan: stored.plan, version: stored.version, recordedAt: stored.recordedAt, recordedBy: stored.recordedBy, trafficLight: 'green', status: 'active' });
  const read = async (i: number): Promise<StoredPlan> => defined(await store.get(defined(planIds[i % PLANS], 'plan id'), undefined, { derived: { deriver } }), 'plan');
  const sipBefore = async (i: number): Promise<number> => JSON.stringify(bodyOf(await read(i))).length;
  const sipAfter = async (i: number): Promise<number> => {
    const stored = await read(i);
    const { plan, ...rest } = bodyOf(stored);
    return `{"plan":${documentTextOf(stored) ?? JSON.stringify(plan)},${JSON.stringify(rest).slice(1)}`.length;
  };
  const searched = (i: number) => ({ personIdentifier: defined(persons[i % PLANS], 'person'), limit: MAX_LIMIT, derived: { deriver, resourceType: 'CarePlan' } });
  const searchBefore = async (i: number): Promise<number> => {
    const found = defined((await store.search(searched(i))).plans[0], 'version');
    mayAccess(judgingPlanOf(found), ORG, new Date());
    if (storedSendRefusal(found, new Date()) !== undefined) throw new Error('refused');
    return derivedResourceText(found, defined(derivedTextOf(found, 'CarePlan'), 'text')).length;
  };
  const searchAfter = async (i: number): Promise<number> => {
    const head = defined((await store.searchHeads(searched(i))).plans[0], 'version');
    const kept = defined(keptJudging(head), 'kept judging');
    mayAccess(kept.judged, ORG, new Date());
    if (keptSendRefusal(kept, new Date()) !== undefined) throw new Error('refused');
    return derivedResourceText(head, defined(keptRead(head, 'CarePlan'), 'kept read').text).length;
  };
  const ab = process.env.BENCH_AB;
  const lanes =
    BEFORE_DIR !== undefined && ab !== 'sip'
      ? { before: await checkoutLane(BEFORE_DIR, 'before', ab === 'search'), after: await checkoutLane('.', 'now', ab === 'search') }
      : ab === 'sip'
        ? { before: sipBefore, after: sipAfter }
        : ab === 'search'
          ? { before: searchBefore, after: searchAfter }
          : { before: fhirBefore, after: fhirAfter };

  const results = { before: [] as number[], after: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const lane of round % 2 === 0 ? (['after', 'before'] as const) : (['before', 'after'] as const)) {
      const run = lanes[lane];
      let next = 0;
      const start = process.cpuUsage();
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          while (next < READS) await run((next += 1) * 7);
        }),
      );
      const used = process.cpuUsage(start);
      if (round > 0) results[lane].push((used.user + used.system) / 1000 / READS);
    }
  }
  const ratios = results.after.map((after, i) => (after / (results.before[i] ?? NaN)).toFixed(2));
  write(`kept-read-ab (${ab === 'sip' ? 'SIP read answer' : ab === 'search' ? 'FHIR search by the person' : 'FHIR read'}${BEFORE_DIR !== undefined && ab !== 'sip' ? `, this checkout against ${BEFORE_DIR}` : ''}): Node.js CPU ms per read, now ${median(results.after).toFixed(3)}, before ${median(results.before).toFixed(3)} (${(median(results.after) / median(results.before)).toFixed(2)}×); by round ${ratios.join(' ')}; load average ${(await import('node:os')).loadavg().map((load) => load.toFixed(1)).join(' ')}`);
} finally {
  await store.close();
  for (const close of closers) await close();
  for (const db of [DB, `${DB}_before`, `${DB}_now`]) await admin.query(`DROP DATABASE IF EXISTS ${db}`);
  await admin.end();
}
