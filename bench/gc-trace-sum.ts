/**
 * Sums the `--trace-gc` logs a bench wrote with `BENCH_GC_TRACE=<dir>` (bench/support.ts): for each
 * file (one server), how many scavenges and mark-compacts V8 made and their pauses in milliseconds
 * (the main thread's, as V8 prints them), the scavenges' pause mean, p50, p90, p99 and largest, and what the heap
 * gained from one scavenge's end to the next's when no mark-compact came between (the mean of the
 * heap's size after each, differenced): what the scavenges kept and promoted, in MB. Run with
 * `npx tsx bench/gc-trace-sum.ts <dir>`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { percentile } from './support.js';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: npx tsx bench/gc-trace-sum.ts <dir>');

// e.g. "[123:0x5f…]     8123 ms: Scavenge 60.1 (80.2) -> 41.0 (82.2) MB, 2.34 / 0.00 ms  (average mu = …) allocation failure;"
const LINE = /\d+ ms: (Scavenge|Mark-Compact|Mark-Compact \(reduce\)|Minor Mark-Compact)\b[^>]*-> ([\d.]+) \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ ([\d.]+) ms/;

for (const file of readdirSync(dir).filter((name) => name.endsWith('.log')).sort()) {
  const sums = new Map<string, { count: number; pause: number }>();
  const scavengePauses: number[] = [];
  /** The heap's size after the last collection, when it was a scavenge. */
  let afterScavenge: number | undefined;
  const gained: number[] = [];
  for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
    const match = LINE.exec(line);
    if (match === null) continue;
    const kind = (match[1] ?? '').startsWith('Mark-Compact') ? 'Mark-Compact' : (match[1] ?? '');
    const after = Number(match[2]);
    const pause = Number(match[3]);
    const sum = sums.get(kind) ?? { count: 0, pause: 0 };
    sum.count += 1;
    sum.pause += pause;
    sums.set(kind, sum);
    if (kind === 'Scavenge') {
      scavengePauses.push(pause);
      if (afterScavenge !== undefined) gained.push(after - afterScavenge);
      afterScavenge = after;
    } else {
      afterScavenge = undefined;
    }
  }
  const parts = [...sums].map(([kind, sum]) => `${kind} ${String(sum.count)} × (${sum.pause.toFixed(0)} ms)`);
  const scavenges = sums.get('Scavenge');
  const scavengeLine =
    scavenges === undefined
      ? ''
      : `; scavenge pause mean ${(scavenges.pause / scavenges.count).toFixed(1)} ms, p50 ${percentile(scavengePauses, 0.5).toFixed(1)}, p90 ${percentile(scavengePauses, 0.9).toFixed(1)}, p99 ${percentile(scavengePauses, 0.99).toFixed(1)}, largest ${scavengePauses.reduce((a, b) => Math.max(a, b), 0).toFixed(1)} ms; heap gained per scavenge ${(gained.reduce((a, b) => a + b, 0) / Math.max(1, gained.length)).toFixed(2)} MB`;
  process.stdout.write(`${file}: ${parts.join(', ')}${scavengeLine}\n`);
}
