/**
 * `sip-fhir validate [--profile <canonical>]... <file | folder | ndjson>...` — checks FHIR R4
 * resources against base R4 and the SIP profiles with the project's validator, and prints every
 * issue with its rule key and FHIRPath location.
 *
 * Unlike `check`, malformed JSON is a verdict on the input (exit 1), not a failure to read it: a
 * FHIR receiver would reject it just like an invalid resource, and an `.ndjson` export with one bad
 * line should still have its other lines judged.
 *
 * Exit status (README, "Exit status"): 0 no input has an error (or fatal) issue, 1 one has (malformed
 * JSON, invalid UTF-8 and numbers out of range included), 2 usage errors (an unknown `--profile`
 * included) and inputs that cannot be read (missing, over --max-file-size, nothing to check).
 */
import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';
import { parseJson } from '../sip/json-text.js';
import { createValidator, hasErrors, type Validator } from '../validation/index.js';
import { UsageError } from './usage-error.js';
import { documentLimit, expandInputs, INPUT_OPTIONS, InputError, parseInputLimits, readInputText, type InputLimits } from './files.js';
import { countNdjsonLines, readNdjson } from './ndjson.js';
import { escapeControl, type CommandIo } from './io.js';

/** More resources than this, and progress is worth reporting. */
const PROGRESS_THRESHOLD = 20;

export const VALIDATE_USAGE = `Usage: sip-fhir validate [options] <file.json | file.ndjson | folder>...

Validates FHIR R4 resources against base R4 and the SIP profiles, and prints every issue with its
severity, rule key (a constraint key such as cpl-3, or a structure rule such as binding-required),
FHIRPath location and message. A .json file holds one resource (a Bundle is one resource, its
entries are checked inside it); an .ndjson file holds one resource per line, reported as
file:line, and is read as a stream, each result written as it comes; a folder is read for its .json and .ndjson files, recursively, in name order.

Options:
  --profile <canonical>  also check every resource against this profile (repeatable); resources
                         are always checked against the profiles their meta.profile claims
  --format text|json     output for people (default) or for machines: [{file, valid, outcome}]
  --quiet                print only the inputs that fail, and the summary
  --no-cache             remember no constraint result between resources (the result cache is
                         bounded, 16 MiB, and helps when resources repeat; off, memory stays flat)
  --progress             report "validated N/M" on stderr (default: only when stderr is a
                         terminal and there are more than ${String(PROGRESS_THRESHOLD)} resources)
  --max-file-size <bytes|NNMiB>
                         refuse a larger file without reading it (default 64MiB; KiB, MiB, GiB;
                         at most 512MiB for a .json file); an .ndjson file is read line by line,
                         and the limit is then for each line
  -h, --help             show this help

Symbolic links inside a folder are not followed.

Exit status: 0 no resource has an error, 1 a resource has an error (malformed JSON, invalid UTF-8
or a number out of range included), 2 usage error (an unknown profile included), unreadable or too
large input, or nothing to check.`;

/** The verdict on one resource: one `.json` file, or one line of an `.ndjson` file (`path:line`). */
export interface ValidateResult {
  file: string;
  valid: boolean;
  outcome: OperationOutcome;
}

/** One resource to validate: where it came from, its JSON text, and the file line it starts on. */
interface Unit {
  readonly name: string;
  readonly text: string;
  readonly firstLine: number;
}

/** Key of the issue for input that is not JSON at all; no StructureDefinition is its source. */
export const MALFORMED_JSON = 'malformed-json';
/** Key of the issue for an input file that exists but cannot be read. */
export const UNREADABLE_INPUT = 'unreadable-input';
/** Key of the issue for an input file (or `.ndjson` line) over `--max-file-size`, refused without being read. */
export const INPUT_TOO_LARGE = 'input-too-large';

function outcomeOf(issue: OperationOutcomeIssue): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [issue] };
}

/** A resource, or a whole file, that is not acceptable JSON: one error with the line and column. */
function malformed(message: string): OperationOutcome {
  return outcomeOf({ severity: 'error', code: 'structure', details: { coding: [{ code: MALFORMED_JSON }], text: message } });
}

/** An input that was not judged: unreadable, or over the size limit (exit 2). */
function notRead(reason: 'unreadable' | 'too-large' | 'nothing-to-check', message: string): OperationOutcome {
  const [code, key] = reason === 'too-large' ? (['too-costly', INPUT_TOO_LARGE] as const) : (['not-found', UNREADABLE_INPUT] as const);
  return outcomeOf({ severity: 'fatal', code, details: { coding: [{ code: key }], text: message } });
}

/** Parses one resource's JSON; a syntax error becomes an outcome naming the line and column in the file. */
function parseResource(unit: Unit): { ok: true; value: unknown } | { ok: false; outcome: OperationOutcome } {
  const json = parseJson(unit.text, unit.firstLine);
  return json.ok ? json : { ok: false, outcome: malformed(json.message) };
}

function ruleKey(issue: OperationOutcomeIssue): string {
  return issue.details?.coding?.[0]?.code ?? issue.code;
}

function counts(issues: readonly OperationOutcomeIssue[]): { errors: number; warnings: number } {
  const errors = issues.filter((issue) => issue.severity === 'error' || issue.severity === 'fatal').length;
  const warnings = issues.filter((issue) => issue.severity === 'warning').length;
  return { errors, warnings };
}

const plural = (count: number, noun: string): string => `${String(count)} ${noun}${count === 1 ? '' : 's'}`;

/** The text report of one resource: nothing (quiet and clean), one line, or a line per issue. */
function formatResult(result: ValidateResult, quiet: boolean): string[] {
  const { errors, warnings } = counts(result.outcome.issue);
  if (quiet && result.valid) return [];
  const tally = [errors > 0 ? plural(errors, 'error') : '', warnings > 0 ? plural(warnings, 'warning') : ''].filter(Boolean).join(', ');
  // What a file says is put on one line: its newlines escaped too (the rest `main` escapes).
  const line = (text: string): string => escapeControl(text, true);
  return [
    `${line(result.file)}: ${result.valid ? 'ok' : 'FAILED'}${tally === '' ? '' : ` — ${tally}`}`,
    ...result.outcome.issue.map(
      (issue) => `  ${issue.severity} ${line(ruleKey(issue))} at ${line(issue.expression?.[0] ?? '(resource)')}: ${line(issue.details?.text ?? issue.diagnostics ?? issue.code)}`,
    ),
  ];
}

/** What the summary line counts, kept as the results go by (the results themselves are not kept). */
class Tally {
  resources = 0;
  valid = 0;
  errors = 0;
  warnings = 0;
  /** Inputs (files or lines) that could not be read or were over the limit: exit status 2. */
  notRead = 0;

  add(result: ValidateResult): void {
    const { errors, warnings } = counts(result.outcome.issue);
    this.resources += 1;
    this.valid += result.valid ? 1 : 0;
    this.errors += errors;
    this.warnings += warnings;
  }

  summary(): string {
    return `${plural(this.resources, 'resource')}: ${String(this.valid)} valid, ${String(this.resources - this.valid)} invalid; ${plural(this.errors, 'error')}, ${plural(this.warnings, 'warning')}`;
  }
}

/**
 * `--format json` written as the results come: the same text as `JSON.stringify(results, null, 2)`
 * of the whole array, without holding the array. Each item is written once the next one (or the
 * end) shows whether a comma follows it.
 */
class JsonArrayWriter {
  readonly #io: CommandIo;
  #pending: string | undefined;
  #started = false;

  constructor(io: CommandIo) {
    this.#io = io;
  }

  add(result: ValidateResult): void {
    if (!this.#started) this.#io.out('[');
    this.#started = true;
    if (this.#pending !== undefined) this.#io.out(`${this.#pending},`);
    // JSON.stringify puts no newline inside a string, so every line of the item is indented alike.
    this.#pending = JSON.stringify(result, null, 2).replace(/^/gm, '  ');
  }

  end(): void {
    if (!this.#started) {
      this.#io.out('[]');
      return;
    }
    if (this.#pending !== undefined) this.#io.out(this.#pending);
    this.#io.out(']');
  }
}

/** "validated N/M" on stderr, about ten times in a run; "validated N" every 1,000 when M is unknown. */
class Progress {
  readonly #io: CommandIo;
  readonly #total: number | undefined;
  readonly #step: number;
  #done = 0;

  constructor(io: CommandIo, total: number | undefined) {
    this.#io = io;
    this.#total = total;
    this.#step = total === undefined ? 1000 : Math.max(1, Math.ceil(total / 10));
  }

  tick(): void {
    this.#done += 1;
    if (this.#done % this.#step !== 0 && this.#done !== this.#total) return;
    this.#io.err(`validated ${String(this.#done)}${this.#total === undefined ? '' : `/${String(this.#total)}`}`);
  }
}

/**
 * How many resources the inputs hold, for "validated N/M": a `.json` file is one, an `.ndjson` file
 * is read once more for its non-blank lines (a stream; far cheaper than validating them).
 * `undefined` when an input is not a regular file (a pipe can be read only once).
 */
async function countResources(files: readonly string[], limits: InputLimits): Promise<number | undefined> {
  let total = 0;
  for (const file of files) {
    const info = await stat(file).catch(() => undefined);
    if (info === undefined) continue;
    if (!info.isFile()) return undefined;
    if (!file.endsWith('.ndjson')) total += info.size <= documentLimit(limits).bytes ? 1 : 0;
    else total += await countNdjsonLines(file);
  }
  return total;
}

/**
 * Runs `sip-fhir validate`. The validator is a parameter so callers that already hold one (a server,
 * a test) can reuse it; by default one is created, and it loads its definitions on first use.
 */
export async function runValidate(args: readonly string[], io: CommandIo, given?: Validator): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      profile: { type: 'string', multiple: true, default: [] },
      format: { type: 'string', default: 'text' },
      quiet: { type: 'boolean', default: false },
      'no-cache': { type: 'boolean', default: false },
      progress: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      ...INPUT_OPTIONS,
    },
  });
  if (values.help) {
    io.out(VALIDATE_USAGE);
    return 0;
  }
  if (values.format !== 'text' && values.format !== 'json') throw new UsageError(`--format must be "text" or "json"; got "${values.format}"`);
  if (positionals.length === 0) throw new UsageError('name at least one .json or .ndjson file, or a folder');
  const validator = given ?? createValidator({ rememberResults: !values['no-cache'] });
  const profiles = values.profile;
  for (const profile of profiles) {
    if (!validator.knowsProfile(profile)) throw new UsageError(`unknown profile "${profile}": no StructureDefinition with this canonical URL is loaded`);
  }
  const limits = parseInputLimits(values['max-file-size']);

  let files: string[];
  try {
    files = await expandInputs(positionals, ['.json', '.ndjson']);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    io.err(`sip-fhir validate: ${error.message}`);
    return 2;
  }

  const options = profiles.length > 0 ? { profiles } : undefined;
  const judge = (unit: Unit): ValidateResult => {
    const parsed = parseResource(unit);
    const outcome = parsed.ok ? validator.validate(parsed.value, options) : parsed.outcome;
    return { file: unit.name, valid: !hasErrors(outcome), outcome };
  };

  let progress: Progress | undefined;
  if (values.progress || io.errIsTerminal === true) {
    const total = await countResources(files, limits);
    if (total === undefined || total > PROGRESS_THRESHOLD) progress = new Progress(io, total);
  }
  const tally = new Tally();
  const json = values.format === 'json' ? new JsonArrayWriter(io) : undefined;
  // Each result is written as it is known and then dropped: memory does not grow with the inputs,
  // and a long .ndjson run shows its failures before it ends.
  const emit = (result: ValidateResult): void => {
    tally.add(result);
    if (json !== undefined) json.add(result);
    else {
      const lines = formatResult(result, values.quiet);
      if (lines.length > 0) io.out(lines.join('\n'));
    }
  };
  const refuse = (name: string, error: InputError): void => {
    io.err(`sip-fhir validate: ${error.message}`);
    tally.notRead += 1;
    emit({ file: name, valid: false, outcome: notRead(error.reason, error.message) });
  };

  for (const file of files) {
    try {
      if (file.endsWith('.ndjson')) {
        for await (const line of readNdjson(file, limits)) {
          const name = `${file}:${String(line.line)}`;
          if (line.kind === 'too-large') refuse(name, new InputError('too-large', line.message));
          else emit(line.kind === 'text' ? judge({ name, text: line.text, firstLine: line.line }) : { file: name, valid: false, outcome: malformed(line.message) });
          progress?.tick();
        }
      } else {
        const input = await readInputText(file, limits);
        // Bytes that are not UTF-8 spoil a whole .json file: it is one invalid input.
        emit(input.ok ? judge({ name: file, text: input.text, firstLine: 1 }) : { file, valid: false, outcome: malformed(input.message) });
        progress?.tick();
      }
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      refuse(file, error);
    }
  }

  if (json !== undefined) json.end();
  else io.out(tally.summary());
  if (tally.notRead > 0) return 2;
  return tally.valid === tally.resources ? 0 : 1;
}
