/**
 * Errors as the two APIs answer them: `application/problem+json` (RFC 9457) on the SIP API, with the
 * SIP rule problems (code, JSON pointer, message, source); an OperationOutcome on the FHIR facade
 * (https://hl7.org/fhir/R4/operationoutcome.html). No stack trace ever reaches a caller.
 */
import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';
import type { Problem } from '../sip/index.js';

/** An answer other than success, raised by a route and written by the error handler. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly problems: readonly Problem[] = [],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
  }
}

/**
 * An answer of the FHIR facade whose OperationOutcome is already made, e.g. by the validator, with
 * each issue's FHIRPath location (`expression`) and rule key kept as they are.
 */
export class OutcomeError extends HttpError {
  constructor(
    status: number,
    title: string,
    readonly outcome: OperationOutcome,
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(status, title, outcome.issue.map((issue) => issue.diagnostics ?? issue.details?.text ?? issue.code).join('; '), [], headers);
  }
}

/** The problem document of RFC 9457 §3, with the SIP problems as an extension member. */
export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
  readonly problems?: readonly Problem[];
}

export function problemDocument(error: HttpError, instance?: string): ProblemDocument {
  return {
    type: 'about:blank',
    title: error.title,
    status: error.status,
    detail: error.detail,
    ...(instance === undefined ? {} : { instance }),
    ...(error.problems.length === 0 ? {} : { problems: error.problems }),
  };
}

/** OperationOutcome issue types by HTTP status (https://hl7.org/fhir/R4/valueset-issue-type.html). */
const ISSUE_TYPE: Readonly<Record<number, OperationOutcomeIssue['code']>> = {
  400: 'structure',
  401: 'login',
  403: 'forbidden',
  404: 'not-found',
  405: 'not-supported',
  // A format the server does not write: http.html#mime names no issue type; `not-supported` is "the content/operation failed because it is not supported".
  406: 'not-supported',
  409: 'duplicate',
  412: 'conflict',
  413: 'too-costly',
  415: 'not-supported',
  422: 'business-rule',
  428: 'required',
  429: 'throttled',
};

export function operationOutcome(error: HttpError): OperationOutcome {
  if (error instanceof OutcomeError) return error.outcome;
  const issues: OperationOutcomeIssue[] =
    error.problems.length > 0
      ? error.problems.map((problem) => ({
          severity: problem.severity,
          code: ISSUE_TYPE[error.status] ?? 'processing',
          diagnostics: `${problem.code} at ${problem.pointer === '' ? '(document)' : problem.pointer}: ${problem.message}`,
        }))
      : [{ severity: error.status >= 500 ? 'fatal' : 'error', code: ISSUE_TYPE[error.status] ?? 'exception', diagnostics: error.detail }];
  return { resourceType: 'OperationOutcome', issue: issues };
}
