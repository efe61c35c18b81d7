/**
 * Whether the server's own create statement pays for PostgreSQL's plan cache: the read of a plan not
 * yet held and the create's one `WITH` statement, exactly as `SqlPlanStore` sends them for
 * `POST /fhir` (derived data and the audit entry in the version's statement), prepared by name as the
 * store's pool prepares them, on three connections that differ only in `plan_cache_mode`
 * (https://www.postgresql.org/docs/15/runtime-config-query.html#GUC-PLAN-CACHE-MODE):
 *
 * - `auto`, the default: five custom plans, then the generic plan if its estimate is not dearer;
 * - `force_custom_plan`: planned anew at every execution, as an unnamed statement is;
 * - `force_generic_plan`: planned once, at the first execution, on the tables of that moment.
 *
 * On a scratch database of the machine's PostgreSQL (`${BENCH_DATABASE_PREFIX}_<pid>`, default prefix
 * `sip_bench_pg_plan_cache`; created and dropped), BENCH_SEED plans (default 200) first, then
 * BENCH_ROUNDS (default 8) rounds in which each connection, in an order that turns every round,
 * records BENCH_N (default 100) plans never seen before, one at a time. The figure is each backend's
 * CPU time per transaction (`/proc/<pid>/schedstat`, nanoseconds) (its two statements), median over the rounds; the plan cache's
 * own count of generic and custom plans per statement (`pg_prepared_statements`, PostgreSQL ≥ 14)
 * closes the run. Run with `npx tsx bench/pg-plan-cache.ts`.
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import { createPlanStore } from '../src/store/index.js';
import { SqlPlanStore } from '../src/store/sql-plan-store.js';
import { onServer, TEST_DATABASE_URL, withDatabase } from '../test/store/postgres-scratch.js';
import { capturingClient, transactionWrite, type Statement } from './pg-statements.js';
import { median, threadSchedstat, write } from './support.js';

const N = Number(process.env.BENCH_N ?? '100');
const SEED = Number(process.env.BENCH_SEED ?? '200');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '8');
const ORGANIZATION = 'SE2321000180-1000';
const MODES = ['auto', 'force_custom_plan', 'force_generic_plan'] as const;
type Mode = (typeof MODES)[number];
const database = `${process.env.BENCH_DATABASE_PREFIX ?? 'sip_bench_pg_plan_cache'}_${String(process.pid)}`;
const url = withDatabase(TEST_DATABASE_URL, database);

let serial = 3_000_000;
const capture = capturingClient();
const spy = new SqlPlanStore(capture.client);
/** The transaction's statements for a new plan: the store's read of it, then its create. */
async function transactionStatements(): Promise<Statement[]> {
  const one = transactionWrite('sip-plancache', ++serial, ORGANIZATION);
  await spy.get(one.plan.id);
  await spy.create(one.plan, ORGANIZATION, one.resources, one.options);
  return capture.take();
}

await onServer(`CREATE DATABASE ${database}`);
try {
  const store = await createPlanStore({ databaseUrl: url });
  await store.migrate();
  for (let index = 0; index < SEED; index++) {
    const one = transactionWrite('sip-plancache', ++serial, ORGANIZATION);
    await store.create(one.plan, ORGANIZATION, one.resources, one.options);
  }
  await store.close();
  const connections = new Map<Mode, { client: pg.Client; pid: number }>();
  for (const mode of MODES) {
    const client = new pg.Client({ connectionString: url, options: `-c plan_cache_mode=${mode}` });
    await client.connect();
    const [row] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
    if (row === undefined) throw new Error('no backend pid');
    connections.set(mode, { client, pid: row.pid });
  }
  const texts = new Set<string>();
  const figures = new Map<Mode, number[]>(MODES.map((mode) => [mode, []]));
  write(`pg-plan-cache: ${String(SEED)} plans seeded; ${String(ROUNDS)} rounds × ${String(N)} new plans a connection; load average ${loadavg()[0]?.toFixed(2) ?? '?'}`);
  for (let round = 0; round < ROUNDS; round++) {
    const order = MODES.map((_, index) => MODES[(index + round) % MODES.length] as Mode);
    const line: string[] = [];
    for (const mode of order) {
      const connection = connections.get(mode);
      if (connection === undefined) throw new Error(`no connection for ${mode}`);
      const batches: Statement[][] = [];
      for (let index = 0; index < N; index++) batches.push(await transactionStatements());
      const before = threadSchedstat(connection.pid, String(connection.pid))?.ran;
      for (const statements of batches) {
        for (const [at, statement] of statements.entries()) {
          texts.add(statement.text);
          await connection.client.query({ name: `tx_${String(at)}_${String(statement.text.length)}`, text: statement.text, values: [...statement.values] });
        }
      }
      const after = threadSchedstat(connection.pid, String(connection.pid))?.ran;
      if (before === undefined || after === undefined) throw new Error('the backend\'s CPU cannot be read from /proc');
      const perTransaction = (after - before) / 1e6 / N;
      figures.get(mode)?.push(perTransaction);
      line.push(`${mode} ${perTransaction.toFixed(3)}`);
    }
    write(`  round ${String(round + 1)}: ${line.join(', ')} ms a transaction`);
  }
  const auto = figures.get('auto') ?? [];
  write(`median CPU ms a transaction (read + create), ${String(texts.size)} statement texts:`);
  for (const mode of MODES) {
    const values = figures.get(mode) ?? [];
    write(`  ${mode.padEnd(20)} ${median(values).toFixed(3)}  (${(median(values) / median(auto)).toFixed(2)}× auto)`);
  }
  for (const mode of MODES) {
    const connection = connections.get(mode);
    if (connection === undefined) continue;
    const counts = await connection.client.query<{ name: string; generic_plans: string; custom_plans: string }>('SELECT name, generic_plans, custom_plans FROM pg_prepared_statements ORDER BY name');
    write(`  ${mode}: ${counts.rows.map((row) => `${row.name} generic ${row.generic_plans}, custom ${row.custom_plans}`).join('; ')}`);
    await connection.client.end();
  }
} finally {
  await onServer(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
}
