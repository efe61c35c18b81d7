/**
 * Consent covers both principals (seed 001 §3.6.2: no SIP when the person consents only to one side's
 * interventions), judged over the consents in force as routing judges them (decideExchange).
 */
import { describe, expect, it } from 'vitest';
import { checkPlan, judgeSend, type Consent, type SipPlan } from '../../src/sip/index.js';
import { readExample } from '../support/examples.js';

const base = readExample('adult-psychiatry-addiction.json');

function withConsents(edit: (consent: Consent) => Consent[]): SipPlan {
  const [consent] = base.consents;
  if (consent === undefined) throw new Error('the example has a consent');
  return { ...base, consents: edit(consent) };
}

const codes = (plan: SipPlan): string[] => checkPlan(plan).map((problem) => `${problem.code} ${problem.pointer}`);

describe('consent.principal-not-covered', () => {
  it('passes when the principal is covered through one of its units', () => {
    expect(codes(withConsents((consent) => [{ ...consent, coveredActors: ['unit-psyk-falun', 'falu-kommun', 'fk'] }]))).toEqual([]);
  });

  it('fails when the consent excludes a principal, pointing at the exclusion', () => {
    expect(codes(withConsents((consent) => [{ ...consent, excludedParties: ['falu-kommun'] }]))).toContain(
      'consent.principal-not-covered /consents/0/excludedParties/0',
    );
  });

  it('passes when two consents in force cover one principal each', () => {
    const plan = withConsents((consent) => [
      { ...consent, coveredActors: ['region-dalarna', 'fk'] },
      { ...consent, id: 'consent-2', coveredActors: ['falu-kommun'] },
    ]);
    expect(codes(plan).filter((code) => code.startsWith('consent.principal-not-covered'))).toEqual([]);
  });

  it('is judged at the moment of sending: a renewal covering one side refuses the send once the old consent has expired', () => {
    const plan = withConsents((consent) => [consent, { ...consent, id: 'consent-2', givenAt: '2027-02-01', validUntil: '2028-01-31', coveredActors: ['falu-kommun', 'fk'] }]);
    const errorsAt = (at: string): string[] => judgeSend(plan, new Date(at)).filter((problem) => problem.severity === 'error').map((problem) => problem.code);
    expect(errorsAt('2027-02-05T12:00:00+01:00')).toEqual([]);
    expect(errorsAt('2027-02-15T12:00:00+01:00')).toEqual(['consent.principal-not-covered']);
  });
});
