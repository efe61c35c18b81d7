/**
 * `sip-fhir validate`: inputs, output, exit status and progress — the command's plumbing. Every
 * expectation here holds whatever the validator decides about a well-formed resource (official R4
 * examples are valid; non-objects and malformed JSON are not). Verdicts on broken resources are in
 * validate-verdicts.test.ts.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import type { OperationOutcome } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import type { CommandIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { runValidate, type ValidateResult } from '../../src/cli/validate-command.js';
import type { ValidateOptions, Validator } from '../../src/validation/index.js';
import { scratchFolder } from '../support/scratch-folders.js';

const OFFICIAL = path.dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
const PATIENT_PROFILE = 'http://hl7.org/fhir/StructureDefinition/Patient';

function bufferIo(errIsTerminal = false): CommandIo & { stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (text) => out.push(text), err: (text) => err.push(text), errIsTerminal, stdout: () => out.join('\n'), stderr: () => err.join('\n') };
}

async function run(...argv: string[]): Promise<{ status: number; out: string; err: string }> {
  const io = bufferIo();
  const status = await main(argv, io);
  return { status, out: io.stdout(), err: io.stderr() };
}

function scratch(): string {
  return scratchFolder('sip-validate-');
}

/** Copies official examples into a fresh folder and returns their new paths. */
function officialCopies(dir: string, ...names: string[]): string[] {
  return names.map((name) => {
    const target = path.join(dir, name);
    copyFileSync(path.join(OFFICIAL, name), target);
    return target;
  });
}

const minimalPatient = JSON.stringify({ resourceType: 'Patient', id: 'p1', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">P</div>' } });

describe('sip-fhir validate', () => {
  it('passes official R4 examples with exit 0, one short line each and a summary', async () => {
    const files = officialCopies(scratch(), 'Patient-example.json', 'CarePlan-example.json');
    const { status, out } = await run('validate', ...files);
    expect(status).toBe(0);
    expect(out).toMatch(/Patient-example\.json: ok/);
    expect(out).toMatch(/CarePlan-example\.json: ok/);
    expect(out).toMatch(/^2 resources: 2 valid, 0 invalid; 0 errors, \d+ warnings?$/m);
  });

  it('reports malformed JSON as an invalid resource with line and column, exit 1, no stack trace', async () => {
    const dir = scratch();
    const [good] = officialCopies(dir, 'Patient-example.json');
    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, '{\n  "resourceType": "Patient"\n  "id": "x"\n}');
    const { status, out, err } = await run('validate', good ?? '', broken);
    expect(status).toBe(1);
    expect(out).toContain(`${broken}: FAILED — 1 error`);
    expect(out).toMatch(/error malformed-json at \(resource\): Malformed JSON at line 3, column 3/);
    expect(out).toMatch(/^2 resources: 1 valid, 1 invalid; 1 error, /m);
    expect(`${out}${err}`).not.toMatch(/\n\s+at .*\.(ts|js):\d+/);
  });

  it('locates an unexpected token mid-file, where V8 quotes a snippet instead of a position', async () => {
    const broken = path.join(scratch(), 'token.json');
    writeFileSync(broken, '{\n  "resourceType": "Patient",\n  "active": yes,\n  "id": "abcdefghijklmnop"\n}');
    const { status, out } = await run('validate', broken);
    expect(status).toBe(1);
    expect(out).toContain("Malformed JSON at line 3, column 13: Unexpected token 'y'");
  });

  it('reports each .ndjson line as file:line, skipping blank lines, with the file line of a JSON error', async () => {
    const file = path.join(scratch(), 'export.ndjson');
    writeFileSync(file, `${minimalPatient}\n\n[1]\n{"resourceType": "Patient", "id": }\n   \n${minimalPatient}\n`);
    const text = await run('validate', file);
    expect(text.status).toBe(1);
    expect(text.out).toMatch(new RegExp(`${file}:1: ok`));
    expect(text.out).toContain(`${file}:3: FAILED`);
    expect(text.out).toMatch(/Malformed JSON at line 4, column 35/);
    expect(text.out).toMatch(new RegExp(`${file}:6: ok`));
    expect(text.out).not.toContain(`${file}:2`);
    expect(text.out).toMatch(/^4 resources: 2 valid, 2 invalid;/m);

    const json = await run('validate', '--format', 'json', file);
    expect(json.status).toBe(1);
    const results = JSON.parse(json.out) as ValidateResult[];
    expect(results.map((result) => [result.file, result.valid])).toEqual([
      [`${file}:1`, true],
      [`${file}:3`, false],
      [`${file}:4`, false],
      [`${file}:6`, true],
    ]);
    expect(results[2]?.outcome.issue[0]?.details?.coding?.[0]?.code).toBe('malformed-json');
  });

  it('reads every .json and .ndjson file below a folder, in name order, and nothing else', async () => {
    const dir = scratch();
    mkdirSync(path.join(dir, 'a'));
    mkdirSync(path.join(dir, 'c'));
    officialCopies(dir, 'Patient-example.json');
    copyFileSync(path.join(OFFICIAL, 'Goal-example.json'), path.join(dir, 'c', 'goal.json'));
    writeFileSync(path.join(dir, 'a', 'lines.ndjson'), `${minimalPatient}\n${minimalPatient}\n`);
    writeFileSync(path.join(dir, 'notes.txt'), 'not FHIR');
    writeFileSync(path.join(dir, 'b.json.bak'), '{');
    const { status, out } = await run('validate', '--format', 'json', dir);
    expect(status).toBe(0);
    expect((JSON.parse(out) as ValidateResult[]).map((result) => path.relative(dir, result.file))).toEqual([
      'Patient-example.json',
      path.join('a', 'lines.ndjson:1'),
      path.join('a', 'lines.ndjson:2'),
      path.join('c', 'goal.json'),
    ].sort());
  });

  it('prints [{file, valid, outcome}] with --format json, the outcome an OperationOutcome', async () => {
    const dir = scratch();
    const [good] = officialCopies(dir, 'Organization-hl7.json');
    const bad = path.join(dir, 'array.json');
    writeFileSync(bad, '[{"resourceType": "Patient"}]');
    const { status, out } = await run('validate', '--format', 'json', good ?? '', bad);
    expect(status).toBe(1);
    const results = JSON.parse(out) as ValidateResult[];
    expect(results).toHaveLength(2);
    expect(results[0]).toMatchObject({ file: good, valid: true, outcome: { resourceType: 'OperationOutcome' } });
    expect(results[1]).toMatchObject({ file: bad, valid: false, outcome: { resourceType: 'OperationOutcome' } });
    expect(results[1]?.outcome.issue.map((issue) => issue.details?.coding?.[0]?.code)).toContain('not-a-resource');
    expect(out).not.toMatch(/resources:/);
  });

  it('accepts a --profile the validator knows, and refuses an unknown one with exit 2', async () => {
    const [file] = officialCopies(scratch(), 'Patient-example.json');
    expect((await run('validate', '--profile', PATIENT_PROFILE, file ?? '')).status).toBe(0);
    const unknown = await run('validate', '--profile', PATIENT_PROFILE, '--profile', 'http://example.org/StructureDefinition/nope', file ?? '');
    expect(unknown.status).toBe(2);
    expect(unknown.out).toBe('');
    expect(unknown.err).toContain('unknown profile "http://example.org/StructureDefinition/nope"');
  });

  it('exits 2 on usage errors and missing inputs', async () => {
    const [file] = officialCopies(scratch(), 'Patient-example.json');
    expect((await run('validate')).status).toBe(2);
    expect((await run('validate', '--bogus', file ?? '')).status).toBe(2);
    expect((await run('validate', '--format', 'xml', file ?? '')).status).toBe(2);
    const missing = await run('validate', file ?? '', '/nonexistent/bundle.json');
    expect(missing.status).toBe(2);
    expect(missing.err).toContain('cannot read "/nonexistent/bundle.json"');
  });

  it('has --help, and is listed in the command overview', async () => {
    const help = await run('validate', '--help');
    expect(help.status).toBe(0);
    expect(help.out).toContain('Usage: sip-fhir validate [options]');
    expect(help.out).toContain('--profile <canonical>');
    expect((await run('--help')).out).toMatch(/^ {2}validate /m);
  });
});

/** A validator with scripted verdicts: `birthDate` present → one error; `gender` → one warning. */
function scriptedValidator(): Validator & { calls: (ValidateOptions | undefined)[] } {
  const calls: (ValidateOptions | undefined)[] = [];
  return {
    calls,
    knowsProfile: (canonical) => canonical === PATIENT_PROFILE,
    validate(resource, options): OperationOutcome {
      calls.push(options);
      const value = resource as Record<string, unknown>;
      const issue: OperationOutcome['issue'] = [];
      const system = 'http://hl7.org/fhir/StructureDefinition/Patient';
      if ('birthDate' in value) {
        issue.push({ severity: 'error', code: 'value', expression: ['Patient.birthDate'], details: { coding: [{ system, code: 'invalid-value' }], text: 'Not a valid date' } });
      }
      if ('gender' in value) {
        issue.push({ severity: 'warning', code: 'invariant', expression: ['Patient'], details: { coding: [{ system, code: 'dom-6' }], text: 'No narrative' } });
      }
      if ('deceasedString' in value) {
        issue.push({ severity: 'fatal', code: 'structure', details: { coding: [{ code: 'not-a-resource' }], text: 'Cannot be read' } });
      }
      return { resourceType: 'OperationOutcome', issue };
    },
  };
}

describe('sip-fhir validate, reporting what the validator says', () => {
  const lines = ['{"resourceType":"Patient"}', '{"resourceType":"Patient","birthDate":"2020-13-45"}', '{"resourceType":"Patient","gender":"x"}'];

  it('prints severity, rule key, FHIRPath and message per issue; warnings do not fail', async () => {
    const file = path.join(scratch(), 'three.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const io = bufferIo();
    const status = await runValidate([file], io, scriptedValidator());
    expect(status).toBe(1);
    expect(io.stdout().split('\n')).toEqual([
      `${file}:1: ok`,
      `${file}:2: FAILED — 1 error`,
      '  error invalid-value at Patient.birthDate: Not a valid date',
      `${file}:3: ok — 1 warning`,
      '  warning dom-6 at Patient: No narrative',
      '3 resources: 2 valid, 1 invalid; 1 error, 1 warning',
    ]);
    const warningsOnly = path.join(scratch(), 'warn.ndjson');
    writeFileSync(warningsOnly, `${lines[2] ?? ''}\n`);
    expect(await runValidate([warningsOnly], bufferIo(), scriptedValidator())).toBe(0);
  });

  it('counts a fatal issue as an error', async () => {
    const file = path.join(scratch(), 'fatal.json');
    writeFileSync(file, '{"resourceType":"Patient","deceasedString":"?"}');
    const io = bufferIo();
    expect(await runValidate([file], io, scriptedValidator())).toBe(1);
    expect(io.stdout()).toContain('1 resource: 0 valid, 1 invalid; 1 error, 0 warnings');
  });

  it('prints only failing inputs with --quiet', async () => {
    const file = path.join(scratch(), 'three.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const io = bufferIo();
    await runValidate(['--quiet', file], io, scriptedValidator());
    expect(io.stdout()).not.toContain(`${file}:1`);
    expect(io.stdout()).not.toContain(`${file}:3`);
    expect(io.stdout()).toContain(`${file}:2: FAILED`);
    expect(io.stdout()).toContain('3 resources: 2 valid, 1 invalid');
  });

  it('hands every --profile to the validator for every resource', async () => {
    const file = path.join(scratch(), 'one.json');
    writeFileSync(file, lines[0] ?? '');
    const validator = scriptedValidator();
    expect(await runValidate(['--profile', PATIENT_PROFILE, '--profile', PATIENT_PROFILE, file], bufferIo(), validator)).toBe(0);
    expect(validator.calls).toEqual([{ profiles: [PATIENT_PROFILE, PATIENT_PROFILE] }]);
  });

  it('reports progress on stderr only for many resources and only on a terminal or with --progress', async () => {
    const many = path.join(scratch(), 'many.ndjson');
    writeFileSync(many, `${Array.from({ length: 25 }, () => lines[0] ?? '').join('\n')}\n`);
    const few = path.join(scratch(), 'few.ndjson');
    writeFileSync(few, `${Array.from({ length: 20 }, () => lines[0] ?? '').join('\n')}\n`);

    const asked = bufferIo();
    await runValidate(['--progress', '--quiet', many], asked, scriptedValidator());
    expect(asked.stderr()).toMatch(/^validated 3\/25$/m);
    expect(asked.stderr().split('\n').at(-1)).toBe('validated 25/25');
    expect(asked.stdout()).not.toContain('validated');

    const terminal = bufferIo(true);
    await runValidate([many], terminal, scriptedValidator());
    expect(terminal.stderr()).toContain('validated 25/25');

    const piped = bufferIo(false);
    await runValidate([many], piped, scriptedValidator());
    expect(piped.stderr()).toBe('');

    const small = bufferIo(true);
    await runValidate(['--progress', few], small, scriptedValidator());
    expect(small.stderr()).toBe('');
  });
});

describe('sip-fhir validate as a real process', () => {
  it('sets its exit status and writes the report on stdout', async () => {
    const exec = promisify(execFile);
    const bin = path.resolve(import.meta.dirname, '../../src/cli/bin.ts');
    const dir = scratch();
    const [good] = officialCopies(dir, 'Consent-consent-example-basic.json');
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', bin, 'validate', good ?? '']);
    expect(stdout).toMatch(/^1 resource: 1 valid, 0 invalid;/m);
    expect(stderr).toBe('');
    const broken = path.join(dir, 'broken.ndjson');
    writeFileSync(broken, '{"resourceType":"Patient"\n');
    await expect(exec(process.execPath, ['--import', 'tsx', bin, 'validate', broken])).rejects.toMatchObject({ code: 1, stdout: expect.stringContaining(`${broken}:1: FAILED`) as unknown });
    await expect(exec(process.execPath, ['--import', 'tsx', bin, 'validate', '--profile', 'http://example.org/nope', broken])).rejects.toMatchObject({ code: 2 });
  }, 30_000);
});
