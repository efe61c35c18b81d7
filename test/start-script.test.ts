import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The node options of package.json's `start` script: `node [--option …] dist/cli/bin.js serve`. */
function startOptions(): string[] {
  const { scripts } = JSON.parse(readFileSync(resolve(import.meta.dirname, '..', 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const match = /^node((?: --[\w-]+(?:=\S+)?)*) dist\/cli\/bin\.js serve$/.exec(scripts?.start ?? '');
  expect(match, 'package.json\'s start script is "node [--option …] dist/cli/bin.js serve"').not.toBeNull();
  return (match?.[1] ?? '').split(' ').filter((option) => option !== '');
}

/**
 * `npm start`'s node options tune the garbage collector for a server of short requests
 * (docs/performance.md). Neither changes what the server answers, so no other test would notice one
 * dropped; this one does.
 */
describe('npm start: the collector settings the server is measured with', () => {
  it('turns off allocation-site pretenuring, which promoted every request a scavenge kept', () => {
    // A server that had recorded plans promoted 15–19 kB a FHIR read at 250 reads/s, one without
    // pretenuring 2–6 kB (docs/performance.md, branch i11-gc2).
    expect(startOptions()).toContain('--no-allocation-site-pretenuring');
  });

  it('keeps the 64 MB semi-space', () => {
    expect(startOptions()).toContain('--max-semi-space-size=64');
  });

  it('gives node only options it takes', () => {
    // A misspelt V8 flag stops node at start ("bad option"), which the server's own tests, run without these options, would not see.
    const run = spawnSync(process.execPath, [...startOptions(), '-e', ''], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
