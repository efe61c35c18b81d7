/**
 * What the HTTP benchmarks share: plans (the adult example as new plans, each with its own id and
 * person, recorded now with a consent from today, so a run on any day may send (read) them), the
 * server as a child process, and the median.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { formatDate, parsePlan, parsePlanText, stockholmDate, type SipPlan } from '../src/sip/index.js';

/** A valid personnummer `YYYYMMDD-NNNC` for a serial number: born 1950–1999, Luhn check digit. */
export function personnummer(serial: number): string {
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

const parsed = parsePlanText(readFileSync('examples/adult-psychiatry-addiction.json', 'utf8'));
if (!parsed.ok) throw new Error('examples/adult-psychiatry-addiction.json does not parse');
/** The adult example as the SIP model reads it (defaults filled in, which the mapping needs). */
const adult: SipPlan = parsed.plan;

/** Plan `id` of person `person`: the adult example as a new plan, version 1, not yet approved. */
export function newPlan(id: string, person: string, now: Date = new Date()): SipPlan {
  const today = formatDate(stockholmDate(now));
  const in300Days = formatDate(stockholmDate(new Date(now.getTime() + 300 * 86_400_000)));
  return {
    ...adult,
    id,
    version: 1,
    approvals: [],
    individual: { ...adult.individual, identifier: { ...adult.individual.identifier, value: person } },
    updatedAt: now.toISOString(),
    consents: adult.consents.map((consent) => ({ ...consent, planId: id, givenAt: today, validUntil: in300Days })),
  };
}

/**
 * {@link newPlan} as `parsePlan` returns it — the plan a server records and keeps its derived data of
 * (identifiers normalised: the personnummer without its dash). What a bench records with
 * `derivedVersion` must be this: the kept texts of the raw plan name the Patient by an id the stored
 * plan's mapping does not give, so every delivery mapped the Patient again and left the references to
 * it relative (docs/performance.md, "The exchange, seventh round").
 */
export function newStoredPlan(id: string, person: string, now: Date = new Date()): SipPlan {
  const parsed = parsePlan(newPlan(id, person, now));
  if (!parsed.ok) throw new Error(`the bench plan ${id} does not parse: ${JSON.stringify(parsed.problems)}`);
  return parsed.plan;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export const write = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

/** `sip-fhir serve` as a child process on loopback. */
export interface Served {
  readonly url: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * Starts `sip-fhir serve` as a child process — as it runs in production, and so that autocannon's own
 * CPU is not counted in the server's event loop — on the database, without the example plans and
 * with the rate limit lifted; `env` adds settings, `nodeArgs` options of node (`--cpu-prof`, say).
 */
export async function startServe(
  databaseUrl: string,
  dataDir: string,
  options: { env?: Readonly<Record<string, string>>; nodeArgs?: readonly string[]; /** Another checkout to run (its src/), for a before/after in the same rounds. */ cwd?: string } = {},
): Promise<Served> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', 'src/cli/bin.ts', 'serve', '--port', '0', '--host', '127.0.0.1', '--no-examples'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, SIP_DATA_DIR: dataDir, SIP_RATE_LIMIT: '100000000', ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  let stopping = false;
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }));
  // A server that ends before it is stopped says so, with the end of what it wrote: a bench waiting for
  // its deliveries would otherwise wait without a word.
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`sip-fhir serve (pid ${String(child.pid)}) ended by itself (${String(code ?? signal)}):\n${stderr.slice(-2_000)}\n`);
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once('exit', (code) => {
      reject(new Error(`sip-fhir serve ended (${String(code)}):\n${stderr}`));
    });
  });
  return {
    url,
    pid: child.pid,
    stop: async () => {
      stopping = true;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * CPU time (user + system, ms) a process has used so far, from /proc on Linux; undefined elsewhere.
 * (The same reading as bench/http.ts makes; kept here for the benches that came after it.)
 */
export function processCpuMillis(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised command name): utime and stime, in clock ticks (100 a second).
    const fields = readFileSync(`/proc/${String(pid)}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/**
 * CPU time (ms) used so far by a process and every process under it (a server started with
 * `SIP_PROCESSES` > 1 is a primary with its server processes as children), from /proc on Linux. A
 * child that ended is counted no more: read it around work during which none ends.
 */
export function processTreeCpuMillis(pid: number | undefined): number | undefined {
  const own = processCpuMillis(pid);
  if (pid === undefined || own === undefined) return own;
  let total = own;
  try {
    for (const task of readdirSync(`/proc/${String(pid)}/task`)) {
      const children = readFileSync(`/proc/${String(pid)}/task/${task}/children`, 'utf8').trim();
      for (const child of children === '' ? [] : children.split(' ')) total += processTreeCpuMillis(Number(child)) ?? 0;
    }
  } catch {
    // The process ended while being read.
  }
  return total;
}

/** CPU time (ms) used so far by the PostgreSQL backends serving `database` (process title `postgres: <user> <database> …`), by pid. */
export function postgresCpuMillis(database: string): Map<number, number> | undefined {
  try {
    const backends = new Map<number, number>();
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        const used = title.startsWith('postgres: ') && title.split(' ').includes(database) ? processCpuMillis(Number(pid)) : undefined;
        if (used !== undefined) backends.set(Number(pid), used);
      } catch {
        // The process ended while being read.
      }
    }
    return backends;
  } catch {
    return undefined;
  }
}

/** CPU time the backends used between two readings of {@link postgresCpuMillis}. */
export function postgresCpuBetween(before: Map<number, number> | undefined, after: Map<number, number> | undefined): number | undefined {
  if (before === undefined || after === undefined) return undefined;
  let total = 0;
  for (const [pid, used] of after) total += used - (before.get(pid) ?? 0);
  return total;
}
