/**
 * The service as several processes on one port (`SIP_PROCESSES`, node:cluster): one Node.js event
 * loop is one core, and a read or a transaction spends most of its server time on that loop, so a
 * machine with cores to spare serves more with more processes (on the two-core machines here, where
 * PostgreSQL and the load generator share the cores: transactions 1.3–1.55×, reads and searches
 * 0.76–0.96×; docs/performance.md, "Several processes"). Each process is a whole server
 * (`startServer`): its own PostgreSQL pool, validators, token memory and outbox worker. What they
 * must agree on lives where they can all see it:
 *
 * - the plans, the audit log and the outbox are in PostgreSQL, which serialises the writes to one
 *   plan (row locks), keeps a conditional create single (unique keys) and gives each delivery to one
 *   worker (claims), exactly as for several instances of the adapter on one database;
 * - the schema is migrated and the example plans are loaded once, by the primary, before any
 *   process serves;
 * - the rate limit's counts are the primary's (`@express-rate-limit/cluster-memory-store`), so an
 *   address meets `SIP_RATE_LIMIT` however its connections are spread;
 * - the local signing key is made exclusively in the data folder (auth/local-key.ts): every process
 *   reads the same key.
 *
 * The primary serves no request. It starts the processes, prints one banner when all of them listen,
 * starts a new one when one dies, and on SIGINT or SIGTERM asks each to close (each finishes what it
 * answers, stops its outbox worker and closes its pool). A process whose primary is gone ends at once
 * (node:cluster exits a worker whose channel closes), as in a crash: PostgreSQL rolls back what it had
 * not committed.
 * The embedded store (PGlite) lives in one process, so more than one needs `DATABASE_URL` (config.ts).
 */
import cluster, { type Worker } from 'node:cluster';
import { ClusterMemoryStorePrimary, ClusterMemoryStoreWorker } from '@express-rate-limit/cluster-memory-store';
import type { Logger } from 'pino';
import { planResourceIds } from '../fhir/index.js';
import { createPlanStore } from '../store/index.js';
import type { ServerConfig } from './config.js';
import { loadExamples, startServer } from './server.js';

/** What a process tells the primary once it listens, or why it could not start. */
export type ProcessReport =
  | { readonly kind: 'sip:listening'; readonly url: string; readonly authMode: string; readonly receiverSummary: readonly string[] }
  | { readonly kind: 'sip:failed'; readonly message: string; readonly name: string; readonly code?: string };

/** What the primary tells a process: close. */
export interface CloseRequest {
  readonly kind: 'sip:close';
}

/** A process that could not start: its error's name, code and message, as the one-process server would have thrown them. */
export class ProcessStartError extends Error {
  readonly code: string | undefined;
  constructor(report: Extract<ProcessReport, { kind: 'sip:failed' }>) {
    super(report.message);
    this.name = report.name;
    this.code = report.code;
  }
}

/** The running processes, as the primary sees them. */
export interface ServiceProcesses {
  readonly url: string;
  readonly authMode: string;
  readonly receiverSummary: readonly string[];
  /** Asks every process to close and waits until each has ended (killing one that takes longer than `graceMs`). */
  close(graceMs?: number): Promise<void>;
}

function isReport(message: unknown): message is ProcessReport {
  const kind = (message as { kind?: unknown } | null)?.kind;
  return kind === 'sip:listening' || kind === 'sip:failed';
}

/** Migrates the schema and loads the examples into a new store, once, before any process serves. */
export async function prepareStore(config: ServerConfig): Promise<void> {
  if (config.databaseUrl === undefined) throw new Error('several processes need DATABASE_URL: the embedded store lives in one process');
  const store = await createPlanStore({ databaseUrl: config.databaseUrl, prepare: config.pgPrepare });
  try {
    await store.migrate({ resourcesOf: planResourceIds });
    if (config.loadExamples) await loadExamples(store);
  } finally {
    await store.close();
  }
}

/** Resolves with a process's first report, or fails if it ends before it reports. */
function firstReport(worker: Worker): Promise<ProcessReport> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      if (!isReport(message)) return;
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      resolve(message);
    };
    const onExit = (code: number | null, signal: string | null): void => {
      // The process may end before its last message is read from the channel: that message still
      // comes, before the channel's 'disconnect'.
      const failed = (): void => {
        worker.off('message', onMessage);
        reject(new Error(`a server process ended (${String(signal ?? code)}) before it listened`));
      };
      if (worker.isConnected()) worker.once('disconnect', failed);
      else failed();
    };
    worker.on('message', onMessage);
    worker.once('exit', onExit);
  });
}

/** Waits until a process has ended, killing it after `graceMs`. */
function ended(worker: Worker, graceMs: number): Promise<void> {
  if (worker.isDead()) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      worker.process.kill('SIGKILL');
    }, graceMs);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * The primary: prepares the store, starts `config.processes` processes running this same command,
 * and resolves once every one listens. A process that cannot start stops them all and rejects with
 * its error ({@link ProcessStartError}: a port in use, a bad receivers file). Afterwards a process that
 * dies is replaced, one second later, and said so in the log.
 */
export async function startPrimary(config: ServerConfig, logger: Logger): Promise<ServiceProcesses> {
  await prepareStore(config);
  new ClusterMemoryStorePrimary().init();
  let closing = false;
  const workers = new Set<Worker>();
  const fork = (): Worker => {
    const worker = cluster.fork();
    workers.add(worker);
    // A message that cannot be sent to a process that is ending is not the primary's failure.
    worker.on('error', (error) => {
      logger.warn({ pid: worker.process.pid, error: error.message }, 'a server process could not be reached');
    });
    worker.once('exit', (code, signal) => {
      workers.delete(worker);
      if (closing) return;
      logger.error({ pid: worker.process.pid, code, signal }, 'a server process ended; starting another');
      setTimeout(() => {
        if (closing) return;
        const replacement = fork();
        firstReport(replacement).then(
          (report) => {
            if (report.kind === 'sip:failed') logger.error({ error: report.message }, 'a new server process could not start');
            else logger.info({ pid: replacement.process.pid }, 'a new server process listens');
          },
          (error: unknown) => {
            logger.error({ error: error instanceof Error ? error.message : String(error) }, 'a new server process could not start');
          },
        );
      }, 1_000).unref();
    });
    return worker;
  };
  const close = async (graceMs = 10_000): Promise<void> => {
    closing = true;
    const all = [...workers];
    for (const worker of all) {
      // A process whose channel is closing (it failed to start, or ends) cannot be asked: it is told by signal.
      if (worker.isConnected()) {
        worker.send({ kind: 'sip:close' } satisfies CloseRequest, (error: Error | null) => {
          if (error !== null) worker.process.kill('SIGTERM');
        });
      } else worker.process.kill('SIGTERM');
    }
    await Promise.all(all.map((worker) => ended(worker, graceMs)));
  };
  const started = Array.from({ length: config.processes }, fork);
  const reports = await Promise.allSettled(started.map(firstReport));
  const failure = reports.find((report) => report.status === 'rejected' || report.value.kind === 'sip:failed');
  if (failure !== undefined) {
    await close();
    if (failure.status === 'rejected') throw failure.reason;
    throw new ProcessStartError(failure.value as Extract<ProcessReport, { kind: 'sip:failed' }>);
  }
  const first = (reports[0] as PromiseFulfilledResult<Extract<ProcessReport, { kind: 'sip:listening' }>>).value;
  return { url: first.url, authMode: first.authMode, receiverSummary: first.receiverSummary, close };
}

/**
 * One of the processes: the whole server on the shared port, without loading the examples (the
 * primary did), its rate limit counted by the primary. Reports to the primary, then serves until the
 * primary asks it to close or it is sent SIGTERM; SIGINT alone (a terminal's Ctrl-C reaches the
 * whole process group) is left to the primary, which then asks every process to close.
 */
export async function runServerProcess(config: ServerConfig): Promise<number> {
  const report = (message: ProcessReport): Promise<void> =>
    new Promise((resolve) => {
      if (process.send === undefined) resolve();
      else process.send(message, undefined, undefined, () => { resolve(); });
    });
  let server;
  try {
    server = await startServer({ ...config, loadExamples: false }, { rateLimitStore: new ClusterMemoryStoreWorker() });
  } catch (error) {
    const failed = error instanceof Error ? error : new Error(String(error));
    const code = (error as NodeJS.ErrnoException).code;
    await report({ kind: 'sip:failed', message: failed.message, name: failed.name, ...(code === undefined ? {} : { code }) });
    // node:cluster ends a worker whose channel closes; the primary reads the report first.
    process.disconnect();
    return 2;
  }
  await report({ kind: 'sip:listening', url: server.url, authMode: server.authenticator.mode, receiverSummary: server.receiverSummary ?? [] });
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGTERM', done);
      process.off('message', onMessage);
      resolve();
    };
    const onMessage = (message: unknown): void => {
      if ((message as Partial<CloseRequest> | null)?.kind === 'sip:close') done();
    };
    process.on('SIGINT', () => undefined);
    process.on('SIGTERM', done);
    process.on('message', onMessage);
  });
  await server.close();
  // node:cluster ends the process here (exit 0).
  if (process.connected) process.disconnect();
  return 0;
}
