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
import { parseArgs } from 'node:util';
import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';
import { parseJson } from '../sip/json-text.js';
import { createValidator, hasErrors, type Validator } from '../validation/index.js';
import { UsageError } from './usage-error.js';
import { expandInputs, INPUT_OPTIONS, InputError, parseInputLimits, readInputText } from './files.js';
import { escapeControl, type CommandIo } from './io.js';

/** More resources than this, and progress is worth reporting. */
const PROGRESS_THRESHOLD = 20;

export const VALIDATE_USAGE = `Usage: sip-fhir validate [options] <file.json | file.ndjson | folder>...

Validates FHIR R4 resources against base R4 and the SIP profiles, and prints every issue with its
severity, rule key (a constraint key such as cpl-3, or a structure rule such as binding-required),
FHIRPath location and message. A .json file holds one resource (a Bundle is one resource, its
entries are checked inside it); an .ndjson file holds one resource per line, reported as
file:line; a folder is read for its .json and .ndjson files, recursively, in name order.

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
                         refuse a larger file without reading it (default 64MiB; KiB, MiB, GiB)
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
/** Key of the issue for an input file over `--max-file-size`, refused without being read. */
export const INPUT_TOO_LARGE = 'input-too-large';

function outcomeOf(issue: OperationOutcomeIssue): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [issue] };
}

/** A resource, or a whole file, that is not acceptable JSON: one error with the line and column. */
function malformed(message: string): OperationOutcome {
  return outcomeOf({ severity: 'error', code: 'structure', details: { coding: [{ code: MALFORMED_JSON }], text: message } });
}

/** Parses one resource's JSON; a syntax error becomes an outcome naming the line and column in the file. */
function parseResource(unit: Unit): { ok: true; value: unknown } | { ok: false; outcome: OperationOutcome } {
  const json = parseJson(unit.text, unit.firstLine);
  return json.ok ? json : { ok: false, outcome: malformed(json.message) };
}

/** Splits a file into the resources it holds: the whole text, or each non-blank line of an `.ndjson` file. */
function unitsOf(file: string, text: string): Unit[] {
  if (!file.endsWith('.ndjson')) return [{ name: file, text, firstLine: 1 }];
  return text.split('\n').flatMap((line, index) => (line.trim() === '' ? [] : [{ name: `${file}:${String(index + 1)}`, text: line, firstLine: index + 1 }]));
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

function formatSummary(results: readonly ValidateResult[]): string {
  const valid = results.filter((result) => result.valid).length;
  const { errors, warnings } = counts(results.flatMap((result) => result.outcome.issue));
  return `${plural(results.length, 'resource')}: ${String(valid)} valid, ${String(results.length - valid)} invalid; ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
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

  // Read everything first: the total is what makes progress ("validated N/M") meaningful.
  let unreadable = false;
  const units: (Unit | ValidateResult)[] = [];
  for (const file of files) {
    try {
      const input = await readInputText(file, limits);
      // Bytes that are not UTF-8 spoil the whole file, .ndjson or not: it is one invalid input.
      units.push(...(input.ok ? unitsOf(file, input.text) : [{ file, valid: false, outcome: malformed(input.message) }]));
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      io.err(`sip-fhir validate: ${error.message}`);
      unreadable = true;
      const [code, key] = error.reason === 'too-large' ? (['too-costly', INPUT_TOO_LARGE] as const) : (['not-found', UNREADABLE_INPUT] as const);
      const issue: OperationOutcomeIssue = { severity: 'fatal', code, details: { coding: [{ code: key }], text: error.message } };
      units.push({ file, valid: false, outcome: outcomeOf(issue) });
    }
  }

  const total = units.filter((unit) => 'text' in unit).length;
  const showProgress = total > PROGRESS_THRESHOLD && (values.progress || io.errIsTerminal === true);
  const step = Math.max(1, Math.ceil(total / 10));
  const options = profiles.length > 0 ? { profiles } : undefined;
  const results: ValidateResult[] = [];
  let done = 0;
  for (const unit of units) {
    let result: ValidateResult;
    if ('text' in unit) {
      const parsed = parseResource(unit);
      const outcome = parsed.ok ? validator.validate(parsed.value, options) : parsed.outcome;
      result = { file: unit.name, valid: !hasErrors(outcome), outcome };
      done += 1;
      if (showProgress && (done % step === 0 || done === total)) io.err(`validated ${String(done)}/${String(total)}`);
    } else {
      result = unit;
    }
    results.push(result);
    // Text goes out as it is known, so a long .ndjson run shows its failures before it ends.
    if (values.format === 'text') {
      const lines = formatResult(result, values.quiet);
      if (lines.length > 0) io.out(lines.join('\n'));
    }
  }

  io.out(values.format === 'json' ? JSON.stringify(results, null, 2) : formatSummary(results));
  if (unreadable) return 2;
  return results.every((result) => result.valid) ? 0 : 1;
}
