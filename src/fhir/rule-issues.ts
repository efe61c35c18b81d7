/**
 * A SIP rule problem (src/sip/rules/) as an OperationOutcome issue, so a plan read from FHIR reports
 * its rule problems the way the reader reports everything else
 * (https://hl7.org/fhir/R4/operationoutcome.html).
 */
import type { OperationOutcomeIssue } from 'fhir/r4.js';
import type { Problem } from '../sip/index.js';
import { CANONICAL_BASE } from './canonical.js';

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
