/**
 * One problem found in a plan: what is wrong (a stable `code` and an English `message`), where (an
 * RFC 6901 JSON pointer into the plan as written), and which document the rule comes from.
 */
export type Severity = 'error' | 'warning';

/** The document and section a rule enforces. `seed-001` is ../shared/seeds/001_… (see docs/rules.md). */
export interface RuleSource {
  readonly document: string;
  readonly section: string;
}

export interface Problem {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  /** JSON pointer (RFC 6901) to the offending value; `""` is the whole document. */
  readonly pointer: string;
  readonly source?: RuleSource;
  /** The kind of rule that found it (see docs/rules.md): integrity, completeness or history. */
  readonly kind?: 'integrity' | 'completeness' | 'history';
  /** A fact of the past that seed 001 §5.2 asks to be reported as a deviation (avvikelse). */
  readonly reportDeviation?: boolean;
}

/** Builds a JSON pointer from path segments, escaping `~` and `/` (RFC 6901 §3). */
export function toPointer(path: readonly PropertyKey[]): string {
  return path.map((segment) => `/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** Raised by lifecycle transitions that a rule forbids; carries the problems, never a stack to callers. */
export class SipRuleError extends Error {
  readonly problems: readonly Problem[];

  constructor(problems: readonly Problem[]) {
    super(problems.map((problem) => `${problem.code}: ${problem.message}`).join('\n'));
    this.name = 'SipRuleError';
    this.problems = problems;
  }
}
