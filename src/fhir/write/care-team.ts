/**
 * Everyone around the plan → one `CareTeam`: the person, the principals and other actors, the
 * professionals and the related persons, each with its role from `sip-participant-role`. Members are
 * PractitionerRoles rather than Practitioners, so `onBehalfOf` is never needed (ctm-1).
 */
import type { CareTeam, CareTeamParticipant } from 'fhir/r4.js';
import { PARTICIPANT_ROLE, ownCoding } from '../code-systems.js';
import type { WriteContext } from './context.js';
import { INDIVIDUAL, entityIdentifier, referenceTo } from './context.js';
import { careTeamNarrative, generatedText } from './resource-narratives.js';

function participant(context: WriteContext, id: string, roles: readonly string[]): CareTeamParticipant {
  return { role: roles.map((role) => ({ coding: [ownCoding(PARTICIPANT_ROLE, role)] })), member: referenceTo(context, id) };
}

export function toCareTeam(context: WriteContext): CareTeam {
  const { plan } = context;
  return {
    resourceType: 'CareTeam',
    text: generatedText(careTeamNarrative(plan)),
    identifier: [entityIdentifier(plan, 'care-team')],
    status: plan.closure === undefined ? 'active' : 'inactive',
    name: 'SIP',
    subject: referenceTo(context, INDIVIDUAL),
    participant: [
      participant(context, INDIVIDUAL, ['individual']),
      ...plan.principals.map((principal) => participant(context, principal.id, ['principal'])),
      ...plan.otherActors.map((actor) => participant(context, actor.id, ['otherActor'])),
      ...plan.professionals.map((professional) =>
        participant(context, professional.id, ['professional', ...(plan.coordinator === professional.id ? ['coordinator'] : [])]),
      ),
      ...plan.relatedPersons.map((person) => participant(context, person.id, ['relatedPerson'])),
    ],
    managingOrganization:
      plan.overallResponsiblePrincipal === undefined ? undefined : [referenceTo(context, plan.overallResponsiblePrincipal)],
  };
}
