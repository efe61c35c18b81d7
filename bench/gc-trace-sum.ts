/**
 * Sums the `--trace-gc` logs a bench wrote with `BENCH_GC_TRACE=<dir>` (bench/support.ts): for each
 * file (one server), how many scavenges and mark-compacts V8 made and their pauses in milliseconds
 * (the main thread's, as V8 prints them). Run with `npx tsx bench/gc-trace-sum.ts <dir>`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: npx tsx bench/gc-trace-sum.ts <dir>');

// e.g. "[123:0x5f…]     8123 ms: Scavenge 60.1 (80.2) -> 41.0 (82.2) MB, 2.34 / 0.00 ms  (average mu = …) allocation failure;"
const LINE = /\d+ ms: (Scavenge|Mark-Compact|Mark-Compact \(reduce\)|Minor Mark-Compact)\b.*?MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ ([\d.]+) ms/;

for (const file of readdirSync(dir).filter((name) => name.endsWith('.log')).sort()) {
  const sums = new Map<string, { count: number; pause: number }>();
  for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
    const match = LINE.exec(line);
    if (match === null) continue;
    const kind = (match[1] ?? '').startsWith('Mark-Compact') ? 'Mark-Compact' : (match[1] ?? '');
    const sum = sums.get(kind) ?? { count: 0, pause: 0 };
    sum.count += 1;
    sum.pause += Number(match[2]);
    sums.set(kind, sum);
  }
  const parts = [...sums].map(([kind, sum]) => `${kind} ${String(sum.count)} × (${sum.pause.toFixed(0)} ms)`);
  process.stdout.write(`${file}: ${parts.join(', ')}\n`);
}
