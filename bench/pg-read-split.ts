/**
 * Where a read's PostgreSQL CPU goes, statement by statement: on a scratch database of the machine's
 * PostgreSQL, PLANS plans recorded through the store as the HTTP writes record them (with what a read
 * derives), then each step run N times from one connection, one at a time, and the CPU time the
 * database's backends used, per statement, from /proc: the FHIR read's statement, the same without
 * the plan document, the SIP read's, and the audit INSERT at batch sizes 1, 2 and 8. Then one kept
 * text, a Patient's and the CarePlan's, read by its version and key as the store keeps it
 * (src/store/kept-texts.ts: the CarePlan's a row, the others packed on the derived row since migration
 * 12, cut out by byte offsets) against the same from a scratch table of a row each, as every text was
 * kept before that migration — what a read pays for the write's saving (bench/store-create-ab.ts).
 * Run with `npx tsx bench/pg-read-split.ts` (BENCH_N, default 2000).
 */
import pg from 'pg';
import { DEFAULT_MAPPING_OPTIONS, planEntries, resourceIdsOf } from '../src/fhir/index.js';
import { currentDeriver, derivedVersion } from '../src/http/derived-view.js';
import { checkPlanWithBasis } from '../src/sip/index.js';
import { createPlanStore, type AuditEntry } from '../src/store/index.js';
import { keptTextsJoin } from '../src/store/kept-texts.js';
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
  // Every kept text, as the store hands them out (src/store/kept-texts.ts: the CarePlan's a row, the
  // others packed on the derived row since migration 12), copied into a scratch table of one row each,
  // as the store kept every text before that migration: the layout the packing replaced.
  await client.query(`CREATE TABLE texts_as_rows (plan_id text, version integer, deriver text, resource_type text, resource_id text, head text, tail text,
    PRIMARY KEY (plan_id, version, deriver, resource_type, resource_id))`);
  await client.query('ALTER TABLE texts_as_rows ALTER COLUMN head SET COMPRESSION lz4, ALTER COLUMN tail SET COMPRESSION lz4');
  const versionOf = new Map<string, { planId: string; version: number }>();
  const patients: string[] = [];
  for (const planId of planIds) {
    const [head] = await client.query<{ version: number }>('SELECT version FROM plans WHERE plan_id = $1', [planId]).then((result) => result.rows);
    for (const type of ['CarePlan', 'Goal', 'Patient', 'CareTeam', 'Consent', 'Organization', 'RelatedPerson', 'Practitioner', 'Task', 'Appointment']) {
      const { rows } = await client.query<{ resource_id: string; head: string; tail: string }>(
        `SELECT v.plan_id, t.resource_id, t.head, t.tail FROM plan_versions v JOIN plan_version_derived d ON d.plan_id = v.plan_id AND d.version = v.version AND d.deriver = $3${keptTextsJoin('$3', '$4', undefined, { rowsOnly: false, inner: true })}
          WHERE v.plan_id = $1 AND v.version = $2`,
        [planId, head?.version, deriver, type],
      );
      for (const text of rows) {
        await client.query('INSERT INTO texts_as_rows VALUES ($1, $2, $3, $4, $5, $6, $7)', [planId, head?.version, deriver, type, text.resource_id, text.head, text.tail]);
        versionOf.set(`${type}/${text.resource_id}`, { planId, version: head?.version ?? 0 });
        if (type === 'Patient') patients.push(text.resource_id);
      }
    }
  }
  if (patients.length === 0) throw new Error('no Patient text was kept');
  await client.query('ANALYZE');
  const asRows = `SELECT t.head, t.tail FROM texts_as_rows t WHERE t.plan_id = $1 AND t.version = $2 AND t.deriver = $3 AND t.resource_type = $4 AND t.resource_id = $5`;
  // The store's own read of one text by its version and key (as sql-plan-store.ts `derivedJoin` writes it for a vread).
  const asKept = (rowsOnly: boolean): string => `SELECT t.head, t.tail FROM plan_versions v
    LEFT JOIN plan_version_derived d ON d.plan_id = v.plan_id AND d.version = v.version AND d.deriver = $3${keptTextsJoin('$3', '$4', '$5', { rowsOnly, inner: true })}
    WHERE v.plan_id = $1 AND v.version = $2`;
  const FORMS = { rows: asRows, kept: asKept(false), keptRows: asKept(true) } as const;
  const textOf = (type: string, ids: readonly string[], form: keyof typeof FORMS) => (index: number): Promise<unknown> => {
    const id = ids[index % ids.length] ?? '';
    const at = versionOf.get(`${type}/${id}`);
    return client.query({ name: `${form}-${type}`, text: FORMS[form], values: [at?.planId, at?.version, deriver, type, id] });
  };
  // Both must give the same text, or the figures compare different work.
  for (const [type, ids, form] of [['Patient', patients, 'kept'], ['CarePlan', carePlans, 'keptRows']] as const) {
    for (let index = 0; index < ids.length; index++) {
      const [own, kept] = (await Promise.all([textOf(type, ids, 'rows')(index), textOf(type, ids, form)(index)])) as [pg.QueryResult, pg.QueryResult];
      if (own.rows.length !== 1 || JSON.stringify(own.rows) !== JSON.stringify(kept.rows)) throw new Error(`the store's read of ${type}/${ids[index] ?? ''} is not its text`);
    }
  }
  const columns = ['at', 'organization', 'agent', 'plan_id', 'person_identifier', 'action', 'what', 'outcome', 'detail'];
  const insert = `INSERT INTO audit_log (${columns.join(', ')}) SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])`;
  const entry = (index: number): AuditEntry => ({ at: new Date().toISOString(), organization: 'SE2321000180-1000', planId: planIds[index % PLANS] ?? '', personIdentifier: personnummer(index % PLANS).replace('-', ''), action: 'read', what: `GET /fhir/CarePlan/${carePlans[index % PLANS] ?? ''}`, outcome: 'success', detail: '200' });
  const row = (each: AuditEntry): unknown[] => [each.at, each.organization, each.agent ?? null, each.planId ?? null, each.personIdentifier ?? null, each.action, each.what, each.outcome, each.detail ?? null];
  const steps: Record<string, (index: number) => Promise<unknown>> = {
    'fhir read (as now, with the document)': (index) => client.query({ name: 'fhir-doc', text: fhirRead(true), values: ['CarePlan', carePlans[index % PLANS], deriver] }),
    'fhir read without the document': (index) => client.query({ name: 'fhir-nodoc', text: fhirRead(false), values: ['CarePlan', carePlans[index % PLANS], deriver] }),
    'sip read': (index) => client.query({ name: 'sip', text: sipRead, values: [planIds[index % PLANS], deriver] }),
    'SELECT 1 (a statement\'s floor)': () => client.query({ name: 'one', text: 'SELECT $1::int', values: [1] }),
    "a Patient's text, a row each (before migration 12)": textOf('Patient', patients, 'rows'),
    "a Patient's text as the store keeps it (packed)": textOf('Patient', patients, 'kept'),
    "the CarePlan's text, a row each (before migration 12)": textOf('CarePlan', carePlans, 'rows'),
    "the CarePlan's text as the store keeps it (a row)": textOf('CarePlan', carePlans, 'keptRows'),
    "the CarePlan's text, read as any type (rows and packed)": textOf('CarePlan', carePlans, 'kept'),
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
      write(`  round ${String(round)} ${name.padEnd(50)} ${(used / N).toFixed(3)} ms CPU, ${(elapsed / N).toFixed(3)} ms wall`);
    }
  }
  await client.end();
} finally {
  await scratch.drop();
}
