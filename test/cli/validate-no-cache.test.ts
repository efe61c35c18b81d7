/** `sip-fhir validate --no-cache`: the result cache can be turned off from the command line, with the same verdicts. */
import { copyFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CommandIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { scratchFolder } from '../support/scratch-folders.js';

const OFFICIAL = path.dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));

async function run(...argv: string[]): Promise<{ status: number; out: string }> {
  const out: string[] = [];
  const io: CommandIo = { out: (text) => out.push(text), err: () => undefined, errIsTerminal: false };
  const status = await main(argv, io);
  return { status, out: out.join('\n') };
}

describe('sip-fhir validate --no-cache', () => {
  it('is documented in --help', async () => {
    expect((await run('validate', '--help')).out).toContain('--no-cache');
  });

  it('gives the verdicts and issues it gives with the cache on', async () => {
    const dir = scratchFolder('sip-no-cache-');
    copyFileSync(path.join(OFFICIAL, 'CarePlan-example.json'), path.join(dir, 'careplan.json'));
    writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ resourceType: 'Patient', contained: [{ resourceType: 'Patient', id: 'a', contained: [{ resourceType: 'Patient', id: 'b' }] }] }));
    const cached = await run('validate', '--format', 'json', dir);
    const uncached = await run('validate', '--no-cache', '--format', 'json', dir);
    expect(uncached.status).toBe(1);
    expect(uncached).toEqual(cached);
    expect(uncached.out).toContain('dom-2');
  });
});
