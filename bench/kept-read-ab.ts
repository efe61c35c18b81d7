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
 * `process.cpuUsage` per read (the driver's parse of the rows included), medians over `BENCH_ROUNDS`
 * (default 8; the first is a warm-up, not counted) of `BENCH_READS` (default 2000) each; prints each
 * round's ratio. Run with `npx tsx bench/kept-read-ab.ts`.
 */
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
  const lanes = ab === 'sip' ? { before: sipBefore, after: sipAfter } : ab === 'search' ? { before: searchBefore, after: searchAfter } : { before: fhirBefore, after: fhirAfter };

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
  write(`kept-read-ab (${ab === 'sip' ? 'SIP read answer' : ab === 'search' ? 'FHIR search by the person' : 'FHIR read'}): Node.js CPU ms per read, now ${median(results.after).toFixed(3)}, before ${median(results.before).toFixed(3)} (${(median(results.after) / median(results.before)).toFixed(2)}×); by round ${ratios.join(' ')}; load average ${(await import('node:os')).loadavg().map((load) => load.toFixed(1)).join(' ')}`);
} finally {
  await store.close();
  await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin.end();
}
