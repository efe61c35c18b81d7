import { describe, expect, it } from 'vitest';
import { samePerson, type PersonIdentifier, type SipPlan } from '../../src/sip/index.js';
import { readExample } from '../support/examples.js';

/** adult-psychiatry-addiction (personnummer 198503141239, born 1985-03-14) under another identifier. */
function withIdentifier(identifier: PersonIdentifier, birthDate?: string): SipPlan {
  const plan = readExample('adult-psychiatry-addiction.json');
  return { ...plan, individual: { ...plan.individual, identifier, ...(birthDate === undefined ? {} : { birthDate }) } };
}

const PERSONNUMMER: PersonIdentifier = { system: 'personnummer', value: '198503141239' };
// Born 1985-03-14: the day plus 60 (Skatteverket's samordningsnummer), check digit by Luhn.
const SAMORDNINGSNUMMER: PersonIdentifier = { system: 'samordningsnummer', value: '198503741236' };
const ANOTHER_PERSONNUMMER: PersonIdentifier = { system: 'personnummer', value: '198603141238' };
const RESERVNUMMER: PersonIdentifier = { system: 'reservnummer', value: 'R-0042', issuer: 'urn:oid:1.2.752.97.3.1.3' };

const CASES: readonly { name: string; current: SipPlan; incoming: SipPlan; same: boolean }[] = [
  { name: 'the same personnummer', current: withIdentifier(PERSONNUMMER), incoming: withIdentifier(PERSONNUMMER), same: true },
  { name: 'another personnummer', current: withIdentifier(PERSONNUMMER), incoming: withIdentifier(ANOTHER_PERSONNUMMER), same: false },
  { name: 'a samordningsnummer, then a personnummer of the same birth date (the person was registered)', current: withIdentifier(SAMORDNINGSNUMMER), incoming: withIdentifier(PERSONNUMMER), same: true },
  { name: 'a samordningsnummer, then a personnummer of another birth date', current: withIdentifier(SAMORDNINGSNUMMER), incoming: withIdentifier(ANOTHER_PERSONNUMMER), same: false },
  { name: 'a personnummer, then a samordningsnummer (never the way a person goes)', current: withIdentifier(PERSONNUMMER), incoming: withIdentifier(SAMORDNINGSNUMMER), same: false },
  { name: 'a reservnummer with the birth date, then the personnummer', current: withIdentifier(RESERVNUMMER, '1985-03-14'), incoming: withIdentifier(PERSONNUMMER), same: true },
  { name: 'a reservnummer without a birth date, then a personnummer', current: withIdentifier(RESERVNUMMER), incoming: withIdentifier(PERSONNUMMER), same: false },
];

describe('samePerson', () => {
  for (const row of CASES) {
    it(`${row.same ? 'is' : 'is not'} the same person: ${row.name}`, () => {
      expect(samePerson(row.current, row.incoming)).toBe(row.same);
    });
  }
});
