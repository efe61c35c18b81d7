/**
 * What SIP → FHIR → SIP changes on purpose, written as one function so the round trip can be tested
 * for equality and a reader knows exactly what does not come back:
 *
 * 1. `birthDate` is filled in from a personnummer or samordningsnummer (the Patient always carries it).
 * 2. For a person with protected identity (skyddade personuppgifter), nothing that tells where they
 *    live or can be reached leaves the adapter: the person's own contact details, the postal
 *    addresses of their related persons, and the free-text place of each meeting, which becomes
 *    {@link PROTECTED_LOCATION_TEXT}.
 * 3. `$schema`, a hint for editors, is not part of the plan.
 * 4. Empty texts of the person's own account are left out (FHIR strings are never empty).
 */
import type { SipPlan } from '../sip/index.js';
import { birthDateOf } from './write/patient.js';
import { PROTECTED_LOCATION_TEXT } from './write/appointment.js';

export function fhirNormalForm(plan: SipPlan): SipPlan {
  const { $schema, ...rest } = plan;
  const birthDate = birthDateOf(plan.individual.identifier, plan.individual.birthDate);
  const isProtected = plan.individual.protectedIdentity !== 'none';
  const { contact, ...individual } = plan.individual;
  return {
    ...rest,
    individual: { ...(isProtected ? individual : plan.individual), ...(birthDate === undefined ? {} : { birthDate }) },
    relatedPersons: plan.relatedPersons.map((person) => {
      if (!isProtected || person.contact?.address === undefined) return person;
      const { address, ...kept } = person.contact;
      const { contact: dropped, ...withoutContact } = person;
      return Object.keys(kept).length === 0 ? withoutContact : { ...person, contact: kept };
    }),
    meetings: plan.meetings.map((meeting) =>
      isProtected && meeting.summons?.location !== undefined ? { ...meeting, summons: { ...meeting.summons, location: PROTECTED_LOCATION_TEXT } } : meeting,
    ),
    ...(plan.ownAccount === undefined
      ? {}
      : { ownAccount: Object.fromEntries(Object.entries(plan.ownAccount).filter(([, value]) => value !== ''))}),
  };
}
