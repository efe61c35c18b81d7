/**
 * What a write's audit entry costs PostgreSQL, written in the version's transaction
 * (`VersionWriteOptions.audit`, src/http/audited-route.ts `VersionAudit`) against written after it
 * through the audit writer (as every entry was before, src/store/audit-writer.ts), without the HTTP
 * stack: on one scratch database of the machine's PostgreSQL, each write a `store.create` of a new
 * plan with its derived data, as `POST /fhir` writes it (the mapping and rules done before the round,
 * not timed), then its entry. Two loads, each in interleaved rounds (the order turned every round):
 * `@rate`, BENCH_RATE (default 100) writes/s started at a constant rate for BENCH_SECONDS (default 5),
 * each timed from its due time — the load at which the writer's entries committed alone — and
 * `closed`, BENCH_CONCURRENCY (default 10) loops of one write after another, as many writes. Per
 * write: the backends' CPU from `/proc`, the audit commits (distinct `xmin` of the audit rows added
 * that wrote no version), the wall time per write (closed) or p50/p99 (rate). Run with
 * `npx tsx bench/audit-with-version-ab.ts` (BENCH_ROUNDS, default 4).
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import { DEFAULT_MAPPING_OPTIONS, planEntries, resourceIdsOf } from '../src/fhir/index.js';
import { derivedVersion } from '../src/http/derived-view.js';
import { checkPlanWithBasis, type SipPlan } from '../src/sip/index.js';
import { createPlanStore, type AuditEntry, type DerivedVersion, type PlanResource } from '../src/store/index.js';
import { createScratchDatabase } from '../test/store/postgres-scratch.js';
import { median, newPlan, percentile, personnummer, postgresCpuBetween, postgresCpuMillis, write } from './support.js';

const RATE = Number(process.env.BENCH_RATE ?? '100');
const SECONDS = Number(process.env.BENCH_SECONDS ?? '5');
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? '10');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '4');
const ORG = 'SE2321000180-1000';
const WRITES = RATE * SECONDS;

interface Prepared {
  readonly plan: SipPlan;
  readonly resources: readonly PlanResource[];
  readonly derived: DerivedVersion;
}

let serial = 0;
/** New plans, mapped and derived as the route does before it writes. */
function prepare(count: number): Prepared[] {
  return Array.from({ length: count }, () => {
    serial++;
    const plan = newPlan(`sip-bench-awv-${String(serial)}`, personnummer(3_000_000 + serial));
    const view = planEntries(plan, DEFAULT_MAPPING_OPTIONS);
    return { plan, resources: resourceIdsOf(view), derived: derivedVersion(plan, view, checkPlanWithBasis(plan).basis) };
  });
}

const scratch = await createScratchDatabase();
const database = new URL(scratch.url).pathname.slice(1);
try {
  const store = await createPlanStore({ databaseUrl: scratch.url });
  await store.migrate();
  const entryOf = (plan: SipPlan): AuditEntry => ({
    at: new Date().toISOString(),
    organization: ORG,
    planId: plan.id,
    personIdentifier: plan.individual.identifier.value,
    action: 'create',
    what: 'POST /fhir',
    outcome: 'success',
    detail: '200',
  });
  const variants: Record<string, (prepared: Prepared) => Promise<void>> = {
    'with version': async ({ plan, resources, derived }) => {
      await store.create(plan, ORG, resources, { derived, audit: entryOf(plan) });
    },
    'writer after': async ({ plan, resources, derived }) => {
      await store.create(plan, ORG, resources, { derived });
      await store.audit(entryOf(plan));
    },
  };
  const client = new pg.Client({ connectionString: scratch.url });
  await client.connect();
  const commits = async (): Promise<number> =>
    (await client.query<{ commits: number }>('SELECT count(DISTINCT a.xmin::text) FILTER (WHERE NOT EXISTS (SELECT 1 FROM plan_versions v WHERE v.xmin::text = a.xmin::text))::int AS commits FROM audit_log a')).rows[0]?.commits ?? 0;

  /** Runs the writes at the constant rate, or in closed loops, and says what each cost. */
  async function measure(load: 'rate' | 'closed', variant: (prepared: Prepared) => Promise<void>): Promise<{ cpu: number; commits: number; p50: number; p99: number }> {
    const writes = prepare(WRITES);
    const commitsBefore = await commits();
    const cpuBefore = postgresCpuMillis(database);
    const latencies: number[] = [];
    const started = performance.now();
    if (load === 'rate') {
      await Promise.all(
        writes.map(async (prepared, index) => {
          const due = started + (index * 1000) / RATE;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          await variant(prepared);
          latencies.push(performance.now() - due);
        }),
      );
    } else {
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < writes.length) {
            const prepared = writes[next++];
            if (prepared === undefined) break;
            const start = performance.now();
            await variant(prepared);
            latencies.push(performance.now() - start);
          }
        }),
      );
    }
    const cpu = (postgresCpuBetween(cpuBefore, postgresCpuMillis(database)) ?? Number.NaN) / writes.length;
    return { cpu, commits: ((await commits()) - commitsBefore) / writes.length, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
  }

  const results = new Map<string, { cpu: number[]; commits: number[]; p50: number[]; p99: number[] }>();
  write(`audit-with-version-ab: store.create of new plans with their entry, ${String(RATE)}/s for ${String(SECONDS)} s and ${String(CONCURRENCY)} closed loops of as many; ${String(ROUNDS)} rounds; load ${loadavg().map((value) => value.toFixed(1)).join(' ')}`);
  // Round 0 warms up (statements prepared, pages in memory, the JIT) and is not counted.
  for (let round = 0; round <= ROUNDS; round++) {
    for (const load of ['rate', 'closed'] as const) {
      const names = Object.keys(variants);
      for (const name of round % 2 === 1 ? names : names.reverse()) {
        const variant = variants[name];
        if (variant === undefined) continue;
        const figures = await measure(load, variant);
        if (round === 0) continue;
        const key = `${load === 'rate' ? `@${String(RATE)}/s` : 'closed'} ${name}`;
        const kept = results.get(key) ?? { cpu: [], commits: [], p50: [], p99: [] };
        kept.cpu.push(figures.cpu);
        kept.commits.push(figures.commits);
        kept.p50.push(figures.p50);
        kept.p99.push(figures.p99);
        results.set(key, kept);
        write(`  round ${String(round)} ${key.padEnd(22)} PostgreSQL CPU ${figures.cpu.toFixed(3)} ms/write, audit commits ${figures.commits.toFixed(2)}/write, p50 ${figures.p50.toFixed(1)} ms, p99 ${figures.p99.toFixed(1)} ms, load ${(loadavg()[0] ?? 0).toFixed(2)}`);
      }
    }
  }
  for (const [key, figures] of results) {
    write(`${key.padEnd(22)} median: PostgreSQL CPU ${median(figures.cpu).toFixed(3)} ms/write, audit commits ${median(figures.commits).toFixed(2)}/write, p50 ${median(figures.p50).toFixed(1)} ms, p99 ${median(figures.p99).toFixed(1)} ms`);
  }
  write(`load ${loadavg().map((value) => value.toFixed(1)).join(' ')}`);
  await client.end();
  await store.close();
} finally {
  await scratch.drop();
}
