/**
 * The helpers for objects whose keys come from data (src/sip/objects.ts): `keptMembers`, through the
 * two forms the project uses — `definedMembers` (the FHIR reader, the judging summary) and `compact`
 * (the FHIR mapping) — against the computations they replace, kept here verbatim as the reference:
 * the same members in the same order on objects of any members, integer-like keys, `__proto__` and
 * the names of `Object.prototype`'s members included; and `ownValue`, which answers only a table's own keys.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compact } from '../../src/fhir/write/context.js';
import { definedMembers, ownValue } from '../../src/sip/index.js';

function formerDefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as T;
}
function formerCompact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined && !(Array.isArray(member) && member.length === 0))) as T;
}

describe('keptMembers against the computations it replaces', () => {
  it.each([
    ['definedMembers', definedMembers, formerDefined],
    ['compact', compact, formerCompact],
  ] as const)('%s keeps the same members in the same order, on objects of any members', (_name, now, former) => {
    const member = fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant([]), fc.constant(''), fc.constant(0), fc.constant(false), fc.array(fc.integer(), { minLength: 1, maxLength: 2 }), fc.string({ maxLength: 3 }), fc.constant({}));
    const key = fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('__proto__', '0', '10', '2', 'constructor', 'toString', 'start', 'end'));
    fc.assert(
      fc.property(fc.array(fc.tuple(key, member), { maxLength: 8 }), (members) => {
        const value: Record<string, unknown> = {};
        for (const [name, item] of members) Object.defineProperty(value, name, { value: item, enumerable: true, writable: true, configurable: true });
        const kept = now(value);
        const expected = former(value);
        expect(Object.getPrototypeOf(kept)).toBe(Object.getPrototypeOf(expected));
        expect(Object.entries(kept)).toEqual(Object.entries(expected));
        expect(JSON.stringify(kept)).toBe(JSON.stringify(expected));
      }),
      { numRuns: 5_000 },
    );
  });

  it('definedMembers leaves out exactly the undefined members; compact also the empty arrays', () => {
    const value = { a: undefined, b: null, c: [], d: '', e: 0, f: false, g: 'x' };
    expect(definedMembers(value)).toEqual({ b: null, c: [], d: '', e: 0, f: false, g: 'x' });
    expect(compact(value)).toEqual({ b: null, d: '', e: 0, f: false, g: 'x' });
    expect(Object.keys(definedMembers({ z: 1, a: undefined, m: 2 }))).toEqual(['z', 'm']);
  });
});

describe('ownValue', () => {
  const table: Readonly<Record<string, string>> = { active: 'ongoing', completed: 'completed' };

  it("answers a table's own keys, and nothing for a key only Object.prototype has", () => {
    expect(ownValue(table, 'active')).toBe('ongoing');
    expect(ownValue(table, 'cancelled')).toBeUndefined();
    expect(ownValue(table, undefined)).toBeUndefined();
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      expect(table[name], `${name} is found through the prototype when indexed`).toBeDefined();
      expect(ownValue(table, name)).toBeUndefined();
    }
  });
});
