import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/http/config.js';
import { niceHelperThreads, type HelperNiceHost } from '../../src/http/helper-threads.js';

/** A process of three threads (1000 the main one) on `platform`, recording what it is asked to set; thread 1002 has ended. */
function host(platform: NodeJS.Platform = 'linux'): HelperNiceHost & { readonly set: Map<number, number> } {
  const set = new Map<number, number>();
  return {
    platform,
    pid: 1000,
    threadIds: () => ['1000', '1001', '1002', '1003'],
    setPriority: (id, nice) => {
      if (id === 1002) throw new Error('ESRCH: no such process');
      set.set(id, nice);
    },
    set,
  };
}

describe('niceHelperThreads: the threads but the event loop at a lower priority (SIP_HELPER_NICE)', () => {
  it('sets every thread but the main one, and counts one that ended meanwhile as failed', () => {
    const process = host();
    expect(niceHelperThreads(10, process)).toEqual({ set: 2, failed: 1 });
    expect([...process.set]).toEqual([
      [1001, 10],
      [1003, 10],
    ]);
  });

  it('leaves every thread alone at 0, and elsewhere than Linux', () => {
    const off = host();
    expect(niceHelperThreads(0, off)).toEqual({ skipped: 'SIP_HELPER_NICE is 0' });
    const mac = host('darwin');
    expect(niceHelperThreads(10, mac)).toEqual({ skipped: "a thread's own nice value is Linux's, not darwin's" });
    expect(off.set.size + mac.set.size).toBe(0);
  });

  it('leaves every thread alone, and says why, where the threads cannot be listed (a /proc not mounted)', () => {
    const hidden = { ...host(), threadIds: () => { throw new Error("ENOENT: no such file or directory, scandir '/proc/self/task'"); } };
    expect(niceHelperThreads(10, hidden)).toEqual({ skipped: "this process's threads cannot be listed: ENOENT: no such file or directory, scandir '/proc/self/task'" });
    expect(hidden.set.size).toBe(0);
  });

  it.runIf(process.platform === 'linux')('on Linux, in a process of its own: every other thread at the nice asked, the main thread at 0', () => {
    // The nice of each thread from /proc/self/task/<id>/stat: the 19th field, the 17th after the command's ")".
    const script = `
      import { readdirSync, readFileSync } from 'node:fs';
      import { niceHelperThreads } from './src/http/helper-threads.ts';
      const result = niceHelperThreads(7);
      const nices = Object.fromEntries(readdirSync('/proc/self/task').map((id) => [id, Number(readFileSync('/proc/self/task/' + id + '/stat', 'utf8').split(') ')[1].split(' ')[16])]));
      console.log(JSON.stringify({ pid: process.pid, result, nices }));
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status, run.stderr).toBe(0);
    const { pid, result, nices } = JSON.parse(run.stdout) as { pid: number; result: { set: number; failed: number }; nices: Record<string, number> };
    const others = Object.entries(nices).filter(([id]) => Number(id) !== pid);
    expect(others.length).toBeGreaterThan(0);
    expect(result).toEqual({ set: others.length, failed: 0 });
    expect(nices[String(pid)]).toBe(0);
    expect(others.every(([, nice]) => nice === 7)).toBe(true);
  });
});

describe('SIP_HELPER_NICE', () => {
  it('is 10 by default; 0 to 19 in whole numbers, and anything else is named', () => {
    expect(loadConfig({})).toMatchObject({ ok: true, config: { helperNice: 10 } });
    expect(loadConfig({ SIP_HELPER_NICE: '0' })).toMatchObject({ ok: true, config: { helperNice: 0 } });
    for (const [value, message] of [
      ['-5', /SIP_HELPER_NICE \(helperNice\) must be 0 or more/],
      ['1.5', /SIP_HELPER_NICE \(helperNice\) must be a whole number/],
      ['20', /SIP_HELPER_NICE \(helperNice\) must be at most 19/],
    ] as const) {
      const result = loadConfig({ SIP_HELPER_NICE: value });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.problems.join('\n')).toMatch(message);
    }
  });
});
