import { describe, expect, it } from 'vitest';
import { allows, INTERACTIONS, parseScopes, type Interaction } from '../../src/http/auth/index.js';

/** For each scope string: the interactions it allows on CarePlan and on Consent. */
const TABLE: readonly { scope: string; carePlan: readonly Interaction[]; consent: readonly Interaction[] }[] = [
  // v1
  { scope: 'system/CarePlan.read', carePlan: ['read', 'search'], consent: [] },
  { scope: 'system/CarePlan.write', carePlan: ['create', 'update', 'delete'], consent: [] },
  { scope: 'system/CarePlan.*', carePlan: INTERACTIONS, consent: [] },
  { scope: 'system/*.read', carePlan: ['read', 'search'], consent: ['read', 'search'] },
  { scope: 'system/*.write', carePlan: ['create', 'update', 'delete'], consent: ['create', 'update', 'delete'] },
  { scope: 'system/*.*', carePlan: INTERACTIONS, consent: INTERACTIONS },
  // v2
  { scope: 'system/CarePlan.rs', carePlan: ['read', 'search'], consent: [] },
  { scope: 'system/CarePlan.r', carePlan: ['read'], consent: [] },
  { scope: 'system/CarePlan.s', carePlan: ['search'], consent: [] },
  { scope: 'system/CarePlan.cu', carePlan: ['create', 'update'], consent: [] },
  { scope: 'system/CarePlan.d', carePlan: ['delete'], consent: [] },
  { scope: 'system/*.cruds', carePlan: INTERACTIONS, consent: INTERACTIONS },
  { scope: 'system/Consent.rs', carePlan: [], consent: ['read', 'search'] },
  { scope: 'system/CarePlan.rs system/Consent.c', carePlan: ['read', 'search'], consent: ['create'] },
  { scope: '  system/CarePlan.r\tsystem/CarePlan.s  ', carePlan: ['read', 'search'], consent: [] },
  // grant nothing
  { scope: 'system/CarePlan.rs?status=active', carePlan: [], consent: [] },
  { scope: 'system/CarePlan.sr', carePlan: [], consent: [] },
  { scope: 'system/CarePlan.rr', carePlan: [], consent: [] },
  { scope: 'system/CarePlan.', carePlan: [], consent: [] },
  { scope: 'system/CarePlan.x', carePlan: [], consent: [] },
  { scope: 'system/CarePlan.read?status=active', carePlan: [], consent: [] },
  { scope: 'system/careplan.read', carePlan: [], consent: [] },
  { scope: 'patient/CarePlan.read', carePlan: [], consent: [] },
  { scope: 'user/*.*', carePlan: [], consent: [] },
  { scope: 'openid fhirUser', carePlan: [], consent: [] },
  { scope: 'system/CarePlan', carePlan: [], consent: [] },
  { scope: '', carePlan: [], consent: [] },
];

describe('SMART scopes', () => {
  for (const row of TABLE) {
    it(`"${row.scope}" allows exactly CarePlan [${row.carePlan.join(', ')}] and Consent [${row.consent.join(', ')}]`, () => {
      const scopes = parseScopes(row.scope);
      for (const interaction of INTERACTIONS) {
        expect(allows(scopes, 'CarePlan', interaction), `CarePlan ${interaction}`).toBe(row.carePlan.includes(interaction));
        expect(allows(scopes, 'Consent', interaction), `Consent ${interaction}`).toBe(row.consent.includes(interaction));
      }
    });
  }

  it('says why each scope that grants nothing is ignored', () => {
    const { grants, ignored } = parseScopes('system/CarePlan.rs?status=active patient/*.read system/CarePlan.sr openid system/Goal.rs');
    expect(grants.map((grant) => grant.scope)).toEqual(['system/Goal.rs']);
    expect(ignored).toEqual([
      { scope: 'system/CarePlan.rs?status=active', reason: 'restrictionUnsupported' },
      { scope: 'patient/*.read', reason: 'notSystemScope' },
      { scope: 'system/CarePlan.sr', reason: 'malformed' },
      { scope: 'openid', reason: 'notSystemScope' },
    ]);
  });
});
