/**
 * How fast the FHIR facade answers versions and the audit log, against `GET /health` and a plain read
 * measured in the same run. `sip-fhir serve` runs as a child process on a scratch database of the
 * machine's PostgreSQL (SIP_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres),
 * seeded in this process with plans (one of them with VERSIONS versions, default 200) and an audit log
 * of AUDIT_ROWS entries (default 50,000) spread over organisations, plans and persons; autocannon drives:
 *  (a) `GET /health`, the baseline,
 *  (b) `GET /fhir/CarePlan/{id}`, a read of the current version,
 *  (c) `GET /fhir/CarePlan/{id}/_history/{vid}`, a vread of a middle version,
 *  (d) `GET /fhir/CarePlan/{id}/_history?_count=10`, the newest page of ten,
 *  (e) the same page deep in the history (versions below the middle one),
 *  (f) `GET /fhir/CarePlan/{id}/_history`, the first page at the default `_count`,
 *  (g) `GET /fhir/AuditEvent?_count=100`, the newest page of what the organisation may review, with
 *      its Bundle.total, and (h) the same with `_total=none`,
 *  (i) `GET /fhir/AuditEvent?patient:identifier=…&_count=50`, one person's entries,
 * after a 2 s warm-up of each, in interleaved rounds (BENCH_ROUNDS, default 3; BENCH_SECONDS each,
 * default 5; BENCH_CONNECTIONS, default 10). With BENCH_BASELINE_DIR, a checkout of an earlier commit
 * (with its node_modules) is served too, on the same database, and (d)–(g) and (i) are asked of it in
 * the same rounds, as it spells them: the ratio "÷ before" compares the two. Figures are printed,
 * nothing is asserted. Before the concurrent rounds, BENCH_SEQUENTIAL requests (default 5) of each
 * scenario one at a time in each round give the time to answer one. The versions are seeded with what
 * a read derives from them, as the HTTP writes keep it; BENCH_DERIVED=0 seeds them without.
 * Run with `npm run bench:history`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { planResourceIds } from '../src/fhir/index.js';
import { issueLocalToken, loadOrCreateLocalKey } from '../src/http/auth/index.js';
import { derivedVersion } from '../src/http/derived-view.js';
import { createPlanStore } from '../src/store/index.js';
import { openPg } from '../src/store/sql-client.js';
import { createScratchDatabase } from '../test/store/postgres-scratch.js';
import { median, newPlan, personnummer, startServe, write } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '3');
const SECONDS = Number(process.env.BENCH_SECONDS ?? '5');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? '10');
const AUDIT_ROWS = Number(process.env.AUDIT_ROWS ?? '50000');
const VERSIONS = Number(process.env.VERSIONS ?? '200');
const BASELINE_DIR = process.env.BENCH_BASELINE_DIR;
/** Versions seeded with what a read derives from them, as the HTTP write paths keep it (BENCH_DERIVED=0: without, as versions written before migration 6). */
const DERIVED = process.env.BENCH_DERIVED !== '0';
/** Requests one at a time per scenario and round, before the concurrent rounds. */
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? '5');
const PLANS = 100;
/** Region Dalarna, principal of every seeded plan. */
const ORG = 'SE2321000180-1000';
/** Seeds the plans through the store and the audit log straight into its table (one INSERT … SELECT). */
async function seed(databaseUrl: string): Promise<{ carePlanId: string; person: string }> {
  const store = await createPlanStore({ databaseUrl });
  try {
    await store.migrate();
    const people = Array.from({ length: PLANS }, (_, index) => personnummer(index));
    for (const [index, person] of people.entries()) {
      const plan = newPlan(`sip-bench-history-${String(index)}`, person);
      await store.create(plan, ORG, planResourceIds(plan), DERIVED ? { derived: derivedVersion(plan) } : {});
    }
    const first = newPlan('sip-bench-history-0', people[0] ?? '');
    for (let version = 2; version <= VERSIONS; version++) {
      const next = { ...first, version, notes: `Version ${String(version)}` };
      await store.update(next, version - 1, ORG, planResourceIds(next), DERIVED ? { derived: derivedVersion(next) } : {});
    }
    const carePlanId = planResourceIds(first).find((resource) => resource.resourceType === 'CarePlan')?.id;
    if (carePlanId === undefined) throw new Error('the plan has a CarePlan');
    const sql = openPg(databaseUrl, { maxConnections: 1 });
    try {
      // One in five entries by the region, the rest by nineteen others; each about one of the plans and
      // its person; spread over the last 30 days.
      await sql.query(
        `INSERT INTO audit_log (at, organization, agent, plan_id, person_identifier, action, what, outcome, detail)
         SELECT now() - (g * interval '50 seconds'),
                CASE WHEN g % 5 = 0 THEN $1 ELSE 'SE2321000180-' || lpad((g % 19)::text, 4, '0') END,
                'user-' || (g % 97),
                'sip-bench-history-' || (g % $2),
                ($3::text[])[1 + g % $2],
                CASE WHEN g % 10 = 0 THEN 'search' ELSE 'read' END,
                'GET /fhir/CarePlan/' || g,
                CASE WHEN g % 50 = 0 THEN 'refused' ELSE 'success' END,
                CASE WHEN g % 50 = 0 THEN '403' ELSE '200' END
         FROM generate_series(1, $4::integer) AS g`,
        [ORG, PLANS, people, AUDIT_ROWS],
      );
    } finally {
      await sql.close();
    }
    return { carePlanId, person: people[0] ?? '' };
  } finally {
    await store.close();
  }
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

const scratch = await createScratchDatabase();
const dataDir = mkdtempSync(join(tmpdir(), 'sip-bench-history-'));
try {
  const { carePlanId, person } = await seed(scratch.url);
  const server = await startServe(scratch.url, dataDir);
  const baseline = BASELINE_DIR === undefined ? undefined : await startServe(scratch.url, dataDir, { cwd: BASELINE_DIR });
  const token = await issueLocalToken({ org: ORG, scopes: 'system/*.read', ttlSeconds: 3600 }, await loadOrCreateLocalKey(dataDir), new Date());
  try {
    const headers = { Authorization: `Bearer ${token}` };
    const history = `/fhir/CarePlan/${carePlanId}/_history`;
    const middle = String(VERSIONS / 2);
    interface Scenario {
      readonly url: string;
      readonly path: string;
      /** The scenario of the baseline this one is compared with. */
      readonly before?: string;
    }
    const scenarios: Record<string, Scenario> = {
      health: { url: server.url, path: '/health' },
      read: { url: server.url, path: `/fhir/CarePlan/${carePlanId}` },
      vread: { url: server.url, path: `${history}/${middle}` },
      'history-10': { url: server.url, path: `${history}?_count=10`, before: 'before:history-10' },
      'history-10-deep': { url: server.url, path: `${history}?_count=10&_cursor=before-${middle}`, before: 'before:history-10-deep' },
      'history': { url: server.url, path: history, before: 'before:history' },
      audit: { url: server.url, path: '/fhir/AuditEvent?_count=100', before: 'before:audit' },
      'audit-no-total': { url: server.url, path: '/fhir/AuditEvent?_count=100&_total=none', before: 'before:audit' },
      'audit-person': { url: server.url, path: `/fhir/AuditEvent?patient:identifier=${person}&_count=50`, before: 'before:audit-person' },
      ...(baseline === undefined
        ? {}
        : {
            // The commit before spelt the cursor as the bare version number.
            'before:history-10': { url: baseline.url, path: `${history}?_count=10` },
            'before:history-10-deep': { url: baseline.url, path: `${history}?_count=10&_cursor=${middle}` },
            'before:history': { url: baseline.url, path: history },
            'before:audit': { url: baseline.url, path: '/fhir/AuditEvent?_count=100' },
            'before:audit-person': { url: baseline.url, path: `/fhir/AuditEvent?patient:identifier=${person}&_count=50` },
          }),
    };
    for (const [name, { url, path }] of Object.entries(scenarios)) {
      const response = await fetch(`${url}${path}`, { headers });
      if (response.status !== 200) throw new Error(`${name} answered ${String(response.status)}: ${await response.text()}`);
    }
    write(
      `bench:history — sip-fhir serve on PostgreSQL (scratch database), ${String(PLANS)} plans, one with ${String(VERSIONS)} versions, ${String(AUDIT_ROWS)} audit entries; versions ${DERIVED ? 'with' : 'without'} derived data; ${String(CONNECTIONS)} connections, ${String(ROUNDS)} rounds × ${String(SECONDS)} s per scenario, Node ${process.version}${BASELINE_DIR === undefined ? '' : `; before: ${BASELINE_DIR}`}`,
    );
    // One request at a time first: the time to answer each, in interleaved rounds (the figure a loaded machine disturbs least).
    const sequential: Record<string, number[]> = Object.fromEntries(Object.keys(scenarios).map((name) => [name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, { url, path }] of Object.entries(scenarios)) {
        for (let index = 0; index < SEQUENTIAL; index++) {
          const start = performance.now();
          const response = await fetch(`${url}${path}`, { headers });
          await response.arrayBuffer();
          sequential[name]?.push(performance.now() - start);
        }
      }
    }
    write(`one request at a time, ${String(ROUNDS * SEQUENTIAL)} each: ms to answer (median, min–max), and ÷ before`);
    for (const [name, times] of Object.entries(sequential)) {
      const before = scenarios[name]?.before;
      const beforeTimes = before === undefined ? undefined : sequential[before];
      write(
        `  ${name.padEnd(24)} ${median(times).toFixed(1).padStart(8)} (${Math.min(...times).toFixed(1)}–${Math.max(...times).toFixed(1)})`.padEnd(54) +
          (beforeTimes === undefined ? '' : `${(median(times) / median(beforeTimes)).toFixed(3)} (before ${median(beforeTimes).toFixed(1)} ms)`),
      );
    }
    write();
    // A page of the old history took seconds: no request is cut short.
    const drive = (url: string, path: string, duration: number) => autocannon({ url, connections: CONNECTIONS, duration, timeout: 120, headers, requests: [{ method: 'GET', path }] });
    for (const { url, path } of Object.values(scenarios)) await drive(url, path, 2);
    const results: Record<string, Figures[]> = Object.fromEntries(Object.keys(scenarios).map((name) => [name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, { url, path }] of Object.entries(scenarios)) {
        const result = await drive(url, path, SECONDS);
        const figures: Figures = { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors + result.timeouts };
        results[name]?.push(figures);
        write(`  round ${String(round)} ${name.padEnd(24)} ${figures.rps.toFixed(1).padStart(7)} req/s  p50 ${String(figures.p50).padStart(5)} ms  p99 ${String(figures.p99).padStart(5)} ms${figures.non2xx + figures.errors > 0 ? `  (${String(figures.non2xx)} non-2xx, ${String(figures.errors)} errors)` : ''}`);
      }
    }
    write();
    write('scenario                   req/s (median, min–max)      p99 ms (median, max)   ÷ health   ÷ read    ÷ before');
    const rpsOf = (name: string): number => median((results[name] ?? []).map((figures) => figures.rps));
    for (const [name, figures] of Object.entries(results)) {
      const rps = figures.map((figure) => figure.rps);
      const p99 = figures.map((figure) => figure.p99);
      const before = scenarios[name]?.before;
      write(
        `${name.padEnd(24)}  ${median(rps).toFixed(1).padStart(7)} (${Math.min(...rps).toFixed(1)}–${Math.max(...rps).toFixed(1)})`.padEnd(56) +
          `${String(median(p99)).padStart(6)} (${String(Math.max(...p99))})`.padEnd(23) +
          (median(rps) / rpsOf('health')).toFixed(4).padEnd(11) +
          (median(rps) / rpsOf('read')).toFixed(3).padEnd(10) +
          (before === undefined || results[before] === undefined ? '' : (median(rps) / rpsOf(before)).toFixed(2)),
      );
    }
  } finally {
    await server.stop();
    await baseline?.stop();
  }
} finally {
  await scratch.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
