/**
 * `sip-fhir check <plan.json|folder>...` — applies the SIP model and its rules to plan files.
 *
 * Exit status: 0 when every file passes, 1 when a file breaks a rule or the model (an error, or a
 * warning with --strict), 2 for usage errors and files that cannot be read or are not JSON.
 */
import { parseArgs } from 'node:util';
import { checkPlan, parseJsonText, parsePlan, planStatus, trafficLight, type Problem } from '../sip/index.js';
import { expandInputs, InputError, readText } from './files.js';
import type { CommandIo } from './io.js';
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
  -h, --help          show this help

Exit status: 0 all files pass, 1 a file breaks a rule, 2 usage error or unreadable input.`;

export interface FileResult {
  file: string;
  valid: boolean;
  /** Present when the file is a readable plan. */
  summary?: { id: string; version: number; trafficLight: string; status: string };
  problems: Problem[];
}

/** Checks one file's text; `unreadable` is true when the text is not JSON. */
function checkText(file: string, text: string, at: Date | undefined, strict: boolean): FileResult & { unreadable: boolean } {
  const json = parseJsonText(text);
  if (!json.ok) return { file, valid: false, problems: json.problems, unreadable: true };
  const parsed = parsePlan(json.value);
  if (!parsed.ok) return { file, valid: false, problems: parsed.problems, unreadable: false };
  const { plan } = parsed;
  const problems = checkPlan(plan, at === undefined ? {} : { at });
  const failing = problems.filter((problem) => problem.severity === 'error' || strict);
  return {
    file,
    valid: failing.length === 0,
    summary: { id: plan.id, version: plan.version, trafficLight: trafficLight(plan), status: planStatus(plan) },
    problems,
    unreadable: false,
  };
}

function formatText(results: readonly FileResult[]): string {
  const lines: string[] = [];
  for (const result of results) {
    const errors = result.problems.filter((problem) => problem.severity === 'error').length;
    const warnings = result.problems.length - errors;
    const counts = [errors ? `${errors} error${errors === 1 ? '' : 's'}` : '', warnings ? `${warnings} warning${warnings === 1 ? '' : 's'}` : '']
      .filter(Boolean)
      .join(', ');
    const about = result.summary ? ` (plan ${result.summary.id} v${result.summary.version}, ${result.summary.status}, ${result.summary.trafficLight})` : '';
    lines.push(`${result.file}: ${result.valid ? 'ok' : 'FAILED'}${about}${counts ? ` — ${counts}` : ''}`);
    for (const problem of result.problems) {
      lines.push(`  ${problem.severity} ${problem.code} at ${problem.pointer === '' ? '(document)' : problem.pointer}`);
      lines.push(`    ${problem.message}`);
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
    },
  });
  if (values.help) {
    io.out(CHECK_USAGE);
    return 0;
  }
  if (values.format !== 'text' && values.format !== 'json') throw new UsageError(`--format must be "text" or "json"; got "${values.format}"`);
  if (positionals.length === 0) throw new UsageError('name at least one plan file or folder');
  const at = parseInstant(values.at);

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
  let unreadable = false;
  const results: FileResult[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readText(file);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      unreadable = true;
      results.push({ file, valid: false, problems: [{ code: 'file.unreadable', severity: 'error', pointer: '', message: error.message }] });
      continue;
    }
    const { unreadable: notJson, ...result } = checkText(file, text, at, values.strict);
    unreadable ||= notJson;
    results.push(result);
  }
  io.out(values.format === 'json' ? JSON.stringify(results, null, 2) : formatText(results));
  if (unreadable) return 2;
  return results.every((result) => result.valid) ? 0 : 1;
}
