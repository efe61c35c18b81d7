/** SIP CareTeam: everyone around the plan, with their SIP roles (https://hl7.org/fhir/R4/careteam.html). */
import type { StructureDefinition } from 'fhir/r4.js';
import { EXTENSION, codeSystemUrl } from '../canonical.js';
import { PARTICIPANT_ROLE } from '../code-systems.js';
import type { Invariant } from './define.js';
import { bindingTo, element, extensionSlices, profile } from './define.js';

export const CARE_TEAM_INVARIANTS: readonly Invariant[] = [
  {
    key: 'sip-ctm-1',
    severity: 'error',
    human: 'A SIP care team has at most one coordinator (huvudansvarig)',
    expression: `participant.where(role.coding.where(system = '${codeSystemUrl(PARTICIPANT_ROLE.id)}' and code = 'coordinator').exists()).count() <= 1`,
    source: 'Seed 001 §4.5 (Möte, part 1: "utse huvudansvarig"); seed 003 "Samordnare"',
  },
];

export const SIP_CARE_TEAM: StructureDefinition = profile({
  id: 'sip-careteam',
  type: 'CareTeam',
  title: 'SIP CareTeam',
  description:
    "The participants of a SIP: the person, the principals and their units, other actors, professionals and related persons, with their SIP roles (seed 001 §4.3, §6.1, §6.2), each with its local id and the plan's contact details for it.",
  invariants: CARE_TEAM_INVARIANTS,
  elements: [
    element('CareTeam.subject', { min: 1 }),
    element('CareTeam.participant', { min: 1 }),
    element('CareTeam.participant.role', { min: 1, binding: bindingTo(PARTICIPANT_ROLE, 'extensible', 'Roles in a SIP') }),
    element('CareTeam.participant.member', { min: 1 }),
    ...extensionSlices('CareTeam.participant', [
      { name: 'planParty', url: EXTENSION.planParty, short: "The member as this plan knows it: local id and the plan's contact details" },
      { name: 'canConsent', url: EXTENSION.canConsent, short: 'False when the person cannot consent themselves (on the person\'s participant)' },
    ]),
  ],
});
