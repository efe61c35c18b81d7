/**
 * Where a read's PostgreSQL CPU goes, statement by statement: on a scratch database of the machine's
 * PostgreSQL, PLANS plans recorded through the store as the HTTP writes record them (with what a read
 * derives), then each step run N times from one connection, one at a time, and the CPU time the
 * database's backends used, per statement, from /proc: the FHIR read's statement, the same without
 * the plan document, the SIP read's, and the audit INSERT at batch sizes 1, 2 and 8. Then one kept
 * text fetched as the store keeps it (a row each, by its key) against cut from a scratch table that
 * holds each version's texts as one joined text with an int[] of where each piece ends (the form
 * bench/pg-tx-split.ts measures for the write), and from the same as UTF-8 bytes (bytea) cut by byte
 * offsets: a Patient's and the CarePlan's text, so what a read would pay for the write's saving shows
 * beside it.
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
  /** A text's length as PostgreSQL's substr counts it: in code points, not UTF-16 units. */
  const codePoints = (text: string): number => Array.from(text).length;
  // Each version's texts as one joined text (a scratch table, not the store's schema): keys `Type/id`,
  // and where each head and tail ends, counted in characters as PostgreSQL's substr counts them.
  await client.query('CREATE TABLE texts_joined (plan_id text, version integer, deriver text, keys text[], joined text, ends integer[], PRIMARY KEY (plan_id, version, deriver))');
  await client.query('ALTER TABLE texts_joined ALTER COLUMN joined SET COMPRESSION lz4');
  // The same as UTF-8 bytes (bytea), the ends in bytes: substring then counts no characters.
  await client.query('CREATE TABLE bytes_joined (plan_id text, version integer, deriver text, keys text[], joined bytea, ends integer[], PRIMARY KEY (plan_id, version, deriver))');
  await client.query('ALTER TABLE bytes_joined ALTER COLUMN joined SET COMPRESSION lz4');
  const kept = await client.query<{ plan_id: string; version: number; deriver: string; resource_type: string; resource_id: string; head: string; tail: string }>('SELECT plan_id, version, deriver, resource_type, resource_id, head, tail FROM plan_version_texts ORDER BY plan_id, version, resource_type, resource_id');
  const byVersion = new Map<string, typeof kept.rows>();
  for (const each of kept.rows) {
    const key = `${each.plan_id} ${String(each.version)} ${each.deriver}`;
    const texts = byVersion.get(key);
    if (texts === undefined) byVersion.set(key, [each]);
    else texts.push(each);
  }
  const patients: string[] = [];
  for (const texts of byVersion.values()) {
    const first = texts[0];
    if (first === undefined) continue;
    const ends: number[] = [];
    const byteEnds: number[] = [];
    let length = 0;
    let bytes = 0;
    for (const text of texts) {
      length += codePoints(text.head);
      bytes += Buffer.byteLength(text.head);
      ends.push(length);
      byteEnds.push(bytes);
      length += codePoints(text.tail);
      bytes += Buffer.byteLength(text.tail);
      ends.push(length);
      byteEnds.push(bytes);
    }
    const patient = texts.find((text) => text.resource_type === 'Patient');
    if (patient !== undefined) patients.push(patient.resource_id);
    const keys = texts.map((text) => `${text.resource_type}/${text.resource_id}`);
    const joined = texts.map((text) => text.head + text.tail).join('');
    await client.query('INSERT INTO texts_joined VALUES ($1, $2, $3, $4, $5, $6)', [first.plan_id, first.version, first.deriver, keys, joined, ends]);
    await client.query('INSERT INTO bytes_joined VALUES ($1, $2, $3, $4, $5, $6)', [first.plan_id, first.version, first.deriver, keys, Buffer.from(joined), byteEnds]);
  }
  const versionOf = new Map([...byVersion.values()].flatMap((texts) => texts.map((text) => [`${text.resource_type}/${text.resource_id}`, { planId: text.plan_id, version: text.version }] as const)));
  const keptRow = `SELECT t.head, t.tail FROM plan_version_texts t WHERE t.plan_id = $1 AND t.version = $2 AND t.deriver = $3 AND t.resource_type = $4 AND t.resource_id = $5`;
  const cutFromJoined = `SELECT substr(j.joined, coalesce(j.ends[2 * k.i - 2], 0) + 1, j.ends[2 * k.i - 1] - coalesce(j.ends[2 * k.i - 2], 0)) AS head,
      substr(j.joined, j.ends[2 * k.i - 1] + 1, j.ends[2 * k.i] - j.ends[2 * k.i - 1]) AS tail
    FROM texts_joined j CROSS JOIN LATERAL (SELECT array_position(j.keys, $4 || '/' || $5) AS i) k
    WHERE j.plan_id = $1 AND j.version = $2 AND j.deriver = $3`;
  const cutFromBytes = `SELECT convert_from(substring(j.joined FROM coalesce(j.ends[2 * k.i - 2], 0) + 1 FOR j.ends[2 * k.i - 1] - coalesce(j.ends[2 * k.i - 2], 0)), 'UTF8') AS head,
      convert_from(substring(j.joined FROM j.ends[2 * k.i - 1] + 1 FOR j.ends[2 * k.i] - j.ends[2 * k.i - 1]), 'UTF8') AS tail
    FROM bytes_joined j CROSS JOIN LATERAL (SELECT array_position(j.keys, $4 || '/' || $5) AS i) k
    WHERE j.plan_id = $1 AND j.version = $2 AND j.deriver = $3`;
  const FORMS = { row: keptRow, joined: cutFromJoined, bytes: cutFromBytes } as const;
  const textOf = (type: string, ids: readonly string[], form: keyof typeof FORMS) => (index: number): Promise<unknown> => {
    const id = ids[index % ids.length] ?? '';
    const at = versionOf.get(`${type}/${id}`);
    return client.query({ name: `${form}-${type}`, text: FORMS[form], values: [at?.planId, at?.version, deriver, type, id] });
  };
  // The cut must give the kept text back, or the figures compare different work.
  for (const [type, ids] of [['Patient', patients], ['CarePlan', carePlans]] as const) {
    for (let index = 0; index < ids.length; index++) {
      const [own, cut, cutBytes] = (await Promise.all([textOf(type, ids, 'row')(index), textOf(type, ids, 'joined')(index), textOf(type, ids, 'bytes')(index)])) as [pg.QueryResult, pg.QueryResult, pg.QueryResult];
      if (JSON.stringify(own.rows) !== JSON.stringify(cut.rows) || JSON.stringify(own.rows) !== JSON.stringify(cutBytes.rows)) throw new Error(`a text cut from a joined row is not ${type}/${ids[index] ?? ''}'s kept text`);
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
    "a Patient's kept text, its own row": textOf('Patient', patients, 'row'),
    "a Patient's kept text, cut from one joined text": textOf('Patient', patients, 'joined'),
    "a Patient's kept text, cut from one joined bytea": textOf('Patient', patients, 'bytes'),
    "the CarePlan's kept text, its own row": textOf('CarePlan', carePlans, 'row'),
    "the CarePlan's kept text, cut from one joined text": textOf('CarePlan', carePlans, 'joined'),
    "the CarePlan's kept text, cut from one joined bytea": textOf('CarePlan', carePlans, 'bytes'),
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
