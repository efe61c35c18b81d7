/**
 * Issue #10, point 5: a hostile file gets the same answer from every command. Each case is run
 * through `check`, `to-fhir`, `from-fhir` and `validate` alike: exit status, message, and never a
 * stack trace. The README's "Exit status" table is the contract these tests hold.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { scratchFolder } from '../support/scratch-folders.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PLAN = path.join(ROOT, 'examples', 'adult-psychiatry-addiction.json');
/** A fixed moment of sending, while the example's consent is in force: the suite passes on any day. */
const AT = '2026-05-01T12:00:00+02:00';
const STACK_TRACE = /\n\s+at /;

async function run(argv: readonly string[]): Promise<{ status: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await main(argv, { out: (text) => out.push(text), err: (text) => err.push(text) });
  return { status, out: out.join('\n'), err: err.join('\n') };
}

type Command = 'check' | 'to-fhir' | 'from-fhir' | 'validate';
const COMMANDS: readonly Command[] = ['check', 'to-fhir', 'from-fhir', 'validate'];

/** The command line for one input; `--at` only where the command takes it. */
function argv(command: Command, input: string, ...options: string[]): string[] {
  return command === 'validate' ? [command, ...options, input] : [command, '--at', AT, ...options, input];
}

const scratch = (): string => scratchFolder('sip-hostile-');

function file(name: string, content: string | Buffer): string {
  const target = path.join(scratch(), name);
  writeFileSync(target, content);
  return target;
}

/** What each command accepts as a valid input: a plan for check and to-fhir, a SIP Bundle for the others. */
const valid: Record<Command, string> = { check: '', 'to-fhir': '', 'from-fhir': '', validate: '' };

beforeAll(async () => {
  const plan = readFileSync(PLAN, 'utf8');
  const bundle = (await run(['to-fhir', '--at', AT, PLAN])).out;
  Object.assign(valid, { check: plan, 'to-fhir': plan, 'from-fhir': bundle, validate: bundle });
});

interface Expected {
  readonly status: number;
  /** Every one of these is in stdout or stderr. */
  readonly says: readonly (string | RegExp)[];
  /** None of these is. */
  readonly never?: readonly (string | RegExp)[];
}

interface HostileCase {
  readonly name: string;
  /** The argument (a file or folder made for the command) and any options. */
  readonly input: (command: Command) => { path: string; options?: string[] };
  readonly expected: (command: Command, input: string) => Expected;
}

const INVALID_UTF8 = Buffer.concat([Buffer.from('{\n  "resourceType": "caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"\n}\n')]);

/**
 * A field name that would turn a terminal red, where each command echoes field names: an unknown
 * field of a plan, of a resource validated, and of a resource in a Bundle read (from-fhir reads the
 * plan and warns about what it cannot map, exit 0).
 */
function controlFieldDocument(command: Command): string {
  const field = '\u001b[31mred';
  if (command === 'from-fhir') {
    const bundle = JSON.parse(valid[command]) as { entry: { resource: Record<string, unknown> }[] };
    const patient = bundle.entry.find((entry) => entry.resource.resourceType === 'Patient');
    if (patient) patient.resource[field] = 1;
    return JSON.stringify(bundle);
  }
  if (command === 'validate') return JSON.stringify({ resourceType: 'Patient', id: 'p1', [field]: 1 });
  return JSON.stringify({ [field]: 1 });
}

const CASES: readonly HostileCase[] = [
  {
    name: 'invalid UTF-8 (0xC3 0x28 inside a string)',
    input: () => ({ path: file('latin.json', INVALID_UTF8) }),
    expected: () => ({ status: 1, says: ['Invalid UTF-8 at byte offset 24 (line 2)', '0xC3 0x28'], never: ['\uFFFD'] }),
  },
  {
    name: 'a UTF-8 byte-order mark before valid JSON (accepted: the normal verdict)',
    input: (command) => ({ path: file('bom.json', `\uFEFF${valid[command]}`) }),
    expected: () => ({ status: 0, says: [], never: ['Malformed', 'malformed'] }),
  },
  {
    name: 'a number beyond the double range (-1e400)',
    input: () => ({ path: file('huge.json', '{\n  "resourceType": "Patient",\n  "n": -1e400\n}\n') }),
    expected: () => ({ status: 1, says: ['Malformed JSON at line 3, column 8: number out of range: -1e400'], never: ['got number null'] }),
  },
  {
    name: 'terminal control characters in a field name',
    input: (command) => ({ path: file('red.json', controlFieldDocument(command)) }),
    expected: (command) => ({ status: command === 'from-fhir' ? 0 : 1, says: ['\\u001b[31mred'], never: ['\u001b'] }),
  },
  {
    name: 'an empty folder',
    input: () => ({ path: scratch() }),
    expected: (_command, input) => ({ status: 2, says: [`nothing to check in "${input}"`] }),
  },
  {
    name: 'a folder holding only a symbolic link to a valid file (links inside folders are not followed)',
    input: (command) => {
      const dir = scratch();
      symlinkSync(file('target.json', valid[command]), path.join(dir, 'link.json'));
      return { path: dir };
    },
    expected: (_command, input) => ({ status: 2, says: [`nothing to check in "${input}"`, 'symbolic links inside a folder are not followed'] }),
  },
  {
    name: 'an unmatched shell pattern',
    input: () => ({ path: path.join(scratch(), '*.json') }),
    expected: (_command, input) => ({ status: 2, says: [`nothing to check: no file matches "${input}"`] }),
  },
  {
    name: 'a file over --max-file-size (refused from its size)',
    input: (command) => ({ path: file('large.json', valid[command]), options: ['--max-file-size', '1KiB'] }),
    expected: (command, input) => ({
      status: 2,
      says: [`"${input}" is `, `(${String(Buffer.byteLength(valid[command]))} bytes), over the limit of 1 KiB (1024 bytes); it was not read`],
    }),
  },
];

describe.each(CASES)('a hostile input: $name', (hostile) => {
  it.each(COMMANDS)('%s: the same exit status and message, no stack trace', async (command) => {
    const { path: input, options = [] } = hostile.input(command);
    const expected = hostile.expected(command, input);
    const { status, out, err } = await run(argv(command, input, ...options));
    const printed = `${out}\n${err}`;
    expect({ status, printed }).toMatchObject({ status: expected.status });
    for (const text of expected.says) expect(printed).toMatch(text);
    for (const text of expected.never ?? []) expect(printed).not.toMatch(text);
    expect(printed).not.toMatch(STACK_TRACE);
    if (expected.status === 2) expect(err).not.toBe('');
  });
});

/** Every kind of error V8's JSON.parse reports, with where it is. */
const MALFORMED: readonly { kind: string; text: string; at: string }[] = [
  { kind: 'unexpected token mid-file (V8 quotes a snippet)', text: '{\n  "resourceType": "Patient",\n  "active": yes,\n  "id": "abcdefghijklmnop"\n}', at: "line 3, column 13: Unexpected token 'y'" },
  { kind: 'unexpected token near the start', text: '{"a": yes, "resourceType": "Patient", "id": "abcdefghij"}', at: "line 1, column 7: Unexpected token 'y'" },
  { kind: 'unexpected token near the end', text: '{"resourceType": "Patient", "id": "abcdefghij", "a": @}', at: "line 1, column 54: Unexpected token '@'" },
  { kind: 'unexpected token whose snippet a string before it holds too', text: '{\n  "note": " 1234567, yes, 7654321",\n  "list": [ 1234567, yes, 7654321 ]\n}', at: "line 3, column 22: Unexpected token 'y'" },
  { kind: 'unexpected end', text: '{\n  "resourceType": "Patient",\n  "id": "x"', at: 'line 3, column 12: Expected' },
  { kind: 'unexpected end of input', text: '{"resourceType": "Patient", "active": tr', at: 'line 1, column 41: Unexpected end of JSON input' },
  { kind: 'bad escape', text: '{\n  "id": "a\\x"\n}', at: 'line 2, column 12: Bad escaped character' },
  { kind: 'control character in a string', text: '{\n  "id": "a\tb"\n}', at: 'line 2, column 11: Bad control character in string literal' },
  { kind: 'unterminated string', text: '{\n  "id": "abc', at: 'line 2, column 13: Unterminated string' },
  { kind: 'missing comma', text: '{\n  "id": "x"\n  "version": 1\n}', at: "line 3, column 3: Expected ',' or '}' after property value" },
  { kind: 'trailing comma', text: '{\n  "id": "x",\n}', at: 'line 3, column 1: Expected double-quoted property name' },
  { kind: 'text after the value', text: '{"id": "x"}\n{"id": "y"}', at: 'line 2, column 1: Unexpected non-whitespace character after JSON' },
  { kind: 'bad number', text: '{\n  "n": -x\n}', at: 'line 2, column 9: No number after minus sign' },
];

describe('malformed JSON: every command exits 1 with the same message, located by line and column', () => {
  it.each(MALFORMED)('$kind', async ({ text, at }) => {
    const broken = file('broken.json', text);
    const answers = await Promise.all(COMMANDS.map(async (command) => ({ command, ...(await run(argv(command, broken))) })));
    for (const { command, status, out, err } of answers) {
      expect({ command, status }).toEqual({ command, status: 1 });
      expect(`${out}\n${err}`).toContain(`Malformed JSON at ${at}`);
      expect(`${out}\n${err}`).not.toMatch(STACK_TRACE);
    }
  });
});

describe('usage and options, alike in every command', () => {
  it('prints the overview on stderr when no command is named (exit 2), on stdout when asked for', async () => {
    const missing = await run([]);
    expect(missing).toMatchObject({ status: 2, out: '' });
    expect(missing.err).toContain('Usage: sip-fhir <command>');
    const asked = await run(['--help']);
    expect(asked).toMatchObject({ status: 0, err: '' });
    expect(asked.out).toContain('Exit status, alike for every command');
  });

  it.each(COMMANDS)('%s: a bad --max-file-size is a usage error on stderr, exit 2; --help lists the option', async (command) => {
    const result = await run(argv(command, PLAN, '--max-file-size', '12 parsecs'));
    expect(result).toMatchObject({ status: 2, out: '' });
    expect(result.err).toContain('--max-file-size must be a number of bytes');
    expect((await run([command, '--help'])).out).toContain('--max-file-size <bytes|NNMiB>');
  });

  it.each(COMMANDS)('%s: a file name with control characters is echoed escaped', async (command) => {
    const { status, err } = await run(argv(command, path.join(scratch(), 'no\u001b]0;pwned\u0007.json')));
    expect(status).toBe(2);
    expect(err).toContain('no\\u001b]0;pwned\\u0007.json');
    expect(err).not.toContain('\u001b');
    expect(err).not.toContain('\u0007');
  });

  it('for to-fhir and from-fhir, a folder with files is a usage error: they read one file', async () => {
    const dir = scratch();
    mkdirSync(path.join(dir, 'plans'));
    writeFileSync(path.join(dir, 'plans', 'plan.json'), valid.check);
    for (const command of ['to-fhir', 'from-fhir'] as const) {
      const result = await run(argv(command, path.join(dir, 'plans')));
      expect(result).toMatchObject({ status: 2, out: '' });
      expect(result.err).toMatch(/name one (plan|Bundle) file; ".*plans" is a folder/);
    }
  });

  it('keeps JSON output valid JSON, the same text, when values hold DEL and C1 characters', async () => {
    const value = 'x\u007f\u0085\u001by';
    const { status, out } = await run(['check', '--at', AT, '--format', 'json', file('odd.json', JSON.stringify({ [value]: 1 }))]);
    expect(status).toBe(1);
    for (const character of ['\u007f', '\u0085', '\u001b']) expect(out).not.toContain(character);
    const [result] = JSON.parse(out) as { problems: { pointer: string }[] }[];
    expect(result?.problems.map((problem) => problem.pointer)).toContain(`/${value}`);
  });
});

describe('as a real process', () => {
  it('reports invalid UTF-8 with exit 1 and no stack trace', async () => {
    const exec = promisify(execFile);
    const bin = path.join(ROOT, 'src', 'cli', 'bin.ts');
    const failed = await exec(process.execPath, ['--import', 'tsx', bin, 'check', file('latin.json', INVALID_UTF8)]).then(
      () => ({ code: 0, stdout: '', stderr: '' }),
      (error: unknown) => error as { code: number; stdout: string; stderr: string },
    );
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('Invalid UTF-8 at byte offset 24');
    expect(`${failed.stdout}${failed.stderr}`).not.toMatch(STACK_TRACE);
  }, 30_000);
});
