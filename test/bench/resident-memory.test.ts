import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { processTreeResidentMemory } from '../../bench/support.js';

const MB = 1024 * 1024;

/** A child node process holding `megabytes` of memory it has written to (so resident), once it says so. */
async function childHolding(megabytes: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', `globalThis.held = Buffer.alloc(${String(megabytes)} * 1024 * 1024, 1); process.stdout.write('ready\\n'); setInterval(() => {}, 1000);`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  expect(chunk.toString()).toBe('ready\n');
  return child;
}

describe('processTreeResidentMemory: what bench:http prints of the server\'s memory', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill('SIGKILL');
    child = undefined;
  });

  it('reads this process as process.memoryUsage() does, its peak never below it', () => {
    const alone = processTreeResidentMemory(process.pid);
    const rss = process.memoryUsage().rss;
    expect(alone).toBeDefined();
    expect(Math.abs((alone?.current ?? 0) - rss)).toBeLessThan(0.1 * rss);
    expect(alone?.peak).toBeGreaterThanOrEqual(alone?.current ?? Number.POSITIVE_INFINITY);
  });

  it('counts the processes under it: a child holding 200 MB adds about that much', { timeout: 20_000 }, async () => {
    const before = processTreeResidentMemory(process.pid)?.current ?? Number.NaN;
    child = await childHolding(200);
    const withChild = processTreeResidentMemory(process.pid);
    const ofChild = processTreeResidentMemory(child.pid);
    // The child's 200 MB buffer and node itself, at most a few hundred MB more.
    expect(ofChild?.current).toBeGreaterThan(200 * MB);
    expect(ofChild?.current).toBeLessThan(400 * MB);
    expect((withChild?.current ?? 0) - before).toBeGreaterThan(190 * MB);
    expect(withChild?.peak).toBeGreaterThanOrEqual(withChild?.current ?? Number.POSITIVE_INFINITY);
  });

  it('is undefined for a process that is gone', async () => {
    child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    const pid = child.pid;
    await once(child, 'exit');
    // Reaped by node once it exited: /proc holds nothing of it.
    expect(processTreeResidentMemory(pid)).toBeUndefined();
    expect(processTreeResidentMemory(undefined)).toBeUndefined();
  });
});
