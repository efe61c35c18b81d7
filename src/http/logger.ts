/**
 * The service's log when none is handed in: pino JSON on standard output, written asynchronously in
 * batches instead of one synchronous `write(2)` per line (docs/performance.md: sonic-boom's synchronous
 * write of each request's line was ≈ 5 % of a read's server time).
 *
 * Lines are gathered until {@link LOG_BATCH_BYTES} are waiting or {@link LOG_FLUSH_MS} have passed, then
 * written in one call; a line thus reaches the log up to that long after it was made. Nothing is lost
 * on a normal end: `close` flushes what is waiting, and pino flushes its asynchronous destinations
 * synchronously when the process exits (`exit`, and `beforeExit`; also after an uncaught exception,
 * since the process still exits through `exit`). What is waiting is lost only when the process is killed
 * outright (SIGKILL, the machine stopping) — at most the last {@link LOG_FLUSH_MS} of lines; the audit
 * log, which is what must not be lost, is in the database and committed before each answer.
 */
import { pino, type Logger } from 'pino';

/** Bytes of lines gathered before they are written (≈ 15 request lines). */
export const LOG_BATCH_BYTES = 4_096;
/** The longest a line waits to be written. */
export const LOG_FLUSH_MS = 250;

export interface ServiceLog {
  readonly logger: Logger;
  /** Writes what is waiting, synchronously; for the server's close. */
  readonly flush: () => void;
}

/** The service's own log on standard output (fd 1), batched as above. */
export function serviceLog(): ServiceLog {
  const destination = pino.destination({ dest: 1, sync: false, minLength: LOG_BATCH_BYTES, periodicFlush: LOG_FLUSH_MS });
  const logger = pino({ name: 'sip-fhir' }, destination);
  return {
    logger,
    flush: () => {
      try {
        destination.flushSync();
      } catch {
        // Not open yet (nothing was written), or the reader has gone: nothing to flush to.
      }
    },
  };
}
