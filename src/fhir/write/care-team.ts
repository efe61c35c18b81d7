/**
 * Everyone around the plan → one `CareTeam`: the person, the principals and their units, other
 * actors, the professionals and the related persons, each with its role from `sip-participant-role`.
 * Members are PractitionerRoles rather than Practitioners, so `onBehalfOf` is never needed (ctm-1).
 *
 * The CareTeam is the plan's own resource, so it is where the plan records what is plan-specific about
 * a party whose resource may be shared master data (Patient, Organization, Practitioner belong to
 * whoever wrote them first, and a conditional create never updates them): each participant's
 * `plan-party` extension carries the party's local id in the plan and the plan's contact details for
 * it; the person's participant says whether they can consent. Participants are in plan order, which
 * the reader follows.
 */
import type { CareTeam, CareTeamParticipant, Extension } from 'fhir/r4.js';
import type { Contact } from '../../sip/index.js';
import { EXTENSION } from '../canonical.js';
import { PARTICIPANT_ROLE, ownCoding } from '../code-systems.js';
import { equivalentStandardCodings } from '../concept-maps.js';
import type { WriteContext } from './context.js';
import { INDIVIDUAL, addressOf, entityIdentifier, referenceTo, telecomOf } from './context.js';
import { careTeamNarrative, generatedText } from './resource-narratives.js';

/** The party as this plan knows it: its local id and, unless withheld, the plan's contact details. */
function planParty(context: WriteContext, id: string, contact: Contact | undefined): Extension {
  const address = addressOf(contact);
  return {
    url: EXTENSION.planParty,
    extension: [
      { url: 'localId', valueIdentifier: entityIdentifier(context.plan, id) },
      ...(telecomOf(contact) ?? []).map((point) => ({ url: 'telecom', valueContactPoint: point })),
      ...(address === undefined ? [] : [{ url: 'address', valueAddress: address }]),
    ],
  };
}

/** A relative of a person with protected identity often shares the address that is protected. */
function withoutAddress(contact: Contact | undefined): Contact | undefined {
  if (contact?.address === undefined) return contact;
  const rest: Contact = { ...contact };
  delete rest.address;
  return rest;
}

function participant(context: WriteContext, id: string, roles: readonly string[], contact: Contact | undefined, extra: readonly Extension[] = []): CareTeamParticipant {
  return {
    extension: [planParty(context, id, contact), ...extra],
    role: roles.map((role) => ({ coding: [ownCoding(PARTICIPANT_ROLE, role), ...equivalentStandardCodings(PARTICIPANT_ROLE, role)] })),
    member: referenceTo(context, id),
  };
}

export function toCareTeam(context: WriteContext): CareTeam {
  const { plan } = context;
  const { individual } = plan;
  return {
    resourceType: 'CareTeam',
    text: generatedText(careTeamNarrative(plan)),
    identifier: [entityIdentifier(plan, 'care-team')],
    status: plan.closure === undefined ? 'active' : 'inactive',
    name: 'SIP',
    subject: referenceTo(context, INDIVIDUAL),
    participant: [
      // Protected identity: the person's address and telecom never leave, here either.
      participant(context, INDIVIDUAL, ['individual'], context.protectedIdentity ? undefined : individual.contact,
        individual.canConsent ? [] : [{ url: EXTENSION.canConsent, valueBoolean: false }]),
      ...plan.principals.flatMap((principal) => [
        participant(context, principal.id, ['principal'], undefined),
        ...principal.units.map((unit) => participant(context, unit.id, ['unit'], unit.contact)),
      ]),
      ...plan.otherActors.map((actor) => participant(context, actor.id, ['otherActor'], actor.contact)),
      ...plan.professionals.map((professional) =>
        participant(context, professional.id, ['professional', ...(plan.coordinator === professional.id ? ['coordinator'] : [])], professional.contact),
      ),
      ...plan.relatedPersons.map((person) =>
        participant(context, person.id, ['relatedPerson'], context.protectedIdentity ? withoutAddress(person.contact) : person.contact),
      ),
    ],
    managingOrganization:
      plan.overallResponsiblePrincipal === undefined ? undefined : [referenceTo(context, plan.overallResponsiblePrincipal)],
  };
}
