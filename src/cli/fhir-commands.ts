/**
 * `sip-fhir to-fhir <plan.json>` and `sip-fhir from-fhir <bundle.json>`: the SIP ⇄ FHIR R4 mapping on
 * the command line. The result goes to stdout, problems to stderr, so the two can be piped.
 *
 * Exit status (README, "Exit status"): 0 mapped, 1 the input is not a valid plan or Bundle
 * (malformed JSON, invalid UTF-8 and numbers out of range included; every problem is printed with
 * its location), 2 usage errors, a bad --config, and files that cannot be read (missing, over
 * --max-file-size, a folder: these read one file).
 */
import { parseArgs } from 'node:util';
import type { OperationOutcomeIssue } from 'fhir/r4.js';
import { fhirMappingOptionsSchema, planToBundle, readCheckedPlan, RULE_CODE_SYSTEM, type FhirMappingOptions } from '../fhir/index.js';
import { judgeSend, parsePlan, zodIssuesToProblems, type Problem } from '../sip/index.js';
import { parseInstant } from './instant.js';
import { UsageError } from './usage-error.js';
import { INPUT_OPTIONS, InputError, MAX_FILE_SIZE_USAGE, parseInputLimits, readJsonFile, singleInput, type InputLimits } from './files.js';
import { escapeControl, type CommandIo } from './io.js';
import type { JsonText } from '../sip/json-text.js';

export const TO_FHIR_USAGE = `Usage: sip-fhir to-fhir [options] <plan.json>

Maps a SIP plan (JSON) to a FHIR R4 transaction Bundle and prints it. Mapping is sending: the
person's consent is judged at the moment of sending (now, or --at), not when the plan was
recorded, and an expired, withdrawn or missing consent refuses the send. The plan must also pass
the SIP model and its rules ("sip-fhir check"); otherwise its problems are printed and nothing is
mapped. The Bundle's timestamp is the moment of sending, and each Consent's status is its status
then.

Options:
  --at <instant>   the moment of sending (ISO 8601, or "now"; default now)
  --config <file>  mapping configuration (JSON), e.g.
                   {"carePlanCategory": [{"system": "…", "code": "…"}]} for a verified KVÅ code
${MAX_FILE_SIZE_USAGE}
  -h, --help       show this help

Exit status: 0 mapped, 1 the plan is invalid (malformed JSON, invalid UTF-8 or a number out of
range included) or may not be sent, 2 usage error, bad --config, unreadable or too large file, or a
folder (nothing to check when it is empty).`;

export const FROM_FHIR_USAGE = `Usage: sip-fhir from-fhir [options] <bundle.json>

Reads a FHIR R4 Bundle (transaction, collection, searchset, document or batch) holding one SIP
CarePlan and prints the SIP plan. Whatever the SIP model has no place for is reported on stderr
with its FHIRPath location. The plan read is checked against the SIP rules ("sip-fhir check") at
the instant its version was recorded (or --at); when the Bundle has a timestamp (when it was
sent), the consent is also judged at that moment. Each rule problem is an issue carrying the
rule code.

Options:
  --at <instant>      judge the plan at this instant (ISO 8601, or "now")
  --format text|json  how issues are printed on stderr: lines (default) or an OperationOutcome
${MAX_FILE_SIZE_USAGE}
  -h, --help          show this help

Exit status: 0 read (possibly with warnings), 1 the Bundle holds no valid plan (malformed JSON,
invalid UTF-8 or a number out of range included) or the plan breaks a rule, 2 usage error,
unreadable or too large file, or a folder (nothing to check when it is empty).`;

/**
 * The one file a command reads, as JSON; `undefined` when it could not be read (reported, exit 2).
 * A folder argument is refused here, by the same rules as every command's inputs.
 */
async function readInput(command: string, what: string, argument: string, limits: InputLimits, io: CommandIo): Promise<JsonText | undefined> {
  try {
    return await readJsonFile(await singleInput(argument, what), limits);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    io.err(`sip-fhir ${command}: ${error.message}`);
    return undefined;
  }
}

/** Text read from a file, on one line: its newlines escaped too (the rest `main` escapes). */
const line = (text: string): string => escapeControl(text, true);

function malformed(message: string): Problem {
  return { code: 'json.malformed', severity: 'error', pointer: '', message };
}

function formatProblems(file: string, problems: readonly Problem[], verdict = 'not mapped'): string {
  return [
    `${line(file)}: ${verdict} — ${String(problems.length)} problem${problems.length === 1 ? '' : 's'}`,
    ...problems.flatMap((problem) => [`  ${problem.severity} ${problem.code} at ${problem.pointer === '' ? '(document)' : line(problem.pointer)}`, `    ${line(problem.message)}`]),
  ].join('\n');
}

/** The mapping configuration; a bad one is a bad option, exit 2, whatever is wrong with it. */
async function readOptions(file: string | undefined, limits: InputLimits, io: CommandIo): Promise<FhirMappingOptions | number> {
  if (file === undefined) return fhirMappingOptionsSchema.parse({});
  const json = await readInput('to-fhir', 'configuration', file, limits, io);
  if (json === undefined) return 2;
  const parsed = json.ok ? fhirMappingOptionsSchema.safeParse(json.value) : undefined;
  if (parsed?.success === true) return parsed.data;
  const problems = json.ok ? zodIssuesToProblems(parsed?.error.issues ?? []) : [malformed(json.message)];
  io.err(formatProblems(file, problems, 'invalid configuration'));
  return 2;
}

export async function runToFhir(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { at: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false }, ...INPUT_OPTIONS },
  });
  if (values.help) {
    io.out(TO_FHIR_USAGE);
    return 0;
  }
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new UsageError('name exactly one plan file');
  const sentAt = parseInstant(values.at) ?? new Date();
  const limits = parseInputLimits(values['max-file-size']);
  const options = await readOptions(values.config, limits, io);
  if (typeof options === 'number') return options;
  const json = await readInput('to-fhir', 'plan', file, limits, io);
  if (json === undefined) return 2;
  const parsed = json.ok ? parsePlan(json.value) : { ok: false as const, problems: [malformed(json.message)] };
  if (!parsed.ok) {
    io.err(formatProblems(file, parsed.problems));
    return 1;
  }
  const problems = judgeSend(parsed.plan, sentAt);
  const errors = problems.filter((problem) => problem.severity === 'error');
  if (errors.length > 0) {
    io.err(formatProblems(file, errors));
    return 1;
  }
  for (const warning of problems) io.err(`${line(file)}: warning ${warning.code} at ${line(warning.pointer)}: ${line(warning.message)}`);
  io.out(JSON.stringify(planToBundle(parsed.plan, options, sentAt), null, 2));
  return 0;
}

function formatIssue(issue: OperationOutcomeIssue): string {
  // A rule problem's diagnostics already say the rule code and where in the plan.
  if (issue.details?.coding?.some((coding) => coding.system === RULE_CODE_SYSTEM) === true) return `  ${issue.severity} ${line(issue.diagnostics ?? '')}`;
  return `  ${issue.severity} ${issue.code} at ${line(issue.expression?.join(', ') ?? '(Bundle)')}\n    ${line(issue.diagnostics ?? '')}`;
}

export async function runFromFhir(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { at: { type: 'string' }, format: { type: 'string', default: 'text' }, help: { type: 'boolean', short: 'h', default: false }, ...INPUT_OPTIONS },
  });
  if (values.help) {
    io.out(FROM_FHIR_USAGE);
    return 0;
  }
  if (values.format !== 'text' && values.format !== 'json') throw new UsageError(`--format must be "text" or "json"; got "${values.format}"`);
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new UsageError('name exactly one Bundle file');
  const at = parseInstant(values.at);
  const limits = parseInputLimits(values['max-file-size']);
  const json = await readInput('from-fhir', 'Bundle', file, limits, io);
  if (json === undefined) return 2;
  if (!json.ok) {
    io.err(formatProblems(file, [malformed(json.message)], 'no plan read'));
    return 1;
  }
  const result = readCheckedPlan(json.value, at === undefined ? {} : { at });
  const reported = result.outcome.issue.filter((issue) => issue.code !== 'informational');
  if (values.format === 'json') io.err(JSON.stringify(result.outcome, null, 2));
  else if (reported.length > 0) io.err([`${line(file)}: ${result.ok ? 'read' : 'no plan read'} — ${String(reported.length)} issue${reported.length === 1 ? '' : 's'}`, ...reported.map(formatIssue)].join('\n'));
  if (!result.ok) return 1;
  io.out(JSON.stringify(result.plan, null, 2));
  return 0;
}
