/**
 * `sip-fhir check <plan.json|folder>...` — applies the SIP model and its rules to plan files.
 *
 * Exit status (README, "Exit status"): 0 when every file passes, 1 when a file is not a valid plan —
 * malformed JSON, invalid UTF-8 or a number out of range as much as a broken rule (an error, or a
 * warning with --strict) — and 2 for usage errors and files that cannot be read (missing, over
 * --max-file-size, nothing to check). Malformed JSON was 2 until issue #10: it is a verdict on the
 * input, as in every other command.
 */
import { parseArgs } from 'node:util';
import { checkPlan, parsePlan, planStatus, trafficLight, type Problem } from '../sip/index.js';
import { expandInputs, INPUT_OPTIONS, InputError, MAX_FILE_SIZE_USAGE, parseInputLimits, readJsonFile, type InputLimits } from './files.js';
import { escapeControl, type CommandIo } from './io.js';
import { parseInstant } from './instant.js';
import { UsageError } from './usage-error.js';

export const CHECK_USAGE = `Usage: sip-fhir check [options] <plan.json | folder>...

Checks SIP plans (JSON) against the SIP model and its rules, and prints every problem with its
rule code, message and JSON pointer.

Options:
  --format text|json  output for people (default) or for machines
  --at <instant>      judge the plans at this instant (ISO 8601, or "now"); by default each
                      plan is judged when its current version was recorded (its updatedAt)
  --strict            warnings fail too
${MAX_FILE_SIZE_USAGE}
  -h, --help          show this help

A folder is read for its .json files, recursively; symbolic links inside it are not followed.

Exit status: 0 all files pass, 1 a file is not a valid plan (malformed JSON, invalid UTF-8 or a
number out of range included) or breaks a rule, 2 usage error, unreadable or too large input, or
nothing to check.`;

export interface FileResult {
  file: string;
  valid: boolean;
  /** Present when the file is a readable plan. */
  summary?: { id: string; version: number; trafficLight: string; status: string };
  problems: Problem[];
}

/** A problem with the file itself rather than the plan in it. */
function fileProblem(code: string, message: string): Problem {
  return { code, severity: 'error', pointer: '', message };
}

/**
 * Checks one file. An `InputError` (not read at all) is a result too, so the other files are still
 * reported; `unread` tells the caller to exit 2.
 */
async function checkFile(file: string, limits: InputLimits, at: Date | undefined, strict: boolean): Promise<FileResult & { unread: boolean }> {
  let json;
  try {
    json = await readJsonFile(file, limits);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return { file, valid: false, problems: [fileProblem(`file.${error.reason}`, error.message)], unread: true };
  }
  if (!json.ok) return { file, valid: false, problems: [fileProblem('json.malformed', json.message)], unread: false };
  const parsed = parsePlan(json.value);
  if (!parsed.ok) return { file, valid: false, problems: parsed.problems, unread: false };
  const { plan } = parsed;
  const problems = checkPlan(plan, at === undefined ? {} : { at });
  const failing = problems.filter((problem) => problem.severity === 'error' || strict);
  return {
    file,
    valid: failing.length === 0,
    summary: { id: plan.id, version: plan.version, trafficLight: trafficLight(plan), status: planStatus(plan) },
    problems,
    unread: false,
  };
}

/** Text read from a file, on one line: its newlines escaped too (the rest `main` escapes). */
const line = (text: string): string => escapeControl(text, true);

function formatText(results: readonly FileResult[]): string {
  const lines: string[] = [];
  for (const result of results) {
    const errors = result.problems.filter((problem) => problem.severity === 'error').length;
    const warnings = result.problems.length - errors;
    const counts = [errors ? `${errors} error${errors === 1 ? '' : 's'}` : '', warnings ? `${warnings} warning${warnings === 1 ? '' : 's'}` : '']
      .filter(Boolean)
      .join(', ');
    const about = result.summary ? ` (plan ${result.summary.id} v${result.summary.version}, ${result.summary.status}, ${result.summary.trafficLight})` : '';
    lines.push(`${line(result.file)}: ${result.valid ? 'ok' : 'FAILED'}${about}${counts ? ` — ${counts}` : ''}`);
    for (const problem of result.problems) {
      lines.push(`  ${problem.severity} ${problem.code} at ${problem.pointer === '' ? '(document)' : line(problem.pointer)}`);
      lines.push(`    ${line(problem.message)}`);
      if (problem.source) lines.push(`    rule from ${problem.source.document} ${problem.source.section}`);
    }
  }
  const passed = results.filter((result) => result.valid).length;
  lines.push(`Checked ${results.length} file${results.length === 1 ? '' : 's'}: ${passed} passed, ${results.length - passed} failed`);
  return lines.join('\n');
}

export async function runCheck(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'text' },
      at: { type: 'string' },
      strict: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      ...INPUT_OPTIONS,
    },
  });
  if (values.help) {
    io.out(CHECK_USAGE);
    return 0;
  }
  if (values.format !== 'text' && values.format !== 'json') throw new UsageError(`--format must be "text" or "json"; got "${values.format}"`);
  if (positionals.length === 0) throw new UsageError('name at least one plan file or folder');
  const at = parseInstant(values.at);
  const limits = parseInputLimits(values['max-file-size']);

  let files: string[];
  try {
    files = await expandInputs(positionals);
  } catch (error) {
    if (error instanceof InputError) {
      io.err(`sip-fhir check: ${error.message}`);
      return 2;
    }
    throw error;
  }
  let unread = false;
  const results: FileResult[] = [];
  for (const file of files) {
    const { unread: notRead, ...result } = await checkFile(file, limits, at, values.strict);
    // Like every command, say on stderr what was not read; the report has it too.
    if (notRead) io.err(`sip-fhir check: ${result.problems[0]?.message ?? file}`);
    unread ||= notRead;
    results.push(result);
  }
  io.out(values.format === 'json' ? JSON.stringify(results, null, 2) : formatText(results));
  if (unread) return 2;
  return results.every((result) => result.valid) ? 0 : 1;
}
