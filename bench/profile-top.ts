/**
 * Where a server's CPU time went, from a V8 CPU profile (`node --cpu-prof`, e.g. `BENCH_CPU_PROF=dir
 * npm run bench:http`): self time by function and by package or source folder, optionally only over
 * the last N seconds of the profile (the measured scenario, not the seeding before it).
 * `--inclusive name,name` adds the total time (self and callees) of the functions so named.
 * Run with `npx tsx bench/profile-top.ts <file.cpuprofile> [--last <seconds>] [--top <n>] [--inclusive <names>]`.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { last: { type: 'string' }, top: { type: 'string', default: '25' }, inclusive: { type: 'string' } } });
const file = positionals[0];
if (file === undefined) throw new Error('usage: profile-top.ts <file.cpuprofile> [--last <seconds>] [--top <n>]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

/** Where a function lives: a package under node_modules, a folder of src/, node's own code, or V8's pseudo-frames. */
function home(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1] !== undefined) return pkg[1];
  const src = /\/src\/([^/]+)\/(?:([^/]+)\/)?/.exec(url);
  if (src?.[1] !== undefined) return `src/${src[1]}${src[2] !== undefined && !src[2].includes('.') ? `/${src[2]}` : ''}`;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '').split('/').slice(-2).join('/');
}

// The sampled time of each sample, and the window asked for.
const times: number[] = [];
let now = profile.startTime;
for (const delta of profile.timeDeltas) times.push((now += delta));
const from = values.last === undefined ? profile.startTime : profile.endTime - Number(values.last) * 1e6;
const self = new Map<number, number>();
let total = 0;
for (const [index, sample] of profile.samples.entries()) {
  const at = times[index] ?? 0;
  if (at < from) continue;
  const delta = (times[index + 1] ?? profile.endTime) - at;
  self.set(sample, (self.get(sample) ?? 0) + delta);
  total += delta;
}
const wanted = new Set(values.inclusive?.split(',') ?? []);
const inclusive = new Map<string, number>();
for (const [id, micros] of self) {
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const name = byId.get(at)?.callFrame.functionName ?? '';
    if (wanted.has(name) && !seen.has(name)) {
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + micros);
    }
  }
}
const functions = new Map<string, number>();
const homes = new Map<string, number>();
for (const [id, micros] of self) {
  const node = byId.get(id);
  if (node === undefined) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = home(url, functionName);
  const key = `${functionName || '(anonymous)'}  ${where}${url === '' ? '' : `:${String(lineNumber + 1)}`}`;
  functions.set(key, (functions.get(key) ?? 0) + micros);
  homes.set(where, (homes.get(where) ?? 0) + micros);
}
const percent = (micros: number): string => `${((100 * micros) / total).toFixed(1).padStart(5)} %`;
const top = Number(values.top);
process.stdout.write(`${file}: ${(total / 1e6).toFixed(1)} s sampled${values.last === undefined ? '' : ` (the last ${values.last} s)`}\n\nself time by package or folder:\n`);
for (const [where, micros] of [...homes].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${percent(micros)}  ${where}\n`);
process.stdout.write('\nself time by function:\n');
for (const [key, micros] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${percent(micros)}  ${key}\n`);
if (wanted.size > 0) {
  process.stdout.write('\ntotal time (self and callees):\n');
  for (const name of wanted) process.stdout.write(`  ${percent(inclusive.get(name) ?? 0)}  ${name}\n`);
}
