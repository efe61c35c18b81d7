import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { isMainThread, Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { processTreeThreadTimes } from '../../bench/support.js';

/** Keeps the calling thread on a core for `ms` milliseconds of wall time. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy on purpose
  }
}

describe("processTreeThreadTimes: what bench:http prints of the server's event loop and its other threads", () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill('SIGKILL');
    child = undefined;
  });

  it('counts the event loop on a core as the main thread, not among the other threads', () => {
    // The test's own thread must be its process's main thread (vitest's default pool, forks).
    expect(isMainThread).toBe(true);
    const before = processTreeThreadTimes(process.pid);
    spin(300);
    const after = processTreeThreadTimes(process.pid);
    expect(before).toBeDefined();
    expect(after).toBeDefined();
    const ran = (after?.eventLoopRan ?? 0) - (before?.eventLoopRan ?? 0);
    const waited = (after?.eventLoopWaited ?? 0) - (before?.eventLoopWaited ?? 0);
    // 300 ms of wall time, each moment on a core or waiting for one (the other test files share the cores).
    expect(ran + waited).toBeGreaterThanOrEqual(280);
    expect(ran).toBeGreaterThan(60);
    expect(waited).toBeGreaterThanOrEqual(0);
    // The other threads (V8's helpers) did not spin: far less than the event loop did.
    expect((after?.othersRan ?? 0) - (before?.othersRan ?? 0)).toBeLessThan(ran / 2);
  });

  it('counts a worker thread among the other threads, not as the event loop', { timeout: 20_000 }, async () => {
    // The worker ends before the second reading, so its time would be lost: read while it runs.
    const worker = new Worker('const end = performance.now() + 600; while (performance.now() < end) {} ', { eval: true });
    await once(worker, 'online');
    const before = processTreeThreadTimes(process.pid);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const after = processTreeThreadTimes(process.pid);
    await once(worker, 'exit');
    const others = (after?.othersRan ?? 0) - (before?.othersRan ?? 0);
    const eventLoop = (after?.eventLoopRan ?? 0) - (before?.eventLoopRan ?? 0);
    expect(others).toBeGreaterThan(100);
    expect(eventLoop).toBeLessThan(others / 2);
  });

  it('counts the event loops of the processes under it', { timeout: 20_000 }, async () => {
    const spinning = spawn(process.execPath, ['-e', "process.stdout.write('ready\\n'); const end = performance.now() + 5000; while (performance.now() < end) {}"], { stdio: ['ignore', 'pipe', 'inherit'] });
    child = spinning;
    const [chunk] = (await once(spinning.stdout, 'data')) as [Buffer];
    expect(chunk.toString()).toBe('ready\n');
    const before = processTreeThreadTimes(process.pid);
    const childBefore = processTreeThreadTimes(child.pid);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const after = processTreeThreadTimes(process.pid);
    const childAfter = processTreeThreadTimes(child.pid);
    const ofChild = (childAfter?.eventLoopRan ?? 0) - (childBefore?.eventLoopRan ?? 0);
    const ofTree = (after?.eventLoopRan ?? 0) - (before?.eventLoopRan ?? 0);
    expect(ofChild).toBeGreaterThan(100);
    // This process's event loop slept meanwhile: the tree's event loops are mostly the child's.
    expect(ofTree).toBeGreaterThanOrEqual(ofChild * 0.9);
  });

  it('is undefined for a process that is gone', async () => {
    child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    const pid = child.pid;
    await once(child, 'exit');
    expect(processTreeThreadTimes(pid)).toBeUndefined();
    expect(processTreeThreadTimes(undefined)).toBeUndefined();
  });
});
