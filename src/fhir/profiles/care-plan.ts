/**
 * SIP CarePlan: the plan itself (https://hl7.org/fhir/R4/careplan.html). An `active` plan is one
 * both principals approved, so it must state what seed 001 §4.5 says every plan states; rules that
 * need the care team or the organisations are on the SIP Bundle profile (bundle.ts).
 */
import type { StructureDefinition } from 'fhir/r4.js';
import { EXTENSION, codeSystemUrl } from '../canonical.js';
import { COMPULSORY_CARE, INTERVENTION_STATUS_REASON, SIP_CATEGORY } from '../code-systems.js';
import type { Invariant } from './define.js';
import { bindingTo, element, extensionSlices, profile } from './define.js';

/** Seed 001 §4.5 "Av planen ska det framgå", items 1–5. */
const FIVE_ELEMENTS = 'Seed 001 §4.5 (Möte: "Av planen ska det framgå" 1–5)';

export const CARE_PLAN_INVARIANTS: readonly Invariant[] = [
  {
    key: 'sip-cpl-1',
    severity: 'error',
    human: 'A SIP CarePlan is categorised as a SIP (category sip-category#sip-plan)',
    expression: `category.coding.where(system = '${codeSystemUrl(SIP_CATEGORY.id)}' and code = 'sip-plan').exists()`,
    source: 'DESIGN.md §4 (the plan is found by its SIP category)',
  },
  {
    key: 'sip-cpl-2',
    severity: 'error',
    human: 'An active SIP names the principal with overall responsibility for the plan (author)',
    expression: "status = 'active' implies author.exists()",
    source: `${FIVE_ELEMENTS}, item 4`,
  },
  {
    key: 'sip-cpl-3',
    severity: 'error',
    human: 'An active SIP has at least one goal',
    expression: "status = 'active' implies goal.exists()",
    source: `${FIVE_ELEMENTS}, item 1`,
  },
  {
    key: 'sip-cpl-4',
    severity: 'error',
    human: 'An active SIP has a planned follow-up (follow-up extension with a date)',
    expression: `status = 'active' implies extension('${EXTENSION.followUp}').extension('date').exists()`,
    source: `${FIVE_ELEMENTS}, item 5; seed 001 §4.6`,
  },
  {
    key: 'sip-cpl-5',
    severity: 'error',
    human: 'An active SIP has a care team',
    expression: "status = 'active' implies careTeam.exists()",
    source: 'Seed 001 §4.3, §4.5 (the participants and the coordinator); DESIGN.md §4',
  },
  {
    key: 'sip-cpl-6',
    severity: 'error',
    human: 'An active SIP has interventions, each naming who is responsible for it (first performer)',
    expression: "status = 'active' implies (activity.exists() and activity.all(detail.performer.exists()))",
    source: `${FIVE_ELEMENTS}, items 1–3`,
  },
  {
    // A warning: the plan stays valid FHIR, but the principals should make a samordnad vårdplan.
    // Written with `where(...).empty()` on the coding rather than `extension(...).empty()` alone, so
    // a compulsoryCare part of another code system does not fire it; both engines agree on it
    // (test/fhir/profile-invariants.test.ts).
    key: 'sip-cpl-7',
    severity: 'warning',
    human:
      'A person who leaves inpatient care for compulsory psychiatric care under LPT or LRV is planned for with a samordnad vårdplan (LPT 7 a §, LRV 12 a §), not a SIP',
    expression: `extension('${EXTENSION.discharge}').extension('compulsoryCare').value.ofType(Coding).where(system = '${codeSystemUrl(COMPULSORY_CARE.id)}').empty()`,
    source: 'Seed 001 §3.6.1 (Undantag vid tvångsvård och rättspsykiatri); §3.3.2',
  },
];

export const SIP_CARE_PLAN: StructureDefinition = profile({
  id: 'sip-careplan',
  type: 'CarePlan',
  title: 'SIP CarePlan',
  description:
    'A samordnad individuell plan (SIP) between a municipality and a region: goals, each principal\'s interventions, others\' actions, the principal with overall responsibility (author) and the follow-up (seed 001 §4.5).',
  invariants: CARE_PLAN_INVARIANTS,
  elements: [
    ...extensionSlices('CarePlan', [
      { name: 'planVersion', url: EXTENSION.planVersion, short: 'Version of the plan' },
      { name: 'planRecorded', url: EXTENSION.planRecorded, short: 'When this version was recorded' },
      { name: 'initiatedBy', url: EXTENSION.initiatedBy, short: 'Who initiated the SIP' },
      { name: 'discharge', url: EXTENSION.discharge, short: 'The plan is made at discharge from inpatient care' },
      { name: 'followUp', url: EXTENSION.followUp, max: '*', short: 'Planned follow-ups' },
      { name: 'noActionsByOthers', url: EXTENSION.noActionsByOthers, short: 'No one but the principals takes action' },
      { name: 'closure', url: EXTENSION.closure, short: 'Closure of the SIP' },
    ]),
    element('CarePlan.intent', { fixedCode: 'plan' }),
    element('CarePlan.category', { min: 1 }),
    element('CarePlan.author', { short: 'The principal with overall responsibility for the plan', mustSupport: true }),
    element('CarePlan.careTeam', { mustSupport: true }),
    element('CarePlan.goal', { mustSupport: true }),
    element('CarePlan.activity.detail', { min: 1, short: 'Every intervention is written inline (never only a reference)' }),
    ...extensionSlices('CarePlan.activity.detail', [
      { name: 'pendingDecision', url: EXTENSION.pendingDecision, short: 'What happens while the decision is awaited' },
      { name: 'decision', url: EXTENSION.decision, short: 'The municipal decision (ServiceRequest) the intervention rests on' },
    ]),
    element('CarePlan.activity.detail.statusReason', { binding: bindingTo(INTERVENTION_STATUS_REASON, 'extensible', 'Why an intervention waits') }),
    element('CarePlan.activity.detail.performer', { min: 1, short: 'First the one responsible (principal, unit or other actor), then who does it' }),
  ],
});
