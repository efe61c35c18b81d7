/**
 * The CPU the per-request HTTP stack costs, this checkout's `createApp` against another checkout's
 * (`BENCH_BEFORE_DIR`), in process and without sockets: each request is a node:http IncomingMessage and
 * ServerResponse on a socket that discards what is written, handed to the app as node's server would,
 * `BENCH_IN_FLIGHT` (default 10) at a time; `process.cpuUsage` per request. Without the kernel's loopback,
 * the HTTP parser and a load generator on the same cores, the figure is the stack's own and much steadier
 * than bench/http-stack-ab.ts's on a loaded machine. Over a store that knows no plan: `GET /health`, a FHIR
 * read and a SIP read of a plan not there (404: every layer up to the route, the route, the error answer),
 * the FHIR read without a token (401), a path no route takes (404). Interleaved rounds (which lane goes first
 * alternates), `BENCH_ROUNDS` (default 12) of `BENCH_REQUESTS` (default 4000) per scenario and lane;
 * medians of CPU µs per request, the ratio, the load average.
 * Run with `BENCH_BEFORE_DIR=/work/wt/start npx tsx bench/http-stack-inject.ts`.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { Duplex } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import type { AppDependencies, createApp as CreateApp } from '../src/http/app.js';
import { HttpError } from '../src/http/problem.js';
import { median } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '12');
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? '4000');
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? '10');
const BEFORE_DIR = process.env.BENCH_BEFORE_DIR;
if (BEFORE_DIR === undefined) throw new Error('Set BENCH_BEFORE_DIR to the checkout to compare with');

const SCENARIOS: readonly { name: string; path: string; token?: boolean }[] = [
  { name: 'health', path: '/health' },
  { name: 'fhir-read 404', path: '/fhir/CarePlan/sip-bench-1', token: true },
  { name: 'sip-read 404', path: '/sip/plans/sip-bench-1', token: true },
  { name: 'fhir-read 401', path: '/fhir/CarePlan/sip-bench-1' },
  { name: 'not found', path: '/nowhere/at/all' },
];

const dependencies: AppDependencies = {
  // A store that knows no plan: every method answers nothing (a read is a 404 after its route ran).
  store: new Proxy({}, { get: (_target, name) => (name === 'then' || name === 'outbox' ? undefined : () => Promise.resolve(name === 'keptWithResource' ? [] : undefined)) }) as AppDependencies['store'],
  clock: () => new Date(),
  logger: pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false, minLength: 4096 })),
  maxBodyBytes: 1024 * 1024,
  rateLimitPerMinute: 1_000_000_000,
  authenticate: (request) =>
    request.headers.authorization === undefined ? Promise.reject(new HttpError(401, 'Unauthorized', 'Send a bearer token')) : Promise.resolve({ organization: 'SE2321000180-1000', may: () => true }),
  mayAccess: () => ({ allowed: false, reason: 'never reached' }),
};

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

async function build(dir: string): Promise<Handler> {
  const { createApp } = (await import(pathToFileURL(resolve(dir, 'src/http/app.ts')).href)) as { createApp: typeof CreateApp };
  return createApp(dependencies);
}

/** A socket that takes whatever is written and never sends anything. */
class NullSocket extends Duplex {
  readonly remoteAddress = '127.0.0.1';
  override _read(): void {
    // Nothing comes from the caller but the request already parsed.
  }
  override _write(_chunk: unknown, _encoding: BufferEncoding, callback: () => void): void {
    callback();
  }
}

/** One request through `app`, as node's server hands it over; resolves when the answer is finished. */
function inject(app: Handler, path: string, token: boolean): Promise<number> {
  const socket = new NullSocket();
  const request = new IncomingMessage(socket as never);
  request.method = 'GET';
  request.url = path;
  request.httpVersion = '1.1';
  request.httpVersionMajor = 1;
  request.httpVersionMinor = 1;
  request.headers = { host: '127.0.0.1:8080', 'user-agent': 'bench', accept: '*/*', ...(token ? { authorization: 'Bearer t' } : {}) };
  request.push(null);
  const response = new ServerResponse(request);
  response.assignSocket(socket as never);
  return new Promise((done) => {
    response.on('finish', () => {
      response.detachSocket(socket as never);
      done(response.statusCode);
    });
    app(request, response);
  });
}

async function run(app: Handler, { path, token = false }: { path: string; token?: boolean }, count: number): Promise<number> {
  const start = process.cpuUsage();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      await inject(app, path, token);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}

const lanes = { now: await build('.'), before: await build(BEFORE_DIR) };
for (const scenario of SCENARIOS) for (const app of Object.values(lanes)) await run(app, scenario, REQUESTS);

// What each lane answers (the same status, or the comparison is of different work).
for (const scenario of SCENARIOS) {
  const statuses = await Promise.all(Object.values(lanes).map((app) => inject(app, scenario.path, scenario.token ?? false)));
  process.stdout.write(`${scenario.name}: ${statuses.join(' / ')}\n`);
  if (new Set(statuses).size !== 1) throw new Error(`${scenario.name}: the lanes answer ${statuses.join(' and ')}`);
}
const figures = new Map(SCENARIOS.map((scenario) => [scenario.name, { now: [] as number[], before: [] as number[] }]));
const loads: number[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  loads.push(loadavg()[0] ?? 0);
  const order: ('now' | 'before')[] = round % 2 === 1 ? ['now', 'before'] : ['before', 'now'];
  for (const scenario of SCENARIOS) {
    const figure = figures.get(scenario.name);
    if (figure === undefined) continue;
    for (const lane of order) figure[lane].push(await run(lanes[lane], scenario, REQUESTS));
  }
}
process.stdout.write(`CPU µs per request, median of ${String(ROUNDS)} rounds of ${String(REQUESTS)} (load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}):\n`);
for (const [name, figure] of figures) {
  const ratios = figure.now.map((now, index) => now / (figure.before[index] ?? Number.NaN));
  process.stdout.write(`  ${name.padEnd(14)} now ${median(figure.now).toFixed(1)}  before ${median(figure.before).toFixed(1)}  ratio ${median(ratios).toFixed(3)} (${String(ratios.filter((ratio) => ratio < 1).length)} of ${String(ratios.length)} rounds lower; ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})\n`);
}
process.exit(0);
