/**
 * Routing (src/exchange/routing.ts): a plan version goes to the receivers whose organisation is a
 * party of the plan, never back to the organisation that wrote it, and never to an organisation
 * that is no party. Consent is not judged here: an excluded party is routed and withheld at sending.
 *
 * The plan is the adult example: Region Dalarna (HSA-id SE2321000180-1000, organisationsnummer
 * 232100-0180) with its units SE2321000180-4PSY and SE2321000180-7VCB (excluded by the consent),
 * Falu kommun (given organisationsnummer 212000-2106 here) and Försäkringskassan (202100-5521).
 */
import { describe, expect, it } from 'vitest';
import { decideSend, partiesOf, receiversFor, type ReceiverParty } from '../../src/exchange/index.js';
import type { SipPlan } from '../../src/sip/index.js';
import { readExample } from '../support/examples.js';

const ADULT = readExample('adult-psychiatry-addiction.json');
const PLAN: SipPlan = {
  ...ADULT,
  principals: ADULT.principals.map((principal) => (principal.id === 'falu-kommun' ? { ...principal, organisationsnummer: '212000-2106' } : principal)),
};

/** A connector's Receiver has more than routing needs; it must fit ReceiverParty. */
interface Receiver extends ReceiverParty {
  readonly kind: 'fhir' | 'mapping';
}

const REGION: Receiver = { id: 'region-ehr', organization: 'SE2321000180-1000', kind: 'fhir' };
const REGION_BY_NUMBER: Receiver = { id: 'region-archive', organization: '2321000180', kind: 'fhir' };
const PSYCHIATRY: Receiver = { id: 'psyk-ehr', organization: 'SE2321000180-4PSY', kind: 'fhir' };
const BRITSARVET: Receiver = { id: 'vc-britsarvet', organization: 'SE2321000180-7VCB', kind: 'fhir' };
const MUNICIPALITY: Receiver = { id: 'kommun-case', organization: '212000-2106', kind: 'mapping' };
const FK: Receiver = { id: 'fk', organization: '202100-5521', kind: 'mapping' };
const STRANGER: Receiver = { id: 'elsewhere', organization: 'SE2321000016-ABC1', kind: 'fhir' };
const OTHER_MUNICIPALITY: Receiver = { id: 'other-kommun', organization: '212000-1355', kind: 'mapping' };
const ALL = [REGION, REGION_BY_NUMBER, PSYCHIATRY, BRITSARVET, MUNICIPALITY, FK, STRANGER, OTHER_MUNICIPALITY];

const ids = (receivers: readonly Receiver[]): string[] => receivers.map((receiver) => receiver.id);

describe('receiversFor', () => {
  it('routes to every party of the plan, and to no organisation outside it', () => {
    expect(ids(receiversFor(PLAN, ALL, undefined))).toEqual(['region-ehr', 'region-archive', 'psyk-ehr', 'vc-britsarvet', 'kommun-case', 'fk']);
  });

  it('never echoes the version back to the organisation that wrote it, under either of its identifiers', () => {
    expect(ids(receiversFor(PLAN, ALL, '212000-2106'))).toEqual(['region-ehr', 'region-archive', 'psyk-ehr', 'vc-britsarvet', 'fk']);
    expect(ids(receiversFor(PLAN, ALL, '2120002106'))).toEqual(['region-ehr', 'region-archive', 'psyk-ehr', 'vc-britsarvet', 'fk']);
    // The region wrote with its HSA-id: its receiver under the organisationsnummer is the same party.
    expect(ids(receiversFor(PLAN, ALL, 'SE2321000180-1000'))).toEqual(['psyk-ehr', 'vc-britsarvet', 'kommun-case', 'fk']);
  });

  it('never echoes the version back to a municipality that wrote with an HSA-id issued under its organisationsnummer (as the auth module lets it)', () => {
    // SE2120002106-1000 is issued under 212000-2106, Falu kommun, recorded by organisationsnummer alone.
    expect(ids(receiversFor(PLAN, ALL, 'SE2120002106-1000'))).toEqual(['region-ehr', 'region-archive', 'psyk-ehr', 'vc-britsarvet', 'fk']);
    // A professional's HSA-id acts for nobody: everything is routed.
    const professional = PLAN.professionals.find((candidate) => candidate.hsaId !== undefined);
    expect(ids(receiversFor(PLAN, ALL, professional?.hsaId))).toEqual(['region-ehr', 'region-archive', 'psyk-ehr', 'vc-britsarvet', 'kommun-case', 'fk']);
  });

  it('a unit that wrote gets nothing back; its principal and sibling units still do', () => {
    expect(ids(receiversFor(PLAN, ALL, 'SE2321000180-4PSY'))).toEqual(['region-ehr', 'region-archive', 'vc-britsarvet', 'kommun-case', 'fk']);
  });

  it('does not judge consent: the excluded unit is routed, and withheld at sending with its reason', () => {
    expect(ids(receiversFor(PLAN, [BRITSARVET], undefined))).toEqual(['vc-britsarvet']);
    expect(decideSend(PLAN, BRITSARVET, new Date('2026-04-15T09:00:00+02:00'))).toMatchObject({ send: false, reason: 'excluded' });
  });

  it('keeps the receivers’ own type (a connector’s Receiver)', () => {
    const routed: Receiver[] = receiversFor(PLAN, [FK], undefined);
    expect(routed[0]?.kind).toBe('mapping');
  });
});

describe('partiesOf', () => {
  it('matches principals by HSA-id or organisationsnummer, units by HSA-id, other actors by either', () => {
    expect(partiesOf(PLAN, 'SE2321000180-1000')).toEqual([{ id: 'region-dalarna', role: 'principal' }]);
    expect(partiesOf(PLAN, '232100-0180')).toEqual([{ id: 'region-dalarna', role: 'principal' }]);
    expect(partiesOf(PLAN, 'SE2321000180-4PSY')).toEqual([{ id: 'unit-psyk-falun', role: 'unit' }]);
    expect(partiesOf(PLAN, '2021005521')).toEqual([{ id: 'fk', role: 'otherActor' }]);
    expect(partiesOf(PLAN, 'SE2321000016-ABC1')).toEqual([]);
  });

  it('never matches a professional’s HSA-id: a caller acts for an organisation', () => {
    const professional = PLAN.professionals.find((candidate) => candidate.hsaId !== undefined);
    if (professional?.hsaId === undefined) throw new Error('the example has a professional with an HSA-id');
    expect(partiesOf(PLAN, professional.hsaId)).toEqual([]);
  });
});
