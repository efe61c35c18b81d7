/**
 * The result cache of the constraint engine (src/validation/invariants.ts) is bounded and keyed by
 * small things: a key longer than 1,024 characters (a Bundle-level constraint that names `entry`,
 * whose key would be the whole Bundle) is never kept, and no expression keeps more than 5,000 results.
 */
import { describe, expect, it } from 'vitest';
import { InvariantEngine } from '../../src/validation/invariants.js';

const scope = { container: {}, resolve: () => undefined };

function bundleOf(entries: number, tag: string): Record<string, unknown> {
  return { resourceType: 'Bundle', type: 'collection', entry: Array.from({ length: entries }, (_, index) => ({ fullUrl: `urn:uuid:${tag}-${String(index)}`, resource: { resourceType: 'Basic', id: `${tag}${String(index)}` } })) };
}

describe('the result cache', () => {
  it('keeps nothing for a constraint whose key would hold a whole Bundle, and still judges each Bundle', () => {
    const engine = new InvariantEngine({ remember: true });
    for (let round = 0; round < 20; round += 1) {
      const bundle = bundleOf(30, `b${String(round)}`);
      expect(engine.evaluate('entry.count() = 30', 'Bundle', bundle, { resource: bundle, rootResource: bundle }, scope)).toEqual({ passed: true });
      expect(engine.evaluate('entry.count() = 31', 'Bundle', bundle, { resource: bundle, rootResource: bundle }, scope)).toEqual({ passed: false });
    }
    expect(engine.remembered).toEqual({ results: 0, characters: 0 });
  });

  it('keeps small keys, at most 5,000 per expression, and counts their characters', () => {
    const engine = new InvariantEngine({ remember: true });
    const period = { start: '2030-01-01', end: '2030-02-01' };
    expect(engine.evaluate('start <= end', 'Period', period, { resource: period, rootResource: period }, scope)).toEqual({ passed: true });
    // The projection {"start":…,"end":…} is the key: 41 characters.
    expect(engine.remembered).toEqual({ results: 1, characters: JSON.stringify(period).length });
    for (let index = 0; index < 5_001; index += 1) {
      const node = { start: `2030-01-01T00:00:${String(index % 60).padStart(2, '0')}Z`, end: `2031-01-01T00:00:${String(index).padStart(4, '0')}Z` };
      engine.evaluate('start <= end', 'Period', node, { resource: node, rootResource: node }, scope);
    }
    expect(engine.remembered.results).toBeLessThanOrEqual(5_000);
    expect(engine.remembered.results).toBeGreaterThan(0);
  });

  it('keeps nothing when told not to remember', () => {
    const engine = new InvariantEngine({ remember: false });
    const period = { start: '2030-01-01', end: '2030-02-01' };
    engine.evaluate('start <= end', 'Period', period, { resource: period, rootResource: period }, scope);
    expect(engine.remembered).toEqual({ results: 0, characters: 0 });
  });
});
