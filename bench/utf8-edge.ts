/**
 * UTF-8 at the HTTP edge (src/http/utf8.ts) against Node's own codec, in process, on data never seen
 * before, in interleaved rounds (which goes first alternates):
 *
 * - **a transaction's body**: the bytes of a new plan's transaction Bundle as a client sends them
 *   (≈ 63 kB), decoded as body-parser's text reader decoded them (`StringDecoder`, iconv-lite's `utf8`)
 *   and through `utf8BodyText`, each then parsed with `JSON.parse` as the app's JSON reader does;
 * - **a read's answer**: the text of a new plan's CarePlan as the facade answers it (≈ 10 kB), written
 *   as Express wrote a text answer (`Buffer.from`) and through `utf8Bytes`.
 *
 * Every round makes BENCH_BATCH (default 40) plans of its own (own id and person, bench/support.ts);
 * `process.cpuUsage` per step and batch, medians over BENCH_ROUNDS (default 12) and the ratio of each
 * round. Every decoded text is checked equal to Node's. Run with `npx tsx bench/utf8-edge.ts`.
 */
import { loadavg } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import type { CarePlan } from 'fhir/r4.js';
import { planToBundle } from '../src/fhir/index.js';
import { utf8BodyText, utf8Bytes } from '../src/http/utf8.js';
import { median, newPlan, personnummer } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '12');
const BATCH = Number(process.env.BENCH_BATCH ?? '40');

interface Input {
  readonly body: Buffer;
  readonly answer: string;
}

let serial = 0;
function inputs(): Input[] {
  return Array.from({ length: BATCH }, () => {
    serial += 1;
    const bundle = planToBundle(newPlan(`sip-utf8-${String(serial)}`, personnummer(500_000 + serial)));
    const carePlan = bundle.entry?.find((entry) => entry.resource?.resourceType === 'CarePlan')?.resource as CarePlan;
    return { body: Buffer.from(JSON.stringify(bundle), 'utf8'), answer: JSON.stringify(carePlan) };
  });
}

/** CPU µs per item of `work` over the batch. */
function cpu<T>(batch: readonly T[], work: (item: T) => number): number {
  const start = process.cpuUsage();
  let sink = 0;
  for (const item of batch) sink += work(item);
  const used = process.cpuUsage(start);
  if (sink < 0) throw new Error('unreachable');
  return (used.user + used.system) / batch.length;
}

const node = {
  decode: (input: Input) => (JSON.parse(new StringDecoder('utf8').end(input.body)) as { entry: unknown[] }).entry.length,
  encode: (input: Input) => Buffer.from(input.answer, 'utf8').length,
};
const icu = {
  decode: (input: Input) => (JSON.parse(utf8BodyText(input.body)) as { entry: unknown[] }).entry.length,
  encode: (input: Input) => utf8Bytes(input.answer).length,
};

const rows: { decode: [number, number]; encode: [number, number] }[] = [];
for (let round = 0; round <= ROUNDS; round += 1) {
  const batch = inputs();
  for (const input of batch) {
    if (utf8BodyText(input.body) !== new StringDecoder('utf8').end(input.body)) throw new Error('utf8BodyText differs from Node');
    if (!utf8Bytes(input.answer).equals(Buffer.from(input.answer, 'utf8'))) throw new Error('utf8Bytes differs from Node');
  }
  const nodeFirst = round % 2 === 0;
  const measure = (lane: typeof node) => ({ decode: cpu(batch, lane.decode), encode: cpu(batch, lane.encode) });
  const first = measure(nodeFirst ? node : icu);
  const second = measure(nodeFirst ? icu : node);
  const [before, now] = nodeFirst ? [first, second] : [second, first];
  if (round === 0) continue; // warm-up
  rows.push({ decode: [before.decode, now.decode], encode: [before.encode, now.encode] });
  console.log(
    `round ${String(round).padStart(2)}: body decode + parse ${before.decode.toFixed(0)} → ${now.decode.toFixed(0)} µs (${(now.decode / before.decode).toFixed(2)}), answer encode ${before.encode.toFixed(1)} → ${now.encode.toFixed(1)} µs (${(now.encode / before.encode).toFixed(2)})`,
  );
}
const sample = inputs()[0];
const med = (pick: (row: (typeof rows)[number]) => number) => median(rows.map(pick));
console.log(
  `utf8-edge: ${String(ROUNDS)} rounds × ${String(BATCH)} new plans (body ${String(sample?.body.length)} bytes, answer ${String(sample?.answer.length)} characters), load average ${loadavg()[0]?.toFixed(1) ?? '?'}, CPU µs an item (median):`,
);
console.log(`  body decode + JSON.parse   Node ${med((row) => row.decode[0]).toFixed(0)}  ICU ${med((row) => row.decode[1]).toFixed(0)}  ratio ${med((row) => row.decode[1] / row.decode[0]).toFixed(2)}`);
console.log(`  answer encode              Node ${med((row) => row.encode[0]).toFixed(1)}  ICU ${med((row) => row.encode[1]).toFixed(1)}  ratio ${med((row) => row.encode[1] / row.encode[0]).toFixed(2)}`);
