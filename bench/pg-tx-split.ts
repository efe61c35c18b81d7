/**
 * Where a `POST /fhir` transaction's PostgreSQL CPU goes, statement by statement and row by row: on a
 * scratch database of the machine's PostgreSQL (`${BENCH_DATABASE_PREFIX}_<pid>`, default prefix
 * `sip_bench_pg_tx_split`; created and dropped), BENCH_SEED plans (default 200) recorded as the HTTP
 * transaction records them (derived data and the audit entry in the version's statement), then each
 * step below run BENCH_N times (default 300) on plans never seen before, from one connection, one at a
 * time, prepared by name as the store's pool prepares them, and the CPU time the database's backends
 * used per statement from /proc (autovacuum workers of the database left out and counted apart), in
 * BENCH_ROUNDS (default 2) interleaved rounds:
 *
 * - the transaction's two statements as the store sends them (captured from `SqlPlanStore` itself:
 *   the read of the plan not yet held, and the create's one `WITH` statement), and the create with its
 *   parts left out one by one (the audit entry, the texts, the derived row, the resources), so each
 *   part's cost is a difference; and the version's texts as one row of a scratch table instead of a
 *   row each, as four text[], as one joined text or as one joined bytea (what the ≈ 30 rows with their
 *   index entries cost — measured so before migration 12; since then the store itself packs all but
 *   the CarePlan's text on the derived row, src/store/kept-texts.ts, so "as sent" is that form and
 *   the one-row forms are scratch tables beside a create without texts);
 * - a statement's floor: `SELECT $1`, and an INSERT of one small row with its commit;
 * - the version's document written into copies of `plan_versions` that differ in one thing (the CHECK
 *   on the document's id and version, `json` or `text`, lz4, pglz or no compression);
 * - the plan's row into copies of `plans` with all its indexes, with its primary key only, without the
 *   GIN on principal_keys; the audit entry into copies of `audit_log` with all its indexes and with its
 *   primary key only.
 *
 * Then one create under `EXPLAIN (ANALYZE, WAL, BUFFERS)`: each part's executor time and WAL.
 * Run with `npx tsx bench/pg-tx-split.ts`.
 */
import { loadavg } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { createPlanStore, type PlanResource, type VersionWriteOptions } from '../src/store/index.js';
import { SqlPlanStore } from '../src/store/sql-plan-store.js';
import { onServer, TEST_DATABASE_URL, withDatabase } from '../test/store/postgres-scratch.js';
import { capturingClient, transactionWrite, type Statement, type TransactionWrite } from './pg-statements.js';
import { median, write } from './support.js';

const N = Number(process.env.BENCH_N ?? '300');
const SEED = Number(process.env.BENCH_SEED ?? '200');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '2');
const WARM = 20;
/** New connections whose start and first statements are measured. */
const CONNECTIONS_NEW = 12;
/** Creates in flight at once, from as many connections. */
const WIDTHS = [1, 4, 10];
const ORGANIZATION = 'SE2321000180-1000';
const database = `${process.env.BENCH_DATABASE_PREFIX ?? 'sip_bench_pg_tx_split'}_${String(process.pid)}`;
const url = withDatabase(TEST_DATABASE_URL, database);

interface Named extends Statement {
  readonly name: string;
}

let serial = 2_000_000;
/** A new plan as `POST /fhir` records it: its resources, derived data and audit entry. */
function prepare(): TransactionWrite {
  serial += 1;
  return transactionWrite('sip-txsplit', serial, ORGANIZATION);
}

const capture = capturingClient();
/** The last statement the store sent for the call just made. */
function lastSent(): Statement {
  const last = capture.take().at(-1);
  if (last === undefined) throw new Error('the store sent no statement');
  return last;
}
const spy = new SqlPlanStore(capture.client);
/** The statement the store sends for `create` of `one`, with `change` applied to what it is given. */
async function createStatement(one: TransactionWrite, change: (input: TransactionWrite) => { resources: readonly PlanResource[]; options: VersionWriteOptions } = (input) => input): Promise<Statement> {
  const { resources, options } = change(one);
  await spy.create(one.plan, ORGANIZATION, resources, options);
  return lastSent();
}
async function getStatement(one: TransactionWrite): Promise<Statement> {
  await spy.get(one.plan.id);
  return lastSent();
}

/** The texts' INSERT (since migration 12 the CarePlan's text alone) without ON CONFLICT (a new version's texts can meet only each other). */
function textsPlain(statement: Statement): Statement {
  return changed(statement, statement.text.replace(/(INSERT INTO plan_version_texts [^]*?AS p)\s+ON CONFLICT DO NOTHING\)/, '$1)'));
}
/** The same statement with another text, which must differ (a pattern that no longer matches fails the bench). */
function changed(statement: Statement, text: string): Statement {
  if (text === statement.text) throw new Error('the statement did not change: the bench no longer matches the store\'s SQL');
  return { ...statement, text };
}
/** The resources' INSERT without ON CONFLICT, its pairs made distinct (a new plan's pairs can meet only each other). */
function resourcesPlain(statement: Statement): Statement {
  return changed(
    statement,
    statement.text
      .replace(/SELECT (resource_type, resource_id, \$\d+::text) FROM unnest/, 'SELECT DISTINCT $1 FROM unnest')
      .replace(/(AS r \(resource_type, resource_id\))\s+ON CONFLICT DO NOTHING\)/, '$1)'),
  );
}
/** The audit entry as one row of VALUES instead of `unnest` over nine one-element arrays. */
function auditValues(statement: Statement): Statement {
  const match = /SELECT \* FROM unnest\(((?:\$\d+::\w+\[\],? ?)+)\)/.exec(statement.text);
  if (match?.[1] === undefined) throw new Error('no audit unnest in the statement');
  const values = [...statement.values];
  const placeholders = match[1].split(',').map((each) => {
    const [, number, type] = /\$(\d+)::(\w+)\[\]/.exec(each.trim()) ?? [];
    const at = Number(number) - 1;
    values[at] = (values[at] as unknown[])[0];
    return `$${String(number)}::${String(type)}`;
  });
  return { text: statement.text.replace(match[0], `VALUES (${placeholders.join(', ')})`), values };
}

/** The create without its texts, as the store sends it: the statement the one-row forms below add their row to. */
const withoutTexts = (input: TransactionWrite): { resources: readonly PlanResource[]; options: VersionWriteOptions } => ({ resources: input.resources, options: input.options.derived === undefined ? {} : { derived: { ...input.options.derived, texts: [] } } });

/**
 * The create with the version's texts as one row of a scratch table instead of a row each: `arrays`
 * (`texts_arrays`) as four text[] (types, ids, heads, tails); `joined` (`texts_joined`) as the types
 * and ids as text[], every head and tail joined into one text and an int[] of where each ends (in
 * characters); `bytes` (`bytes_joined`) the same as UTF-8 bytea, the ends in bytes, which a read cuts
 * without counting characters (bench/pg-read-split.ts). Not the store's schema: what the texts' ≈ 30
 * rows with their index entries cost against one row (docs/performance.md, "A slow host").
 */
function textsInOneRow(statement: Statement, one: TransactionWrite, form: 'arrays' | 'joined' | 'bytes'): Statement {
  const texts = one.options.derived?.texts ?? [];
  const values = [...statement.values];
  const param = (value: unknown): string => `$${String(values.push(value))}`;
  const key = `${param(one.plan.id)}, ${param(one.plan.version)}, ${param(one.options.derived?.deriver ?? '')}`;
  const types = param(texts.map((text) => text.resourceType));
  const ids = param(texts.map((text) => text.id));
  let row: string;
  if (form === 'arrays') {
    row = `INSERT INTO texts_arrays (plan_id, version, deriver, resource_types, resource_ids, heads, tails) VALUES (${key}, ${types}::text[], ${ids}::text[], ${param(texts.map((text) => text.head))}::text[], ${param(texts.map((text) => text.tail))}::text[])`;
  } else {
    // Where each piece ends: in characters for the text, in UTF-8 bytes for the bytea (as a read would cut them).
    const measure = form === 'bytes' ? (piece: string): number => Buffer.byteLength(piece) : (piece: string): number => Array.from(piece).length;
    const ends: number[] = [];
    let length = 0;
    for (const text of texts) {
      length += measure(text.head);
      ends.push(length);
      length += measure(text.tail);
      ends.push(length);
    }
    const joined = texts.map((text) => text.head + text.tail).join('');
    row = `INSERT INTO ${form === 'bytes' ? 'bytes_joined' : 'texts_joined'} (plan_id, version, deriver, resource_types, resource_ids, joined, ends) VALUES (${key}, ${types}::text[], ${ids}::text[], ${param(form === 'bytes' ? Buffer.from(joined) : joined)}, ${param(ends)}::int[])`;
  }
  const text = statement.text.replace(/\) SELECT recorded_at FROM version_row$/, `), text_row AS (${row}) SELECT recorded_at FROM version_row`);
  return { ...changed(statement, text), values };
}

const noAudit = (input: TransactionWrite): { resources: readonly PlanResource[]; options: VersionWriteOptions } => ({ resources: input.resources, options: { derived: input.options.derived } });

/** The document's columns of each copy of `plan_versions`: what differs between them. */
const DOCUMENT_TABLES: Record<string, string> = {
  pv_as_is: 'CREATE TABLE pv_as_is (LIKE plan_versions INCLUDING ALL)',
  pv_no_check: 'CREATE TABLE pv_no_check (LIKE plan_versions INCLUDING DEFAULTS INCLUDING INDEXES INCLUDING COMPRESSION INCLUDING STORAGE)',
  pv_text: 'CREATE TABLE pv_text (LIKE plan_versions INCLUDING DEFAULTS INCLUDING INDEXES INCLUDING COMPRESSION INCLUDING STORAGE); ALTER TABLE pv_text ALTER COLUMN document TYPE text',
  pv_pglz: 'CREATE TABLE pv_pglz (LIKE plan_versions INCLUDING ALL); ALTER TABLE pv_pglz ALTER COLUMN document SET COMPRESSION pglz',
  pv_uncompressed: 'CREATE TABLE pv_uncompressed (LIKE plan_versions INCLUDING ALL); ALTER TABLE pv_uncompressed ALTER COLUMN document SET STORAGE EXTERNAL',
};
const PLANS_TABLES: Record<string, string> = {
  plans_as_is: 'CREATE TABLE plans_as_is (LIKE plans INCLUDING ALL)',
  plans_key_only: 'CREATE TABLE plans_key_only (LIKE plans INCLUDING DEFAULTS INCLUDING CONSTRAINTS); ALTER TABLE plans_key_only ADD PRIMARY KEY (plan_id)',
  plans_no_gin: 'CREATE TABLE plans_no_gin (LIKE plans INCLUDING ALL); DROP INDEX plans_no_gin_principal_keys_idx',
};
const AUDIT_TABLES: Record<string, string> = {
  audit_as_is: 'CREATE TABLE audit_as_is (LIKE audit_log INCLUDING ALL)',
  audit_key_only: 'CREATE TABLE audit_key_only (LIKE audit_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY); ALTER TABLE audit_key_only ADD PRIMARY KEY (id)',
};

/** CPU (ms) used so far by each backend of the database, and by its autovacuum workers, from /proc/<pid>/schedstat. */
function backends(): { sessions: Map<number, number>; autovacuum: Map<number, number> } {
  const sessions = new Map<number, number>();
  const autovacuum = new Map<number, number>();
  for (const pid of readdirNumeric()) {
    try {
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!title.startsWith('postgres: ') || !title.split(/[\s\0]/).includes(database)) continue;
      // The first field of schedstat: nanoseconds on a CPU (user and system), finer than stat's 10 ms ticks.
      const used = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
      (title.includes('autovacuum') ? autovacuum : sessions).set(Number(pid), used);
    } catch {
      // The process ended while being read.
    }
  }
  return { sessions, autovacuum };
}
function readdirNumeric(): string[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name));
}
function between(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, used] of after) total += used - (before.get(pid) ?? 0);
  return total;
}

await onServer(`CREATE DATABASE ${database}`);
const figures = new Map<string, number[]>();
let autovacuumSeen = 0;
try {
  const store = await createPlanStore({ databaseUrl: url });
  await store.migrate();
  const seeding = performance.now();
  for (let index = 0; index < SEED; index++) {
    const one = prepare();
    await store.create(one.plan, ORGANIZATION, one.resources, one.options);
  }
  await store.close();
  write(`pg-tx-split: ${String(SEED)} plans recorded in ${((performance.now() - seeding) / 1000).toFixed(1)} s on ${database}`);
  const client = new pg.Client({ connectionString: url });
  // A step that fails drops the database (`finally`, WITH (FORCE)), which ends this connection: its
  // error event must not end the process before the step's own error is printed.
  client.on('error', () => undefined);
  await client.connect();
  for (const ddl of [...Object.values(DOCUMENT_TABLES), ...Object.values(PLANS_TABLES), ...Object.values(AUDIT_TABLES)]) await client.query(ddl);
  await client.query('CREATE TABLE texts_arrays (plan_id text, version integer, deriver text, resource_types text[], resource_ids text[], heads text[], tails text[], PRIMARY KEY (plan_id, version, deriver))');
  await client.query('CREATE TABLE texts_joined (plan_id text, version integer, deriver text, resource_types text[], resource_ids text[], joined text, ends integer[], PRIMARY KEY (plan_id, version, deriver))');
  await client.query('CREATE TABLE bytes_joined (plan_id text, version integer, deriver text, resource_types text[], resource_ids text[], joined bytea, ends integer[], PRIMARY KEY (plan_id, version, deriver))');
  await client.query('ALTER TABLE texts_arrays ALTER COLUMN heads SET COMPRESSION lz4, ALTER COLUMN tails SET COMPRESSION lz4; ALTER TABLE texts_joined ALTER COLUMN joined SET COMPRESSION lz4; ALTER TABLE bytes_joined ALTER COLUMN joined SET COMPRESSION lz4');
  const floorTable = 'CREATE TABLE floor_row (id integer)';
  await client.query(floorTable);

  /** A statement under its name, prepared on the connection the first time it runs. */
  const run = (name: string, statement: Statement): Named => ({ name, ...statement });
  /** The steps: each makes the statement it runs for a prepared new plan. */
  const steps: Record<string, (one: TransactionWrite) => Named | Promise<Named>> = {
    'get of the plan (not yet held)': async (one) => run('get', await getStatement(one)),
    'create as sent (all its parts)': async (one) => run('create-all', await createStatement(one)),
    'create without the audit entry': async (one) => run('create-no-audit', await createStatement(one, noAudit)),
    '… and without the texts': async (one) => run('create-no-texts', await createStatement(one, withoutTexts)),
    '… and without the derived row': async (one) => run('create-no-derived', await createStatement(one, (input) => ({ resources: input.resources, options: {} }))),
    '… and without the resources': async (one) => run('create-bare', await createStatement(one, () => ({ resources: [], options: {} }))),
    'create, texts without ON CONFLICT': async (one) => run('create-texts-plain', textsPlain(await createStatement(one))),
    'create, resources DISTINCT without ON CONFLICT': async (one) => run('create-resources-plain', resourcesPlain(await createStatement(one))),
    'create, the texts as one row of arrays': async (one) => run('create-texts-arrays', textsInOneRow(await createStatement(one, withoutTexts), one, 'arrays')),
    'create, the texts as one joined text': async (one) => run('create-texts-joined', textsInOneRow(await createStatement(one, withoutTexts), one, 'joined')),
    'create, the texts as one joined bytea': async (one) => run('create-texts-bytes', textsInOneRow(await createStatement(one, withoutTexts), one, 'bytes')),
    'create, audit entry as VALUES': async (one) => run('create-audit-values', auditValues(await createStatement(one))),
    'create, all three': async (one) => run('create-all-three', auditValues(resourcesPlain(textsPlain(await createStatement(one))))),
    "SELECT $1 (a statement's floor)": () => run('floor-select', { text: 'SELECT $1::int', values: [1] }),
    'INSERT of one int (floor with a commit)': () => run('floor-insert', { text: 'INSERT INTO floor_row (id) VALUES ($1)', values: [1] }),
    ...Object.fromEntries(
      Object.keys(DOCUMENT_TABLES).map((table) => [
        `version row into ${table}`,
        (one: TransactionWrite) =>
          run(`doc-${table}`, { text: `INSERT INTO ${table} (plan_id, version, document, model, recorded_by) VALUES ($1, $2, $3, $4, $5)`, values: [one.plan.id, one.plan.version, JSON.stringify(one.plan), 'bench', ORGANIZATION] }),
      ]),
    ),
    ...Object.fromEntries(
      Object.keys(PLANS_TABLES).map((table) => [
        `plan row into ${table}`,
        (one: TransactionWrite) =>
          run(`plans-${table}`, {
            text: `INSERT INTO ${table} (plan_id, version, person_identifier, status, principal_keys, next_follow_up, consent_ends, closed) VALUES ($1, 1, $2, 'draft', $3::text[], $4::date, $5::date, false)`,
            values: [one.plan.id, one.plan.individual.identifier.value, [ORGANIZATION, 'SE2321000180-2000', 'SE2321000180-3000'], '2027-01-01', '2027-06-01'],
          }),
      ]),
    ),
    ...Object.fromEntries(
      Object.keys(AUDIT_TABLES).map((table) => [
        `audit entry into ${table}`,
        (one: TransactionWrite) =>
          run(`audit-${table}`, {
            text: `INSERT INTO ${table} (at, organization, agent, plan_id, person_identifier, action, what, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
            values: [one.options.audit.at, ORGANIZATION, 'bench', one.plan.id, one.plan.individual.identifier.value, 'create', 'POST /fhir', 'success', '200'],
          }),
      ]),
    ),
  };
  const loads: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const names = round % 2 === 1 ? Object.keys(steps) : Object.keys(steps).reverse();
    for (const name of names) {
      const step = steps[name];
      if (step === undefined) continue;
      // The statements are built before the timing, as the server builds them on its own cores.
      const statements: Named[] = [];
      for (let index = 0; index < WARM + N; index++) statements.push(await step(prepare()));
      const send = (statement: Named): Promise<unknown> => client.query({ name: statement.name, text: statement.text, values: [...statement.values] });
      for (const statement of statements.slice(0, WARM)) await send(statement);
      const before = backends();
      for (const statement of statements.slice(WARM)) await send(statement);
      const after = backends();
      const used = between(before.sessions, after.sessions);
      autovacuumSeen += between(before.autovacuum, after.autovacuum);
      figures.set(name, [...(figures.get(name) ?? []), used / N]);
    }
    loads.push(loadavg()[0] ?? Number.NaN);
  }
  write(`PostgreSQL CPU ms per statement (backends of ${database} but autovacuum), ${String(N)} each, ${String(ROUNDS)} rounds, load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}; autovacuum workers meanwhile ${autovacuumSeen.toFixed(0)} ms in all:`);
  for (const [name, values] of figures) write(`  ${name.padEnd(44)} ${values.map((value) => value.toFixed(3)).join('  ')}   median ${median(values).toFixed(3)}`);

  // A connection's own cost: its start (fork, authentication, the catalog caches) and its first
  // executions of the two statements, planned anew each time until PostgreSQL keeps a generic plan.
  const firsts: number[][] = [];
  const starts: number[] = [];
  for (let connection = 0; connection < CONNECTIONS_NEW; connection++) {
    const fresh = new pg.Client({ connectionString: url });
    const pidsBefore = new Set(backends().sessions.keys());
    await fresh.connect();
    const own = [...backends().sessions.keys()].find((pid) => !pidsBefore.has(pid));
    const cpuOf = (): number => (own === undefined ? Number.NaN : (backends().sessions.get(own) ?? Number.NaN));
    starts.push(cpuOf());
    const each: number[] = [];
    for (let execution = 0; execution < 8; execution++) {
      const one = prepare();
      const statements = [run('get', await getStatement(one)), run('create-all', await createStatement(one))];
      const before = cpuOf();
      for (const statement of statements) await fresh.query({ name: statement.name, text: statement.text, values: [...statement.values] });
      each.push(cpuOf() - before);
    }
    firsts.push(each);
    await fresh.end();
  }
  write(`a new connection, ${String(CONNECTIONS_NEW)} of them (median): its start ${median(starts).toFixed(2)} ms; get + create, executions 1–8: ${firsts[0]?.map((_, at) => median(firsts.map((each) => each[at] ?? Number.NaN)).toFixed(2)).join(', ') ?? ''} ms`);

  // The same create from several connections at once, as the server's pool sends it under load.
  const concurrent = new Map<number, number[]>();
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  for (let round = 1; round <= ROUNDS; round++) {
    for (const width of round % 2 === 1 ? WIDTHS : [...WIDTHS].reverse()) {
      const lanes = Array.from({ length: width }, () => pool.connect());
      const clients = await Promise.all(lanes);
      const statements: Named[][] = [];
      for (let lane = 0; lane < width; lane++) {
        const mine: Named[] = [];
        for (let index = 0; index < Math.ceil(N / width) + WARM; index++) mine.push(run('create-all', await createStatement(prepare())));
        statements.push(mine);
      }
      await Promise.all(clients.map(async (lane, at) => { for (const statement of (statements[at] ?? []).slice(0, WARM)) await lane.query({ name: statement.name, text: statement.text, values: [...statement.values] }); }));
      const before = backends();
      await Promise.all(clients.map(async (lane, at) => { for (const statement of (statements[at] ?? []).slice(WARM)) await lane.query({ name: statement.name, text: statement.text, values: [...statement.values] }); }));
      const after = backends();
      const count = statements.reduce((sum, mine) => sum + mine.length - WARM, 0);
      concurrent.set(width, [...(concurrent.get(width) ?? []), between(before.sessions, after.sessions) / count]);
      for (const lane of clients) lane.release();
    }
  }
  await pool.end();
  write(`the create from several connections at once, PostgreSQL CPU ms per create by round: ${[...concurrent].map(([width, values]) => `${String(width)} at once ${values.map((value) => value.toFixed(3)).join(' ')} (median ${median(values).toFixed(3)})`).join('; ')}`);

  const plans = await client.query<{ name: string; generic_plans: string; custom_plans: string }>(
    `SELECT name, generic_plans::text, custom_plans::text FROM pg_prepared_statements WHERE name = 'get' OR name LIKE 'create-%' ORDER BY name`,
  );
  write(`plans PostgreSQL chose for the prepared statements: ${plans.rows.map((row) => `${row.name} ${row.generic_plans} generic, ${row.custom_plans} custom`).join('; ')}`);
  const one = prepare();
  const statement = await createStatement(one);
  const explained = await client.query<{ 'QUERY PLAN': string }>({ text: `EXPLAIN (ANALYZE, WAL, BUFFERS, COSTS OFF) ${statement.text}`, values: [...statement.values] });
  write('one create under EXPLAIN (ANALYZE, WAL, BUFFERS):');
  for (const row of explained.rows) write(`  ${row['QUERY PLAN']}`);
  const sizes = await client.query<{ relation: string; bytes: string }>(
    `SELECT c.relname AS relation, pg_total_relation_size(c.oid)::text AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 12`,
  );
  write(`sizes: ${sizes.rows.map((row) => `${row.relation} ${(Number(row.bytes) / 1e6).toFixed(1)} MB`).join(', ')}`);
  await client.end();
} finally {
  await onServer(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
}
