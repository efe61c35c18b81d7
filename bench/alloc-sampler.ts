/**
 * Loaded into `sip-fhir serve` by bench/http-alloc.ts (`node --import tsx --import ./bench/alloc-sampler.ts`):
 * V8's sampling heap profiler in the server's own process, started and stopped by SIGUSR2.
 *
 * At the first signal it reads `<BENCH_ALLOC_DIR>/command.json` (`{ "promotedOnly": boolean }`) and
 * starts sampling: every sampled allocation, those the scavenger freed included, or with
 * `promotedOnly` only those no scavenge freed (what was promoted to the old space, and what is still
 * alive). At the next it stops, writes `<BENCH_ALLOC_DIR>/profile.json` and then `<BENCH_ALLOC_DIR>/done`.
 * Nothing of the server is changed: no route, no setting. Not for production.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

const dir = process.env.BENCH_ALLOC_DIR;
if (dir === undefined) throw new Error('bench/alloc-sampler.ts needs BENCH_ALLOC_DIR');
const session = new Session();
session.connect();
let sampling = false;

async function toggle(folder: string): Promise<void> {
  if (!sampling) {
    const { promotedOnly } = JSON.parse(readFileSync(join(folder, 'command.json'), 'utf8')) as { promotedOnly: boolean };
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: Number(process.env.BENCH_ALLOC_INTERVAL ?? '4096'),
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: !promotedOnly,
    });
    sampling = true;
    writeFileSync(join(folder, 'started'), '');
    return;
  }
  const { profile } = await session.post('HeapProfiler.stopSampling');
  sampling = false;
  writeFileSync(join(folder, 'profile.json'), JSON.stringify(profile));
  writeFileSync(join(folder, 'done'), '');
}

process.on('SIGUSR2', () => {
  toggle(dir).catch((error: unknown) => {
    process.stderr.write(`alloc-sampler: ${error instanceof Error ? error.message : String(error)}\n`);
  });
});
