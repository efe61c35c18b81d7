import { describe, expect, it } from 'vitest';
import { citeStatute, currentStatute, decisionSchema } from '../../src/sip/index.js';

describe('statutes of decisions', () => {
  it('cites the new and the former social services act and LSS as Swedish law is cited', () => {
    expect(citeStatute({ act: '2025:400', chapter: 11, section: 1 })).toBe('11 kap. 1 § socialtjänstlagen (2025:400)');
    expect(citeStatute({ act: '2001:453', chapter: 4, section: 1 })).toBe('4 kap. 1 § socialtjänstlagen (2001:453)');
    expect(citeStatute({ act: '1993:387', section: 9, point: 4 })).toBe('9 § 4 lagen (1993:387) om stöd och service till vissa funktionshindrade');
  });

  it('gives bistånd under the former act its place in the new one, and leaves other provisions as they are', () => {
    expect(currentStatute({ act: '2001:453', chapter: 4, section: 1 })).toEqual({ act: '2025:400', chapter: 11, section: 1 });
    expect(currentStatute({ act: '1993:387', section: 9, point: 6 })).toEqual({ act: '1993:387', section: 9, point: 6 });
  });
});

describe('the decision schema', () => {
  const decision = {
    concerns: { text: 'Hemtjänst' },
    statute: { act: '2025:400', chapter: 11, section: 1 },
    outcome: 'granted',
    decidedAt: '2026-01-27T14:20:00+01:00',
  };

  it('is in force unless said otherwise', () => {
    expect(decisionSchema.parse(decision).status).toBe('inForce');
  });

  it('refuses hours without their period, a code without its system, and a statute that is no SFS number', () => {
    expect(decisionSchema.safeParse({ ...decision, scope: { hours: 30 } }).error?.issues[0]?.path).toEqual(['scope', 'per']);
    expect(decisionSchema.safeParse({ ...decision, concerns: { code: 'HTJ', text: 'Hemtjänst' } }).error?.issues[0]?.path).toEqual(['concerns', 'code']);
    expect(decisionSchema.safeParse({ ...decision, statute: { act: 'SoL', section: 1 } }).error?.issues[0]?.path).toEqual(['statute', 'act']);
  });
});
