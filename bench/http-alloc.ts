/**
 * What a FHIR read or search allocates in `sip-fhir serve`, by allocation site, over HTTP: the whole
 * request as the server runs it (the router, auth, the store's SQL and pg's decoding, the rules, the
 * answer's bytes, the audit entry, the log line). bench/tx-alloc.ts does the same for a transaction's
 * steps in process, without HTTP or SQL.
 *
 * The server runs as bench:http runs it (`npm start`'s node options), on a scratch PostgreSQL database
 * with BENCH_PLANS (default 1000) plans recorded through the SIP API, with bench/alloc-sampler.ts
 * loaded: V8's sampling heap profiler in the server's own process, started and stopped by a signal
 * around BENCH_REQUESTS (default 10,000) requests offered at BENCH_RATE (default 2000) a second
 * (bench/open-loop.ts), after a warm-up of 4,000. For each of BENCH_SCENARIOS (default `read,search`:
 * `GET /fhir/CarePlan/{id}` and `GET /fhir/CarePlan?patient:identifier=…`, as bench:http's) it samples
 * twice:
 *
 * - **allocated**: every sampled allocation, those the scavenger freed included — what fills the young
 *   generation, so what sets how often it is scavenged;
 * - **promoted**: only what no scavenge freed — copied to the old space (and freed, if at all, by a
 *   mark-compact) or still alive. What the old space gains sets how often V8 marks it. This pass slows
 *   the server (compare the two passes' p99), and a slower answer is more often still in flight at a
 *   scavenge, so its figures are an upper bound.
 *
 * Each prints kB a request in all and the sites that allocate most themselves (a builtin such as
 * `Buffer`'s `slice` or `JSON.parse` named with the function that called it). Sampled every
 * BENCH_INTERVAL (default 4096) bytes on average: a figure moves by a few per cent from run to run,
 * and a smaller interval slows the server. Linux or macOS (SIGUSR2). Run with `npx tsx bench/http-alloc.ts`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { HeapProfiler } from 'node:inspector';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { issueLocalToken, loadOrCreateLocalKey } from '../src/http/auth/index.js';
import { createScratchDatabase } from '../test/store/postgres-scratch.js';
import { runOpenLoop } from './open-loop.js';
import { scriptSite, seededRequests, seededScenarios, seedOverHttp, startServe, write } from './support.js';

const PLANS = Number(process.env.BENCH_PLANS ?? '1000');
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? '10000');
const RATE = Number(process.env.BENCH_RATE ?? '2000');
const INTERVAL = process.env.BENCH_INTERVAL ?? '4096';
const TOP = Number(process.env.BENCH_TOP ?? '25');
const SCENARIOS = seededScenarios('read,search');
const ORG = 'SE2321000180-1000';

/** Bytes allocated by each site itself; a frame without a script (a builtin) counted as `builtin ← its caller`. */
function bySite(head: HeapProfiler.SamplingHeapProfileNode): { total: number; sites: Map<string, number> } {
  const sites = new Map<string, number>();
  let total = 0;
  const visit = (node: HeapProfiler.SamplingHeapProfileNode, caller: string): void => {
    const here = node.callFrame.url === '' ? `${node.callFrame.functionName || '(builtin)'} ← ${caller}` : scriptSite(node.callFrame);
    if (node.selfSize > 0) sites.set(here, (sites.get(here) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const child of node.children) visit(child, node.callFrame.url === '' ? caller : here);
  };
  visit(head, '(root)');
  return { total, sites };
}

async function waitFor(path: string): Promise<void> {
  const until = Date.now() + 60_000;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`the server's sampler wrote no ${path} within a minute`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const scratch = await createScratchDatabase();
const dataDir = mkdtempSync(join(tmpdir(), 'sip-http-alloc-'));
const allocDir = mkdtempSync(join(tmpdir(), 'sip-http-alloc-out-'));
try {
  const sampler = fileURLToPath(new URL('./alloc-sampler.ts', import.meta.url));
  const server = await startServe(scratch.url, dataDir, { nodeArgs: ['--import', 'tsx', '--import', sampler], env: { BENCH_ALLOC_DIR: allocDir, BENCH_ALLOC_INTERVAL: INTERVAL } });
  try {
    const pid = server.pid;
    if (pid === undefined) throw new Error('the server has no pid to signal');
    const token = await issueLocalToken({ org: ORG, scopes: 'system/*.*', ttlSeconds: 3600 }, await loadOrCreateLocalKey(dataDir), new Date());
    const requests = seededRequests(await seedOverHttp(server.url, token, PLANS, 'sip-http-alloc'));
    const auth = { Authorization: `Bearer ${token}` };
    write(`http-alloc: sip-fhir serve (pid ${String(pid)}), ${String(PLANS)} plans; ${String(REQUESTS)} requests a sample at ${String(RATE)}/s, sampled every ${INTERVAL} bytes`);
    for (const scenario of SCENARIOS) {
      const request = requests[scenario];
      await runOpenLoop({ url: server.url, rate: RATE, seconds: 4000 / RATE, headers: auth, request });
      for (const promotedOnly of [false, true]) {
        for (const file of ['started', 'profile.json', 'done']) rmSync(join(allocDir, file), { force: true });
        writeFileSync(join(allocDir, 'command.json'), JSON.stringify({ promotedOnly }));
        process.kill(pid, 'SIGUSR2');
        await waitFor(join(allocDir, 'started'));
        const result = await runOpenLoop({ url: server.url, rate: RATE, seconds: REQUESTS / RATE, headers: auth, request });
        process.kill(pid, 'SIGUSR2');
        await waitFor(join(allocDir, 'done'));
        if (result.non2xx + result.errors + result.dropped > 0) throw new Error(`${scenario}: ${String(result.non2xx)} answers outside 2xx, ${String(result.errors)} failed, ${String(result.dropped)} never sent`);
        const profile = JSON.parse(readFileSync(join(allocDir, 'profile.json'), 'utf8')) as HeapProfiler.SamplingHeapProfile;
        const { total, sites } = bySite(profile.head);
        const answered = result.completed;
        const kB = (bytes: number): string => (bytes / answered / 1024).toFixed(2);
        write(`${scenario}, ${promotedOnly ? 'promoted (no scavenge freed it)' : 'allocated'}: ${kB(total)} kB a request (${result.achieved.toFixed(0)}/s, p99 ${result.latency.p99.toFixed(1)} ms)`);
        for (const [site, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, TOP)) write(`  ${kB(bytes).padStart(7)}  ${site}`);
      }
    }
  } finally {
    await server.stop();
  }
} finally {
  await scratch.drop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(allocDir, { recursive: true, force: true });
}
