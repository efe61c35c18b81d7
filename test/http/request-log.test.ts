/**
 * The service's request log (src/http/logger.ts) is written in batches, asynchronously: a line reaches
 * standard output within the flush period while the server runs, and every line is there when the
 * server is stopped with SIGTERM right after answering — nothing waiting in the batch is lost. The
 * server runs as `sip-fhir serve`, a child process on PGlite, as an operator runs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_FLUSH_MS } from '../../src/http/logger.js';

const CLI = ['--import', 'tsx', 'src/cli/bin.ts'];
/** A bare `serve` took 48–70 s to listen on this shared machine at load 17–21 (docs/performance.md). */
const START_MS = 200_000;

interface Served {
  readonly process: ChildProcess;
  readonly url: string;
  readonly stdout: () => string;
  readonly exited: Promise<number | null>;
}

function serve(folder: string): Promise<Served> {
  const child = spawn(process.execPath, [...CLI, 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', folder, '--no-examples'], {
    env: { ...process.env, SIP_RATE_LIMIT: '1000000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code); }));
  return new Promise<Served>((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sip-fhir serve did not start within ${String(START_MS)} ms:\n${stderr}`));
    }, START_MS);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve({ process: child, url: match[1], stdout: () => stdout, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`sip-fhir serve ended (${String(code)}) before listening:\n${stderr}`));
    });
  });
}

/** The request ids of the "request completed" lines written so far. */
function loggedIds(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { msg?: string; req?: { id?: string } })
    .filter((entry) => entry.msg === 'request completed')
    .map((entry) => entry.req?.id ?? '');
}

async function requestIds(url: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${url}/health`);
    expect(response.status).toBe(200);
    ids.push(response.headers.get('x-request-id') ?? '');
  }
  return ids;
}

describe('the request log, written in batches', () => {
  const folder = mkdtempSync(join(tmpdir(), 'sip-request-log-'));
  let served: Served;

  beforeAll(async () => {
    served = await serve(folder);
  }, START_MS + 10_000);

  afterAll(() => {
    if (served.process.exitCode === null && served.process.signalCode === null) served.process.kill('SIGKILL');
    rmSync(folder, { recursive: true, force: true });
  });

  it('writes a line within the flush period while the server runs, and every line when it is stopped with SIGTERM at once', async () => {
    const first = await requestIds(served.url, 5);
    // Five lines are far below a batch: the timer writes them.
    await new Promise((resolve) => setTimeout(resolve, LOG_FLUSH_MS * 8));
    expect(loggedIds(served.stdout())).toEqual(expect.arrayContaining(first));

    const burst = await requestIds(served.url, 60);
    // Stopped right after the last answer: lines still waiting in the batch are written on the way out.
    served.process.kill('SIGTERM');
    expect(await served.exited).toBe(0);
    const logged = loggedIds(served.stdout());
    expect(logged).toEqual(expect.arrayContaining([...first, ...burst]));
    expect(new Set(logged).size).toBe(logged.length);
  }, 60_000);
});
