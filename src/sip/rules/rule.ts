/**
 * How a SIP rule is written: a stable code, an English title, the seed section it enforces, and a
 * check that yields every place the plan breaks it (all problems are collected, none stops the rest).
 */
import type { CalendarDate } from '../identifiers.js';
import type { SipPlan } from '../model/index.js';
import type { PlanIndex } from '../plan-index.js';
import type { RuleSource, Severity } from '../problem.js';

/** The source documents in ../shared/seeds/ and the design, as rules cite them. */
export const SOURCE_DOCUMENTS: Readonly<Record<string, string>> = {
  'seed-000': 'Lokal rutin för samordnad individuell plan (2016), documentation in "Mina planer"',
  'seed-001': 'Region Dalarna, Länsövergripande riktlinje om samordnad individuell plan (2023, version 5)',
  'seed-002': 'Uppdrag Psykisk Hälsa, Kom igång med SIP',
  'seed-003': 'Information och begäran om SIP (the form for the individual)',
  'seed-004': 'Samordnad individuell plan – SIP (presentation, Gävleborg)',
  design: 'DESIGN.md §3, the SIP model',
  glossary: 'GLOSSARY.md (shared), from Socialstyrelsen\'s national information model and the law text',
};

export interface RuleContext {
  readonly plan: SipPlan;
  readonly index: PlanIndex;
  /** The instant the plan is judged at: when its version was recorded, or when it is sent. */
  readonly at: Date;
  /**
   * True when the plan is judged because it is about to leave the adapter. Consent is then judged at
   * `at` for every plan, closed ones too: nothing is sent without a consent in force (seed 001 §4.2).
   */
  readonly sending: boolean;
  /** `at` as a calendar date in Europe/Stockholm. */
  readonly today: CalendarDate;
  /** The person's birth date, from the identity number or the plan; undefined when unknown. */
  readonly birthDate: CalendarDate | undefined;
}

/** One place where a rule is broken. */
export interface Finding {
  readonly pointer: string;
  readonly message: string;
}

/**
 * What a rule is about, which decides how much it weighs (docs/rules.md, "Three kinds of rule"):
 *
 * - `integrity`: the record is incoherent (a reference to nothing, a date before one it must follow,
 *   a consent longer than a year). Always an error: the record must be corrected.
 * - `completeness`: the plan is not yet complete enough to approve (the five elements of seed 001
 *   §4.5, the coordinator). An error once a principal has approved the plan, and not reported before:
 *   a plan under preparation is built by both principals together, so it must travel between them.
 * - `history`: a fact of the past or process advice (a meeting held without a principal, a follow-up
 *   held late). Always a warning: what happened cannot be corrected in the record, so it never stops
 *   the plan from travelling. Where seed 001 §5.2 calls for it, the warning says a deviation
 *   (avvikelse) should be reported.
 */
export type RuleKind = 'integrity' | 'completeness' | 'history';

/** The severity each kind of rule reports with. */
export const SEVERITY_OF_KIND: Readonly<Record<RuleKind, Severity>> = { integrity: 'error', completeness: 'error', history: 'warning' };

/** What seed 001 §5.2 asks of a deviation between the principals, appended to the rules that call for one. */
export const DEVIATION_ADVICE =
  'report it as a deviation (avvikelse) between the principals, and agree on an interim division of responsibility (seed 001 §5.2)';

export interface Rule {
  readonly code: string;
  readonly kind: RuleKind;
  /** Follows from `kind`. */
  readonly severity: Severity;
  /** The rule in one English sentence, as docs/rules.md lists it. */
  readonly title: string;
  readonly source: RuleSource;
  /** A `history` rule whose findings should be reported as a deviation (seed 001 §5.2). */
  readonly reportDeviation?: boolean;
  check(context: RuleContext): Iterable<Finding>;
}

export function defineRule(rule: Omit<Rule, 'severity'>): Rule {
  if (rule.reportDeviation === true && rule.kind !== 'history') throw new Error(`${rule.code}: only a history rule asks for a deviation`);
  return { ...rule, severity: SEVERITY_OF_KIND[rule.kind] };
}
