/**
 * A SIP rule problem (src/sip/rules/) as an OperationOutcome issue, so a plan read from FHIR reports
 * its rule problems the way the reader reports everything else
 * (https://hl7.org/fhir/R4/operationoutcome.html).
 */
import type { OperationOutcomeIssue } from 'fhir/r4.js';
import { checkPlan, CONSENT_IN_FORCE_CODES, judgeSendAndRecorded, type Problem } from '../sip/index.js';
import { CANONICAL_BASE } from './canonical.js';
import { bundleToPlan, type FhirReadResult } from './read/read-plan.js';

/**
 * The system of the rule codes in `details.coding` (`consent.expired`, `plan.missing-goals` …): the
 * codes of docs/rules.md. It names the rule set; it is not a published CodeSystem resource.
 */
export const RULE_CODE_SYSTEM = `${CANONICAL_BASE}/sip-rules`;

/** OperationOutcome issue types by the kind of rule (https://hl7.org/fhir/R4/valueset-issue-type.html). */
const ISSUE_TYPE: Readonly<Record<NonNullable<Problem['kind']>, OperationOutcomeIssue['code']>> = {
  integrity: 'business-rule',
  completeness: 'incomplete',
  history: 'business-rule',
};

/**
 * The problem as an issue: severity, the rule code in `details.coding`, and where in the plan (a JSON
 * pointer into the SIP JSON that `from-fhir` prints) in `diagnostics`. The plan pointer is not a
 * FHIRPath into the Bundle, so `expression` names the Bundle as a whole.
 */
export function ruleIssue(problem: Problem): OperationOutcomeIssue {
  const where = problem.pointer === '' ? 'the plan' : problem.pointer;
  return {
    severity: problem.severity,
    code: ISSUE_TYPE[problem.kind ?? 'integrity'],
    details: { coding: [{ system: RULE_CODE_SYSTEM, code: problem.code }], text: problem.message },
    diagnostics: `${problem.code} at ${where} in the plan read: ${problem.message}`,
    expression: ['Bundle'],
  };
}

/** `Bundle.timestamp` as an instant, when the Bundle has a valid one. */
function bundleTimestamp(bundle: unknown): Date | undefined {
  const timestamp = typeof bundle === 'object' && bundle !== null ? (bundle as { timestamp?: unknown }).timestamp : undefined;
  if (typeof timestamp !== 'string') return undefined;
  const instant = new Date(timestamp);
  return Number.isNaN(instant.getTime()) ? undefined : instant;
}

/**
 * Reads the plan in a Bundle ({@link bundleToPlan}) and checks it against the SIP rules, as every
 * path that takes a plan in does: at `at` when given, else at the instant its version was recorded;
 * and, when the Bundle has a `timestamp` (when it was sent) and no `at` is given, its consent at that
 * moment too (`judgeSend`), since a plan may not have been sent without a consent in force.
 * Each rule problem is appended as an issue with its rule code; a rule error makes the result not ok.
 */
export function readCheckedPlan(bundle: unknown, options: { readonly at?: Date } = {}): FhirReadResult {
  const read = bundleToPlan(bundle);
  if (!read.ok) return read;
  const sentAt = options.at === undefined ? bundleTimestamp(bundle) : undefined;
  // With a timestamp, `checkPlan(plan)` and `judgeSend(plan, sentAt)` in one pass over the rules
  // (judgeSendAndRecorded: only the rules that read the instant run twice).
  const judged = sentAt === undefined ? undefined : judgeSendAndRecorded(read.plan, sentAt);
  const problems = judged?.recorded ?? checkPlan(read.plan, options.at === undefined ? {} : { at: options.at });
  const seen = new Set(problems.map((problem) => `${problem.code} ${problem.pointer}`));
  const atSending = (judged?.send ?? []).filter(
    (problem) => CONSENT_IN_FORCE_CODES.has(problem.code) && !seen.has(`${problem.code} ${problem.pointer}`),
  );
  const issues = [...problems, ...atSending].map(ruleIssue);
  if (issues.length === 0) return read;
  // The reader's one informational issue says that all went well: it no longer holds.
  const placeholder = read.outcome.issue.length === 1 && read.outcome.issue[0]?.code === 'informational';
  const outcome = { ...read.outcome, issue: [...(placeholder ? [] : read.outcome.issue), ...issues] };
  return issues.some((issue) => issue.severity === 'error') ? { ok: false, outcome } : { ...read, outcome };
}
