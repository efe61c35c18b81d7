/**
 * How fast the SIP JSON API answers, against `GET /health` measured in the same run (the machines are
 * shared and noisy, so ratios travel better than figures). The server is `sip-fhir serve` as a child
 * process on a scratch database of the machine's PostgreSQL (SIP_TEST_DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres), on loopback; autocannon drives it from this process:
 *  (a) `POST /sip/plans` of new plans, each request a plan never seen before (its own id and person),
 *  (b) `GET /sip/plans/{id}` of the seeded plans,
 *  (c) `GET /sip/plans?person=…` for the seeded persons,
 *  (d) `GET /health`, the baseline,
 * after a 2 s warm-up of each, in interleaved rounds (BENCH_ROUNDS, default 3; BENCH_SECONDS each, default 5; BENCH_CONNECTIONS,
 * default 10), so a noisy machine shows in the spread. Then, in this process, where one create's time
 * goes: parsing, the SIP rules (`checkPlan`), the store's write and the audit entry. Issue #11 aims at
 * ≥ 100 creates/s and ≥ 2,000 reads/s with p99 ≤ 50 ms; the verdict is printed, nothing is asserted.
 * Run with `npm run bench:http`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { createAuthenticator, issueLocalToken, loadOrCreateLocalKey, resolveAuthMode } from '../src/http/auth/index.js';
import { planResourceIds } from '../src/fhir/index.js';
import { checkPlan, formatDate, parsePlan, stockholmDate, trafficLight, type SipPlan } from '../src/sip/index.js';
import { createPlanStore } from '../src/store/index.js';
import { createScratchDatabase } from '../test/store/postgres-scratch.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '3');
const SECONDS = Number(process.env.BENCH_SECONDS ?? '5');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? '10');
const SEEDED = 200;
const ORG = 'SE2321000180-1000';
const write = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

/** A valid personnummer `YYYYMMDD-NNNC` for a serial number: born 1950–1999, Luhn check digit. */
function personnummer(serial: number): string {
  const year = 1950 + (serial % 50);
  const month = 1 + (Math.floor(serial / 50) % 12);
  const day = 1 + (Math.floor(serial / 600) % 28);
  const birth = `${String(year)}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}`;
  const number = String(1 + (Math.floor(serial / 16_800) % 999)).padStart(3, '0');
  const digits = `${birth.slice(2)}${number}`;
  let sum = 0;
  for (let index = 0; index < digits.length; index++) {
    const product = Number(digits.charAt(index)) * (index % 2 === 0 ? 2 : 1);
    sum += product > 9 ? product - 9 : product;
  }
  return `${birth}-${number}${String((10 - (sum % 10)) % 10)}`;
}

const TODAY = formatDate(stockholmDate(new Date()));
const IN_300_DAYS = formatDate(stockholmDate(new Date(Date.now() + 300 * 86_400_000)));
const adult = JSON.parse(readFileSync('examples/adult-psychiatry-addiction.json', 'utf8')) as SipPlan;
/** Plan `id` of person `person`: the adult example as a new plan, version 1, not yet approved. */
function newPlan(id: string, person: string): SipPlan {
  return {
    ...adult,
    id,
    version: 1,
    approvals: [],
    individual: { ...adult.individual, identifier: { ...adult.individual.identifier, value: person } },
    // Recorded now with a consent from today, so the plan may be read (sent) whenever the bench runs.
    updatedAt: new Date().toISOString(),
    consents: adult.consents.map((consent) => ({ ...consent, planId: id, givenAt: TODAY, validUntil: IN_300_DAYS })),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function startServe(databaseUrl: string, dataDir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'serve', '--port', '0', '--host', '127.0.0.1', '--no-examples'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, SIP_DATA_DIR: dataDir, SIP_RATE_LIMIT: '100000000' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }));
  const url = await new Promise<string>((resolve, reject) => {
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once('exit', (code) => {
      reject(new Error(`sip-fhir serve ended (${String(code)}):\n${stderr}`));
    });
  });
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/** Where one create's and one read's time goes, in this process on the same database: medians of N. */
async function inProcess(databaseUrl: string, dataDir: string, token: string): Promise<void> {
  const N = 200;
  const store = await createPlanStore({ databaseUrl });
  try {
    const authenticator = await createAuthenticator(resolveAuthMode({ authDisabled: false, dataDir }));
    if (authenticator.mode !== 'local') throw new Error('the bench signs its own tokens');
    const times = { token: [] as number[], parse: [] as number[], checkPlan: [] as number[], resources: [] as number[], create: [] as number[], audit: [] as number[], read: [] as number[], light: [] as number[] };
    for (let index = 0; index < N; index++) {
      let start = performance.now();
      await authenticator.verify(`Bearer ${token}`);
      times.token.push(performance.now() - start);
      const body = JSON.parse(JSON.stringify(newPlan(`sip-bench-inproc-${String(index)}`, personnummer(100_000 + index)))) as unknown;
      start = performance.now();
      const parsed = parsePlan(body);
      times.parse.push(performance.now() - start);
      if (!parsed.ok) throw new Error('the bench plan does not parse');
      start = performance.now();
      checkPlan(parsed.plan);
      times.checkPlan.push(performance.now() - start);
      start = performance.now();
      const resources = planResourceIds(parsed.plan);
      times.resources.push(performance.now() - start);
      start = performance.now();
      await store.create(parsed.plan, ORG, resources);
      times.create.push(performance.now() - start);
      start = performance.now();
      await store.audit({ at: new Date().toISOString(), organization: ORG, planId: parsed.plan.id, action: 'create', what: 'POST /sip/plans', outcome: 'success', detail: '201' });
      times.audit.push(performance.now() - start);
      start = performance.now();
      await store.get(parsed.plan.id);
      times.read.push(performance.now() - start);
      start = performance.now();
      trafficLight(parsed.plan);
      times.light.push(performance.now() - start);
    }
    write();
    write(`one create, in process (median of ${String(N)}): parsePlan ${median(times.parse).toFixed(2)} ms, checkPlan ${median(times.checkPlan).toFixed(2)} ms, FHIR resource ids ${median(times.resources).toFixed(2)} ms, store.create ${median(times.create).toFixed(2)} ms (parses again, one transaction), audit ${median(times.audit).toFixed(2)} ms; bearer token check ${median(times.token).toFixed(2)} ms`);
    write(`one read, in process (median of ${String(N)}): store.get ${median(times.read).toFixed(2)} ms (parses the stored plan), checkPlan for its warnings ${median(times.checkPlan).toFixed(2)} ms, trafficLight ${median(times.light).toFixed(2)} ms, audit ${median(times.audit).toFixed(2)} ms`);
  } finally {
    await store.close();
  }
}

const scratch = await createScratchDatabase();
const dataDir = mkdtempSync(join(tmpdir(), 'sip-bench-'));
try {
  const server = await startServe(scratch.url, dataDir);
  const token = await issueLocalToken({ org: ORG, scopes: 'system/*.*', ttlSeconds: 3600 }, await loadOrCreateLocalKey(dataDir), new Date());
  try {
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };

    // Seed plans to read and search, one person each.
    const seeded = Array.from({ length: SEEDED }, (_, index) => ({ id: `sip-bench-seed-${String(index)}`, person: personnummer(index) }));
    for (const { id, person } of seeded) {
      const response = await fetch(`${server.url}/sip/plans`, { method: 'POST', headers, body: JSON.stringify(newPlan(id, person)) });
      if (response.status !== 201) throw new Error(`seeding ${id} answered ${String(response.status)}: ${await response.text()}`);
    }

    // Each create sends a plan never seen before: the template with a fresh id and person put in.
    const template = JSON.stringify(newPlan('PLAN-ID', 'PERSON-ID'));
    let created = 0;
    let read = 0;
    const scenarios: Record<string, autocannon.Request[]> = {
      health: [{ method: 'GET', path: '/health' }],
      create: [
        {
          method: 'POST',
          path: '/sip/plans',
          setupRequest: (request) => {
            created++;
            return { ...request, body: template.replaceAll('PLAN-ID', `sip-bench-new-${String(created)}`).replaceAll('PERSON-ID', personnummer(SEEDED + created)) };
          },
        },
      ],
      read: [
        {
          method: 'GET',
          setupRequest: (request) => ({ ...request, path: `/sip/plans/${seeded[read++ % SEEDED]?.id ?? ''}` }),
        },
      ],
      search: [
        {
          method: 'GET',
          setupRequest: (request) => ({ ...request, path: `/sip/plans?person=${seeded[read++ % SEEDED]?.person ?? ''}` }),
        },
      ],
    };

    const results: Record<string, Figures[]> = Object.fromEntries(Object.keys(scenarios).map((name) => [name, []]));
    write(`bench:http — sip-fhir serve on PostgreSQL (scratch database), ${String(CONNECTIONS)} connections, ${String(ROUNDS)} rounds × ${String(SECONDS)} s per scenario, Node ${process.version}`);
    // A warm-up pass of every scenario (not counted), so the rounds measure the server after its JIT has settled.
    for (const requests of Object.values(scenarios)) await autocannon({ url: server.url, connections: CONNECTIONS, duration: 2, headers, requests });
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, requests] of Object.entries(scenarios)) {
        const result = await autocannon({ url: server.url, connections: CONNECTIONS, duration: SECONDS, headers, requests });
        const figures: Figures = { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors + result.timeouts };
        results[name]?.push(figures);
        write(`  round ${String(round)} ${name.padEnd(7)} ${figures.rps.toFixed(0).padStart(6)} req/s  p50 ${String(figures.p50).padStart(3)} ms  p99 ${String(figures.p99).padStart(3)} ms${figures.non2xx + figures.errors > 0 ? `  (${String(figures.non2xx)} non-2xx, ${String(figures.errors)} errors)` : ''}`);
      }
    }

    write();
    write('scenario   req/s (median, min–max)    p99 ms (median, max)   req/s ÷ health');
    const baseline = median((results.health ?? []).map((figures) => figures.rps));
    for (const [name, figures] of Object.entries(results)) {
      const rps = figures.map((figure) => figure.rps);
      const p99 = figures.map((figure) => figure.p99);
      write(
        `${name.padEnd(9)}  ${median(rps).toFixed(0).padStart(6)} (${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)})`.padEnd(37) +
          `${String(median(p99)).padStart(5)} (${String(Math.max(...p99))})`.padEnd(23) +
          (median(rps) / baseline).toFixed(3),
      );
    }
    const medianOf = (name: string, key: keyof Figures): number => median((results[name] ?? []).map((figures) => figures[key]));
    const worstP99 = (name: string): number => Math.max(...(results[name] ?? []).map((figures) => figures.p99));
    write();
    write(`aim ≥ 100 creates/s: ${medianOf('create', 'rps') >= 100 ? 'met' : 'NOT met'} (${medianOf('create', 'rps').toFixed(0)}/s, p99 ${String(medianOf('create', 'p99'))} ms)`);
    write(`aim ≥ 2,000 reads/s: ${medianOf('read', 'rps') >= 2000 ? 'met' : 'NOT met'} (${medianOf('read', 'rps').toFixed(0)}/s); search ${medianOf('search', 'rps').toFixed(0)}/s`);
    write(`aim p99 ≤ 50 ms: create ${worstP99('create') <= 50 ? 'met' : 'NOT met'} (worst ${String(worstP99('create'))} ms), read ${worstP99('read') <= 50 ? 'met' : 'NOT met'} (worst ${String(worstP99('read'))} ms), search ${worstP99('search') <= 50 ? 'met' : 'NOT met'} (worst ${String(worstP99('search'))} ms)`);
  } finally {
    await server.stop();
  }
  await inProcess(scratch.url, dataDir, token);
} finally {
  await scratch.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
