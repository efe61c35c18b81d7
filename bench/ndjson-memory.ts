/**
 * Peak memory of `sip-fhir validate` on `.ndjson` files of 1,000, 10,000 and 100,000 distinct
 * resources (test/support/ndjson-corpus.ts; every 100th has one error), each run as a child process
 * whose peak resident set size (`/usr/bin/time -f %M`) and CPU time are printed, with the ratio of
 * each size's peak to the smallest's: reading line by line, the ratio stays near 1. Sizes by
 * BENCH_SIZES (comma-separated). Prints `uptime` first: the machine is shared.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeNdjsonCorpus } from '../test/support/ndjson-corpus.js';

const sizes = (process.env.BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number);
const bin = path.resolve(import.meta.dirname, '../src/cli/bin.ts');
const dir = mkdtempSync(path.join(tmpdir(), 'sip-ndjson-bench-'));
console.log(`load: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
let first: number | undefined;
const peaks = new Map<number, number>();
try {
  for (const size of sizes) {
    const file = path.join(dir, `${String(size)}.ndjson`);
    const corpus = await writeNdjsonCorpus(file, size, 100);
    const run = spawnSync('/usr/bin/time', ['-f', 'TIME %M %U %S %e', process.execPath, '--import', 'tsx', bin, 'validate', '--quiet', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    const [, rss = '0', user = '0', system = '0', elapsed = '0'] = /TIME (\d+) ([\d.]+) ([\d.]+) ([\d.]+)/.exec(run.stderr) ?? [];
    const peakMb = Number(rss) / 1024;
    first ??= peakMb;
    peaks.set(size, peakMb);
    const summary = /^\d+ resources: .*$/m.exec(run.stdout)?.[0] ?? '(no summary)';
    console.log(`${String(size).padStart(7)} lines, ${(statSync(file).size / 1024 ** 2).toFixed(1)} MB: peak RSS ${peakMb.toFixed(0)} MB (${(peakMb / first).toFixed(2)}× the smallest), CPU ${(Number(user) + Number(system)).toFixed(1)} s, wall ${elapsed} s, exit ${String(run.status)}; ${summary} (expected ${String(corpus.invalid)} invalid)`);
  }
  const at10k = peaks.get(10_000);
  const largest = Math.max(...sizes);
  const atLargest = peaks.get(largest);
  if (at10k !== undefined && atLargest !== undefined && largest > 10_000) {
    // Issue #13: "peak memory flat (within 1.5× from 10,000 to 100,000 lines)".
    const ratio = atLargest / at10k;
    console.log(`peak RSS at ${String(largest)} lines is ${ratio.toFixed(2)}× that at 10,000 (aim ≤ 1.5×: ${ratio <= 1.5 ? 'met' : 'NOT met'})`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
