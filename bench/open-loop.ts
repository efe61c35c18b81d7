/**
 * A constant-rate, open-loop HTTP load, as wrk2 and k6's `constant-arrival-rate` define it: request `i`
 * is **due** at `t0 + i / rate`; it is sent when due, or as soon as a connection is free if every
 * connection is busy; and its latency runs **from its due time** to the last byte of its response. A
 * server that stalls for 300 ms therefore counts those 300 ms (less what each had already waited) for
 * every request that fell due during the stall, and the backlog it leaves behind counts too: the p99 is
 * that of the requests a client at that rate would have seen. This is the only coordinated-omission
 * correction that needs no assumption about the load.
 *
 * Why not autocannon's `overallRate` (8.0.0), which bench:http used before (read in its source):
 *  - it is no constant rate: each connection may send `overallRate / connections` requests a second
 *    (node_modules/autocannon/lib/run.js:199–200 and 224–226, `distributeNums`), **back to back** while
 *    `reqsMadeThisSecond++ < rate` (lib/httpClient.js:156), then pauses until a `setInterval(…, 1000)`
 *    resets the count (lib/httpClient.js:67–73). At 100/s on 10 connections every second begins with a
 *    closed-loop burst of up to 100 requests, 10 in flight, and then nothing;
 *  - its "correction" (lib/run.js:241–242) is `recordValueWithExpectedInterval(responseTime,
 *    Math.ceil(1 / rate))` with `rate` that per-connection count, so the interval is 1 ms whatever the
 *    rate, and hdr-histogram-js then records for a response of L ms also L−1 ms, L−2 ms, … 1 ms
 *    (hdr-histogram-js/dist/JsHistogram.js:536–544, `recordSingleValueWithExpectedInterval`; autocannon builds the WASM
 *    histogram, which does the same: 99 responses of 10 ms and one of 300 ms give a p50 of 7 ms and a
 *    p99 of 288 ms). Every response then counts in proportion to its latency: its p99 is that of a
 *    length-biased distribution, not of the requests, and its `responseTime` runs from the send, not
 *    from when the request was due.
 *
 * The wire is bench/raw-http.ts (a fixed number of keep-alive connections over `node:net`, one request
 * in flight on each, each answer read only for its status and its end), or undici's `Pool` with
 * `client: 'undici'` (as before 2026-12-06: the same connections, at about twice the generator's CPU a
 * request, which the two cores then did not have for the server); the percentiles are
 * hdr-histogram-js's, in microseconds. The
 * scheduler wakes by `setTimeout` (≈ 1 ms resolution) and sends everything already due at each wake,
 * so at 2,000/s it sends a few requests a wake; how late it woke for each request is reported as the
 * generator's own lag, so a reader can see whether the generator kept up (its lateness is in every
 * latency, since latencies run from the due time, but then it is the generator's, not the server's).
 */
import { performance } from 'node:perf_hooks';
import { build, type Histogram } from 'hdr-histogram-js';
import { Pool } from 'undici';
import { RawHttpPool, type RawOutcome, type RawRequest } from './raw-http.js';

/** One request of the load, a GET or a POST; `path` is relative to the pool's origin, and a body given as bytes is written without encoding it at each request. */
export interface OpenLoopRequest extends RawRequest {
  readonly method: 'GET' | 'POST';
}

export interface OpenLoopOptions {
  /** The server's origin, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /** Requests offered per second. */
  readonly rate: number;
  /** How long requests fall due: `round(rate × seconds)` requests in all. */
  readonly seconds: number;
  /** Keep-alive connections of the pool (default 64): at most this many requests in flight. */
  readonly connections?: number;
  /** Headers of every request (a request's own are added to them). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The `index`-th request; called when it is sent, not before. */
  readonly request: (index: number) => OpenLoopRequest;
  /**
   * Requests not yet sent this long after `t0` are dropped (counted, not sent): a server far below the
   * rate would otherwise keep the run going for as long as its backlog. Default `max(3 × seconds, seconds + 10)`.
   */
  readonly maxSeconds?: number;
  /** An answer's headers and body must each come within this (ms, default 30,000), or it is an error. */
  readonly timeoutMs?: number;
  /** The HTTP client: `raw` (bench/raw-http.ts, the default) or `undici` (its `Pool`, as before 2026-12-06). */
  readonly client?: 'raw' | 'undici';
  /** Called with each answered request's due time, send time and end (`performance.now()`, ms) and its status: a time series of the run (bench/stalls.ts). */
  readonly onAnswer?: (answer: { readonly due: number; readonly sent: number; readonly end: number; readonly statusCode: number }) => void;
}

/** Percentiles of a histogram, in milliseconds. */
export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export interface OpenLoopResult {
  /** The rate offered, requests/s. */
  readonly offered: number;
  /** The requests that fell due (`round(rate × seconds)`). */
  readonly due: number;
  /** Answers of any status. */
  readonly completed: number;
  /** 2xx answers ÷ max(the time requests fell due, the time to the last answer), per second. */
  readonly achieved: number;
  /** Answers with a status outside 2xx. */
  readonly non2xx: number;
  /** Requests that failed on the wire (connection errors, timeouts). */
  readonly errors: number;
  /** Requests never sent (still waiting for a connection at `maxSeconds`). */
  readonly dropped: number;
  /** From each 2xx request's due time to the last byte of its answer: the figure to judge a p99 by. */
  readonly latency: Percentiles;
  /** From each 2xx request's send to the last byte of its answer: what a closed-loop or send-time measurement reports. */
  readonly service: Percentiles;
  /** How late the scheduler reached each request after its due time: the generator's own lag. */
  readonly lag: Percentiles;
  /** Requests that found every connection busy and waited for one (the server's backlog, not the generator's). */
  readonly waitedForConnection: number;
  /** Wall time from `t0` to the last answer, s. */
  readonly elapsed: number;
}

/** A histogram of microseconds up to an hour, three significant digits. */
function microseconds(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
}

function record(histogram: Histogram, milliseconds: number): void {
  histogram.recordValue(Math.max(1, Math.round(milliseconds * 1000)));
}

/** The percentiles of a histogram of microseconds, in milliseconds (NaN when it is empty). */
export function percentiles(histogram: Histogram): Percentiles {
  if (histogram.totalCount === 0) return { p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN };
  const ms = (value: number): number => value / 1000;
  return {
    p50: ms(histogram.getValueAtPercentile(50)),
    p90: ms(histogram.getValueAtPercentile(90)),
    p99: ms(histogram.getValueAtPercentile(99)),
    max: ms(histogram.maxValue),
    mean: ms(histogram.mean),
  };
}

/** A FIFO of the requests due while every connection was busy. */
class Backlog {
  readonly #due: number[] = [];
  readonly #index: number[] = [];
  #head = 0;
  get size(): number {
    return this.#due.length - this.#head;
  }
  push(index: number, due: number): void {
    this.#index.push(index);
    this.#due.push(due);
  }
  shift(): { index: number; due: number } | undefined {
    if (this.size === 0) return undefined;
    const next = { index: this.#index[this.#head] ?? 0, due: this.#due[this.#head] ?? 0 };
    this.#head++;
    return next;
  }
}

/** The client the scheduler sends on: one request at a time on each of its connections, `done` called once per request. */
interface Wire {
  request(request: OpenLoopRequest, done: (outcome: RawOutcome) => void): void;
  close(): Promise<void>;
}

function rawWire(url: string, connections: number, timeoutMs: number): Wire {
  const pool = new RawHttpPool(url, { connections, timeoutMs });
  return {
    request: (request, done) => { pool.request(request, done); },
    close: () => {
      pool.close();
      return Promise.resolve();
    },
  };
}

function undiciWire(url: string, connections: number, timeoutMs: number): Wire {
  const pool = new Pool(url, { connections, pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  return {
    request: (request, done) => {
      pool
        .request({ method: request.method, path: request.path, ...(request.headers === undefined ? {} : { headers: request.headers }), ...(request.body === undefined ? {} : { body: request.body }) })
        .then(async ({ statusCode, body }) => {
          await body.arrayBuffer();
          return statusCode;
        })
        .then(
          (statusCode) => {
            done({ statusCode });
          },
          (error: unknown) => {
            done({ error: error instanceof Error ? error : new Error(String(error)) });
          },
        );
    },
    close: () => pool.close(),
  };
}

/** Offers `rate` requests a second for `seconds` and measures each from its due time (see the module's header). */
export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const connections = options.connections ?? 64;
  const total = Math.round(options.rate * options.seconds);
  const interval = 1000 / options.rate;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxMs = 1000 * (options.maxSeconds ?? Math.max(3 * options.seconds, options.seconds + 10));
  const wire = options.client === 'undici' ? undiciWire(options.url, connections, timeoutMs) : rawWire(options.url, connections, timeoutMs);
  const latency = microseconds();
  const service = microseconds();
  const lag = microseconds();
  const backlog = new Backlog();
  let inFlight = 0;
  let scheduled = 0;
  let completed = 0;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let dropped = 0;
  let waited = 0;
  let lastEnd = 0;
  const t0 = performance.now() + 5;

  try {
    await new Promise<void>((resolve) => {
      const finishIfDone = (): void => {
        if (scheduled === total && inFlight === 0 && backlog.size === 0) resolve();
      };
      const send = (index: number, due: number): void => {
        inFlight++;
        const request = options.request(index);
        const sentAt = performance.now();
        const done = (): void => {
          inFlight--;
          const next = backlog.shift();
          if (next !== undefined) {
            if (performance.now() - t0 > maxMs) {
              dropped += backlog.size + 1;
              while (backlog.shift() !== undefined);
            } else send(next.index, next.due);
          }
          finishIfDone();
        };
        wire.request({ method: request.method, path: request.path, headers: { ...options.headers, ...request.headers }, ...(request.body === undefined ? {} : { body: request.body }) }, (outcome) => {
          const end = performance.now();
          lastEnd = Math.max(lastEnd, end);
          if ('error' in outcome) errors++;
          else {
            completed++;
            options.onAnswer?.({ due, sent: sentAt, end, statusCode: outcome.statusCode });
            if (outcome.statusCode >= 200 && outcome.statusCode < 300) {
              ok++;
              record(latency, end - due);
              record(service, end - sentAt);
            } else non2xx++;
          }
          done();
        });
      };
      const tick = (): void => {
        const now = performance.now();
        while (scheduled < total && t0 + scheduled * interval <= now) {
          const due = t0 + scheduled * interval;
          record(lag, now - due);
          if (inFlight < connections) send(scheduled, due);
          else {
            waited++;
            backlog.push(scheduled, due);
          }
          scheduled++;
        }
        if (scheduled < total) setTimeout(tick, Math.max(0, t0 + scheduled * interval - performance.now()));
        else finishIfDone();
      };
      setTimeout(tick, Math.max(0, t0 - performance.now()));
    });
  } finally {
    await wire.close();
  }
  const elapsed = Math.max(0, lastEnd - t0) / 1000;
  return {
    offered: options.rate,
    due: total,
    completed,
    achieved: ok / Math.max(total / options.rate, elapsed),
    non2xx,
    errors,
    dropped,
    latency: percentiles(latency),
    service: percentiles(service),
    lag: percentiles(lag),
    waitedForConnection: waited,
    elapsed,
  };
}
