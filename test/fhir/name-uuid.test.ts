import fc from 'fast-check';
import { v5 as uuidv5 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { CANONICAL_BASE } from '../../src/fhir/canonical.js';
import { nameBasedUuid } from '../../src/fhir/write/context.js';

/** The namespace the adapter's keys are made in, as the `uuid` package makes it. */
const NAMESPACE = uuidv5(CANONICAL_BASE, uuidv5.URL);

describe('nameBasedUuid', () => {
  it('is the uuid package’s version 5 UUID in the adapter’s namespace, for names of any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (name) => {
        expect(nameBasedUuid(name)).toBe(uuidv5(name, NAMESPACE));
      }),
      { numRuns: 2000 },
    );
  });

  it('is a version 5 UUID of the RFC 9562 variant, different for different names', () => {
    const one = nameBasedUuid('CarePlan|http://example.org|a');
    expect(one).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(nameBasedUuid('CarePlan|http://example.org|b')).not.toBe(one);
    expect(nameBasedUuid('Organisation|SE2321000016-15CQ|Söder')).toBe(uuidv5('Organisation|SE2321000016-15CQ|Söder', NAMESPACE));
  });

  it('is so for names longer than the buffer a name is written into, and at its edge', () => {
    const lengths = [0, 1, 335, 336, 337, 1008, 1009, 5000];
    for (const length of lengths) {
      for (const unit of ['a', 'ö', '–', '🧩']) {
        const name = unit.repeat(Math.ceil(length / unit.length));
        expect(nameBasedUuid(name)).toBe(uuidv5(name, NAMESPACE));
      }
    }
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 300, maxLength: 1200 }), (name) => {
        expect(nameBasedUuid(name)).toBe(uuidv5(name, NAMESPACE));
      }),
      { numRuns: 300 },
    );
  });
});
