import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { scratchFolder } from '../support/scratch-folders.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../../examples');
const valid = path.join(EXAMPLES, 'adult-psychiatry-addiction.json');
const expired = path.join(EXAMPLES, 'invalid', 'consent.expired.json');

async function run(...argv: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const status = await main(argv, { out: (text) => (out += `${text}\n`), err: (text) => (err += `${text}\n`) });
  return { status, out, err };
}

function tempFile(name: string, text: string): string {
  const file = path.join(scratchFolder('sip-check-'), name);
  writeFileSync(file, text);
  return file;
}

describe('sip-fhir check', () => {
  it('passes a valid plan with exit 0', async () => {
    const { status, out } = await run('check', valid);
    expect(status).toBe(0);
    expect(out).toContain('adult-psychiatry-addiction.json: ok (plan sip-falun-2026-0142 v3, active, green)');
    expect(out).toContain('1 passed, 0 failed');
  });

  it('names the rule, pointer and source of a violation, with exit 1', async () => {
    const { status, out } = await run('check', valid, expired);
    expect(status).toBe(1);
    expect(out).toContain('error consent.expired at /consents/0/validUntil');
    expect(out).toContain('seed-001 §4.2 Samtycke');
    expect(out).toContain('1 passed, 1 failed');
  });

  it('prints machine-readable results with --format json', async () => {
    const { status, out } = await run('check', '--format', 'json', expired);
    expect(status).toBe(1);
    const results = JSON.parse(out) as { file: string; valid: boolean; problems: { code: string; pointer: string }[] }[];
    expect(results).toEqual([
      expect.objectContaining({ file: expired, valid: false, problems: [expect.objectContaining({ code: 'consent.expired', pointer: '/consents/0/validUntil' })] }),
    ]);
  });

  it('judges at another instant with --at', async () => {
    expect((await run('check', '--at', '2027-06-01', valid)).status).toBe(1);
    expect((await run('check', '--at', '2026-04-01T12:00:00+02:00', expired)).status).toBe(0);
  });

  it('reads every .json file of a folder', async () => {
    const { status, out } = await run('check', path.join(EXAMPLES, 'invalid'));
    expect(status).toBe(1);
    expect(out).toMatch(/Checked \d+ files: 0 passed, \d+ failed/);
  });

  it('fails warnings too with --strict', async () => {
    const warning = path.join(EXAMPLES, 'warnings', 'meeting.roles-not-appointed.json');
    expect((await run('check', warning)).status).toBe(0);
    expect((await run('check', '--strict', warning)).status).toBe(1);
  });

  it('reports malformed JSON with its line and column, exit 1 (an invalid input, as in every command), no stack trace', async () => {
    const { status, out } = await run('check', tempFile('broken.json', '{\n  "id": "x"\n  "version": 1\n}'));
    expect(status).toBe(1);
    expect(out).toMatch(/json\.malformed at \(document\)\n\s+Malformed JSON at line 3, column 3/);
    expect(out).not.toMatch(/\n\s+at .*\.(ts|js):\d+/);
  });

  it('reports a wrong type and an unknown field with their pointers, exit 1', async () => {
    const plan = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(valid, 'utf8'))) as Record<string, unknown>;
    const { status, out } = await run('check', tempFile('bad.json', JSON.stringify({ ...plan, version: 'three', extra: true })));
    expect(status).toBe(1);
    expect(out).toContain('schema.wrong-type at /version');
    expect(out).toContain('schema.unknown-field at /extra');
  });

  it('exit 2 for usage errors and missing files', async () => {
    expect((await run('check')).status).toBe(2);
    expect((await run('check', '--format', 'xml', valid)).status).toBe(2);
    expect((await run('check', '--bogus', valid)).status).toBe(2);
    expect((await run('check', '--at', 'yesterday', valid)).status).toBe(2);
    const missing = await run('check', '/nonexistent/plan.json');
    expect(missing.status).toBe(2);
    expect(missing.err).toContain('cannot read "/nonexistent/plan.json"');
    expect((await run('frobnicate')).status).toBe(2);
  });
});

describe('the sip-fhir executable', () => {
  it('runs as a process and sets its exit status', async () => {
    const bin = path.resolve(import.meta.dirname, '../../src/cli/bin.ts');
    const exec = promisify(execFile);
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', bin, 'check', valid]);
    expect(stdout).toContain('1 passed, 0 failed');
    await expect(exec(process.execPath, ['--import', 'tsx', bin, 'check', expired])).rejects.toMatchObject({ code: 1 });
  });
});
