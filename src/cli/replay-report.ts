/**
 * What `sip-fhir replay` records of each item, how an answer is compared with what was expected,
 * and the reports it writes (JSON, JUnit XML) — kept apart from the sending so each can be read and
 * tested on its own.
 *
 * The JUnit XML follows the schema CI servers read (Jenkins, GitLab, GitHub Actions reporters):
 * `testsuites` › `testsuite` (tests, failures, errors, time) › `testcase` (name, classname, time),
 * with a `failure` (the answer did not match) or an `error` (no answer: timeout, refused connection,
 * an input that could not be sent), and `system-out` holding the outcome as JSON. Every element is
 * built by fast-xml-builder, which escapes markup; characters XML 1.0 cannot hold at all (most C0
 * controls, lone surrogates) are written as `\u001b`-style escapes first.
 */
import XMLBuilder from 'fast-xml-builder';
import { z } from 'zod';

/** One issue of an OperationOutcome, as recorded: what an expectation can name. */
export interface RecordedIssue {
  readonly severity: string;
  readonly code: string;
  readonly expression?: readonly string[];
  readonly diagnostics?: string;
}

/** One entry of a `transaction-response` (or `batch-response`) Bundle. */
export interface RecordedEntry {
  readonly status: string;
  readonly location?: string;
  readonly issues?: readonly RecordedIssue[];
}

/** Why an item has no HTTP answer. The `*-input` kinds were never sent. */
export type ErrorKind =
  | 'timeout'
  | 'connection-refused'
  | 'connection-reset'
  | 'host-not-found'
  | 'network'
  | 'response-too-large'
  | 'malformed-input'
  | 'unreadable-input'
  | 'input-too-large';

/** What happened to one item: the server's answer, or why there is none. */
export type ReplayOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly timeMs: number;
      /** The OperationOutcome's issues, when the answer is one (or a response Bundle's own outcome). */
      readonly issues: readonly RecordedIssue[];
      /** The entries' statuses, when the answer is a `transaction-response` or `batch-response` Bundle. */
      readonly entries?: readonly RecordedEntry[];
    }
  | { readonly kind: 'error'; readonly error: ErrorKind; readonly message: string; readonly timeMs: number };

const statusSchema = z.union([z.number().int().min(100).max(599), z.string().regex(/^[1-5]xx$/, 'a status class is written 2xx, 4xx, …')]);

/**
 * The expected outcome of one item (`<name>.expect.json`). Every field is optional; `status`
 * defaults to `"2xx"`. Issues and entries are matched as described in {@link compare}.
 */
export const expectationSchema = z
  .object({
    status: statusSchema.optional(),
    issues: z
      .array(
        z
          .object({
            severity: z.enum(['fatal', 'error', 'warning', 'information']).optional(),
            code: z.string().optional(),
            expression: z.string().optional(),
            diagnostics: z.string().optional(),
          })
          .strict(),
      )
      .optional(),
    entries: z.array(statusSchema).optional(),
  })
  .strict();

export type Expectation = z.infer<typeof expectationSchema>;

/** The expectation when none is given: a 2xx answer, whichever. */
export const DEFAULT_EXPECTATION: Expectation = { status: '2xx' };

/** The verdict on one item, as the reports write it. */
export interface ReplayResult {
  /** The item's stable name: its file path, or `path#line` for a line of an `.ndjson` file. */
  readonly name: string;
  readonly method: 'POST';
  /** Where it was posted; absent when it could not be sent (malformed or unreadable input). */
  readonly url?: string;
  readonly outcome: ReplayOutcome;
  readonly expected: Expectation;
  /** The expectation file, when one was found. */
  readonly expectFile?: string;
  readonly passed: boolean;
  /** What did not match, one sentence each; empty when passed. */
  readonly mismatches: readonly string[];
}

function statusMatches(expected: number | string, status: string | number): boolean {
  const actual = String(status);
  if (typeof expected === 'number') return /^\d{3}/.exec(actual)?.[0] === String(expected);
  return /^[1-5]xx$/.test(expected) ? actual.startsWith(expected.charAt(0)) : actual.startsWith(expected);
}

function describeIssue(issue: RecordedIssue | NonNullable<Expectation['issues']>[number]): string {
  const expression: string | undefined = typeof issue.expression === 'string' ? issue.expression : issue.expression?.join(', ');
  return [issue.severity, issue.code, expression === undefined || expression === '' ? undefined : `at ${expression}`, issue.diagnostics === undefined ? undefined : `"${issue.diagnostics}"`]
    .filter((part) => part !== undefined)
    .join(' ');
}

function issueMatches(expected: NonNullable<Expectation['issues']>[number], actual: RecordedIssue): boolean {
  return (
    (expected.severity === undefined || expected.severity === actual.severity) &&
    (expected.code === undefined || expected.code === actual.code) &&
    (expected.expression === undefined || (actual.expression ?? []).includes(expected.expression)) &&
    (expected.diagnostics === undefined || (actual.diagnostics ?? '').includes(expected.diagnostics))
  );
}

/**
 * Compares an outcome with an expectation; the mismatches, one sentence each (none: it passed).
 *
 * - `status`: a number is the exact status, `"4xx"` a class; an answer is needed (an error fails).
 * - `issues`: each expected issue must match at least one issue of the answer's OperationOutcome
 *   (a subset): `severity` and `code` equal, `expression` one of the issue's expressions,
 *   `diagnostics` a part of its diagnostics. Issues the answer has beyond them are allowed.
 * - `entries`: the `transaction-response` has exactly this many entries, and each entry's status
 *   begins with the expected one (`201` matches `201 Created`).
 */
export function compare(outcome: ReplayOutcome, expected: Expectation): string[] {
  if (outcome.kind === 'error') return [`expected status ${String(expected.status ?? '2xx')}, got no answer: ${outcome.error} (${outcome.message})`];
  const mismatches: string[] = [];
  const status = expected.status ?? '2xx';
  if (!statusMatches(status, outcome.status)) mismatches.push(`expected status ${String(status)}, got ${String(outcome.status)}`);
  for (const issue of expected.issues ?? []) {
    if (!outcome.issues.some((actual) => issueMatches(issue, actual))) {
      const got = outcome.issues.length === 0 ? 'no issues' : outcome.issues.map(describeIssue).join('; ');
      mismatches.push(`expected an issue ${describeIssue(issue)}, got ${got}`);
    }
  }
  if (expected.entries !== undefined) {
    const actual = outcome.entries?.map((entry) => entry.status) ?? [];
    const same = actual.length === expected.entries.length && expected.entries.every((status, index) => statusMatches(status, actual[index] ?? ''));
    if (!same) mismatches.push(`expected entries [${expected.entries.join(', ')}], got [${actual.join(', ')}]`);
  }
  return mismatches;
}

// XML 1.0 §2.2 Char: tab, newline, carriage return, and U+0020 upward but surrogates, U+FFFE and U+FFFF.
// A lone surrogate is not a character either; a pair is.
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Text XML can hold: what it cannot is written as a `\u0000`-style escape, never dropped unseen. */
export function xmlSafe(text: string): string {
  return text.replace(NOT_XML, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Totals of a run: what the summary line and the report headers say. */
export interface ReplaySummary {
  tests: number;
  passed: number;
  /** Answers that did not match. */
  failures: number;
  /** No answer (timeout, connection) or an input that could not be sent. */
  errors: number;
  /** Inputs that could not be read or were over --max-file-size: exit status 2. */
  unreadable: number;
  /** Wall-clock time of the run. */
  timeMs: number;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', textNodeName: '#text', format: true, indentBy: '  ', suppressEmptyNode: true });

/** What each line of the run's results becomes in a report, and what wraps them. */
export interface ReportFormat {
  /** Written before the items, when the totals are known. */
  head(summary: ReplaySummary, target: string): string;
  /** One item; `last` is true for the last one. Each part is written as one or more whole lines. */
  item(result: ReplayResult, last: boolean): string;
  tail(): string;
}

/** The outcome as `system-out` (and the JSON report) holds it. */
function outcomeText(result: ReplayResult): string {
  return JSON.stringify({ url: result.url, outcome: result.outcome, expected: result.expected, ...(result.expectFile === undefined ? {} : { expectFile: result.expectFile }) }, null, 2);
}

/** A placeholder no XML text can hold, where the test cases go between the head and the tail. */
const SLOT = '\u0000items\u0000';

function junitShell(summary: ReplaySummary, target: string): [string, string] {
  const counts = { '@_tests': summary.tests, '@_failures': summary.failures, '@_errors': summary.errors, '@_time': seconds(summary.timeMs) };
  const xml = builder.build({
    testsuites: { '@_name': 'sip-fhir replay', ...counts, testsuite: { '@_name': xmlSafe(`sip-fhir replay ${target}`), ...counts, '@_skipped': 0, '#text': SLOT } },
  });
  const [head = '', tail = ''] = xml.split(SLOT);
  return [`<?xml version="1.0" encoding="UTF-8"?>\n${head.trimEnd()}`, tail.trim()];
}

/**
 * JUnit XML. The document is built in parts — the suite with its totals around a placeholder, then
 * one `testcase` element per item — so that a run of a million lines is written without holding it;
 * each part comes whole from the builder.
 */
export function junitFormat(): ReportFormat {
  let tail = '';
  return {
    head(summary, target) {
      const [head, end] = junitShell(summary, target);
      tail = end;
      return head;
    },
    item(result) {
      const time = seconds(result.outcome.timeMs);
      const testcase: Record<string, unknown> = { '@_name': xmlSafe(result.name), '@_classname': 'sip-fhir.replay', '@_time': time };
      if (result.outcome.kind === 'error') {
        testcase['error'] = { '@_type': result.outcome.error, '@_message': xmlSafe(result.mismatches.join('; ')), '#text': xmlSafe(`expected: ${JSON.stringify(result.expected)}\ngot: ${result.outcome.error}: ${result.outcome.message}`) };
      } else if (!result.passed) {
        testcase['failure'] = { '@_type': 'mismatch', '@_message': xmlSafe(result.mismatches.join('; ')), '#text': xmlSafe(`expected: ${JSON.stringify(result.expected)}\ngot: ${JSON.stringify(result.outcome)}`) };
      }
      testcase['system-out'] = xmlSafe(outcomeText(result));
      return builder.build({ testcase }).trimEnd();
    },
    tail: () => tail,
  };
}

/** `{"tool", "target", "summary", "items": [...]}`, each item a {@link ReplayResult}. */
export function jsonFormat(): ReportFormat {
  return {
    head: (summary, target) => `{\n  "tool": "sip-fhir replay",\n  "target": ${JSON.stringify(target)},\n  "summary": ${JSON.stringify(summary)},\n  "items": [`,
    item: (result, last) => `    ${JSON.stringify(result)}${last ? '' : ','}`,
    tail: () => '  ]\n}',
  };
}
