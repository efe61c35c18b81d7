/** The valid example plans in `examples/`, parsed. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SipPlan } from '../../src/sip/index.js';
import { parsePlan } from '../../src/sip/index.js';

const EXAMPLES_DIR = 'examples';

export const exampleFiles: readonly string[] = readdirSync(EXAMPLES_DIR).filter((file) => file.endsWith('.json')).sort();

export function readExample(file: string): SipPlan {
  const result = parsePlan(JSON.parse(readFileSync(join(EXAMPLES_DIR, file), 'utf8')) as unknown);
  if (!result.ok) throw new Error(`${file} does not parse: ${JSON.stringify(result.problems)}`);
  return result.plan;
}

/**
 * Examples whose Bundle, sent when the plan version was recorded (planToBundle's default), must be
 * refused by the SIP Bundle profile, with the one rule that refuses it: the plan closed after the
 * person withdrew their consent (2026-02-24) has no consent in force on 2026-02-26 to be sent under.
 */
export const NOT_SENDABLE: Readonly<Partial<Record<string, string>>> = {
  'closed-consent-withdrawn.json': 'sip-bdl-7',
};
