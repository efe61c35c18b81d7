/**
 * `queryValue` (src/fhir/write/context.ts), which writes the identifier search of every Bundle
 * entry's request, returns a value that needs no encoding as it is: the same text as percent-encoding
 * it and putting `:` and `/` back, as the start did, for any string.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { queryValue } from '../../src/fhir/write/context.js';

/** The start's queryValue (fa4e519). */
const queryValueAsBefore = (value: string): string => encodeURIComponent(value).replaceAll('%3A', ':').replaceAll('%2F', '/');

describe('queryValue', () => {
  it('is the percent-encoding with : and / kept, for identifiers as keys have them and for any string', () => {
    const samples = [
      'urn:oid:1.2.752.129.2.1.4.1',
      'http://electronichealth.se/identifier/hsaid',
      'SE2321000180-1000',
      'sip-falun-2026-0142/goal-1',
      "a b|c,d;e=f&g?h#i%j+k'l(m)n*o!p~q",
      'Åsa Öberg – 🧩',
      '',
    ];
    for (const value of samples) expect(queryValue(value)).toBe(queryValueAsBefore(value));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.stringMatching(/^[A-Za-z0-9\-_.!~*'():/|%?#&= ]*$/)), (value) => {
        expect(queryValue(value)).toBe(queryValueAsBefore(value));
      }),
      { numRuns: 2000 },
    );
  });
});
