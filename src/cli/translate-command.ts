/**
 * `sip-fhir translate --from <fhir|sip|NAME> --to <fhir|sip|NAME> <file|folder>`: from each format to
 * each other, always through the SIP model (mappings/README.md). The plan is checked against the SIP rules
 * on the way in; toward a receiver (FHIR or a municipal system) it is judged as `to-fhir` judges it,
 * its consent at the moment of sending (`--at`, default now). What the target has no place for is
 * reported on stderr, the result goes to stdout (one file) or to `--out` (a folder).
 *
 * Exit status (README, "Exit status"): 0 translated (possibly with warnings), 1 an input could not
 * be translated or may not be sent, 2 usage error, unknown or broken mapping, unreadable input.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { OperationOutcomeIssue } from 'fhir/r4.js';
import { formatIssue, isError, loadMapping, MappingLoadError, translateInbound, translateOutbound, type Mapping, type MappingIssue } from '../exchange/index.js';
import { DEFAULT_MAPPING_OPTIONS, planToBundle, readCheckedPlan } from '../fhir/index.js';
import { checkPlan, judgeSend, parseJson, parsePlan, type Problem, type SipPlan } from '../sip/index.js';
import { expandInputs, INPUT_OPTIONS, InputError, MAX_FILE_SIZE_USAGE, parseInputLimits, readInputText, type InputLimits } from './files.js';
import { parseInstant } from './instant.js';
import { escapeControl, type CommandIo } from './io.js';
import { UsageError } from './usage-error.js';

/** mappings/ of the package: beside dist/ and src/ alike. */
export const DEFAULT_MAPPINGS_DIR = fileURLToPath(new URL('../../mappings/', import.meta.url));

export const TRANSLATE_USAGE = `Usage: sip-fhir translate --from <fhir|sip|NAME> --to <fhir|sip|NAME> [options] <file | folder>

Translates a document from one format to another through the SIP model: "sip" is a SIP plan (JSON),
"fhir" a FHIR R4 Bundle, NAME a municipal system's format by its mapping in mappings/NAME/ (see
"sip-fhir mappings list"). The plan is checked against the SIP model and its rules on the way in;
toward a receiver (fhir or NAME) it is judged as to-fhir judges it: the person's consent at the
moment of sending (--at). Problems, and whatever the target has no place for, go to stderr, each
with its place (mapping file, rule, source location); nothing is dropped silently.

Options:
  --from <format>    the input's format: fhir, sip or a mapping's name
  --to <format>      the output's format: fhir, sip or a mapping's name
  --at <instant>     the moment of sending (ISO 8601, or "now"; default now)
  --mappings <dir>   where mapping folders are (default: the package's mappings/)
  --out <folder>     write one file per input there (needed when the input is a folder)
${MAX_FILE_SIZE_USAGE}
  -h, --help         show this help

Exit status: 0 translated (possibly with warnings), 1 an input could not be translated or may not
be sent, 2 usage error, unknown or broken mapping, unreadable or too large input, empty folder.`;

type Format = { kind: 'sip' } | { kind: 'fhir' } | { kind: 'mapping'; mapping: Mapping };

const line = (text: string): string => escapeControl(text, true);

/** A folder as problems name it: relative to the working folder when it is inside it. */
function shown(folder: string): string {
  const relative = path.relative(process.cwd(), folder);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? folder : relative;
}

/** The format named on the command line; a mapping is loaded (and checked) once for all inputs. */
async function resolveFormat(name: string, mappingsDir: string, io: CommandIo): Promise<Format | undefined> {
  if (name === 'sip' || name === 'fhir') return { kind: name };
  if (!/^[a-z][a-z0-9-]{1,62}$/.test(name)) throw new UsageError(`"${name}" is neither fhir, sip nor a mapping's name`);
  try {
    return { kind: 'mapping', mapping: await loadMapping(shown(path.join(mappingsDir, name))) };
  } catch (error) {
    if (!(error instanceof MappingLoadError)) throw error;
    io.err([`sip-fhir translate: mapping "${name}" cannot be used: ${line(error.message)}`, ...error.issues.map((issue) => `  ${line(formatIssue(issue))}`)].join('\n'));
    return undefined;
  }
}

function problemIssue(problem: Problem): MappingIssue {
  return { severity: problem.severity, code: problem.code, message: problem.message, planPointer: problem.pointer };
}

function outcomeIssue(issue: OperationOutcomeIssue): MappingIssue {
  const rule = issue.details?.coding?.[0]?.code;
  return {
    severity: issue.severity === 'fatal' || issue.severity === 'error' ? 'error' : issue.severity === 'warning' ? 'warning' : 'information',
    code: rule ?? issue.code,
    message: issue.diagnostics ?? issue.details?.text ?? '',
    ...(issue.expression === undefined ? {} : { source: { expression: issue.expression.join(', ') } }),
  };
}

interface Step<T> {
  readonly value?: T;
  readonly issues: readonly MappingIssue[];
}

/** Input text → checked plan. */
function readPlan(from: Format, text: string): Step<SipPlan> {
  if (from.kind === 'mapping') {
    const result = translateInbound(from.mapping, text);
    return result.plan === undefined ? { issues: result.issues } : { value: result.plan, issues: result.issues };
  }
  const json = parseJson(text);
  if (!json.ok) return { issues: [{ severity: 'error', code: 'json.malformed', message: json.message }] };
  if (from.kind === 'fhir') {
    const result = readCheckedPlan(json.value);
    const issues = result.outcome.issue.filter((issue) => issue.code !== 'informational').map(outcomeIssue);
    return result.ok ? { value: result.plan, issues } : { issues };
  }
  const parsed = parsePlan(json.value);
  if (!parsed.ok) return { issues: parsed.problems.map(problemIssue) };
  const issues = checkPlan(parsed.plan).map(problemIssue);
  return issues.some(isError) ? { issues } : { value: parsed.plan, issues };
}

/** Checked plan → output text, judged for sending toward a receiver. */
function writePlan(to: Format, plan: SipPlan, at: Date): Step<string> {
  if (to.kind === 'sip') return { value: `${JSON.stringify(plan, null, 2)}\n`, issues: [] };
  if (to.kind === 'mapping') {
    const result = translateOutbound(to.mapping, plan, { at });
    return result.text === undefined ? { issues: result.issues } : { value: result.text, issues: result.issues };
  }
  const issues = judgeSend(plan, at).map(problemIssue);
  if (issues.some(isError)) return { issues };
  return { value: `${JSON.stringify(planToBundle(plan, DEFAULT_MAPPING_OPTIONS, at), null, 2)}\n`, issues };
}

function extensionOf(format: Format): string {
  return format.kind === 'mapping' && format.mapping.document.format === 'xml' ? '.xml' : '.json';
}

function report(file: string, verdict: string, issues: readonly MappingIssue[], io: CommandIo): void {
  if (issues.length === 0) return;
  io.err([`${line(file)}: ${verdict} — ${String(issues.length)} issue${issues.length === 1 ? '' : 's'}`, ...issues.map((issue) => `  ${line(formatIssue(issue))}`)].join('\n'));
}

/** One input file; its exit status. */
async function translateFile(file: string, from: Format, to: Format, at: Date, limits: InputLimits, io: CommandIo, out: string | undefined): Promise<number> {
  const input = await readInputText(file, limits);
  if (!input.ok) {
    report(file, 'not translated', [{ severity: 'error', code: 'source.malformed', message: input.message }], io);
    return 1;
  }
  const read = readPlan(from, input.text);
  if (read.value === undefined) {
    report(file, 'not translated', read.issues, io);
    return 1;
  }
  const written = writePlan(to, read.value, at);
  // The rules run on the way in and again when the plan is sent: a warning both give is said once.
  const seen = new Set(read.issues.map((issue) => `${issue.code} ${issue.planPointer ?? ''} ${issue.message}`));
  const issues = [...read.issues, ...written.issues.filter((issue) => !seen.has(`${issue.code} ${issue.planPointer ?? ''} ${issue.message}`))];
  if (written.value === undefined) {
    report(file, 'not translated', issues, io);
    return 1;
  }
  report(file, 'translated', issues, io);
  if (out === undefined) io.out(written.value.trimEnd());
  else await writeFile(path.join(out, `${path.basename(file, path.extname(file))}${extensionOf(to)}`), written.value);
  return 0;
}

export async function runTranslate(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      at: { type: 'string' },
      mappings: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
      ...INPUT_OPTIONS,
    },
  });
  if (values.help) {
    io.out(TRANSLATE_USAGE);
    return 0;
  }
  if (values.from === undefined || values.to === undefined) throw new UsageError('name both --from and --to');
  const [input, ...extra] = positionals;
  if (input === undefined || extra.length > 0) throw new UsageError('name exactly one file or folder');
  const at = parseInstant(values.at) ?? new Date();
  const limits = parseInputLimits(values['max-file-size']);
  const mappingsDir = values.mappings ?? DEFAULT_MAPPINGS_DIR;
  const from = await resolveFormat(values.from, mappingsDir, io);
  const to = await resolveFormat(values.to, mappingsDir, io);
  if (from === undefined || to === undefined) return 2;
  if (to.kind === 'mapping' && to.mapping.outbound === undefined) throw new UsageError(`the mapping "${to.mapping.name}" has no outbound template: plans cannot be written in its format`);
  let files: string[];
  try {
    files = await expandInputs([input], [extensionOf(from)]);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    io.err(`sip-fhir translate: ${error.message}`);
    return 2;
  }
  if (files.length > 1 || files[0] !== input) {
    if (values.out === undefined) throw new UsageError(`"${input}" is a folder: name --out <folder> to write one file per input`);
  }
  if (values.out !== undefined) await mkdir(values.out, { recursive: true });
  let status = 0;
  for (const file of files) {
    try {
      status = Math.max(status, await translateFile(file, from, to, at, limits, io, values.out));
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      io.err(`sip-fhir translate: ${error.message}`);
      status = 2;
    }
  }
  return status;
}
