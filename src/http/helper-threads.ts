/**
 * The server's helper threads at a lower scheduling priority than its event loop (`SIP_HELPER_NICE`).
 *
 * Why: on the two-core machines here, the event loop shares the cores with PostgreSQL, the clients
 * and the process's own helper threads — V8's platform workers, which do the garbage collector's
 * concurrent marking and the compiler's background work, and libuv's pool. When a major collection
 * marks concurrently, its helpers take ≈ 60 ms of a core within ≈ 100 ms, and the event loop, ready to
 * answer, waits for a core meanwhile: bench/stalls.ts found that behind every stall of 40–60 ms that
 * broke a round's p99 at 2,000 reads/s. With the helpers at nice 10 or 19 and the event loop at 0, the
 * kernel runs the event loop first and the helpers in the time left (the cores were ≈ 40 % idle on
 * the whole): the share of reads slower than 25 ms fell from 0.9–1.7 % to 0.1–0.5 % in the same
 * interleaved runs, and the p99 from 24–34 ms to 14–19 ms (docs/performance.md, "The helpers' nice").
 *
 * How: on Linux a nice value is a thread's own (setpriority(2) on a thread id changes that thread
 * alone; sched(7), "The nice value"), so every thread of the process but the main one is set, once,
 * when the server starts. Threads the main thread makes later — the validation workers
 * (`SIP_VALIDATION_WORKERS`) — inherit its nice of 0 and keep it. libuv's pool is already there at the
 * start (node's module loader uses it), and is set too: its work in the server (a token's signature
 * check when it is not remembered, the log's writes) is short. Elsewhere than Linux, or where
 * `/proc/self/task` cannot be read, nothing is changed.
 */
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/** What {@link niceHelperThreads} did: the threads it set, or why it set none. */
export type HelperNice = { readonly set: number; readonly failed: number } | { readonly skipped: string };

/** What the function reads and calls, so that a test can give its own. */
export interface HelperNiceHost {
  readonly platform: NodeJS.Platform;
  /** This process's id: its main thread's id on Linux. */
  readonly pid: number;
  /** The ids of this process's threads (`/proc/self/task`). */
  readonly threadIds: () => readonly string[];
  readonly setPriority: (threadId: number, nice: number) => void;
}

const processHost: HelperNiceHost = {
  platform: process.platform,
  pid: process.pid,
  threadIds: () => readdirSync('/proc/self/task'),
  setPriority,
};

/**
 * Sets every thread of this process but its main one to `nice` (1–19; 0 leaves them alone), on Linux.
 * A thread that ended meanwhile, or that the system refuses, is counted as failed and left as it is.
 */
export function niceHelperThreads(nice: number, host: HelperNiceHost = processHost): HelperNice {
  if (nice === 0) return { skipped: 'SIP_HELPER_NICE is 0' };
  if (host.platform !== 'linux') return { skipped: `a thread's own nice value is Linux's, not ${host.platform}'s` };
  let ids: readonly string[];
  try {
    ids = host.threadIds();
  } catch (error) {
    return { skipped: `this process's threads cannot be listed: ${error instanceof Error ? error.message : String(error)}` };
  }
  let set = 0;
  let failed = 0;
  for (const id of ids) {
    if (Number(id) === host.pid) continue;
    try {
      host.setPriority(Number(id), nice);
      set++;
    } catch {
      failed++;
    }
  }
  return { set, failed };
}
