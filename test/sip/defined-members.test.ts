/**
 * `definedMembers` (src/sip/defined-members.ts), which the FHIR reader and the judging summary use to
 * leave out `undefined` members, against the computation it replaces, kept here verbatim as the
 * reference: the same members in the same order, on objects of any members — integer-like keys,
 * `__proto__` and the names of `Object.prototype`'s members included.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { definedMembers } from '../../src/sip/index.js';

function formerDefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as T;
}

describe('definedMembers against the computation it replaces', () => {
  it('keeps the same members in the same order, on objects of any members', () => {
    const member = fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant([]), fc.constant(''), fc.constant(0), fc.constant(false), fc.string({ maxLength: 3 }), fc.constant({}));
    const key = fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('__proto__', '0', '10', '2', 'constructor', 'toString', 'system', 'code'));
    fc.assert(
      fc.property(fc.array(fc.tuple(key, member), { maxLength: 8 }), (members) => {
        const value: Record<string, unknown> = {};
        for (const [name, item] of members) Object.defineProperty(value, name, { value: item, enumerable: true, writable: true, configurable: true });
        const now = definedMembers(value);
        const former = formerDefined(value);
        expect(Object.getPrototypeOf(now)).toBe(Object.getPrototypeOf(former));
        expect(Object.entries(now)).toEqual(Object.entries(former));
        expect(JSON.stringify(now)).toBe(JSON.stringify(former));
      }),
      { numRuns: 5_000 },
    );
  });

  it('leaves out exactly the undefined members: null, empty arrays, empty strings, 0 and false stay', () => {
    expect(definedMembers({ a: undefined, b: null, c: [], d: '', e: 0, f: false, g: 'x' })).toEqual({ b: null, c: [], d: '', e: 0, f: false, g: 'x' });
    expect(Object.keys(definedMembers({ z: 1, a: undefined, m: 2 }))).toEqual(['z', 'm']);
  });
});
