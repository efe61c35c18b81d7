/**
 * PostgreSQL's CPU per read as the server's reads meet the audit writer, this checkout's writer against
 * another checkout's (BENCH_BEFORE_DIR, its src/store/audit-writer.ts) in interleaved rounds on one
 * scratch database of the machine's PostgreSQL: BENCH_CONCURRENCY (default 10) loops, each a request
 * after another as `bench:http`'s connections are — the FHIR read's SELECT (prepared), BENCH_WORK_MS
 * (default 1) of CPU in this process standing in for the server's own work on the read, then the
 * read's audit entry, awaited. Per read: the backends' CPU from `/proc`, the audit commits (distinct
 * `xmin` of the rows added) and the wall time. Without the HTTP stack the figure is the database's
 * share alone, steadier than bench:http's on a loaded machine. Run with
 * `BENCH_BEFORE_DIR=<checkout> npx tsx bench/audit-commits.ts` (BENCH_READS per round, default 2000;
 * BENCH_ROUNDS, default 4).
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_MAPPING_OPTIONS, planEntries, resourceIdsOf } from '../src/fhir/index.js';
import { currentDeriver, derivedVersion } from '../src/http/derived-view.js';
import { checkPlanWithBasis } from '../src/sip/index.js';
import { AuditWriter } from '../src/store/audit-writer.js';
import { createPlanStore, type AuditEntry } from '../src/store/index.js';
import { openPg } from '../src/store/sql-client.js';
import { createScratchDatabase } from '../test/store/postgres-scratch.js';
import { median, newPlan, personnummer, postgresCpuBetween, postgresCpuMillis, write } from './support.js';

const READS = Number(process.env.BENCH_READS ?? '2000');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '4');
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? '10');
const WORK_MS = Number(process.env.BENCH_WORK_MS ?? '1');
const BEFORE_DIR = process.env.BENCH_BEFORE_DIR;
const PLANS = 100;

interface Writer {
  write(entry: AuditEntry): Promise<void>;
  drained(): Promise<void>;
}

const scratch = await createScratchDatabase();
const database = new URL(scratch.url).pathname.slice(1);
try {
  const store = await createPlanStore({ databaseUrl: scratch.url });
  await store.migrate();
  const carePlans: string[] = [];
  for (let index = 0; index < PLANS; index++) {
    const plan = newPlan(`sip-audit-${String(index)}`, personnummer(index).replace('-', ''));
    const view = planEntries(plan, DEFAULT_MAPPING_OPTIONS);
    const ids = resourceIdsOf(view);
    await store.create(plan, 'SE2321000180-1000', ids, { derived: derivedVersion(plan, view, checkPlanWithBasis(plan).basis) });
    carePlans.push(ids.find((id) => id.resourceType === 'CarePlan')?.id ?? '');
  }
  await store.close();
  const client = openPg(scratch.url);
  const deriver = currentDeriver();
  const read = `SELECT v.plan_id, v.version, v.plan, v.document::text AS document, v.model, v.recorded_at, v.recorded_by, d.basis, d.summary, t.resource_type AS text_type, t.resource_id AS text_id, t.head, t.tail
    FROM plan_resources r JOIN plans p ON p.plan_id = r.plan_id JOIN plan_versions v ON v.plan_id = p.plan_id AND v.version = p.version
    LEFT JOIN plan_version_derived d ON d.plan_id = v.plan_id AND d.version = v.version AND d.deriver = $3
    LEFT JOIN plan_version_texts t ON t.plan_id = v.plan_id AND t.version = v.version AND t.deriver = $3 AND t.resource_type = $1 AND t.resource_id = $2
    WHERE r.resource_type = $1 AND r.resource_id = $2 ORDER BY p.plan_id`;
  const before = BEFORE_DIR === undefined ? undefined : ((await import(resolve(BEFORE_DIR, 'src/store/audit-writer.ts'))) as { AuditWriter: new (sql: typeof client) => Writer }).AuditWriter;
  const writers: [string, Writer][] = [['this', new AuditWriter(client)], ...(before === undefined ? [] : [['before', new before(client)] as [string, Writer]])];
  const commits = async (): Promise<number> => (await client.query<{ commits: number }>('SELECT count(DISTINCT xmin::text)::int AS commits FROM audit_log'))[0]?.commits ?? 0;
  const spin = (ms: number): void => {
    const until = performance.now() + ms;
    while (performance.now() < until);
  };
  const results = new Map<string, { cpu: number[]; commits: number[]; wall: number[] }>(writers.map(([name]) => [name, { cpu: [], commits: [], wall: [] }]));
  write(`audit-commits: ${String(CONCURRENCY)} loops of a FHIR read's SELECT, ${String(WORK_MS)} ms of CPU, its audit entry; ${String(READS)} reads a round, ${String(ROUNDS)} rounds; load ${loadavg().map((value) => value.toFixed(1)).join(' ')}`);
  // Round 0 warms up (the statements prepared on every connection, the tables' pages in memory) and is not counted.
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [name, writer] of round % 2 === 1 ? writers : [...writers].reverse()) {
      let next = 0;
      const commitsBefore = await commits();
      const cpuBefore = postgresCpuMillis(database);
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < READS) {
            const index = next++;
            await client.query(read, ['CarePlan', carePlans[(index * 37) % PLANS], deriver]);
            spin(WORK_MS);
            await writer.write({ at: new Date().toISOString(), organization: 'SE2321000180-1000', action: 'read', what: `GET /fhir/CarePlan/${carePlans[(index * 37) % PLANS] ?? ''}`, outcome: 'success', detail: '200' });
          }
        }),
      );
      await writer.drained();
      const wall = (performance.now() - started) / READS;
      const cpu = (postgresCpuBetween(cpuBefore, postgresCpuMillis(database)) ?? Number.NaN) / READS;
      const perRead = ((await commits()) - commitsBefore) / READS;
      if (round === 0) continue;
      const figures = results.get(name);
      figures?.cpu.push(cpu);
      figures?.commits.push(perRead);
      figures?.wall.push(wall);
      write(`  round ${String(round)} ${name.padEnd(7)} PostgreSQL CPU ${cpu.toFixed(3)} ms/read, audit commits ${perRead.toFixed(2)}/read, wall ${wall.toFixed(3)} ms/read`);
    }
  }
  for (const [name, figures] of results) write(`${name.padEnd(7)} median: PostgreSQL CPU ${median(figures.cpu).toFixed(3)} ms/read, audit commits ${median(figures.commits).toFixed(2)}/read, wall ${median(figures.wall).toFixed(3)} ms/read`);
  write(`load ${loadavg().map((value) => value.toFixed(1)).join(' ')}`);
  await client.close();
} finally {
  await scratch.drop();
}
