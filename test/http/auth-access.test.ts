import { describe, expect, it } from 'vitest';
import { mayAccess, type AccessDecision } from '../../src/http/auth/index.js';
import type { SipPlan } from '../../src/sip/index.js';
import { readExample } from '../support/examples.js';

/** Försäkringskassan's HSA-id as a test gives it: the examples name FK by organisationsnummer only. */
const FK = 'SE2021005521-FK01';
const AF = 'SE2021002114-AF01';

/** adult-psychiatry-addiction with HSA-ids for its other actor (FK, covered) and a second, uncovered one (AF). */
function falun(): SipPlan {
  const plan = readExample('adult-psychiatry-addiction.json');
  return {
    ...plan,
    otherActors: [
      ...plan.otherActors.map((actor) => (actor.id === 'fk' ? { ...actor, hsaId: FK } : actor)),
      { id: 'af', kind: 'publicEmploymentService', name: 'Arbetsförmedlingen', hsaId: AF },
    ],
  };
}

/** The same plan with the consent withdrawn on 2026-06-01 at noon. */
function falunWithdrawn(): SipPlan {
  const plan = falun();
  return { ...plan, consents: plan.consents.map((consent) => ({ ...consent, withdrawal: { withdrawnAt: '2026-06-01T12:00:00+02:00', withdrawnBy: 'individual' as const, recordedBy: 'prof-anna-lind' } })) };
}

// Consent consent-1 of sip-falun-2026-0142: given 2026-02-12, valid until 2027-02-11; covers region-dalarna, falu-kommun and fk; excludes unit-vc-britsarvet.
const IN_FORCE = new Date('2026-04-01T08:00:00Z');
const LAST_DAY = new Date('2027-02-11T22:59:00Z'); // 23:59 in Stockholm on 2027-02-11
const EXPIRED = new Date('2027-02-11T23:00:00Z'); // 00:00 in Stockholm on 2027-02-12
const BEFORE_CONSENT = new Date('2026-02-11T12:00:00Z');

type Expected = Pick<AccessDecision & { allowed: true }, 'allowed' | 'role' | 'partyId'> | { allowed: false; reason: string; partyId?: string };

const TABLE: readonly { name: string; plan: () => SipPlan; org: string; at: Date; expected: Expected }[] = [
  { name: 'a principal (the region)', plan: falun, org: 'SE2321000180-1000', at: IN_FORCE, expected: { allowed: true, role: 'principal', partyId: 'region-dalarna' } },
  { name: 'a unit of a principal', plan: falun, org: 'SE2321000180-4PSY', at: IN_FORCE, expected: { allowed: true, role: 'unit', partyId: 'unit-psyk-falun' } },
  { name: 'a covered other actor', plan: falun, org: FK, at: IN_FORCE, expected: { allowed: true, role: 'otherActor', partyId: 'fk' } },
  { name: 'a covered other actor on the consent’s last day', plan: falun, org: FK, at: LAST_DAY, expected: { allowed: true, role: 'otherActor', partyId: 'fk' } },
  { name: 'an excluded unit of a principal', plan: falun, org: 'SE2321000180-7VCB', at: IN_FORCE, expected: { allowed: false, reason: 'excluded', partyId: 'unit-vc-britsarvet' } },
  { name: 'an excluded unit, after the consent expired', plan: falun, org: 'SE2321000180-7VCB', at: EXPIRED, expected: { allowed: false, reason: 'excluded', partyId: 'unit-vc-britsarvet' } },
  { name: 'an other actor no consent covers', plan: falun, org: AF, at: IN_FORCE, expected: { allowed: false, reason: 'notCovered', partyId: 'af' } },
  { name: 'an organisation not in the plan', plan: falun, org: 'SE2321000016-1000', at: IN_FORCE, expected: { allowed: false, reason: 'notAParty' } },
  { name: 'a professional’s own HSA-id (a person, not an organisation)', plan: falun, org: 'SE2321000180-P0042', at: IN_FORCE, expected: { allowed: false, reason: 'notAParty' } },
  { name: 'a covered other actor after the consent expired', plan: falun, org: FK, at: EXPIRED, expected: { allowed: false, reason: 'noConsentInForce', partyId: 'fk' } },
  { name: 'a covered other actor before the consent was given', plan: falun, org: FK, at: BEFORE_CONSENT, expected: { allowed: false, reason: 'noConsentInForce', partyId: 'fk' } },
  { name: 'the principal after the consent expired (to record and close)', plan: falun, org: 'SE2321000180-1000', at: EXPIRED, expected: { allowed: true, role: 'principal', partyId: 'region-dalarna' } },
  { name: 'a covered other actor after the consent was withdrawn', plan: falunWithdrawn, org: FK, at: new Date('2026-06-01T10:00:00Z'), expected: { allowed: false, reason: 'noConsentInForce', partyId: 'fk' } },
  { name: 'a covered other actor just before the withdrawal', plan: falunWithdrawn, org: FK, at: new Date('2026-06-01T09:59:59Z'), expected: { allowed: true, role: 'otherActor', partyId: 'fk' } },
  // protected-identity: the consent covers units of VGR one by one and excludes its vårdcentral.
  { name: 'a covered unit (protected identity)', plan: () => readExample('protected-identity.json'), org: 'SE2321000131-BER2', at: IN_FORCE, expected: { allowed: true, role: 'unit', partyId: 'unit-beroende' } },
  { name: 'an excluded unit (protected identity)', plan: () => readExample('protected-identity.json'), org: 'SE2321000131-VCNH', at: new Date('2026-05-01T08:00:00Z'), expected: { allowed: false, reason: 'excluded', partyId: 'unit-vc-norr' } },
  // The municipality's own unit with an HSA-id (hemsjukvård) in the discharge example.
  { name: 'a municipal unit', plan: () => readExample('elderly-discharge-multimorbidity.json'), org: 'SE2120000449-HSJV', at: new Date('2026-02-06T08:00:00Z'), expected: { allowed: true, role: 'unit', partyId: 'unit-hemsjukvard' } },
  { name: 'a municipal principal', plan: () => readExample('elderly-discharge-multimorbidity.json'), org: 'SE2120000449-1000', at: new Date('2026-02-06T08:00:00Z'), expected: { allowed: true, role: 'principal', partyId: 'linkopings-kommun' } },
];

/** adult-psychiatry-addiction with Falu kommun recorded by its organisationsnummer alone, as municipal exports do. */
function falunByOrganisationsnummer(): SipPlan {
  const plan = falun();
  return { ...plan, principals: plan.principals.map((principal) => (principal.id === 'falu-kommun' ? { ...principal, organisationsnummer: '212000-2262' } : principal)) };
}

const BY_LEGAL_ENTITY: typeof TABLE = [
  { name: 'a principal recorded by organisationsnummer, by an HSA-id issued under it', plan: falunByOrganisationsnummer, org: 'SE2120002262-1000', at: IN_FORCE, expected: { allowed: true, role: 'principal', partyId: 'falu-kommun' } },
  { name: 'the same HSA-id when the plan records no organisationsnummer for it', plan: falun, org: 'SE2120002262-1000', at: IN_FORCE, expected: { allowed: false, reason: 'notAParty' } },
  { name: 'an HSA-id under another organisationsnummer', plan: falunByOrganisationsnummer, org: 'SE2120002080-1000', at: IN_FORCE, expected: { allowed: false, reason: 'notAParty' } },
  { name: 'another unit of a principal recorded with its own HSA-id (only that HSA-id counts)', plan: falun, org: 'SE2321000180-9ABC', at: IN_FORCE, expected: { allowed: false, reason: 'notAParty' } },
  { name: 'a principal recorded by organisationsnummer and HSA-id, by another HSA-id under the number', plan: () => ({ ...falunByOrganisationsnummer(), principals: falunByOrganisationsnummer().principals.map((principal) => (principal.id === 'falu-kommun' ? { ...principal, hsaId: 'SE2120002262-1000' } : principal)) }), org: 'SE2120002262-5XYZ', at: IN_FORCE, expected: { allowed: false, reason: 'notAParty' } },
  { name: 'an excluded unit calling with its own HSA-id (found as itself, not as its principal)', plan: falun, org: 'SE2321000180-7VCB', at: IN_FORCE, expected: { allowed: false, reason: 'excluded', partyId: 'unit-vc-britsarvet' } },
];

describe('mayAccess by the organisationsnummer an HSA-id is issued under', () => {
  for (const row of BY_LEGAL_ENTITY) {
    it(`${row.expected.allowed ? 'lets in' : 'refuses'} ${row.name}`, () => {
      expect(mayAccess(row.plan(), row.org, row.at)).toMatchObject(row.expected);
    });
  }
});

describe('mayAccess', () => {
  for (const row of TABLE) {
    it(`${row.expected.allowed ? 'lets in' : 'refuses'} ${row.name}`, () => {
      const plan = row.plan();
      const decision = mayAccess(plan, row.org, row.at);
      expect(decision).toMatchObject(row.expected);
      // The reason is for the audit log: the plan and the party, nothing about the person.
      if (!decision.allowed) {
        expect(decision.message).toContain(`plan ${plan.id}`);
        expect(decision.message).not.toContain(plan.individual.name.family);
      }
    });
  }

  it('names the consent that lets an other actor in', () => {
    expect(mayAccess(falun(), FK, IN_FORCE)).toEqual({ allowed: true, role: 'otherActor', partyId: 'fk', consentId: 'consent-1', principals: [] });
  });

  it('refuses an organisation both covered and excluded (the same HSA-id on an excluded unit)', () => {
    const plan = falun();
    const twice: SipPlan = { ...plan, otherActors: plan.otherActors.map((actor) => (actor.id === 'fk' ? { ...actor, hsaId: 'SE2321000180-7VCB' } : actor)) };
    expect(mayAccess(twice, 'SE2321000180-7VCB', IN_FORCE)).toMatchObject({ allowed: false, reason: 'excluded' });
  });
});
