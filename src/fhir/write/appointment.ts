/**
 * SIP-möte and kallelse → `Appointment` (https://hl7.org/fhir/R4/appointment.html).
 *
 * - Each invitee is a participant with its answer; an organisation is invited as its
 *   HealthcareService, since R4 forbids Organization there.
 * - The place is a `Location` participant; for a person with protected identity it is replaced by a
 *   neutral text, because a free-text place (often the person's home, seed 000) may reveal where the
 *   person lives.
 * - The digital meeting link travels in R5's `virtualService` as a cross-version extension, the
 *   meeting notes in R5's `note`; `comment` tells the interpreter and other needs in Swedish.
 * - R4 requires a participant: a meeting not yet summoned lists the person as `information-only`.
 */
import type { Appointment, AppointmentParticipant, Extension, Location } from 'fhir/r4.js';
import type { Invitee, Meeting, Summons } from '../../sip/index.js';
import { EXTENSION } from '../canonical.js';
import { MEETING_KIND, PARTICIPANT_ROLE, SIP_CATEGORY, ownCoding } from '../code-systems.js';
import { equivalentStandardCodings } from '../concept-maps.js';
import type { WriteContext } from './context.js';
import { INDIVIDUAL, addressOf, compact, complexExtension, entityIdentifier, keyReference, referenceTo, stringPart, telecomOf } from './context.js';
import { appointmentNarrative, generatedText, locationNarrative } from './resource-narratives.js';

/** The place shown instead of a free-text location when the person has protected identity. */
export const PROTECTED_LOCATION_TEXT = 'Platsen meddelas av den som kallar (skyddade personuppgifter)';

export const APPOINTMENT_STATUS: Readonly<Record<Meeting['status'], Appointment['status']>> = {
  planned: 'proposed',
  summoned: 'booked',
  held: 'fulfilled',
  cancelled: 'cancelled',
};

export const PARTICIPANT_STATUS: Readonly<Record<Invitee['response'], AppointmentParticipant['status']>> = {
  accepted: 'accepted',
  declined: 'declined',
  tentative: 'tentative',
  noResponse: 'needs-action',
};

export const MEETING_ROLES = ['meetingLeader', 'secretary', 'contactPersonAfterMeeting'] as const;

function rolesOf(meeting: Meeting, party: string): string[] {
  return MEETING_ROLES.filter((role) => meeting[role] === party);
}

function inviteeParticipant(context: WriteContext, meeting: Meeting, invitee: Invitee): AppointmentParticipant {
  const roles = rolesOf(meeting, invitee.party);
  return compact<AppointmentParticipant>({
    extension: [
      ...(invitee.respondedAt === undefined ? [] : [{ url: EXTENSION.respondedAt, valueDateTime: invitee.respondedAt }]),
      ...(invitee.substitute === undefined ? [] : [{ url: EXTENSION.substitute, valueReference: referenceTo(context, invitee.substitute) }]),
    ],
    type: roles.map((role) => ({ coding: [ownCoding(PARTICIPANT_ROLE, role)] })),
    actor: referenceTo(context, invitee.party, { asInvitee: true }),
    required: invitee.required ? 'required' : 'optional',
    status: PARTICIPANT_STATUS[invitee.response],
  });
}

/** The summons' needs in plain Swedish, for record systems that show only `comment`. */
function needsComment(summons: Summons): string | undefined {
  const parts = [
    ...(summons.interpreter === undefined ? [] : [`Tolk behövs: ${summons.interpreter.language}.`]),
    ...(summons.otherNeeds === undefined ? [] : [`Andra behov: ${summons.otherNeeds}`]),
  ];
  return parts.length === 0 ? undefined : parts.join(' ');
}

function summonsExtensions(context: WriteContext, summons: Summons): Extension[] {
  const { contact } = summons;
  return [
    { url: EXTENSION.convener, valueReference: referenceTo(context, summons.sentBy) },
    ...(contact === undefined
      ? []
      : [
          complexExtension(EXTENSION.convenerContact, [
            { url: 'name', valueString: contact.name },
            ...(telecomOf(contact) ?? []).map((valueContactPoint) => ({ url: 'telecom', valueContactPoint })),
            ...[addressOf(contact)].filter((valueAddress) => valueAddress !== undefined).map((valueAddress) => ({ url: 'address', valueAddress })),
          ]),
        ]),
    ...(summons.digitalMeetingUrl === undefined
      ? []
      : [
          complexExtension(EXTENSION.virtualService, [
            { url: 'http://hl7.org/fhir/StructureDefinition/_datatype', valueString: 'VirtualServiceDetail' },
            { url: 'address', valueUrl: summons.digitalMeetingUrl },
          ]),
        ]),
    ...[stringPart(EXTENSION.interpreter, summons.interpreter?.language), stringPart(EXTENSION.otherNeeds, summons.otherNeeds)].filter(
      (extension) => extension !== undefined,
    ),
  ];
}

/** The place as it may be written: the neutral text for a person with protected identity. */
function placeName(context: WriteContext, text: string): string {
  return context.protectedIdentity ? PROTECTED_LOCATION_TEXT : text;
}

export function toLocation(context: WriteContext, meeting: Meeting, text: string): Location {
  const name = placeName(context, text);
  return {
    resourceType: 'Location',
    text: generatedText(locationNarrative(meeting, name)),
    identifier: [entityIdentifier(context.plan, `${meeting.id}.location`)],
    status: 'active',
    name,
    mode: 'instance',
  };
}

export function toAppointment(context: WriteContext, meeting: Meeting): Appointment {
  const { summons } = meeting;
  const participants: AppointmentParticipant[] =
    summons === undefined
      ? [{ actor: referenceTo(context, INDIVIDUAL), required: 'information-only', status: 'needs-action' }]
      : [
          ...summons.invitees.map((invitee) => inviteeParticipant(context, meeting, invitee)),
          ...(summons.location === undefined
            ? []
            : [{ actor: keyReference(context, context.keys.get('Location', meeting.id)), required: 'information-only' as const, status: 'accepted' as const }]),
        ];
  return compact<Appointment>({
    resourceType: 'Appointment',
    text: generatedText(appointmentNarrative(context, meeting, summons?.location === undefined ? undefined : placeName(context, summons.location))),
    extension: [
      ...(summons === undefined ? [] : summonsExtensions(context, summons)),
      ...MEETING_ROLES.flatMap((role) => {
        const party = meeting[role];
        return party === undefined
          ? []
          : [complexExtension(EXTENSION.meetingRole, [{ url: 'role', valueCoding: ownCoding(PARTICIPANT_ROLE, role) }, { url: 'party', valueReference: referenceTo(context, party) }])];
      }),
      ...(meeting.notes === undefined ? [] : [{ url: EXTENSION.appointmentNote, valueAnnotation: { text: meeting.notes } }]),
    ],
    identifier: [entityIdentifier(context.plan, meeting.id)],
    status: APPOINTMENT_STATUS[meeting.status],
    serviceType: [{ coding: [ownCoding(SIP_CATEGORY, 'sip-meeting')] }],
    appointmentType: {
      coding: [
        ownCoding(MEETING_KIND, meeting.kind),
        ...equivalentStandardCodings(MEETING_KIND, meeting.kind),
      ],
    },
    description: summons?.agenda,
    start: summons?.start,
    end: summons?.end,
    created: summons?.sentAt,
    comment: summons === undefined ? undefined : needsComment(summons),
    supportingInformation: [keyReference(context, context.keys.get('CarePlan', context.plan.id))],
    participant: participants,
  });
}
