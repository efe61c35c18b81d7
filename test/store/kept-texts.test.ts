/**
 * The packing of a version's derived texts (src/store/kept-texts.ts, migration 12), in the adapter: what
 * is packed unpacks (by its UTF-16 offsets, as the outbox cuts it) to the same texts for any text a JavaScript string can hold but U+0000, which is
 * refused when written; the CarePlan's text stays a row; a resource given twice is kept once, as
 * first given. The SQL that cuts the packed bytes is held by the store's tests on both drivers
 * (contract.ts, one-statement-write.test.ts, outbox-texts.test.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packTexts, splitTexts, unpackTexts, utf8Packed, type PackedTexts } from '../../src/store/kept-texts.js';
import type { DerivedText } from '../../src/store/plan-store.js';

/** As a JavaScript string may be: any UTF-16 units, lone surrogates too, but U+0000. */
const piece = fc.string({ unit: fc.oneof(fc.constantFrom('å', '🙂', '\ud83e', '"', '\\', '\u001e'), fc.integer({ min: 1, max: 0xffff }).map((code) => String.fromCharCode(code))), maxLength: 30 });
const text = fc.record({ resourceType: fc.constantFrom('Goal', 'Patient', 'Task'), id: fc.stringMatching(/^[a-z0-9-]{1,12}$/), head: piece, tail: piece });

/** The packed texts as `packedLists` has the backend hand them: types and ids joined by U+001F, the UTF-16 offsets by commas, the bytes decoded. */
const unpacked = (packed: PackedTexts): DerivedText[] => unpackTexts(packed.types.join('\u001f'), packed.ids.join('\u001f'), packed.units.join(','), packed.bytes.toString('utf8'));

/** What a string is once it went through UTF-8 (a lone surrogate becomes U+FFFD), as PostgreSQL would keep it. */
const throughUtf8 = (value: string): string => Buffer.from(value, 'utf8').toString('utf8');

describe('the packed texts', () => {
  it('unpack to the texts packed, through UTF-8, with 2n + 1 byte offsets', () => {
    fc.assert(
      fc.property(fc.array(text, { maxLength: 12 }), (texts) => {
        const packed = packTexts(texts);
        expect(packed.bounds).toHaveLength(2 * texts.length + 1);
        expect(packed.bounds.at(-1)).toBe(packed.bytes.length);
        expect(packed.units).toHaveLength(2 * texts.length + 1);
        expect(unpacked(packed)).toEqual(texts.map((each) => ({ ...each, head: throughUtf8(each.head), tail: throughUtf8(each.tail) })));
      }),
    );
  });

  it('are cut where the bytes say: two-, three- and four-byte characters on each side of a cut, and an empty piece', () => {
    const texts: DerivedText[] = [
      { resourceType: 'Goal', id: 'a', head: 'å', tail: '🙂' },
      { resourceType: 'Goal', id: 'b', head: '', tail: '–' },
    ];
    expect(utf8Packed(texts).bounds).toEqual([0, 2, 6, 6, 9]);
    expect(utf8Packed(texts).units).toEqual([0, 1, 3, 3, 4]);
    expect(unpacked(utf8Packed(texts))).toEqual(texts);
  });

  it('refuse U+0000 wherever it is, naming the first resource that holds one', () => {
    const withNul = fc.tuple(piece, piece).map(([before, after]) => `${before}\u0000${after}`);
    const texts = fc.array(fc.tuple(text, fc.constantFrom('none', 'head', 'tail', 'both')), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(texts, withNul, (given, nul) => {
        const all = given.map(([each, where], index) => ({
          ...each,
          id: `r${String(index)}`,
          head: where === 'head' || where === 'both' ? nul : each.head,
          tail: where === 'tail' || where === 'both' ? nul : each.tail,
        }));
        const first = all.find((each) => each.head.includes('\u0000') || each.tail.includes('\u0000'));
        if (first === undefined) expect(() => packTexts(all)).not.toThrow();
        else expect(() => packTexts(all)).toThrow(`the text of ${first.resourceType}/${first.id} holds U+0000, which a text cannot keep`);
      }),
    );
  });

  it('refuse U+0000, naming the resource, and unpack nothing from a row that has none', () => {
    expect(() => packTexts([{ resourceType: 'Goal', id: 'g1', head: '{', tail: 'a\u0000' }])).toThrow(/Goal\/g1 holds U\+0000/);
    expect(unpackTexts(null, null, null, null)).toEqual([]);
    expect(unpacked(utf8Packed([]))).toEqual([]);
    expect(() => unpackTexts('Goal', 'g1', '0,1', 'ab')).toThrow(/1 types, 1 ids, 2 offsets to 1 and 2 characters/);
    expect(() => unpackTexts('Goal', 'g1', '0,1,3', 'ab')).toThrow(/3 offsets to 3 and 2 characters/);
  });

  it("keep the CarePlan's text a row, every other packed, and a resource given twice once, as first given", () => {
    const carePlan = { resourceType: 'CarePlan', id: 'cp', head: '{', tail: '}' };
    const goal = { resourceType: 'Goal', id: 'g', head: '{"a":1', tail: '}' };
    const { rows, packed } = splitTexts([goal, carePlan, { ...goal, head: 'second' }, { ...carePlan, tail: 'second' }]);
    expect(rows).toEqual([carePlan]);
    expect(unpacked(packed)).toEqual([goal]);
  });
});
