/** SIP Goal: the person's own goal, in their own words (https://hl7.org/fhir/R4/goal.html). */
import type { StructureDefinition } from 'fhir/r4.js';
import { EXTENSION } from '../canonical.js';
import type { Invariant } from './define.js';
import { element, extensionSlices, profile } from './define.js';

export const GOAL_INVARIANTS: readonly Invariant[] = [
  {
    key: 'sip-gol-1',
    severity: 'error',
    human: "A SIP goal is written in words (description.text), as the person said it",
    expression: 'description.text.exists()',
    source: 'Seed 001 §4.5 item 1 ("Vilka mål den enskilde har"); seed 003',
  },
];

export const SIP_GOAL: StructureDefinition = profile({
  id: 'sip-goal',
  type: 'Goal',
  title: 'SIP Goal',
  description: "One of the person's goals in a SIP (seed 001 §4.5 item 1).",
  invariants: GOAL_INVARIANTS,
  elements: [
    ...extensionSlices('Goal', [{ name: 'goalSetAt', url: EXTENSION.goalSetAt, short: 'The meeting the goal was set at' }]),
    element('Goal.expressedBy', { mustSupport: true, short: 'Whose goal it is; the person for their own goals' }),
  ],
});
