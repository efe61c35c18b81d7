/**
 * `sip-fhir replay <file | folder | ndjson>... --target <FHIR base URL>` — posts FHIR resources
 * (transaction Bundles above all) to the adapter or to any FHIR R4 server, records each answer
 * (status, OperationOutcome issues, transaction-response entry statuses, time), compares it with
 * what was expected, and writes a report for CI (issue #14, point 5).
 *
 * The command is a client of FHIR's RESTful API only (https://hl7.org/fhir/R4/http.html): a
 * `transaction` or `batch` Bundle is POSTed to the base, any other resource to `[base]/[type]`
 * (create). Nothing in it knows the adapter.
 *
 * Memory does not grow with the inputs: an `.ndjson` file is read line by line (./ndjson.ts), at
 * most `--concurrency` items are held while in flight, and each result is written to a scratch file
 * as it is known; the report is written from that file at the end, when its totals are known.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import axios, { AxiosError, type AxiosInstance } from 'axios';
import { parseJson } from '../sip/json-text.js';
import { expandInputs, INPUT_OPTIONS, InputError, parseInputLimits, readInputText, type InputLimits } from './files.js';
import { escapeControl, type CommandIo } from './io.js';
import { countNdjsonLines, readNdjson } from './ndjson.js';
import {
  compare,
  DEFAULT_EXPECTATION,
  expectationSchema,
  jsonFormat,
  junitFormat,
  type ErrorKind,
  type Expectation,
  type RecordedEntry,
  type RecordedIssue,
  type ReplayOutcome,
  type ReplayResult,
  type ReplaySummary,
  type ReportFormat,
} from './replay-report.js';
import { UsageError } from './usage-error.js';

const DEFAULT_CONCURRENCY = 4;
const MAX_CONCURRENCY = 64;
const DEFAULT_TIMEOUT_MS = 30_000;
/** The most of an answer that is read; a FHIR server's answer to a write is far smaller. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export const REPLAY_USAGE = `Usage: sip-fhir replay <file.json | file.ndjson | folder>... --target <FHIR base URL> [options]

Posts FHIR R4 resources to a FHIR server (the adapter's /fhir, or another), records each answer
and compares it with what was expected. A transaction or batch Bundle is POSTed to the base URL,
every other resource to <base>/<resourceType>, as application/fhir+json, the file's bytes as they
are. A .json file is one item, named by its path; each line of an .ndjson file is one item, named
path#line, read as a stream; a folder is read for its .json and .ndjson files, recursively, in
name order (symbolic links inside it are not followed). Items are started in input order, at most
--concurrency at once, and reported in input order.

Options:
  --target <url>         the FHIR base URL (http or https), e.g. http://127.0.0.1:8080/fhir
  --token <jwt>          send "Authorization: Bearer <jwt>"
  --token-file <path>    the same, the token read from a file (keeps it out of the process list)
  --concurrency <N>      at most N requests at once (default ${DEFAULT_CONCURRENCY}, at most ${MAX_CONCURRENCY})
  --timeout <ms>         give up on an answer after this long (default ${DEFAULT_TIMEOUT_MS}); a timeout is
                         recorded as the item's outcome, like a refused connection
  --expect <dir>         expected outcomes, one file per item (below); without it, or for an item
                         without a file, an item passes when its status is 2xx
  --report json|junit    write a report: JSON, or JUnit XML for CI (testsuite with tests, failures,
                         errors and time; a testcase per item, a failure with expected and got,
                         the outcome in system-out)
  --out <file>           write the report there (default stdout; the item lines then go to stderr)
  --quiet                print only the items that fail, and the summary; no progress
  --progress             report "replayed N/M, R/s" on stderr (default: when stderr is a terminal)
  --max-file-size <bytes|NNMiB>
                         refuse a larger file without reading it (default 64MiB; KiB, MiB, GiB);
                         for an .ndjson file, the limit is for each line
  -h, --help             show this help

Expected outcomes (--expect <dir>): the file <dir>/<name>.expect.json, where <name> is the item's
path below the folder named on the command line (its base name for a file named directly), and
#<line> for a line of an .ndjson file: bundles/a.json → <dir>/a.json.expect.json (when replaying
bundles/), exports.ndjson line 3 → <dir>/exports.ndjson#3.expect.json. Its fields, all optional:
  {"status": 422,                       a status, or a class: "2xx" (the default), "4xx", …
   "issues": [{"severity": "error", "code": "invariant",
               "expression": "Bundle.entry[0].resource", "diagnostics": "part of the text"}],
                                        each must match an issue of the answer's OperationOutcome
                                        (a subset: further issues are allowed; every field is optional)
   "entries": [201, "200", "2xx"]}      the transaction-response's entry statuses, all of them, in order

Exit status: 0 every item matched, 1 an item did not (an item with no answer — timeout, refused
connection — or with malformed JSON included), 2 usage error (a bad expectation file included), an
input that cannot be read or is over --max-file-size, or nothing to replay, 70 internal error.`;

/** What the command line asked for. */
interface ReplayOptions {
  readonly target: string;
  readonly token: string | undefined;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly expectDir: string | undefined;
  readonly report: 'json' | 'junit' | undefined;
  readonly out: string | undefined;
  readonly quiet: boolean;
  readonly progress: boolean;
  readonly limits: InputLimits;
}

/** One thing to post, or why it cannot be. */
interface Item {
  readonly index: number;
  readonly name: string;
  /** The name expectation files are named after: relative to the folder it was found in. */
  readonly key: string;
  readonly input: { ok: true; text: string } | { ok: false; error: ErrorKind; message: string };
}

function integerOption(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) throw new UsageError(`${name} must be a whole number from ${String(min)} to ${String(max)}; got "${value}"`);
  return number;
}

/** The FHIR base URL, without a trailing slash; http or https only. */
function parseTarget(value: string | undefined): string {
  if (value === undefined) throw new UsageError('--target <FHIR base URL> is required');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--target must be an http or https URL; got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--target must be an http or https URL; got "${value}"`);
  if (url.search !== '' || url.hash !== '') throw new UsageError(`--target is a base URL, without ?query or #fragment; got "${value}"`);
  return url.href.replace(/\/+$/, '');
}

/** A URL as the reports show it: a user name and password in it (basic auth) are not repeated there. */
function withoutCredentials(value: string): string {
  const url = new URL(value);
  if (url.username === '' && url.password === '') return value;
  url.username = '';
  url.password = '';
  return url.href.replace(/\/+$/, '');
}

/** The bearer token: from --token or --token-file (not both), one line without spaces. */
async function readToken(token: string | undefined, file: string | undefined): Promise<string | undefined> {
  if (token !== undefined && file !== undefined) throw new UsageError('give --token or --token-file, not both');
  let value = token;
  if (file !== undefined) {
    try {
      value = (await readFile(file, 'utf8')).trim();
    } catch (error) {
      throw new UsageError(`--token-file: cannot read "${file}" (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (value === undefined) return undefined;
  if (value === '' || /\s/.test(value)) throw new UsageError(`${file === undefined ? '--token' : `--token-file "${file}"`} must hold one token, without spaces or line breaks`);
  return value;
}

function parseOptions(values: Record<string, string | boolean | undefined>): Omit<ReplayOptions, 'token'> {
  const string = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  const report = string('report');
  if (report !== undefined && report !== 'json' && report !== 'junit') throw new UsageError(`--report must be "json" or "junit"; got "${report}"`);
  const out = string('out');
  if (out !== undefined && report === undefined) throw new UsageError('--out is where the report goes: give --report json or --report junit too');
  return {
    target: parseTarget(string('target')),
    concurrency: integerOption('--concurrency', string('concurrency'), DEFAULT_CONCURRENCY, 1, MAX_CONCURRENCY),
    timeoutMs: integerOption('--timeout', string('timeout'), DEFAULT_TIMEOUT_MS, 1, 3_600_000),
    expectDir: string('expect'),
    report,
    out,
    quiet: values['quiet'] === true,
    progress: values['progress'] === true,
    limits: parseInputLimits(string('max-file-size')),
  };
}

/** The files each argument names, each with the name its expectation file is named after. */
async function inputFiles(positionals: readonly string[]): Promise<{ file: string; key: string }[]> {
  const files: { file: string; key: string }[] = [];
  for (const argument of positionals) {
    const info = await stat(argument).catch(() => undefined);
    const found = await expandInputs([argument], ['.json', '.ndjson']);
    for (const file of found) {
      const key = info?.isDirectory() === true ? path.relative(argument, file) : path.basename(file);
      files.push({ file, key: key.split(path.sep).join('/') });
    }
  }
  return files;
}

/** The items of the inputs, in order: a `.json` file is one, each line of an `.ndjson` file one. */
async function* readItems(files: readonly { file: string; key: string }[], limits: InputLimits): AsyncGenerator<Item> {
  let index = 0;
  for (const { file, key } of files) {
    if (file.endsWith('.ndjson')) {
      try {
        for await (const line of readNdjson(file, limits)) {
          const name = `${file}#${String(line.line)}`;
          const itemKey = `${key}#${String(line.line)}`;
          if (line.kind === 'text') yield { index: index++, name, key: itemKey, input: { ok: true, text: line.text } };
          else yield { index: index++, name, key: itemKey, input: { ok: false, error: line.kind === 'too-large' ? 'input-too-large' : 'malformed-input', message: line.message } };
        }
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        yield { index: index++, name: file, key, input: { ok: false, error: 'unreadable-input', message: error.message } };
      }
      continue;
    }
    try {
      const input = await readInputText(file, limits);
      yield { index: index++, name: file, key, input: input.ok ? input : { ok: false, error: 'malformed-input', message: input.message } };
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      yield { index: index++, name: file, key, input: { ok: false, error: error.reason === 'too-large' ? 'input-too-large' : 'unreadable-input', message: error.message } };
    }
  }
}

/** How many items the inputs hold, for "replayed N/M"; `undefined` when an input is not a regular file. */
async function countItems(files: readonly { file: string }[]): Promise<number | undefined> {
  let total = 0;
  for (const { file } of files) {
    const info = await stat(file).catch(() => undefined);
    if (info === undefined) total += 1;
    else if (!info.isFile()) return undefined;
    else total += file.endsWith('.ndjson') ? await countNdjsonLines(file) : 1;
  }
  return total;
}

/** Where a resource is posted: a transaction or batch to the base, anything else to its type (create). */
function urlFor(target: string, text: string): { ok: true; url: string } | { ok: false; message: string } {
  const json = parseJson(text);
  if (!json.ok) return { ok: false, message: json.message };
  const resource = json.value;
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) return { ok: false, message: 'not a FHIR resource: the JSON is not an object' };
  const { resourceType, type } = resource as { resourceType?: unknown; type?: unknown };
  if (typeof resourceType !== 'string' || !/^[A-Z][A-Za-z]{0,63}$/.test(resourceType)) return { ok: false, message: 'not a FHIR resource: no resourceType' };
  if (resourceType === 'Bundle' && (type === 'transaction' || type === 'batch')) return { ok: true, url: target };
  return { ok: true, url: `${target}/${resourceType}` };
}

/** The issues of an OperationOutcome (parsed JSON: every field is checked before it is kept). */
function issuesOf(outcome: unknown): RecordedIssue[] {
  if (typeof outcome !== 'object' || outcome === null) return [];
  const { resourceType, issue } = outcome as { resourceType?: unknown; issue?: unknown };
  if (resourceType !== 'OperationOutcome' || !Array.isArray(issue)) return [];
  return issue.flatMap((entry: unknown): RecordedIssue[] => {
    if (typeof entry !== 'object' || entry === null) return [];
    const { severity, code, expression, location, diagnostics, details } = entry as Record<string, unknown>;
    const paths = (Array.isArray(expression) ? expression : Array.isArray(location) ? location : []).filter((item): item is string => typeof item === 'string');
    const text = typeof diagnostics === 'string' ? diagnostics : typeof (details as { text?: unknown } | undefined)?.text === 'string' ? (details as { text: string }).text : undefined;
    return [{ severity: typeof severity === 'string' ? severity : '', code: typeof code === 'string' ? code : '', ...(paths.length > 0 ? { expression: paths } : {}), ...(text === undefined ? {} : { diagnostics: text }) }];
  });
}

/** What an answer's body says: an OperationOutcome's issues, or a response Bundle's entry statuses. */
function readAnswer(body: string): { issues: RecordedIssue[]; entries?: RecordedEntry[] } {
  const json = parseJson(body);
  if (!json.ok || typeof json.value !== 'object' || json.value === null) return { issues: [] };
  const resource = json.value as { resourceType?: unknown; type?: unknown; entry?: unknown };
  if (resource.resourceType === 'OperationOutcome') return { issues: issuesOf(resource) };
  if (resource.resourceType !== 'Bundle' || (resource.type !== 'transaction-response' && resource.type !== 'batch-response')) return { issues: [] };
  const entries = (Array.isArray(resource.entry) ? resource.entry : []).map((entry: unknown): RecordedEntry => {
    const response = (typeof entry === 'object' && entry !== null ? (entry as { response?: unknown }).response : undefined) as { status?: unknown; location?: unknown; outcome?: unknown } | undefined;
    const issues = issuesOf(response?.outcome);
    return {
      status: typeof response?.status === 'string' ? response.status : '',
      ...(typeof response?.location === 'string' ? { location: response.location } : {}),
      ...(issues.length > 0 ? { issues } : {}),
    };
  });
  // An adapter answering a transaction puts its warnings in an entry's outcome; all of them are the answer's issues too.
  return { issues: entries.flatMap((entry) => entry.issues ?? []), entries };
}

/** Why a request got no answer, from axios's error (its code is Node's, or axios's own). */
function errorKind(error: AxiosError): ErrorKind {
  switch (error.code) {
    case 'ECONNABORTED':
    case 'ETIMEDOUT':
    case 'ERR_CANCELED':
      return 'timeout';
    case 'ECONNREFUSED':
      return 'connection-refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection-reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host-not-found';
    case 'ERR_FR_MAX_CONTENT_LENGTH_EXCEEDED':
    case 'ERR_BAD_RESPONSE':
      return error.message.includes('maxContentLength') ? 'response-too-large' : 'network';
    default:
      return 'network';
  }
}

/** Posts one resource; never throws for what the network or the server did. */
async function post(client: AxiosInstance, url: string, text: string, timeoutMs: number): Promise<ReplayOutcome> {
  const started = performance.now();
  const elapsed = (): number => Math.round((performance.now() - started) * 10) / 10;
  try {
    // axios's own timeout is the socket's idle time; the signal bounds the whole exchange, so a
    // server that trickles its answer byte by byte is a timeout too.
    const response = await client.post<string>(url, text, { signal: AbortSignal.timeout(timeoutMs) });
    return { kind: 'response', status: response.status, timeMs: elapsed(), ...readAnswer(response.data) };
  } catch (error) {
    if (!axios.isAxiosError(error)) throw error;
    const kind = errorKind(error);
    const message = kind === 'timeout' ? `no answer within ${String(timeoutMs)} ms` : `${error.code ?? 'error'}: ${error.message}`;
    return { kind: 'error', error: kind, message, timeMs: elapsed() };
  }
}

const EXPECT_SUFFIX = '.expect.json';

/**
 * The expectations in --expect, by the item name they are for, read and checked before anything is
 * sent: a bad file is a usage error (exit 2), not a surprise half way through a run.
 */
async function loadExpectations(dir: string): Promise<Map<string, { expected: Expectation; file: string }>> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch {
    throw new UsageError(`--expect must be a folder; "${dir}" is not one`);
  }
  const expectations = new Map<string, { expected: Expectation; file: string }>();
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith(EXPECT_SUFFIX)) continue;
    const file = path.join(entry.parentPath, entry.name);
    const key = path.relative(dir, file).slice(0, -EXPECT_SUFFIX.length).split(path.sep).join('/');
    const input = await readInputText(file, { maxFileSize: 1024 * 1024 }).catch((error: unknown) => {
      if (error instanceof InputError) throw new UsageError(`the expectation ${error.message}`);
      throw error;
    });
    const json = input.ok ? parseJson(input.text) : input;
    if (!json.ok) throw new UsageError(`the expectation "${file}" is not JSON: ${json.message}`);
    const parsed = expectationSchema.safeParse(json.value);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.length === 0 ? '(file)' : issue.path.join('.')}: ${issue.message}`).join('; ');
      throw new UsageError(`the expectation "${file}" is not valid: ${problems}`);
    }
    expectations.set(key, { expected: parsed.data, file });
  }
  return expectations;
}

/** "replayed N/M, R/s" on stderr, at most once a second, and at the end. */
class Progress {
  readonly #io: CommandIo;
  readonly #total: number | undefined;
  readonly #started = performance.now();
  #last = 0;
  #done = 0;

  constructor(io: CommandIo, total: number | undefined) {
    this.#io = io;
    this.#total = total;
  }

  tick(): void {
    this.#done += 1;
    const now = performance.now();
    if (now - this.#last < 1000 && this.#done !== this.#total) return;
    this.#last = now;
    const rate = this.#done / Math.max((now - this.#started) / 1000, 0.001);
    this.#io.err(`replayed ${String(this.#done)}${this.#total === undefined ? '' : `/${String(this.#total)}`}, ${rate.toFixed(1)}/s`);
  }
}

const line = (text: string): string => escapeControl(text, true);

/** The line for an item on the console. */
function itemLine(result: ReplayResult): string {
  const { outcome } = result;
  const got = outcome.kind === 'response' ? String(outcome.status) : outcome.error;
  const head = `${line(result.name)}: ${result.passed ? 'ok' : 'FAILED'} ${got} (${String(Math.round(outcome.timeMs))} ms)`;
  return result.passed ? head : [head, ...result.mismatches.map((mismatch) => `  ${line(mismatch)}`)].join('\n');
}

/** Where the report goes: a file (opened before anything is sent, so a bad --out fails at once), or stdout. */
interface Sink {
  /** Resolves when the text may be followed: a file's buffer is let drain, so a long report is never held whole. */
  write(text: string): Promise<void>;
  end(): Promise<void>;
}

async function openSink(out: string | undefined, io: CommandIo): Promise<Sink> {
  if (out === undefined) {
    return {
      write: (text) => {
        io.out(text);
        return Promise.resolve();
      },
      end: () => Promise.resolve(),
    };
  }
  try {
    await (await open(out, 'w')).close();
  } catch (error) {
    throw new UsageError(`--out: cannot write "${out}" (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const stream: WriteStream = createWriteStream(out);
  return {
    write: async (text) => {
      if (!stream.write(`${text}\n`)) await once(stream, 'drain');
    },
    end: () =>
      new Promise<void>((resolve, reject) => {
        stream.once('error', reject);
        stream.end(resolve);
      }),
  };
}

export async function runReplay(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      target: { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      concurrency: { type: 'string' },
      timeout: { type: 'string' },
      expect: { type: 'string' },
      report: { type: 'string' },
      out: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      progress: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      ...INPUT_OPTIONS,
    },
  });
  if (values.help) {
    io.out(REPLAY_USAGE);
    return 0;
  }
  const options: ReplayOptions = { ...parseOptions(values), token: await readToken(values.token, values['token-file']) };
  if (positionals.length === 0) throw new UsageError('name at least one .json or .ndjson file, or a folder');
  const expectations = options.expectDir === undefined ? undefined : await loadExpectations(options.expectDir);
  const used = new Set<string>();

  let files: { file: string; key: string }[];
  try {
    files = await inputFiles(positionals);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    io.err(`sip-fhir replay: ${error.message}`);
    return 2;
  }
  const sink = options.report === undefined ? undefined : await openSink(options.out, io);
  // Item lines go to stdout, unless the report does.
  const say = (text: string): void => {
    if (options.report !== undefined && options.out === undefined) io.err(text);
    else io.out(text);
  };
  const progress = (options.progress || io.errIsTerminal === true) && !options.quiet ? new Progress(io, await countItems(files)) : undefined;

  const agentOptions = { keepAlive: true, maxSockets: options.concurrency };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  const client = axios.create({
    timeout: options.timeoutMs,
    httpAgent,
    httpsAgent,
    maxRedirects: 0,
    maxContentLength: MAX_RESPONSE_BYTES,
    responseType: 'text',
    // The answer is read here, whatever its status or content type.
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    headers: {
      'Content-Type': 'application/fhir+json',
      Accept: 'application/fhir+json',
      ...(options.token === undefined ? {} : { Authorization: `Bearer ${options.token}` }),
    },
  });

  const scratch = await mkdtemp(path.join(tmpdir(), 'sip-replay-'));
  const resultsFile = path.join(scratch, 'results.ndjson');
  const results = createWriteStream(resultsFile);
  const summary: ReplaySummary = { tests: 0, passed: 0, failures: 0, errors: 0, unreadable: 0, timeMs: 0 };
  const started = performance.now();
  try {
    // Results come back in any order; each is written once every earlier one has been.
    const waiting = new Map<number, ReplayResult>();
    let next = 0;
    const settle = (index: number, result: ReplayResult): void => {
      waiting.set(index, result);
      for (let ready = waiting.get(next); ready !== undefined; ready = waiting.get(next)) {
        waiting.delete(next);
        next += 1;
        summary.tests += 1;
        if (ready.passed) summary.passed += 1;
        else if (ready.outcome.kind === 'error') summary.errors += 1;
        else summary.failures += 1;
        if (ready.outcome.kind === 'error' && (ready.outcome.error === 'unreadable-input' || ready.outcome.error === 'input-too-large')) summary.unreadable += 1;
        results.write(`${JSON.stringify(ready)}\n`);
        if (!options.quiet || !ready.passed) say(itemLine(ready));
        progress?.tick();
      }
    };
    const replay = async (item: Item): Promise<void> => {
      const found = expectations?.get(item.key);
      if (found !== undefined) used.add(item.key);
      const expected = found?.expected ?? DEFAULT_EXPECTATION;
      const expectFile = found === undefined ? {} : { expectFile: found.file };
      const target = item.input.ok ? urlFor(options.target, item.input.text) : undefined;
      let outcome: ReplayOutcome;
      let url: { url: string } | Record<string, never> = {};
      if (!item.input.ok) outcome = { kind: 'error', error: item.input.error, message: item.input.message, timeMs: 0 };
      else if (target?.ok !== true) outcome = { kind: 'error', error: 'malformed-input', message: target?.message ?? 'not sent', timeMs: 0 };
      else {
        url = { url: withoutCredentials(target.url) };
        outcome = await post(client, target.url, item.input.text, options.timeoutMs);
      }
      const mismatches = compare(outcome, expected);
      settle(item.index, { name: item.name, method: 'POST', ...url, outcome, expected, ...expectFile, passed: mismatches.length === 0, mismatches });
    };

    const inFlight = new Set<Promise<void>>();
    for await (const item of readItems(files, options.limits)) {
      while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
      // The results file is written as fast as answers come; should the disk lag, reading waits for it.
      if (results.writableNeedDrain) await once(results, 'drain');
      const running: Promise<void> = replay(item).finally(() => inFlight.delete(running));
      inFlight.add(running);
    }
    await Promise.all(inFlight);
    summary.timeMs = Math.round(performance.now() - started);
    await new Promise<void>((resolve, reject) => {
      results.once('error', reject);
      results.end(resolve);
    });

    if (sink !== undefined) {
      const format: ReportFormat = options.report === 'junit' ? junitFormat() : jsonFormat();
      await sink.write(format.head(summary, withoutCredentials(options.target)));
      let written = 0;
      // The results file is this run's own JSON, one result a line.
      for await (const stored of readNdjson(resultsFile, { maxFileSize: Number.MAX_SAFE_INTEGER })) {
        if (stored.kind !== 'text') throw new Error(`the results file has a bad line ${String(stored.line)}`);
        written += 1;
        await sink.write(format.item(JSON.parse(stored.text) as ReplayResult, written === summary.tests));
      }
      await sink.write(format.tail());
      await sink.end();
    }
  } finally {
    results.destroy();
    httpAgent.destroy();
    httpsAgent.destroy();
    await rm(scratch, { recursive: true, force: true });
  }

  // An expectation no item used is most likely a misspelt name: said, so that it does not pass unseen.
  for (const [key, { file }] of expectations ?? []) if (!used.has(key)) io.err(`sip-fhir replay: warning: the expectation "${file}" is for no item replayed`);
  const plural = (count: number, noun: string): string => `${String(count)} ${noun}${count === 1 ? '' : 's'}`;
  const rate = summary.tests / Math.max(summary.timeMs / 1000, 0.001);
  say(`${plural(summary.tests, 'item')}: ${String(summary.passed)} passed, ${String(summary.failures)} failed, ${plural(summary.errors, 'error')}; ${String(summary.timeMs)} ms, ${rate.toFixed(1)}/s`);
  if (summary.unreadable > 0) return 2;
  return summary.passed === summary.tests ? 0 : 1;
}
