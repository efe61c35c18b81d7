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
};

export interface RuleContext {
  readonly plan: SipPlan;
  readonly index: PlanIndex;
  /** The instant the plan is judged at (by default the time its version was recorded). */
  readonly at: Date;
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

export interface Rule {
  readonly code: string;
  readonly severity: Severity;
  /** The rule in one English sentence, as docs/rules.md lists it. */
  readonly title: string;
  readonly source: RuleSource;
  check(context: RuleContext): Iterable<Finding>;
}

export function defineRule(rule: Rule): Rule {
  return rule;
}
