/**
 * The SIP boundary: JSON text or parsed JSON in, a typed `SipPlan` or a list of problems out. Every
 * problem names its location as a JSON pointer; malformed JSON names its line and column.
 */
import { z } from 'zod';
import { sipPlanSchema, type SipPlan } from './model/index.js';
import { parseJson } from './json-text.js';
import { toPointer, type Problem } from './problem.js';

export type ParseResult = { ok: true; plan: SipPlan } | { ok: false; problems: Problem[] };

/**
 * Parses JSON text (see `parseJson`): malformed JSON, a number out of the double range and a property
 * given twice in one object are one `json.malformed` problem naming the line and column (and, for a
 * repeated property, its JSON pointer).
 */
export function parseJsonText(text: string): { ok: true; value: unknown } | { ok: false; problems: Problem[] } {
  const json = parseJson(text);
  return json.ok ? json : { ok: false, problems: [{ code: 'json.malformed', severity: 'error', pointer: json.pointer ?? '', message: json.message }] };
}

function describeReceived(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'an array';
  return typeof input === 'object' ? 'an object' : `${typeof input} ${JSON.stringify(input)}`;
}

/** Turns zod's issues into problems with JSON pointers; unknown fields get one problem each. */
export function zodIssuesToProblems(issues: readonly z.core.$ZodIssue[]): Problem[] {
  return issues.flatMap((issue): Problem[] => {
    const pointer = toPointer(issue.path);
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys.map((key) => ({
          code: 'schema.unknown-field',
          severity: 'error',
          pointer: toPointer([...issue.path, key]),
          message: `Unknown field "${key}"`,
        }));
      case 'invalid_type':
        return [
          {
            code: issue.input === undefined ? 'schema.missing-field' : 'schema.wrong-type',
            severity: 'error',
            pointer,
            message:
              issue.input === undefined
                ? `Required field is missing (expected ${issue.expected})`
                : `Expected ${issue.expected}, got ${describeReceived(issue.input)}`,
          },
        ];
      default:
        return [{ code: 'schema.invalid-value', severity: 'error', pointer, message: issue.message }];
    }
  });
}

/**
 * The plan objects the SIP model's schema returned ({@link safeParsePlan}, {@link parsePlan}) or
 * {@link withVersionFields} built from one: what parsing them again would return unchanged (the
 * schema's output parses to itself, test/sip/parsed-plan.test.ts), so a consumer that must hold a
 * parsed plan — the store (src/store/sql-plan-store.ts) — need not parse them again. Weak: a plan
 * no one holds any more is not kept alive by being here.
 */
const parsedPlans = new WeakSet<SipPlan>();

/**
 * `sipPlanSchema.safeParse(input)`, remembering a plan it returns as parsed ({@link isParsedPlan}).
 * `reportInput` puts the offending input into each issue (for "got …" in the problems).
 */
export function safeParsePlan(input: unknown, options: { readonly reportInput?: boolean } = {}): ReturnType<typeof sipPlanSchema.safeParse> {
  const result = sipPlanSchema.safeParse(input, options.reportInput === true ? { reportInput: true } : undefined);
  if (result.success) parsedPlans.add(result.data);
  return result;
}

/**
 * Whether `plan` is an object the SIP model's schema returned (or {@link withVersionFields} built
 * from one), so that `parsePlan(plan)` would give a plan equal to it. The contract is that of a
 * parsed value: it holds as long as no one changes the object in place, which nothing in the
 * adapter does (every change of a plan — `revisePlan`, the SIP steps, `asFirstVersion` — builds a
 * new object). A plan that arrived some other way (JSON, a structured clone from a worker, an object
 * literal) is not one, and is parsed, unless {@link parsedClone} vouches for a clone of one.
 */
export function isParsedPlan(plan: SipPlan): boolean {
  return parsedPlans.has(plan);
}

/**
 * `clone`, a structured clone (`postMessage`, `structuredClone`) of a plan the SIP model's schema
 * returned in another thread, as parsed ({@link isParsedPlan}); returns it. Sound because a plan is
 * plain data — objects with the Object prototype, arrays, strings, numbers, booleans, null — whose
 * structured clone holds the same own properties in the same order, so parsing it gives it back as
 * parsing the original does. The caller vouches that the original was parsed (the transaction
 * worker asks {@link isParsedPlan} before it answers, src/http/transaction-worker.ts); a clone of
 * anything else must be parsed instead (test/sip/parsed-plan.test.ts).
 */
export function parsedClone(clone: SipPlan): SipPlan {
  parsedPlans.add(clone);
  return clone;
}

/**
 * A parsed plan with the fields that record a version replaced — its number, when it was recorded,
 * and its approvals — as the adapter does when it records a plan as a version of its own
 * (`asFirstVersion`). Each new value is put through its own field's schema, and the rest are the
 * parsed plan's: the plan schema is a strict object with no rule across its fields, so the result
 * is what parsing the whole would return, and it is remembered as parsed. When `plan` was not
 * parsed, or a value does not parse, the plain object is returned, and whoever needs it parsed
 * parses it (and reports what is wrong).
 */
export function withVersionFields(plan: SipPlan, fields: Pick<SipPlan, 'version' | 'updatedAt' | 'approvals'>): SipPlan {
  const plain: SipPlan = { ...plan, ...fields };
  if (!parsedPlans.has(plan)) return plain;
  const { shape } = sipPlanSchema;
  const version = shape.version.safeParse(fields.version);
  const updatedAt = shape.updatedAt.safeParse(fields.updatedAt);
  const approvals = shape.approvals.safeParse(fields.approvals);
  if (!version.success || !updatedAt.success || !approvals.success) return plain;
  const revised: SipPlan = { ...plan, version: version.data, updatedAt: updatedAt.data, approvals: approvals.data };
  parsedPlans.add(revised);
  return revised;
}

/** Validates already-parsed JSON against the SIP model. */
export function parsePlan(input: unknown): ParseResult {
  const result = safeParsePlan(input, { reportInput: true });
  return result.success ? { ok: true, plan: result.data } : { ok: false, problems: zodIssuesToProblems(result.error.issues) };
}

/** Parses and validates JSON text. */
export function parsePlanText(text: string): ParseResult {
  const json = parseJsonText(text);
  return json.ok ? parsePlan(json.value) : json;
}
