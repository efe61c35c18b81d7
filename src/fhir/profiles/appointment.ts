/**
 * SIP Appointment: a SIP meeting and its summons (https://hl7.org/fhir/R4/appointment.html). The
 * time of a booked meeting needs no rule of ours: R4's app-3 already requires start and end.
 */
import type { StructureDefinition } from 'fhir/r4.js';
import { EXTENSION } from '../canonical.js';
import { MEETING_KIND, PARTICIPANT_ROLE } from '../code-systems.js';
import type { Invariant } from './define.js';
import { bindingTo, element, extensionSlices, profile } from './define.js';

const SUMMONS = 'Seed 001 §4.4 (Kallelse)';

export const APPOINTMENT_INVARIANTS: readonly Invariant[] = [
  {
    key: 'sip-app-1',
    severity: 'error',
    human: 'A booked SIP meeting has an agenda (description)',
    expression: "status = 'booked' implies description.exists()",
    source: `${SUMMONS}: "Frågeställning/agenda för mötet"`,
  },
  {
    key: 'sip-app-2',
    severity: 'error',
    human: 'A booked SIP meeting has a place (a Location participant) or a digital meeting link (R5 virtualService address)',
    expression: `status = 'booked' implies (participant.actor.where(type = 'Location' or reference.startsWith('Location/')).exists() or extension('${EXTENSION.virtualService}').extension('address').exists())`,
    source: `${SUMMONS}: "Tid och plats/information om ev. digitalt möte"`,
  },
];

export const SIP_APPOINTMENT: StructureDefinition = profile({
  id: 'sip-appointment',
  type: 'Appointment',
  title: 'SIP Appointment',
  description: 'A SIP meeting: the summons (who it is about, time, place or link, agenda, everyone invited, needs, the convener) and each invitee\'s answer (seed 001 §4.4, §4.5).',
  invariants: APPOINTMENT_INVARIANTS,
  elements: [
    ...extensionSlices('Appointment', [
      { name: 'convener', url: EXTENSION.convener, short: 'Who sent the summons' },
      { name: 'convenerContact', url: EXTENSION.convenerContact, short: "The convener's contact details" },
      { name: 'interpreter', url: EXTENSION.interpreter, short: 'Interpreter needed, for which language' },
      { name: 'otherNeeds', url: EXTENSION.otherNeeds, short: 'Other needs' },
      { name: 'meetingRole', url: EXTENSION.meetingRole, max: '*', short: 'Meeting leader, secretary, contact person after the meeting' },
    ]),
    element('Appointment.appointmentType', { min: 1, binding: bindingTo(MEETING_KIND, 'extensible', 'First meeting, follow-up or pre-meeting') }),
    element('Appointment.description', { short: 'The agenda of the meeting', mustSupport: true }),
    element('Appointment.participant.type', { binding: bindingTo(PARTICIPANT_ROLE, 'extensible', 'Meeting roles') }),
  ],
});
