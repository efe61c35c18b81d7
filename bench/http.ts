/**
 * How fast the service answers over HTTP, against `GET /health` of the same server measured in the
 * same run (the machines are shared and noisy, so ratios travel better than figures).
 *
 * The server is `sip-fhir serve` as a **child process** — as it runs in production, and so that
 * the load generator (autocannon, or bench/open-loop.ts for the constant-rate scenarios below), which
 * needs a good part of a core itself on this 2-core machine, is not counted in the
 * server's event loop — on a scratch database of the machine's PostgreSQL (SIP_TEST_DATABASE_URL,
 * default postgres://postgres@127.0.0.1:5432/postgres; the database is created and dropped), on
 * loopback. Before measuring, BENCH_PLANS (default 1000) distinct plans of distinct persons are
 * recorded through the API, and every read and search picks a different one of them (a stride through
 * the list), so no figure is one hot plan. autocannon drives, closed-loop, in interleaved rounds:
 *  - `health`      `GET /health`, the baseline: the whole middleware stack, no auth, no store;
 *  - `sip-create`  `POST /sip/plans`, each request a plan never seen before (its own id and person);
 *  - `fhir-tx`     `POST /fhir` of a SIP transaction Bundle of a new plan — measured only when the
 *                  server answers it (it is being built); otherwise the bench says so;
 *  - `sip-read`    `GET /sip/plans/{id}`;
 *  - `sip-search`  `GET /sip/plans?person=…`;
 *  - `fhir-read`   `GET /fhir/CarePlan/{id}`;
 *  - `fhir-search` `GET /fhir/CarePlan?patient:identifier=<system>|<value>`;
 *  - `fhir-search-status` the same with `&status=draft,active`;
 *  - `fhir-status-page` `GET /fhir/CarePlan?status=draft,active&_count=20&_offset=…`, a page of every plan by status;
 *  - `sip-read (no caches)`, `fhir-read (no caches)`: the same reads from a second server on the same
 *                  database started with everything it remembers between requests turned off
 *                  (SIP_TOKEN_CACHE=0, SIP_PG_PREPARE=0: no verified tokens, no prepared statements), so the figures with caches can be told from what they cost without;
 * after a warm-up of each (2 s slices until it answered BENCH_WARMUP_REQUESTS, default 1,500, or
 * BENCH_WARMUP_MAX_SECONDS, default 20, passed; printed), BENCH_ROUNDS (default 3) × BENCH_SECONDS (default 5) per scenario,
 * BENCH_CONNECTIONS (default 10) connections; BENCH_ONLY=name,name runs only those (health always).
 * BENCH_CPU_PROF=<dir> runs the server with `node --cpu-prof` into that folder (see bench/README.md).
 * After the rounds, each server's resident memory (bench/support.ts `processTreeResidentMemory`) after
 * the seeding and after every round, beside the plans its store then held, and its peak: the write
 * scenarios add thousands of plans a round, so the line shows whether the memory follows the store.
 * Each round line and a block after the verdicts also give the server's threads per request
 * (bench/support.ts `processTreeThreadTimes`, from the scheduler's statistics): its event loop on a core,
 * its event loop waiting for a core (runnable while PostgreSQL, the load generator and V8's helpers had
 * both), and its other threads on a core — whether a tail is the event loop's own work or its share
 * of two cores.
 * Then, in this process on the same database, where one create's and one read's time goes.
 * Issue #11 aims at ≥ 100 transactions/s and ≥ 2,000 reads/s with p99 ≤ 50 ms; the verdict is
 * printed, nothing is asserted. Run with `npm run bench:http`.
 *
 * The scenarios above are closed-loop: each connection sends its next request when the last is
 * answered, so the rate is the server's most and the latency is the connections' queue at that rate
 * (10 connections at 120 transactions/s wait ≈ 83 ms on average, whatever a transaction costs). An aim
 * of a rate *with* a p99 is a latency at that rate, so three more scenarios offer exactly the aims' rates
 * at a constant rate, open-loop (bench/open-loop.ts: request i is due at t0 + i/rate, sent when due on
 * one of BENCH_OPEN_CONNECTIONS, default 64, keep-alive connections of an undici Pool, and timed from
 * its due time, so a stall counts for every request it delayed) and report what the server achieved,
 * p50/p90/p99/max and the generator's own lag: `fhir-tx @100/s` (BENCH_TX_RATE, default 100),
 * `fhir-read @2000/s` (BENCH_READ_RATE, default 2000) and `fhir-search @2000/s` (BENCH_SEARCH_RATE, default 2000:
 * the issue counts a CarePlan search among the reads its aim is for); 0 leaves one out, a list (`80,100,120`) offers
 * each rate as a scenario of its own in the same rounds. Their verdict needs the offered
 * rate achieved (≥ 98 % of it) and p99 ≤ 50 ms. These scenarios used autocannon's `overallRate` until
 * 2026-12-03, which is neither a constant rate nor a p99 of the requests (bench/open-loop.ts says why);
 * BENCH_AUTOCANNON_RATE=1 measures it again beside them as `<scenario> @<rate>/s (autocannon)`, for
 * comparison only (no verdict). Their client is bench/raw-http.ts since 2026-12-06; BENCH_UNDICI_RATE=1
 * measures each again with undici's `Pool`, which they used before, as `<scenario> @<rate>/s (undici)`
 * (no verdict): the load generator's own CPU a request is the difference to read.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import pg from 'pg';
import { runOpenLoop, type OpenLoopRequest } from './open-loop.js';
import type { Bundle, CarePlan } from 'fhir/r4.js';
import { DEFAULT_MAPPING_OPTIONS, planEntries, planResourceIds, planToBundle } from '../src/fhir/index.js';
import { personIdentifier } from '../src/fhir/write/patient.js';
import { createAuthenticator, issueLocalToken, loadOrCreateLocalKey, mayAccess, resolveAuthMode } from '../src/http/auth/index.js';
import { checkPlan, judgeSend, judgeSendAndRecorded, parsePlan, planStatus, trafficLight, type SipPlan } from '../src/sip/index.js';
import { createPlanStore } from '../src/store/index.js';
import { createScratchDatabase } from '../test/store/postgres-scratch.js';
import { closedLoopVerdict, median, newPlan, personnummer, postgresCpuBetween, postgresCpuMillis, postgresCpuParts, processTreeCpuMillis, processTreeResidentMemory, processTreeThreadTimes, startServe, warmUp, write, type ResidentMemory, type Served, type ThreadTimes } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '3');
const SECONDS = Number(process.env.BENCH_SECONDS ?? '5');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? '10');
const PLANS = Number(process.env.BENCH_PLANS ?? '1000');
const ONLY = process.env.BENCH_ONLY?.split(',').map((name) => name.trim()).filter((name) => name !== '');
const CPU_PROF = process.env.BENCH_CPU_PROF;
/** The fixed rates offered in the `@rate` scenarios (requests/s; 0 leaves the scenario out): the aims' own. */
const rates = (text: string): number[] => text.split(',').map(Number).filter((rate) => rate > 0);
/** Each a scenario of its own (`BENCH_TX_RATE=80,100,120`), in the same rounds. */
const TX_RATES = rates(process.env.BENCH_TX_RATE ?? '100');
const READ_RATES = rates(process.env.BENCH_READ_RATE ?? '2000');
/** The issue names a search among the reads its aim counts: `fhir-search` offered at the read aim's rate too. */
const SEARCH_RATES = rates(process.env.BENCH_SEARCH_RATE ?? '2000');
/** A fixed-rate scenario's aim is met when the server achieved at least this share of the rate offered. */
const RATE_ACHIEVED = 0.98;
/** The keep-alive connections of the constant-rate scenarios' pool: at most this many requests in flight. */
const OPEN_CONNECTIONS = Number(process.env.BENCH_OPEN_CONNECTIONS ?? '64');
/** BENCH_AUTOCANNON_RATE=1: autocannon's `overallRate` at the same rates too, beside the open-loop figures (no verdict). */
const AUTOCANNON_RATE = process.env.BENCH_AUTOCANNON_RATE === '1';
/** BENCH_UNDICI_RATE=1: the constant-rate scenarios again with undici's `Pool` as the client, beside the raw client's (no verdict). */
const UNDICI_RATE = process.env.BENCH_UNDICI_RATE === '1';
/**
 * Another checkout of the adapter (a git worktree of main, say) whose server is measured beside this
 * one in the same rounds, on a scratch database of its own seeded with the same plans: each read and
 * search scenario, the writes (`sip-create`, `fhir-tx`) and the constant-rate scenarios, again as `<name> [before]`. On a shared,
 * loaded machine a before/after in separate runs compares two loads, not two servers. Each pair runs in
 * turn one way and the other (odd rounds the branch first, even rounds `[before]` first), so an even
 * number of rounds gives each the second place as often.
 */
const BEFORE_DIR = process.env.BENCH_BEFORE_DIR;
/**
 * `BENCH_VARIANTS="name:VAR=value,VAR=value;name:…"` (`NODE_ARGS=` node's own flags): more servers of this checkout on the same
 * database and key, each with those settings (e.g. `procs2:SIP_PROCESSES=2;workers1:SIP_VALIDATION_WORKERS=1`;
 * `PG_SOCKET=<folder>` connects that server by PostgreSQL's Unix socket in the folder, `/var/run/postgresql` on Debian),
 * every scenario measured again on each as `<scenario> {name}`, in the same rounds.
 */
const VARIANTS = parseVariants(process.env.BENCH_VARIANTS ?? '');

function parseVariants(text: string): { readonly name: string; readonly env: Readonly<Record<string, string>> }[] {
  return text
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const match = /^([\w-]+):((?:[A-Z_]+=[^,]*,?)+)$/.exec(part);
      if (match?.[1] === undefined || match[2] === undefined) throw new Error(`BENCH_VARIANTS: "${part}" is not name:SIP_SETTING=value,SIP_SETTING=value`);
      return { name: match[1], env: Object.fromEntries(match[2].split(',').filter((pair) => pair !== '').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] as const)) };
    });
}
/** `url` connecting by the Unix socket in `folder` (pg takes a `host` parameter over the URL's host). */
function bySocket(url: string, folder: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('host', folder);
  return parsed.toString();
}
/** The plan every bench plan is made from (support.ts), for the fallbacks of the in-process timings. */
const adult = newPlan('sip-bench-template', personnummer(0));
/** A prime that does not divide PLANS, so `i × STRIDE mod PLANS` visits every plan before it repeats. */
const STRIDE = 7_919;
const ORG = 'SE2321000180-1000';
/** The settings that turn off what the server remembers between requests, for the figures without it. */
const NO_CACHES = { SIP_TOKEN_CACHE: '0', SIP_PG_PREPARE: '0' };
/**
 * For every server on the bench's database but the first (the one without caches, the variants, unless a
 * variant sets it): no keeper. Where autovacuum is off (the machines' PostgreSQL), each server's keeper
 * vacuums and analyzes the store's tables on its own, so the shared database had one keeper a server
 * and the `[before]` server's database one. Now each has one. What made the first checkout's closed-loop
 * FHIR read cost PostgreSQL more than `[before]`'s was not the second keeper but when the keepers work:
 * their `ANALYZE` after the write scenarios falls on the next closed-loop read, in most rounds the first
 * lane's (docs/performance.md, "The bench's lanes are not alike for the closed-loop FHIR read").
 */
const NOT_KEEPING = { SIP_ANALYZE_SECONDS: '0' };

/** A round's {@link ThreadTimes} per request: the difference of the readings around it ÷ the requests; undefined without both readings. */
function threadsPerRequest(before: ThreadTimes | undefined, after: ThreadTimes | undefined, requests: number): ThreadTimes | undefined {
  if (before === undefined || after === undefined) return undefined;
  const per = (used: number): number => used / Math.max(1, requests);
  return { eventLoopRan: per(after.eventLoopRan - before.eventLoopRan), eventLoopWaited: per(after.eventLoopWaited - before.eventLoopWaited), othersRan: per(after.othersRan - before.othersRan) };
}

/** A round line's part on the server's threads (ms/req), or nothing where they were not read. */
function threadsText(threads: ThreadTimes | undefined): string {
  if (threads === undefined) return '';
  return `event loop ms/req: ran ${threads.eventLoopRan.toFixed(3)}, waited for a core ${threads.eventLoopWaited.toFixed(3)}; other threads ran ${threads.othersRan.toFixed(3)}  `;
}

interface Figures {
  rps: number;
  /** The server's CPU time per request, ms. */
  cpu: number;
  /** CPU time per request of the PostgreSQL backends serving the scratch database, ms. */
  db: number;
  /**
   * CPU time per request of this bench process, the load generator (autocannon or bench/open-loop.ts), ms. It
   * runs on the same cores as the server and PostgreSQL, so what it takes is not the server's to use.
   */
  generator: number;
  /** Of {@link db}: the connections opened during the scenario (how many; their CPU per request, their start included) and autovacuum workers. */
  dbParts: { opened: number; openedMillis: number; autovacuumMillis: number };
  p50: number;
  p99: number;
  /**
   * The constant-rate scenarios' p90 and max (ms, from each request's due time), the generator's lag behind the due times (p99, max), the
   * requests that waited for a connection or were never sent, and the p99 from the send (what a send-time measurement would say).
   */
  openLoop?: { p90: number; max: number; lagP99: number; lagMax: number; waited: number; dropped: number; sentP99: number };
  non2xx: number;
  errors: number;
  /** Audit log commits per request: the transactions of the audit rows added (distinct `xmin`) that wrote no plan version ÷ requests. */
  commits: number;
  /**
   * The server's threads per request, ms (bench/support.ts `processTreeThreadTimes`): its event loop on a
   * core and waiting for one, and its other threads (V8's helpers, workers) on a core; undefined where
   * /proc has no scheduler statistics.
   */
  threads: ThreadTimes | undefined;
}

/** How many plans the store on `url` holds: what the server's memory is printed beside. */
async function storedPlans(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ plans: number }>('SELECT count(*)::int AS plans FROM plans');
    return result.rows[0]?.plans ?? 0;
  } finally {
    await client.end();
  }
}

/** The scenarios that write plans: each leaves the stores' keepers tables to vacuum and analyze. */
const WRITES: ReadonlySet<string> = new Set(['sip-create', 'fhir-tx']);
/**
 * BENCH_TIDY=0 leaves what a round's writes changed to the stores' keepers. By default the bench does their
 * work itself, unmeasured, before the first scenario after the writes: where autovacuum is off each
 * server's keeper analyzes what the writes added 10–25 s after them, and in the bench's order that fell on
 * the next closed-loop read, most often the first lane's, which then cost PostgreSQL up to 1.4–2× the
 * other lane's whatever the code (docs/performance.md, "The bench's lanes are not alike").
 */
const TIDY = process.env.BENCH_TIDY !== '0';

/** `VACUUM (ANALYZE)` of a database, as its keeper would do after the writes (unmeasured). */
async function tidy(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('VACUUM (ANALYZE)');
  } finally {
    await client.end();
  }
}

/**
 * The audit log's rows and the transactions that wrote them (each batched INSERT of the audit writer is
 * one transaction, so its rows share one `xmin`), for the commits a request costs PostgreSQL. Read
 * from the table, not from pg_stat_database, whose counters a backend flushes up to seconds late. A
 * transaction that also wrote a plan version (an entry written with its version, src/http/audited-route.ts
 * `VersionAudit`) is the version's commit, not one the audit log added, and is not counted.
 */
async function auditCommits(url: string): Promise<{ rows: number; commits: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // The audit rows' transactions less those that wrote a plan version, as a set difference (hashed or
    // sorted once). Written as a NOT EXISTS inside the aggregate's FILTER, PostgreSQL ran it as a
    // subplan per audit row, each a scan of plan_versions (EXPLAIN: "SubPlan 1 -> Seq Scan on
    // plan_versions"): 16 s and more between scenarios once the log held the rounds' reads.
    const result = await client.query<{ rows: number; commits: number }>(
      `SELECT (SELECT count(*) FROM audit_log)::int AS rows,
         (SELECT count(*) FROM (SELECT xmin::text FROM audit_log EXCEPT SELECT xmin::text FROM plan_versions) AS own)::int AS commits`,
    );
    return result.rows[0] ?? { rows: 0, commits: 0 };
  } finally {
    await client.end();
  }
}

/**
 * The scenarios of a round: each scenario's servers (this one, the variants, `[before]`) one after
 * another, in that order in odd rounds and reversed in even ones, so that whatever the order costs the
 * later of a group (the earlier one's audit batches still being written, the load it leaves) falls on
 * each server in turn.
 */
function roundOrder<T extends { readonly base: string }>(entries: readonly (readonly [string, T])[], round: number): (readonly [string, T])[] {
  if (round % 2 === 1) return [...entries];
  const groups: (readonly [string, T])[][] = [];
  for (const entry of entries) {
    const last = groups.at(-1);
    if (last?.[0]?.[1].base === entry[1].base) last.push(entry);
    else groups.push([entry]);
  }
  return groups.flatMap((group) => group.reverse());
}

/** Median time of `N` runs of `work`, in ms. */
async function timed(N: number, work: (index: number) => unknown): Promise<number> {
  const times: number[] = [];
  for (let index = 0; index < N; index++) {
    const start = performance.now();
    await work(index);
    times.push(performance.now() - start);
  }
  return median(times);
}

/** Where one create's and one read's time goes, in this process on the same database: medians of N. */
async function inProcess(databaseUrl: string, dataDir: string, token: string, planIds: readonly string[]): Promise<void> {
  const N = 300;
  const store = await createPlanStore({ databaseUrl });
  try {
    // Both with the verified-token memory (SIP_TOKEN_CACHE's default) and without it, so the signature check itself shows.
    const authenticator = await createAuthenticator(resolveAuthMode({ authDisabled: false, dataDir }));
    const uncachedAuthenticator = await createAuthenticator(resolveAuthMode({ authDisabled: false, dataDir }), { tokenCache: 0 });
    if (authenticator.mode !== 'local' || uncachedAuthenticator.mode !== 'local') throw new Error('the bench signs its own tokens');
    const bodies = Array.from({ length: N }, (_, index) => JSON.parse(JSON.stringify(newPlan(`sip-bench-inproc-${String(index)}`, personnummer(500_000 + index)))) as unknown);
    const plans = bodies.map((body) => {
      const parsed = parsePlan(body);
      if (!parsed.ok) throw new Error('the bench plan does not parse');
      return parsed.plan;
    });
    const at = new Date();
    const plan = (index: number): SipPlan => plans[index] ?? adult;
    const stored = async (index: number) => {
      const found = await store.get(planIds[(index * STRIDE) % planIds.length] ?? '');
      if (found === undefined) throw new Error('a seeded plan is missing');
      return found;
    };
    const storedPlans = await Promise.all(plans.map((_, index) => stored(index)));
    const storedPlan = (index: number): SipPlan => storedPlans[index]?.plan ?? adult;
    const audit = (index: number) => store.audit({ at: new Date().toISOString(), organization: ORG, planId: plan(index).id, action: 'read', what: 'GET /sip/plans/x', outcome: 'success', detail: '200' });
    const t = {
      token: await timed(N, () => uncachedAuthenticator.verify(`Bearer ${token}`)),
      tokenRemembered: await timed(N, () => authenticator.verify(`Bearer ${token}`)),
      parse: await timed(N, (index) => parsePlan(bodies[index])),
      checkPlan: await timed(N, (index) => checkPlan(plan(index))),
      resources: await timed(N, (index) => planResourceIds(plan(index))),
      create: await timed(N, (index) => store.create(plan(index), ORG, planResourceIds(plan(index)))),
      audit: await timed(N, audit),
      get: await timed(N, stored),
      rawSelect: await timed(N, (index) => store.plansWithResource('CarePlan', `none-${String(index)}`)),
      access: await timed(N, (index) => mayAccess(storedPlan(index), ORG, at)),
      judgeSend: await timed(N, (index) => judgeSend(storedPlan(index), at)),
      light: await timed(N, (index) => [trafficLight(storedPlan(index)), planStatus(storedPlan(index))]),
      stringify: await timed(N, (index) => JSON.stringify(storedPlans[index])),
      toBundle: await timed(N, (index) => planToBundle(storedPlan(index), DEFAULT_MAPPING_OPTIONS, at)),
      sendAndRecorded: await timed(N, (index) => judgeSendAndRecorded(storedPlan(index), at)),
      carePlanEntry: await timed(N, (index) => planEntries(storedPlan(index), DEFAULT_MAPPING_OPTIONS, at).find((entry) => entry.resourceType === 'CarePlan')?.entry()),
    };
    const ms = (value: number): string => `${value.toFixed(3)} ms`;
    write();
    write(`where the time goes, in this process on the same database (median of ${String(N)} each, ${String(planIds.length)} distinct stored plans):`);
    write(`  bearer token check: jose ES256 verify ${ms(t.token)}, a remembered token ${ms(t.tokenRemembered)}`);
    write(`  one create: parsePlan ${ms(t.parse)}, checkPlan ${ms(t.checkPlan)}, FHIR resource ids ${ms(t.resources)}, store.create ${ms(t.create)} (one transaction, its resource ids computed again inside the timing), audit INSERT ${ms(t.audit)}`);
    write(`  one read:   store.get ${ms(t.get)} (one SELECT; a version the running model wrote is not parsed again, parsePlan would add ${ms(t.parse)}; a one-row indexed SELECT alone ${ms(t.rawSelect)}), mayAccess ${ms(t.access)},`);
    write(`              judgeSend ${ms(t.judgeSend)}, checkPlan for warnings ${ms(t.checkPlan)}, trafficLight + status ${ms(t.light)}, JSON.stringify ${ms(t.stringify)},`);
    write(`              both at once as a SIP read does them (judgeSendAndRecorded) ${ms(t.sendAndRecorded)},`);
    write(`              planToBundle (the whole plan) ${ms(t.toBundle)}, the CarePlan alone as a FHIR read maps it (planEntries) ${ms(t.carePlanEntry)}, audit INSERT ${ms(t.audit)}`);
  } finally {
    await store.close();
  }
}

const scratch = await createScratchDatabase();
const databaseName = new URL(scratch.url).pathname.slice(1);
const beforeScratch = BEFORE_DIR === undefined ? undefined : await createScratchDatabase();
const dataDir = mkdtempSync(join(tmpdir(), 'sip-bench-'));
try {
  const server = await startServe(scratch.url, dataDir, CPU_PROF === undefined ? {} : { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', resolve(CPU_PROF)] });
  // The same data folder, so the same signing key: one token serves both.
  const before = beforeScratch === undefined ? undefined : await startServe(beforeScratch.url, dataDir, { cwd: resolve(BEFORE_DIR ?? '.') });
  // A second server on the same database and key, remembering nothing between requests: the figures without caches.
  const uncached = await startServe(scratch.url, dataDir, { env: { ...NOT_KEEPING, ...NO_CACHES } });
  // The same database and key again, as several processes sharing one port.
  const variants: { readonly name: string; readonly server: Served }[] = [];
  for (const variant of VARIANTS) {
    // NODE_ARGS: node's own flags for that server (e.g. --cpu-prof, which NODE_OPTIONS does not take); its server processes inherit them.
    // PG_SOCKET: the folder of PostgreSQL's Unix socket, which that server connects by instead of the URL's host.
    const { NODE_ARGS: nodeArgs, PG_SOCKET: socket, ...env } = variant.env;
    variants.push({ name: variant.name, server: await startServe(socket === undefined ? scratch.url : bySocket(scratch.url, socket), dataDir, { env: { ...NOT_KEEPING, ...env }, ...(nodeArgs === undefined ? {} : { nodeArgs: nodeArgs.split(' ').filter((arg) => arg !== '') }) }) });
  }
  const token = await issueLocalToken({ org: ORG, scopes: 'system/*.*', ttlSeconds: 3600 }, await loadOrCreateLocalKey(dataDir), new Date());
  let planIds: string[] = [];
  try {
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    const get = async (path: string): Promise<unknown> => {
      const response = await fetch(`${server.url}${path}`, { headers });
      if (response.status !== 200) throw new Error(`GET ${path} answered ${String(response.status)}: ${await response.text()}`);
      return response.json();
    };

    // Record the plans to read and search, one person each, ten at a time; then find each plan's CarePlan id on the FHIR facade.
    const started = performance.now();
    // `person` as the store keeps it: the model normalises a personnummer to its twelve digits without the hyphen.
    const seeded = Array.from({ length: PLANS }, (_, index) => ({ id: `sip-bench-seed-${String(index)}`, person: personnummer(index).replace('-', ''), carePlan: '' }));
    for (let from = 0; from < seeded.length; from += 10) {
      await Promise.all(
        seeded.slice(from, from + 10).map(async (plan) => {
          for (const target of before === undefined ? [server] : [server, before]) {
            const response = await fetch(`${target.url}/sip/plans`, { method: 'POST', headers, body: JSON.stringify(newPlan(plan.id, plan.person)) });
            if (response.status !== 201) throw new Error(`seeding ${plan.id} answered ${String(response.status)}: ${await response.text()}`);
            await response.arrayBuffer();
          }
          const searchset = (await get(`/fhir/CarePlan?identifier=${encodeURIComponent(plan.id)}`)) as Bundle;
          const carePlan = searchset.entry?.[0]?.resource as CarePlan | undefined;
          if (carePlan?.id === undefined) throw new Error(`no CarePlan found for ${plan.id}`);
          plan.carePlan = carePlan.id;
        }),
      );
    }
    planIds = seeded.map((plan) => plan.id);
    const patientSystem = personIdentifier(adult.individual.identifier).system;
    // The reads and searches measured must find what they look for, or the figures are of empty answers.
    for (const plan of [seeded[0], seeded[seeded.length - 1]]) {
      if (plan === undefined) continue;
      const listed = (await get(`/sip/plans?person=${plan.person}`)) as { count: number };
      const searchset = (await get(`/fhir/CarePlan?patient:identifier=${encodeURIComponent(`${patientSystem}|${plan.person}`)}`)) as Bundle;
      const byStatus = (await get(`/fhir/CarePlan?patient:identifier=${encodeURIComponent(`${patientSystem}|${plan.person}`)}&status=draft,active`)) as Bundle;
      const carePlan = (await get(`/fhir/CarePlan/${plan.carePlan}`)) as CarePlan;
      const read = (await get(`/sip/plans/${plan.id}`)) as { plan: { id: string } };
      if (listed.count !== 1 || searchset.total !== 1 || byStatus.total !== 1 || carePlan.id !== plan.carePlan || read.plan.id !== plan.id) {
        throw new Error(`the reads of ${plan.id} do not find it: sip search ${String(listed.count)}, fhir search ${String(searchset.total)}, by status ${String(byStatus.total)}, CarePlan ${String(carePlan.id)}`);
      }
    }

    // Whether POST /fhir takes a transaction yet: it is being built (issue #11); until then the scenario is left out.
    const transaction = (serial: number): string => {
      const parsed = parsePlan(newPlan(`sip-bench-tx-${String(serial)}`, personnummer(2_000_000 + serial)));
      if (!parsed.ok) throw new Error('the bench plan does not parse');
      return JSON.stringify(planToBundle(parsed.plan, DEFAULT_MAPPING_OPTIONS));
    };
    const probe = await fetch(`${server.url}/fhir`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/fhir+json' }, body: transaction(0) });
    const probeText = await probe.text();
    const transactions = probe.status === 200 || probe.status === 201;

    // Each create sends a plan never seen before: the template with a fresh id and person put in.
    const template = JSON.stringify(newPlan('PLAN-ID', 'PERSON-ID'));
    let created = 0;
    let posted = 0;
    /**
     * New transaction Bundles made ready before each run of fhir-tx: more than the fastest server takes
     * in one. Kept as their UTF-8 bytes, which is what the wire takes: as strings, each request's
     * encoding and the external memory it churned cost the generator, on the cores it shares with the
     * server, 1.4–2.3 ms of CPU a request against 0.8–1.4 (a scratch generator against a bare node:http
     * server at 100/s, docs/performance.md).
     */
    const readyTransactions: Buffer[] = [];
    const makeTransactionsReady = (seconds: number): void => {
      while (readyTransactions.length < Math.max(250, ...TX_RATES) * seconds) readyTransactions.push(Buffer.from(transaction(++posted)));
    };
    let next = 0;
    const pick = (): { id: string; person: string; carePlan: string } => seeded[(next++ * STRIDE) % seeded.length] ?? { id: '', person: '', carePlan: '' };
    const all: Record<string, autocannon.Request[]> = {
      health: [{ method: 'GET', path: '/health' }],
      'sip-create': [
        {
          method: 'POST',
          path: '/sip/plans',
          setupRequest: (request) => {
            created++;
            return { ...request, body: template.replaceAll('PLAN-ID', `sip-bench-new-${String(created)}`).replaceAll('PERSON-ID', personnummer(PLANS + created)) };
          },
        },
      ],
      ...(transactions
        ? {
            // FHIR-TRANSACTION SCENARIO: a new plan's SIP Bundle each time (mapped here, between requests).
            'fhir-tx': [
              {
                method: 'POST',
                path: '/fhir',
                headers: { ...headers, 'Content-Type': 'application/fhir+json' },
                // Made ready before the run (below), so that mapping a plan (≈ 1 ms) is not the load generator's work on the cores it shares with the server.
                setupRequest: (request) => ({ ...request, body: readyTransactions.pop() ?? Buffer.from(transaction(++posted)) }),
              },
            ],
          }
        : {}),
      'sip-read': [{ method: 'GET', setupRequest: (request) => ({ ...request, path: `/sip/plans/${pick().id}` }) }],
      'sip-search': [{ method: 'GET', setupRequest: (request) => ({ ...request, path: `/sip/plans?person=${pick().person}` }) }],
      'fhir-read': [{ method: 'GET', setupRequest: (request) => ({ ...request, path: `/fhir/CarePlan/${pick().carePlan}` }) }],
      'fhir-search': [
        { method: 'GET', setupRequest: (request) => ({ ...request, path: `/fhir/CarePlan?patient:identifier=${encodeURIComponent(`${patientSystem}|${pick().person}`)}` }) },
      ],
      // The same search with the plan's status asked (both statuses a seeded plan can have, so each finds its plan).
      'fhir-search-status': [
        { method: 'GET', setupRequest: (request) => ({ ...request, path: `/fhir/CarePlan?patient:identifier=${encodeURIComponent(`${patientSystem}|${pick().person}`)}&status=draft,active` }) },
      ],
      // A worklist: a page of 20 of the organisation's plans by status, from a different plan each time.
      'fhir-status-page': [{ method: 'GET', setupRequest: (request) => ({ ...request, path: `/fhir/CarePlan?status=draft,active&_count=20&_offset=${String((next++ * STRIDE) % Math.max(1, PLANS - 20))}` }) }],
    };
    const withoutCaches: Record<string, autocannon.Request[]> = { 'sip-read': all['sip-read'] ?? [], 'fhir-read': all['fhir-read'] ?? [] };
    // The same requests for the constant-rate scenarios (bench/open-loop.ts): each transaction a Bundle made ready before the run, used once.
    const openLoop: Record<string, (index: number) => OpenLoopRequest> = {
      'fhir-tx': () => ({ method: 'POST', path: '/fhir', headers: { 'Content-Type': 'application/fhir+json' }, body: readyTransactions.pop() ?? Buffer.from(transaction(++posted)) }),
      'fhir-read': () => ({ method: 'GET', path: `/fhir/CarePlan/${pick().carePlan}` }),
      'fhir-search': () => ({ method: 'GET', path: `/fhir/CarePlan?patient:identifier=${encodeURIComponent(`${patientSystem}|${pick().person}`)}` }),
    };
    // The aims' own rates offered to the server (see the header): what it achieves, and the p99 at that load.
    const fixedRate = [
      ...TX_RATES.map((rate) => ({ base: 'fhir-tx', rate })),
      ...READ_RATES.map((rate) => ({ base: 'fhir-read', rate })),
      ...SEARCH_RATES.map((rate) => ({ base: 'fhir-search', rate })),
    ].filter(({ base, rate }) => rate > 0 && base in all);
    /**
     * `rate`: offered at that constant rate by bench/open-loop.ts (with `undici`, on undici's `Pool`
     * instead of bench/raw-http.ts), or with `autocannon` by autocannon's `overallRate` (both for comparison).
     */
    type Scenario = { readonly base: string; readonly server: Served; readonly requests: autocannon.Request[]; readonly rate?: number; readonly autocannon?: true; readonly undici?: true };
    const scenarios: Record<string, Scenario> = Object.fromEntries(([
      ...Object.entries(all).map(([name, requests]): readonly [string, Scenario] => [name, { base: name, server, requests }]),
      ...fixedRate.map(({ base, rate }): readonly [string, Scenario] => [`${base} @${String(rate)}/s`, { base, server, requests: all[base] ?? [], rate }]),
      ...(AUTOCANNON_RATE ? fixedRate : []).map(({ base, rate }): readonly [string, Scenario] => [`${base} @${String(rate)}/s (autocannon)`, { base, server, requests: all[base] ?? [], rate, autocannon: true }]),
      ...(UNDICI_RATE ? fixedRate : []).map(({ base, rate }): readonly [string, Scenario] => [`${base} @${String(rate)}/s (undici)`, { base, server, requests: all[base] ?? [], rate, undici: true }]),
      ...variants.flatMap((variant) =>
        fixedRate.map(({ base, rate }): readonly [string, Scenario] => [`${base} @${String(rate)}/s {${variant.name}}`, { base, server: variant.server, requests: all[base] ?? [], rate }]),
      ),
      // Left out when profiling, so that the end of the profile is the last scenario of the profiled server.
      ...Object.entries(CPU_PROF === undefined ? withoutCaches : {}).map(([name, requests]) => [`${name} (no caches)`, { base: `${name} (no caches)`, server: uncached, requests }] as const),
      ...variants.flatMap((variant) => Object.entries(all).map(([name, requests]) => [`${name} {${variant.name}}`, { base: name, server: variant.server, requests }] as const)),
      ...(before === undefined
        ? []
        : // Every scenario, the writes included: each write a plan never seen before on either server; and the aims' rates.
          [
            ...Object.entries(all).map(([name, requests]) => [`${name} [before]`, { base: name, server: before, requests }] as const),
            ...fixedRate.map(({ base, rate }) => [`${base} @${String(rate)}/s [before]`, { base, server: before, requests: all[base] ?? [], rate }] as const),
          ]),
    ] as (readonly [string, Scenario])[])
      .filter(([, { base }]) => ONLY === undefined || base === 'health' || ONLY.includes(base.replace(' (no caches)', '')))
      // Each scenario's variants and [before] right after it, so that they meet the same load.
      .map((entry, index) => {
        const of = Object.keys(all).indexOf(entry[1].base);
        const variant = variants.findIndex((candidate) => candidate.server === entry[1].server);
        // A scenario, its variants, the same at the aim's rate with its variants and [before], then its own [before].
        // A constant-rate scenario's [before] right after this server's rates, the closed-loop one's last.
        const within = entry[1].server === before ? (entry[1].rate === undefined ? 0.9 : 0.52) : (entry[1].rate === undefined ? 0 : entry[1].autocannon === true ? 0.55 : entry[1].undici === true ? 0.54 : 0.5) + (variant >= 0 ? 0.1 + 0.01 * variant : 0);
        return { entry, order: of < 0 ? 1_000 + index : of + within };
      })
      .sort((a, b) => a.order - b.order)
      .map(({ entry }) => entry));

    const results: Record<string, Figures[]> = Object.fromEntries(Object.keys(scenarios).map((name) => [name, []]));
    /** One run of a scenario: requests answered, the rate, p50/p99 (and the open-loop figures), errors. */
    const run = async ({ base, server: target, requests, rate, autocannon: viaAutocannon, undici }: Scenario, seconds: number): Promise<Omit<Figures, 'cpu' | 'db' | 'generator' | 'dbParts' | 'commits' | 'threads'> & { total: number }> => {
      const open = openLoop[base];
      if (rate !== undefined && viaAutocannon !== true && open !== undefined) {
        const result = await runOpenLoop({ url: target.url, rate, seconds, connections: OPEN_CONNECTIONS, headers, request: open, client: undici === true ? 'undici' : 'raw' });
        return {
          total: result.completed, rps: result.achieved, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors + result.dropped,
          openLoop: { p90: result.latency.p90, max: result.latency.max, lagP99: result.lag.p99, lagMax: result.lag.max, waited: result.waitedForConnection, dropped: result.dropped, sentP99: result.service.p99 },
        };
      }
      const result = await autocannon({ url: target.url, connections: CONNECTIONS, duration: seconds, headers, requests, ...(rate === undefined ? {} : { overallRate: rate }) });
      return { total: result.requests.total, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors + result.timeouts };
    };
    /** A latency in ms: autocannon's whole milliseconds as they are, the open-loop figures to a tenth. */
    const ms = (value: number): string => (Number.isInteger(value) ? String(value) : value.toFixed(1));
    write(
      `bench:http — sip-fhir serve (child process) on PostgreSQL (scratch database), ${String(PLANS)} distinct plans recorded in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `${String(CONNECTIONS)} connections, ${String(ROUNDS)} rounds × ${String(SECONDS)} s per scenario, Node ${process.version}`,
    );
    if (!transactions) write(`fhir-tx: POST /fhir answered ${String(probe.status)} (${probeText.slice(0, 120).replaceAll('\n', ' ')}…): transactions are not served yet, so not measured`);
    // Each server's resident memory after the seeding and after every round, beside the plans its store then holds.
    const servers: readonly { readonly label: string; readonly served: Served; readonly databaseUrl: string }[] = [
      { label: 'the server', served: server, databaseUrl: scratch.url },
      ...(CPU_PROF === undefined ? [{ label: 'the server without caches', served: uncached, databaseUrl: scratch.url }] : []),
      ...variants.map((variant) => ({ label: `{${variant.name}}`, served: variant.server, databaseUrl: scratch.url })),
      ...(before === undefined || beforeScratch === undefined ? [] : [{ label: '[before]', served: before, databaseUrl: beforeScratch.url }]),
    ];
    const memory = new Map<Served, { readonly memory: ResidentMemory | undefined; readonly plans: number }[]>(servers.map(({ served }) => [served, []]));
    const noteMemory = async (): Promise<void> => {
      for (const { served, databaseUrl } of servers) memory.get(served)?.push({ memory: processTreeResidentMemory(served.pid), plans: await storedPlans(databaseUrl) });
    };
    await noteMemory();
    // A warm-up of every scenario (not counted), in slices of 2 s, so the rounds measure the server after its JIT has settled (support.ts `warmUp`).
    const warmedUp: string[] = [];
    for (const [name, scenario] of Object.entries(scenarios)) {
      const { answered, seconds } = await warmUp(async () => {
        if (scenario.base === 'fhir-tx') makeTransactionsReady(2);
        return (await run(scenario, 2)).total;
      });
      warmedUp.push(`${name} ${String(answered)} in ${seconds.toFixed(0)} s`);
    }
    write(`warm-up (not counted): ${warmedUp.join(', ')}`);
    if (TIDY) write("after the warm-up and after each round's writes, every bench database is vacuumed and analyzed before the next scenario (unmeasured; BENCH_TIDY=0 leaves it to the stores' keepers)");
    // The warm-up wrote too: its aftermath is tidied before the first round's first scenario.
    let written = Object.values(scenarios).some((scenario) => WRITES.has(scenario.base));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, scenario] of roundOrder(Object.entries(scenarios), round)) {
        const { base, server: target } = scenario;
        if (TIDY && written && !WRITES.has(base)) {
          await Promise.all([scratch.url, ...(beforeScratch === undefined ? [] : [beforeScratch.url])].map(tidy));
          written = false;
        }
        if (WRITES.has(base)) written = true;
        if (base === 'fhir-tx') makeTransactionsReady(SECONDS);
        const database = target === before && beforeScratch !== undefined ? new URL(beforeScratch.url).pathname.slice(1) : databaseName;
        const databaseUrl = target === before && beforeScratch !== undefined ? beforeScratch.url : scratch.url;
        const auditBefore = await auditCommits(databaseUrl);
        const cpuBefore = processTreeCpuMillis(target.pid);
        const threadsBefore = processTreeThreadTimes(target.pid);
        const dbBefore = postgresCpuMillis(database);
        const generatorBefore = process.cpuUsage();
        const { total, ...result } = await run(scenario, SECONDS);
        const generatorUsed = process.cpuUsage(generatorBefore);
        const cpuAfter = processTreeCpuMillis(target.pid);
        const threadsAfter = processTreeThreadTimes(target.pid);
        const dbAfter = postgresCpuMillis(database);
        const auditAfter = await auditCommits(databaseUrl);
        const perRequest = (used: number | undefined): number => (used === undefined ? Number.NaN : used / Math.max(1, total));
        const parts = postgresCpuParts(database, dbBefore, dbAfter);
        const figures: Figures = {
          ...result,
          cpu: perRequest(cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore),
          db: perRequest(postgresCpuBetween(dbBefore, dbAfter)),
          generator: perRequest((generatorUsed.user + generatorUsed.system) / 1000),
          dbParts: { opened: parts.opened, openedMillis: perRequest(parts.openedMillis), autovacuumMillis: perRequest(parts.autovacuumMillis) },
          commits: (auditAfter.commits - auditBefore.commits) / Math.max(1, total),
          threads: threadsPerRequest(threadsBefore, threadsAfter, total) };
        const open = figures.openLoop;
        results[name]?.push(figures);
        write(
          `  round ${String(round)} ${name.padEnd(23)} ${figures.rps.toFixed(0).padStart(6)} req/s  p50 ${ms(figures.p50).padStart(3)} ms  ` +
            (open === undefined ? '' : `p90 ${ms(open.p90)} ms  `) +
            `p99 ${ms(figures.p99).padStart(3)} ms  ` +
            (open === undefined ? '' : `max ${ms(open.max)} ms  (from the send p99 ${ms(open.sentP99)} ms; generator lag p99 ${ms(open.lagP99)}, max ${ms(open.lagMax)} ms; ${String(open.waited)} waited for a connection)  `) +
            `CPU ms/req: server ${figures.cpu.toFixed(3)}, PostgreSQL ${figures.db.toFixed(3)}, load generator ${figures.generator.toFixed(3)} (${String(figures.dbParts.opened)} connections opened meanwhile, all their CPU ${figures.dbParts.openedMillis.toFixed(3)}; autovacuum ${figures.dbParts.autovacuumMillis.toFixed(3)})  ${threadsText(figures.threads)}audit commits/req ${figures.commits.toFixed(2)}  load ${(loadavg()[0] ?? 0).toFixed(2)}` +
            (figures.non2xx + figures.errors > 0 ? `  (${String(figures.non2xx)} non-2xx, ${String(figures.errors)} errors${open !== undefined && open.dropped > 0 ? `, ${String(open.dropped)} of them never sent` : ''})` : ''),
        );
      }
      await noteMemory();
    }

    write();
    write('scenario                 req/s (median, min–max)    p99 ms (median, max)   req/s ÷ health   CPU ms/req (median): server, PostgreSQL   audit commits/req');
    const baseline = median((results.health ?? []).map((figures) => figures.rps));
    for (const [name, figures] of Object.entries(results)) {
      const rps = figures.map((figure) => figure.rps);
      const p99 = figures.map((figure) => figure.p99);
      write(
        `${name.padEnd(23)}  ${median(rps).toFixed(0).padStart(6)} (${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)})`.padEnd(51) +
          `${ms(median(p99)).padStart(5)} (${ms(Math.max(...p99))})`.padEnd(23) +
          (median(rps) / baseline).toFixed(3).padEnd(17) +
          `${median(figures.map((figure) => figure.cpu)).toFixed(3)}, ${median(figures.map((figure) => figure.db)).toFixed(3)}`.padEnd(42) +
          median(figures.map((figure) => figure.commits)).toFixed(2),
      );
    }
    const medianOf = (name: string): number => median((results[name] ?? []).map((figures) => figures.rps));
    const worstP99 = (name: string): number => Math.max(...(results[name] ?? []).map((figures) => figures.p99));
    const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
    write();
    const closedLoop = (name: string): boolean => scenarios[name]?.rate === undefined && !name.endsWith(' [before]');
    const uncachedLane = (name: string): boolean => scenarios[name]?.base.endsWith(' (no caches)') === true;
    const aimRate = (base: string | undefined): number => (base === 'sip-create' || base === 'fhir-tx' ? 100 : 2000);
    // The aims at their own rates first: that is what an aim of a rate with a p99 asks.
    for (const name of Object.keys(results).filter((name) => scenarios[name]?.rate !== undefined && scenarios[name].autocannon !== true && scenarios[name].undici !== true)) {
      const rate = scenarios[name]?.rate ?? 0;
      const achieved = Math.min(...(results[name] ?? []).map((figures) => figures.rps));
      write(
        `aim ${{ 'fhir-tx': 'transactions', 'fhir-search': 'searches' }[scenarios[name]?.base ?? ''] ?? 'reads'} at ${String(rate)}/s offered with p99 ≤ 50 ms (${name}): ${verdict(achieved >= RATE_ACHIEVED * rate && worstP99(name) <= 50)} ` +
          `(achieved ${achieved.toFixed(0)}/s in the slowest round, worst p99 ${ms(worstP99(name))} ms, each request timed from its due time at a constant rate)`,
      );
    }
    if (!transactions) write('aim ≥ 100 SIP transactions/s (fhir-tx): not measured — POST /fhir does not take transactions yet');
    // Closed-loop: the server's top rate, with its connections' queue as the latency (closedLoopVerdict says what that p99 is).
    for (const name of Object.keys(results).filter((name) => closedLoop(name) && !uncachedLane(name) && scenarios[name]?.base !== 'health' && scenarios[name]?.base !== 'fhir-status-page')) {
      const base = scenarios[name]?.base;
      const aim = aimRate(base);
      const judgedBy = Object.values(scenarios).some((scenario) => scenario.base === base && scenario.rate === aim) ? `${base ?? ''} @${String(aim)}/s` : undefined;
      write(
        closedLoopVerdict({
          name,
          what: base === 'fhir-tx' ? 'transactions' : base === 'sip-create' ? 'creates' : 'reads',
          rate: medianOf(name),
          worstP99: worstP99(name),
          connections: CONNECTIONS,
          aimRate: aim,
          ...(judgedBy === undefined ? {} : { judgedBy }),
        }),
      );
    }
    // The reads again with nothing remembered between requests: what the caches are worth, not the server as it runs.
    for (const name of Object.keys(results).filter((name) => closedLoop(name) && uncachedLane(name))) {
      write(`without caches, not the server as it runs (${name}): ${medianOf(name).toFixed(0)}/s, worst p99 ${String(worstP99(name))} ms — ${medianOf(name) >= 2000 && worstP99(name) <= 50 ? 'would meet' : 'would not meet'} the read aim`);
    }
    write();
    write("the server's threads, ms/req (median over the rounds): its event loop on a core, the event loop waiting for a core (runnable while every core was busy), its other threads on a core (V8's garbage collector and compiler helpers, workers)");
    for (const [name, figures] of Object.entries(results)) {
      const times = figures.map((figure) => figure.threads).filter((threads) => threads !== undefined);
      if (times.length === 0) continue;
      const of = (pick: (threads: ThreadTimes) => number): string => median(times.map(pick)).toFixed(3);
      write(`  ${name.padEnd(27)} ${of((threads) => threads.eventLoopRan)}, ${of((threads) => threads.eventLoopWaited)}, ${of((threads) => threads.othersRan)}`);
    }
    write();
    write('resident memory of each `sip-fhir serve` (the process and any under it), MB, with the plans its store held then: after the seeding, after each round; and its peak');
    const megabytes = (bytes: number | undefined): string => (bytes === undefined ? '?' : (bytes / 1024 / 1024).toFixed(0));
    for (const { label, served } of servers) {
      const notes = memory.get(served) ?? [];
      const peak = Math.max(...notes.map((note) => note.memory?.peak ?? Number.NaN));
      write(`  ${label.padEnd(27)} ${notes.map((note) => `${megabytes(note.memory?.current)} (${String(note.plans)})`).join(', ')}; peak ${megabytes(Number.isNaN(peak) ? undefined : peak)}`);
    }
  } finally {
    await server.stop();
    await uncached.stop();
    for (const variant of variants) await variant.server.stop();
    await before?.stop();
  }
  await inProcess(scratch.url, dataDir, token, planIds);
} finally {
  await scratch.drop();
  await beforeScratch?.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
