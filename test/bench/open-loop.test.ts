import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { runOpenLoop } from '../../bench/open-loop.js';
import { listenOnLoopback } from '../support/loopback.js';

/**
 * A loopback server that answers every request 10 ms after it arrives; with `stallAt`, the request of
 * that number starts a 300 ms stall during which nothing is answered (as a server's event loop held by
 * a collection or a long task would), and every answer due in it leaves when it ends.
 */
async function delayedServer(stallAt?: number): Promise<{ server: Server; url: string }> {
  let seen = 0;
  let stalledUntil = 0;
  const server = createServer((request, response) => {
    request.resume();
    seen++;
    const arrived = performance.now();
    if (seen === stallAt) stalledUntil = arrived + 300;
    const answerAt = Math.max(arrived + 10, stalledUntil);
    // A timer may fire a little before its delay (libuv counts whole milliseconds from the loop's
    // cached time): wait again until the answer is due, so that none leaves early.
    const answer = (): void => {
      const wait = answerAt - performance.now();
      if (wait > 0) setTimeout(answer, Math.ceil(wait));
      else response.end('ok');
    };
    answer();
  });
  const { origin } = await listenOnLoopback(server);
  return { server, url: origin };
}

describe('runOpenLoop: a constant rate, each latency from its due time', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.close();
    if (server !== undefined) await once(server, 'close');
    server = undefined;
  });

  it('offers the rate asked and measures a 10 ms server at ≈ 10 ms', async () => {
    const started = await delayedServer();
    server = started.server;
    const result = await runOpenLoop({ url: started.url, rate: 50, seconds: 2, request: (index) => ({ method: 'GET', path: `/r/${String(index)}` }) });
    expect(result.due).toBe(100);
    expect(result.completed).toBe(100);
    expect(result.non2xx + result.errors + result.dropped).toBe(0);
    expect(result.achieved).toBeGreaterThan(47);
    expect(result.achieved).toBeLessThanOrEqual(50.5);
    // Spread over the two seconds, not sent in bursts: it took as long as the requests fell due.
    expect(result.elapsed).toBeGreaterThan(1.95);
    // Near the server's 10 ms, and never under it. The upper bounds are loose because the test shares
    // the machine: a 100-request p99 is its second-slowest request, and a busy host delays timers by
    // tens of ms (seen up to ≈ 85 ms with three runs of this file at once). The stall below is the
    // case that tells due time from send time.
    expect(result.latency.p50).toBeGreaterThanOrEqual(10);
    expect(result.latency.p50).toBeLessThan(40);
    expect(result.latency.p99).toBeGreaterThanOrEqual(10);
    expect(result.latency.p99).toBeLessThan(150);
    expect(result.waitedForConnection).toBe(0);
  });

  it('measures the same server alike on undici, the client it used before, kept for comparison', async () => {
    const started = await delayedServer();
    server = started.server;
    const result = await runOpenLoop({ url: started.url, rate: 50, seconds: 1, client: 'undici', request: (index) => ({ method: 'GET', path: `/r/${String(index)}` }) });
    expect(result.completed).toBe(50);
    expect(result.non2xx + result.errors + result.dropped).toBe(0);
    expect(result.latency.p50).toBeGreaterThanOrEqual(10);
    expect(result.latency.p50).toBeLessThan(40);
  });

  it('counts a 300 ms stall for every request due during it, which the send-time figure hides', async () => {
    const started = await delayedServer(25);
    server = started.server;
    // One connection, so that requests due during the stall wait for it as a closed loop's would.
    const result = await runOpenLoop({ url: started.url, rate: 50, seconds: 2, connections: 1, request: (index) => ({ method: 'GET', path: `/r/${String(index)}` }) });
    expect(result.completed).toBe(100);
    expect(result.non2xx + result.errors + result.dropped).toBe(0);
    // The stalled request itself and the ≈ 15 due behind it (one each 20 ms): latencies from ≈ 300 ms down.
    expect(result.latency.max).toBeGreaterThanOrEqual(295);
    expect(result.latency.max).toBeLessThan(800);
    expect(result.waitedForConnection).toBeGreaterThanOrEqual(10);
    // More than 10 % of the requests took over 100 ms from their due time…
    expect(result.latency.p90).toBeGreaterThan(100);
    // …but fewer than 10 % from their send: measured so, only the stalled request itself is slow.
    expect(result.service.max).toBeGreaterThanOrEqual(295);
    expect(result.service.p90).toBeLessThan(100);
  });

  it('hands each answer to onAnswer with its due time, send and end, so the stall can be found in the time series', async () => {
    const started = await delayedServer(25);
    server = started.server;
    const answers: { due: number; sent: number; end: number; statusCode: number }[] = [];
    const result = await runOpenLoop({ url: started.url, rate: 50, seconds: 2, connections: 1, request: (index) => ({ method: 'GET', path: `/r/${String(index)}` }), onAnswer: (answer) => answers.push(answer) });
    expect(answers).toHaveLength(result.completed);
    expect(answers.every((answer) => answer.statusCode === 200 && answer.due <= answer.sent && answer.sent < answer.end)).toBe(true);
    // Due 20 ms apart, in order.
    const dues = answers.map((answer) => answer.due).sort((a, b) => a - b);
    const firstDue = dues[0] ?? Number.NaN;
    expect((dues[dues.length - 1] ?? Number.NaN) - firstDue).toBeCloseTo(99 * 20, 0);
    // The stalled request is the 25th: the slowest answer from its due time is due ≈ 24 × 20 ms after the first.
    const slowest = answers.reduce((worst, answer) => (answer.end - answer.due > worst.end - worst.due ? answer : worst));
    expect(slowest.end - slowest.due).toBeGreaterThanOrEqual(295);
    expect(slowest.due - firstDue).toBeCloseTo(24 * 20, 0);
  });

  it('sends a body given as bytes as it sends the same body given as text', async () => {
    const received: Buffer[] = [];
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push(Buffer.concat(chunks));
        response.end('ok');
      });
    });
    const { origin } = await listenOnLoopback(server);
    // Characters outside ASCII (UTF-8 takes two and four bytes for them), as a SIP Bundle's Swedish texts have.
    const text = JSON.stringify({ resourceType: 'Bundle', note: `Åsa Öberg – samordnad plan ${'ä'.repeat(40_000)} 🙂` });
    const result = await runOpenLoop({ url: origin, rate: 20, seconds: 0.2, connections: 1, request: (index) => ({ method: 'POST', path: '/fhir', body: index % 2 === 0 ? text : Buffer.from(text) }) });
    expect(result.completed).toBe(4);
    expect(result.non2xx + result.errors).toBe(0);
    expect(received.map((body) => body.toString('utf8'))).toEqual([text, text, text, text]);
  });
});
