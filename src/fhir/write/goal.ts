/**
 * Mål → `Goal` (https://hl7.org/fhir/R4/goal.html), in the person's own words. A goal that a
 * follow-up replaced carries HL7's `goal-relationship` extension (type `replacement`) pointing at
 * the goal that replaced it.
 */
import type { Goal as FhirGoal } from 'fhir/r4.js';
import type { Goal } from '../../sip/index.js';
import { EXTENSION, HL7_SYSTEM } from '../canonical.js';
import type { WriteContext } from './context.js';
import { INDIVIDUAL, compact, entityIdentifier, referenceTo } from './context.js';
import { informationClassExtensions } from './information-class.js';
import { generatedText, goalNarrative } from './resource-narratives.js';

const LIFECYCLE: Readonly<Record<Goal['status'], { lifecycleStatus: FhirGoal['lifecycleStatus']; achievement?: string }>> = {
  active: { lifecycleStatus: 'active' },
  achieved: { lifecycleStatus: 'completed', achievement: 'achieved' },
  notAchieved: { lifecycleStatus: 'completed', achievement: 'not-achieved' },
  cancelled: { lifecycleStatus: 'cancelled' },
};

export function toGoal(context: WriteContext, goal: Goal): FhirGoal {
  const { lifecycleStatus, achievement } = LIFECYCLE[goal.status];
  const replacedBy = context.plan.goals.filter((candidate) => candidate.replaces === goal.id);
  return compact<FhirGoal>({
    resourceType: 'Goal',
    text: generatedText(goalNarrative(context.plan, goal)),
    extension: [
      ...(goal.setAt === undefined ? [] : [{ url: EXTENSION.goalSetAt, valueReference: referenceTo(context, goal.setAt) }]),
      ...replacedBy.map((successor) => ({
        url: EXTENSION.goalRelationship,
        extension: [
          { url: 'type', valueCodeableConcept: { coding: [{ system: HL7_SYSTEM.goalRelationshipType, code: 'replacement' }] } },
          { url: 'target', valueReference: referenceTo(context, successor.id) },
        ],
      })),
      ...informationClassExtensions(goal.informationClasses),
    ],
    identifier: [entityIdentifier(context.plan, goal.id)],
    lifecycleStatus,
    achievementStatus:
      achievement === undefined ? undefined : { coding: [{ system: HL7_SYSTEM.goalAchievement, code: achievement }] },
    description: { text: goal.description },
    subject: referenceTo(context, INDIVIDUAL),
    target: goal.targetDate === undefined ? undefined : [{ dueDate: goal.targetDate }],
    expressedBy: referenceTo(context, goal.expressedBy),
  });
}
