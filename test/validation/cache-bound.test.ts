/**
 * The result cache stays under its bound in bytes however many distinct Bundles pass through it
 * (issue #13: `validate` over 4,000 distinct SIP Bundles used to run out of heap), and the verdicts
 * are those of a validator that remembers nothing.
 */
import { describe, expect, it } from 'vitest';
import { PROFILE, planToBundle } from '../../src/fhir/index.js';
import { createValidator } from '../../src/validation/index.js';
import { DEFAULT_CACHE_BYTES, InvariantEngine } from '../../src/validation/invariants.js';
import { readExample } from '../support/examples.js';

const adult = readExample('adult-psychiatry-addiction.json');

/** The adult example as a distinct plan: its own id and person. */
function distinctBundle(serial: number): unknown {
  const id = `bound-${String(serial)}`;
  return planToBundle({ ...adult, id, individual: { ...adult.individual, identifier: { ...adult.individual.identifier, value: `19${String(50 + (serial % 50))}0101-${String(100 + (serial % 800)).padStart(3, '0')}0` } }, consents: adult.consents.map((consent) => ({ ...consent, planId: id })) });
}

describe('the result cache bound', () => {
  it('is 16 MiB by default', () => {
    expect(DEFAULT_CACHE_BYTES).toBe(16 * 1_024 * 1_024);
    expect(new InvariantEngine().cacheBytes.bound).toBe(DEFAULT_CACHE_BYTES);
  });

  it('holds over 60 distinct SIP Bundles with a 4 KiB budget, which they overflow many times, and changes no verdict', () => {
    // What a SIP Bundle leaves remembered (≈ 8 KiB) is the same for every new one since its plan-specific
    // constraints are checked natively (src/validation/native-resources.ts): a budget under it overflows on each.
    const bound = 4 * 1_024;
    const engine = new InvariantEngine({ cacheBytes: bound });
    const bounded = createValidator({ engine });
    const forgetful = createValidator({ rememberResults: false });
    let peak = 0;
    let previous = 0;
    let cleared = 0;
    for (let serial = 0; serial < 60; serial += 1) {
      const bundle = distinctBundle(serial);
      expect(bounded.validate(bundle, { profiles: [PROFILE.bundle] })).toEqual(forgetful.validate(bundle, { profiles: [PROFILE.bundle] }));
      const { used } = engine.cacheBytes;
      expect(used).toBeLessThanOrEqual(bound);
      if (used < previous) cleared += 1;
      previous = used;
      peak = Math.max(peak, used);
    }
    // The cache was used (results remembered) and emptied when full, more than once.
    expect(peak).toBeGreaterThan(bound / 2);
    expect(cleared).toBeGreaterThan(1);
  }, 120_000);

  it('keeps nothing when the result cache is off', () => {
    const engine = new InvariantEngine({ remember: false });
    const validator = createValidator({ engine });
    validator.validate(distinctBundle(1), { profiles: [PROFILE.bundle] });
    expect(engine.cacheBytes.used).toBe(0);
    expect(engine.remembered).toEqual({ results: 0, characters: 0 });
  });
});
