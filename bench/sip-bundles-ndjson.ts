/**
 * Peak memory and time of `sip-fhir validate` on `.ndjson` files of distinct SIP Bundles (issue #13:
 * "validate of 10,000 distinct SIP Bundles in one .ndjson file finishes with flat memory"). Each line
 * is the transaction Bundle `planToBundle` writes for a plan never seen before (the adult example
 * under its own id and person, bench/support.ts), so the validator's result cache meets
 * Bundle after Bundle it cannot have seen; every run is a child process whose peak resident set size
 * (`/usr/bin/time -f %M`) and CPU time are printed, with the ratio of each size's peak to the
 * smallest's. Sizes by BENCH_SIZES (comma-separated, default 1000,10000). Prints `uptime` first.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { planToBundle } from '../src/fhir/index.js';
import { newPlan, personnummer } from './support.js';

const sizes = (process.env.BENCH_SIZES ?? '1000,10000').split(',').map(Number);
const bin = path.resolve(import.meta.dirname, '../src/cli/bin.ts');
const dir = mkdtempSync(path.join(tmpdir(), 'sip-bundles-bench-'));
const now = new Date();

/** Writes `count` Bundles of plans never seen before, one a line, without holding them. */
async function writeBundles(file: string, count: number, offset: number): Promise<void> {
  const out = createWriteStream(file);
  for (let index = 0; index < count; index += 1) {
    const serial = offset + index;
    const plan = newPlan(`bench-ndjson-${String(serial)}`, personnummer(serial), now);
    const line = `${JSON.stringify(planToBundle(plan))}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

console.log(`load: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
let first: number | undefined;
let offset = 0;
try {
  for (const size of sizes) {
    const file = path.join(dir, `${String(size)}.ndjson`);
    await writeBundles(file, size, offset);
    offset += size;
    const run = spawnSync('/usr/bin/time', ['-f', 'TIME %M %U %S %e', process.execPath, '--import', 'tsx', bin, 'validate', '--quiet', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    const [, rss = '0', user = '0', system = '0', elapsed = '0'] = /TIME (\d+) ([\d.]+) ([\d.]+) ([\d.]+)/.exec(run.stderr) ?? [];
    const peakMb = Number(rss) / 1024;
    first ??= peakMb;
    const cpu = Number(user) + Number(system);
    const summary = /^\d+ resources: .*$/m.exec(run.stdout)?.[0] ?? `(no summary; stderr: ${run.stderr.slice(-300)})`;
    console.log(`${String(size).padStart(6)} SIP Bundles, ${(statSync(file).size / 1024 ** 2).toFixed(0)} MB: peak RSS ${peakMb.toFixed(0)} MB (${(peakMb / first).toFixed(2)}× the smallest), CPU ${cpu.toFixed(1)} s (${((cpu * 1000) / size).toFixed(1)} ms a Bundle), wall ${elapsed} s, exit ${String(run.status)}; ${summary}`);
    rmSync(file);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
