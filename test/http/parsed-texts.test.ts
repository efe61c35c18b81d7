/**
 * The kept basis and judging summary parsed once per text and shared by the reads that bring it
 * (`ParsedTexts`, src/http/derived-view.ts): a parse equals `JSON.parse` of its text, is frozen whole,
 * is the one object for equal texts however they came, and is forgotten least recently used first.
 *
 * Differential: for every example and generated plans, each version's judgement at a read —
 * `mayAccess` on `judgingPlanOf` by every party and a stranger, and `storedSendRefusal` — from kept
 * texts brought again and again (new derivation objects, new strings, the shared frozen parses) equals
 * the judgement from a fresh, unshared `JSON.parse` of the same texts, at instants before, during and
 * after the consents.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mayAccess } from '../../src/http/auth/access.js';
import { ParsedTexts, derivedVersion, judgingPlanOf, storedSendRefusal } from '../../src/http/derived-view.js';
import { refusalOf } from '../../src/http/sending.js';
import { judgeSendWith, parsePlan, type SendBasis, type SipPlan } from '../../src/sip/index.js';
import type { StoredPlan } from '../../src/store/plan-store.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, readExample } from '../support/examples.js';
import { INSTANTS, NARROWED, callersOf, withHsaIds } from '../support/read-differential.js';

/** A new string with the same text, as a second read's row brings it. */
const again = (text: string): string => JSON.parse(JSON.stringify(text)) as string;

describe('parses of kept texts shared between reads', () => {
  it('gives JSON.parse of the text, frozen whole, one object for equal texts, and forgets the least recently used', () => {
    let parses = 0;
    const texts = new ParsedTexts(2, (text) => {
      parses += 1;
      return JSON.parse(text) as unknown;
    });
    const a = '{"id":"a","list":[{"x":1}],"nested":{"y":[2]}}';
    const parsed = texts.get(a);
    expect(parsed).toEqual(JSON.parse(a));
    expect(texts.get(again(a))).toBe(parsed);
    expect(Object.isFrozen(parsed)).toBe(true);
    const { list, nested } = parsed as { list: [{ x: number }]; nested: { y: number[] } };
    expect([Object.isFrozen(list), Object.isFrozen(list[0]), Object.isFrozen(nested), Object.isFrozen(nested.y)]).toEqual([true, true, true, true]);
    expect(() => {
      nested.y.push(3);
    }).toThrow(TypeError);
    texts.get('"b"');
    texts.get(a);
    // "b" is now the least recently used: "c" pushes it out, and "a" is still kept.
    texts.get('"c"');
    expect(parses).toBe(3);
    texts.get(a);
    expect(parses).toBe(3);
    texts.get('"b"');
    expect(parses).toBe(4);
    expect(new ParsedTexts(0, (text) => text).get('x')).toBe('x');
  });

  /** A version as a read brings it: the plan and the kept basis and summary in new strings. */
  const brought = (plan: SipPlan, basis: string, summary: string): StoredPlan => ({ plan, version: plan.version, recordedAt: plan.updatedAt, recordedBy: 'system', derived: { basis: again(basis), summary: again(summary), texts: [] } });

  /** Every judgement of the version at `at` from shared parses, against fresh ones. */
  const compare = (plan: SipPlan, at: Date): number => {
    const { basis, summary } = derivedVersion(plan);
    if (summary === undefined) throw new Error('no judging summary derived');
    let compared = 0;
    for (let read = 0; read < 3; read++) {
      const stored = brought(plan, basis, summary);
      const fresh = JSON.parse(summary) as SipPlan;
      expect(judgingPlanOf(stored)).toEqual(fresh);
      expect(storedSendRefusal(stored, at)).toEqual(refusalOf(fresh, judgeSendWith(fresh, JSON.parse(basis) as SendBasis, at)));
      for (const who of callersOf(plan)) {
        expect(mayAccess(judgingPlanOf(stored), who, at), `${plan.id} by ${who} at ${at.toISOString()}`).toEqual(mayAccess(JSON.parse(summary) as SipPlan, who, at));
        compared += 1;
      }
    }
    return compared;
  };

  it('judges every example as fresh parses do, by every party, at every instant, read after read', () => {
    let compared = 0;
    for (const plan of [...exampleFiles.map(readExample), NARROWED]) for (const at of INSTANTS) compared += compare(plan, at);
    expect(compared).toBeGreaterThan(300);
  });

  it('judges generated plans as fresh parses do', () => {
    fc.assert(
      fc.property(mappablePlanArbitrary, fc.uuid(), (json, suffix) => {
        const parsed = parsePlan({ ...json, id: `sip-parsed-${suffix}` });
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        const plan = withHsaIds(parsed.plan);
        for (const at of [new Date(plan.updatedAt), ...INSTANTS]) compare(plan, at);
      }),
      { numRuns: 40 },
    );
  });
});
