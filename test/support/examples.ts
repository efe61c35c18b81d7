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

/**
 * The protected-identity example with what its own rules forbid put back on purpose: the person's
 * address, phone and e-mail, a relative living at the same address, and the person's home as the
 * meeting place. What the adapter writes must withhold all of it even when a plan breaks the rules.
 */
export function leakyProtectedPlan(): SipPlan {
  const base = readExample('protected-identity.json');
  return {
    ...base,
    individual: {
      ...base.individual,
      contact: { phone: '070-111 22 33', email: 'linnea.hemlig@example.se', address: { line: ['Hemliga gatan 7'], postalCode: '413 01', city: 'Göteborg' } },
    },
    relatedPersons: [
      ...base.relatedPersons,
      {
        id: 'rel-mamma',
        kind: 'relative',
        relationship: 'mamma',
        name: { given: 'Eva', family: 'Karlsson' },
        contact: { phone: '070-444 55 66', address: { line: ['Hemliga gatan 7'], postalCode: '413 01', city: 'Göteborg' } },
      },
    ],
    meetings: base.meetings.map((meeting) =>
      meeting.summons === undefined ? meeting : { ...meeting, summons: { ...meeting.summons, location: 'Hemma hos Linnea, Hemliga gatan 7' } },
    ),
  };
}
