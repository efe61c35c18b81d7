/**
 * Where a read's PostgreSQL CPU goes, statement by statement: on a scratch database of the machine's
 * PostgreSQL, PLANS plans recorded through the store as the HTTP writes record them (with what a read
 * derives), then each step run N times from one connection, one at a time, and the CPU time the
 * database's backends used, per statement, from /proc: the FHIR read's statement, the same without
 * the plan document, the SIP read's, and the audit INSERT at batch sizes 1, 2 and 8.
 * Run with `npx tsx bench/pg-read-split.ts` (BENCH_N, default 2000).
 */
import pg from 'pg';
import { DEFAULT_MAPPING_OPTIONS, planEntries, resourceIdsOf } from '../src/fhir/index.js';
import { currentDeriver, derivedVersion } from '../src/http/derived-view.js';
import { checkPlanWithBasis } from '../src/sip/index.js';
import { createPlanStore, type AuditEntry } from '../src/store/index.js';
import { createScratchDatabase } from '../test/store/postgres-scratch.js';
import { newPlan, personnummer, postgresCpuBetween, postgresCpuMillis, write } from './support.js';

const N = Number(process.env.BENCH_N ?? '2000');
const PLANS = 100;
const scratch = await createScratchDatabase();
const database = new URL(scratch.url).pathname.slice(1);
try {
  const store = await createPlanStore({ databaseUrl: scratch.url });
  await store.migrate();
  const carePlans: string[] = [];
  const planIds: string[] = [];
  for (let index = 0; index < PLANS; index++) {
    const plan = newPlan(`sip-split-${String(index)}`, personnummer(index).replace('-', ''));
    const view = planEntries(plan, DEFAULT_MAPPING_OPTIONS);
    const basis = checkPlanWithBasis(plan).basis;
    const ids = resourceIdsOf(view);
    await store.create(plan, 'SE2321000180-1000', ids, { derived: derivedVersion(plan, view, basis) });
    const carePlan = ids.find((id) => id.resourceType === 'CarePlan');
    if (carePlan !== undefined) carePlans.push(carePlan.id);
    planIds.push(plan.id);
  }
  await store.close();
  const client = new pg.Client({ connectionString: scratch.url });
  await client.connect();
  const deriver = currentDeriver();
  const fhirRead = (document: boolean): string => `SELECT v.plan_id, v.version, v.plan, ${document ? 'v.document::text AS document, ' : ''}v.model, v.recorded_at, v.recorded_by, d.basis, d.summary, t.resource_type AS text_type, t.resource_id AS text_id, t.head, t.tail
    FROM plan_resources r JOIN plans p ON p.plan_id = r.plan_id JOIN plan_versions v ON v.plan_id = p.plan_id AND v.version = p.version
    LEFT JOIN plan_version_derived d ON d.plan_id = v.plan_id AND d.version = v.version AND d.deriver = $3
    LEFT JOIN plan_version_texts t ON t.plan_id = v.plan_id AND t.version = v.version AND t.deriver = $3 AND t.resource_type = $1 AND t.resource_id = $2
    WHERE r.resource_type = $1 AND r.resource_id = $2 ORDER BY p.plan_id`;
  const sipRead = `SELECT v.plan_id, v.version, v.plan, v.document::text AS document, v.model, v.recorded_at, v.recorded_by, d.basis
    FROM plans p JOIN plan_versions v ON v.plan_id = p.plan_id AND v.version = p.version
    LEFT JOIN plan_version_derived d ON d.plan_id = v.plan_id AND d.version = v.version AND d.deriver = $2 WHERE p.plan_id = $1`;
  const columns = ['at', 'organization', 'agent', 'plan_id', 'person_identifier', 'action', 'what', 'outcome', 'detail'];
  const insert = `INSERT INTO audit_log (${columns.join(', ')}) SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])`;
  const entry = (index: number): AuditEntry => ({ at: new Date().toISOString(), organization: 'SE2321000180-1000', planId: planIds[index % PLANS] ?? '', personIdentifier: personnummer(index % PLANS).replace('-', ''), action: 'read', what: `GET /fhir/CarePlan/${carePlans[index % PLANS] ?? ''}`, outcome: 'success', detail: '200' });
  const row = (each: AuditEntry): unknown[] => [each.at, each.organization, each.agent ?? null, each.planId ?? null, each.personIdentifier ?? null, each.action, each.what, each.outcome, each.detail ?? null];
  const steps: Record<string, (index: number) => Promise<unknown>> = {
    'fhir read (as now, with the document)': (index) => client.query({ name: 'fhir-doc', text: fhirRead(true), values: ['CarePlan', carePlans[index % PLANS], deriver] }),
    'fhir read without the document': (index) => client.query({ name: 'fhir-nodoc', text: fhirRead(false), values: ['CarePlan', carePlans[index % PLANS], deriver] }),
    'sip read': (index) => client.query({ name: 'sip', text: sipRead, values: [planIds[index % PLANS], deriver] }),
    'SELECT 1 (a statement\'s floor)': () => client.query({ name: 'one', text: 'SELECT $1::int', values: [1] }),
    ...Object.fromEntries(
      [1, 2, 8].map((size) => [
        `audit INSERT of ${String(size)} (per statement)`,
        (index: number) => {
          const rows = Array.from({ length: size }, (_, offset) => row(entry(index * size + offset)));
          return client.query({ name: `audit-${String(size)}`, text: insert, values: columns.map((_column, at) => rows.map((each) => each[at])) });
        },
      ]),
    ),
  };
  write(`PostgreSQL CPU per statement, one connection, ${String(N)} each, prepared (load ${(await import('node:os')).loadavg().map((value) => value.toFixed(1)).join(' ')}):`);
  for (let round = 1; round <= 2; round++) {
    for (const [name, step] of Object.entries(steps)) {
      for (let index = 0; index < 50; index++) await step(index);
      const before = postgresCpuMillis(database);
      const started = performance.now();
      for (let index = 0; index < N; index++) await step(index);
      const elapsed = performance.now() - started;
      const used = postgresCpuBetween(before, postgresCpuMillis(database)) ?? Number.NaN;
      write(`  round ${String(round)} ${name.padEnd(42)} ${(used / N).toFixed(3)} ms CPU, ${(elapsed / N).toFixed(3)} ms wall`);
    }
  }
  await client.end();
} finally {
  await scratch.drop();
}
