/**
 * `sip-fhir validate` reads an `.ndjson` file as a stream (src/cli/ndjson.ts): memory does not grow
 * with the number of lines, a bad line spoils only itself, and `--max-file-size` limits each line.
 * The large-file case runs the CLI as a child process with a 96 MB heap: the whole-file reader this
 * replaced ran out of heap on the same 30,000 lines (42 MB), while reading line by line needs well
 * under 64 MB whatever the count.
 */
import { execFile } from 'node:child_process';
import { truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { CommandIo } from '../../src/cli/io.js';
import { MAX_DOCUMENT_SIZE } from '../../src/cli/files.js';
import { main } from '../../src/cli/main.js';
import type { ValidateResult } from '../../src/cli/validate-command.js';
import { writeNdjsonCorpus } from '../support/ndjson-corpus.js';
import { scratchFolder } from '../support/scratch-folders.js';

const exec = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../../src/cli/bin.ts');
const scratch = (): string => scratchFolder('sip-stream-');

async function run(...argv: string[]): Promise<{ status: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIo = { out: (text) => out.push(text), err: (text) => err.push(text) };
  const status = await main(argv, io);
  return { status, out: out.join('\n'), err: err.join('\n') };
}

/** The file line of resource `n`: the corpus puts a blank line after every 1,000th resource. */
const fileLine = (n: number): number => n + Math.floor((n - 1) / 1000);

const patient = (id: string): string => JSON.stringify({ resourceType: 'Patient', id, text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">P</div>' } });

describe('validate reads .ndjson as a stream', () => {
  it('validates 30,000 distinct resources within a 96 MB heap, with the right counts and line numbers', async () => {
    const file = path.join(scratch(), 'large.ndjson');
    const corpus = await writeNdjsonCorpus(file, 30_000, 100);
    expect(corpus.invalid).toBe(300);
    const child = exec(process.execPath, ['--max-old-space-size=96', '--import', 'tsx', BIN, 'validate', '--quiet', file], { maxBuffer: 64 * 1024 * 1024 });
    const failure: unknown = await child.then(() => undefined, (error: unknown) => error);
    // Exit 1: every 100th resource has one unknown element, and nothing else is an error.
    expect(failure).toMatchObject({ code: 1, stderr: '' });
    const stdout = (failure as { stdout: string }).stdout;
    expect(stdout).toMatch(/^30000 resources: 29700 valid, 300 invalid; 300 errors, \d+ warnings$/m);
    const failed = [...stdout.matchAll(/^.*:(\d+): FAILED — 1 error/gm)].map((match) => Number(match[1]));
    expect(failed).toEqual(Array.from({ length: 300 }, (_, index) => fileLine((index + 1) * 100)));
    expect(stdout.match(/error unknown-element at \w+\.unknownElement/g)).toHaveLength(300);
  }, 240_000);

  it('judges a line of invalid UTF-8 on its own, naming its byte offset in the file and its line', async () => {
    const file = path.join(scratch(), 'latin.ndjson');
    const first = `${patient('a')}\n`;
    writeFileSync(file, Buffer.concat([Buffer.from(first), Buffer.from('{"resourceType":"Patient","id":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from(`"}\n${patient('c')}\n`)]));
    const { status, out } = await run('validate', '--format', 'json', file);
    expect(status).toBe(1);
    const results = JSON.parse(out) as ValidateResult[];
    expect(results.map((result) => [result.file, result.valid])).toEqual([[`${file}:1`, true], [`${file}:2`, false], [`${file}:3`, true]]);
    const offset = Buffer.byteLength(first) + '{"resourceType":"Patient","id":"caf'.length;
    expect(results[1]?.outcome.issue[0]?.details?.text).toBe(`Invalid UTF-8 at byte offset ${String(offset)} (line 2): 0xC3 0x28 is not a UTF-8 character; the file must be UTF-8`);
    expect(out).not.toContain('\uFFFD');
  });

  it('drops a byte-order mark before the first line only, and accepts CRLF line ends', async () => {
    const file = path.join(scratch(), 'bom.ndjson');
    writeFileSync(file, `\uFEFF${patient('a')}\r\n${patient('b')}\r\n\uFEFF${patient('c')}\r\n`);
    const { status, out } = await run('validate', file);
    expect(status).toBe(1);
    expect(out).toContain(`${file}:1: ok`);
    expect(out).toContain(`${file}:2: ok`);
    expect(out).toMatch(new RegExp(`${file}:3: FAILED[^]*Malformed JSON at line 3, column 1`));
  });

  it('applies --max-file-size to each line: a longer one is refused unread (exit 2), the others are judged', async () => {
    const file = path.join(scratch(), 'one-long.ndjson');
    const long = JSON.stringify({ resourceType: 'Patient', id: 'long', name: [{ text: 'x'.repeat(2000) }] });
    writeFileSync(file, `${patient('a')}\n${long}\n${patient('c')}\n`);
    expect(Buffer.byteLength(long)).toBe(2059);
    const { status, out, err } = await run('validate', '--max-file-size', '1KiB', file);
    expect(status).toBe(2);
    expect(err).toContain(`line 2 of "${file}" is 2 KiB (${String(Buffer.byteLength(long))} bytes), over the limit of 1 KiB (1024 bytes) for one resource; it was not read (see --max-file-size)`);
    expect(out).toContain(`${file}:1: ok`);
    expect(out).toContain(`${file}:2: FAILED — 1 error`);
    expect(out).toContain('fatal input-too-large');
    expect(out).toContain(`${file}:3: ok`);
    expect(out).toMatch(/^3 resources: 2 valid, 1 invalid;/m);
  });

  it('reads the last line without a newline, and a file of blank lines as no resource', async () => {
    const dir = scratch();
    const file = path.join(dir, 'no-newline.ndjson');
    writeFileSync(file, `${patient('a')}\n \n\t\n${patient('b')}`);
    const { status, out } = await run('validate', file);
    expect(status).toBe(0);
    expect(out).toContain(`${file}:1: ok`);
    expect(out).toContain(`${file}:4: ok`);
    const blank = path.join(dir, 'blank.ndjson');
    writeFileSync(blank, '\n  \n');
    const empty = await run('validate', '--format', 'json', blank);
    expect(empty).toMatchObject({ status: 0, out: '[]' });
  });

  it('refuses a .json file larger than one JSON document can be, whatever --max-file-size allows', async () => {
    const file = path.join(scratch(), 'huge.json');
    writeFileSync(file, '');
    truncateSync(file, MAX_DOCUMENT_SIZE + 1); // sparse: refused from its size, never read
    const { status, err } = await run('validate', '--max-file-size', '4GiB', file);
    expect(status).toBe(2);
    expect(err).toContain(`over the limit of 512 MiB (${String(MAX_DOCUMENT_SIZE)} bytes); it was not read (the most one JSON document can be; an .ndjson file, one resource per line, has no limit on its size)`);
  });
});
