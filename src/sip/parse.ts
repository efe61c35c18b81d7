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
 * Parses JSON text (see `parseJson`): malformed JSON, and a number out of the double range, are one
 * `json.malformed` problem naming the line and column.
 */
export function parseJsonText(text: string): { ok: true; value: unknown } | { ok: false; problems: Problem[] } {
  const json = parseJson(text);
  return json.ok ? json : { ok: false, problems: [{ code: 'json.malformed', severity: 'error', pointer: '', message: json.message }] };
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

/** Validates already-parsed JSON against the SIP model. */
export function parsePlan(input: unknown): ParseResult {
  const result = sipPlanSchema.safeParse(input, { reportInput: true });
  return result.success ? { ok: true, plan: result.data } : { ok: false, problems: zodIssuesToProblems(result.error.issues) };
}

/** Parses and validates JSON text. */
export function parsePlanText(text: string): ParseResult {
  const json = parseJsonText(text);
  return json.ok ? parsePlan(json.value) : json;
}
