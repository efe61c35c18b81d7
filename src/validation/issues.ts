/** Collecting the validator's findings and turning them into one OperationOutcome. */
import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';

export interface Finding {
  readonly severity: OperationOutcomeIssue['severity'];
  readonly code: OperationOutcomeIssue['code'];
  /** The rule's key: a constraint key or one of `STRUCTURE_RULES`. */
  readonly rule: string;
  /** Canonical URL of the StructureDefinition the rule comes from. */
  readonly source: string;
  /** FHIRPath with indexes. */
  readonly expression: string;
  readonly message: string;
}

/** Collects findings, once each: two profiles of one resource often repeat a base rule. */
export class Findings {
  readonly #seen = new Set<string>();
  readonly list: Finding[] = [];

  add(finding: Finding): void {
    const key = `${finding.rule}\u0000${finding.expression}\u0000${finding.message}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.list.push(finding);
  }
}

const SEVERITY_ORDER: Readonly<Record<OperationOutcomeIssue['severity'], number>> = { fatal: 0, error: 1, warning: 2, information: 3 };

export function toOperationOutcome(findings: readonly Finding[]): OperationOutcome {
  const issue: OperationOutcomeIssue[] = [...findings]
    .sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity])
    .map((finding) => ({
      severity: finding.severity,
      code: finding.code,
      details: { coding: [{ system: finding.source, code: finding.rule }], text: finding.message },
      expression: [finding.expression],
    }));
  if (issue.length === 0) {
    issue.push({ severity: 'information', code: 'informational', details: { text: 'All OK' } });
  }
  return { resourceType: 'OperationOutcome', issue };
}
