/**
 * Rules on municipal decisions (beslut) recorded on interventions (GLOSSARY.md, "Municipal decisions
 * (beslut)" and "Legal references that changed").
 */
import { stockholmDate, formatDate } from '../dates.js';
import { ACT, NEW_SOCIAL_SERVICES_ACT_FROM, citeStatute } from '../law.js';
import { toPointer } from '../problem.js';
import { defineRule } from './rule.js';

const SECTION_DECISIONS = '"Municipal decisions (beslut)": granted or refused (bifall), status kept apart';

/**
 * A refused decision in force authorises nothing, so the intervention it backs cannot be planned,
 * under way or done: the record contradicts itself. An overturned refusal no longer binds, and a
 * cancelled intervention is what a refusal leaves.
 */
export const refusedDecisionBacksIntervention = defineRule({
  code: 'decision.refused-backs-intervention',
  kind: 'integrity',
  title: 'An intervention whose decision in force is a refusal is not planned, ongoing or completed.',
  source: { document: 'glossary', section: SECTION_DECISIONS },
  *check({ plan }) {
    for (const [i, intervention] of plan.interventions.entries()) {
      const { decision } = intervention;
      if (decision?.outcome === 'refused' && decision.status === 'inForce' && ['planned', 'ongoing', 'completed'].includes(intervention.status)) {
        yield {
          pointer: toPointer(['interventions', i, 'status']),
          message: `The intervention is ${intervention.status}, but its decision in force refused it (decision.outcome "refused")`,
        };
      }
    }
  },
});

/** Waiting for a decision that is already made and in force is a contradiction (seed 001 §4.5.1). */
export const decidedWhileAwaiting = defineRule({
  code: 'decision.made-while-awaiting',
  kind: 'integrity',
  title: 'An intervention awaiting a decision has no decision in force yet.',
  source: { document: 'seed-001', section: '§4.5.1 I väntan på beslut' },
  *check({ plan }) {
    for (const [i, intervention] of plan.interventions.entries()) {
      if (intervention.status === 'awaitingDecision' && intervention.decision?.status === 'inForce') {
        yield {
          pointer: toPointer(['interventions', i, 'status']),
          message: `The intervention awaits a decision, but a decision in force was made at ${intervention.decision.decidedAt}`,
        };
      }
    }
  },
});

/** A version of the plan records what was known when it was recorded; a decision after that is not yet made. */
export const decidedAfterRecording = defineRule({
  code: 'decision.after-recording',
  kind: 'integrity',
  title: 'A decision recorded in a version of the plan was made no later than that version was recorded.',
  source: { document: 'glossary', section: '"Municipal decisions (beslut)": the decision time (tidpunkt)' },
  *check({ plan }) {
    for (const [i, intervention] of plan.interventions.entries()) {
      const decidedAt = intervention.decision?.decidedAt;
      if (decidedAt !== undefined && Date.parse(decidedAt) > Date.parse(plan.updatedAt)) {
        yield {
          pointer: toPointer(['interventions', i, 'decision', 'decidedAt']),
          message: `The decision was made at ${decidedAt}, after this version of the plan was recorded at ${plan.updatedAt}`,
        };
      }
    }
  },
});

/**
 * The former social services act (2001:453) was replaced by SoL (2025:400) on 2025-07-01, so a
 * decision made from that day cites a law no longer applied. It is a fact of the past (the decision
 * stands as made), hence a warning; the decision's statute is worth checking with the case officer.
 */
export const formerActAfterChange = defineRule({
  code: 'decision.former-act-after-change',
  kind: 'history',
  title: 'A decision made from 2025-07-01 cites the socialtjänstlag (2025:400), not the former act (2001:453).',
  source: { document: 'glossary', section: '"Legal references that changed" (SoL 2025:400 applies from 2025-07-01)' },
  *check({ plan }) {
    for (const [i, intervention] of plan.interventions.entries()) {
      const decision = intervention.decision;
      if (decision?.statute.act !== ACT.formerSocialServices) continue;
      const decidedOn = formatDate(stockholmDate(new Date(decision.decidedAt)));
      if (decidedOn >= NEW_SOCIAL_SERVICES_ACT_FROM) {
        yield {
          pointer: toPointer(['interventions', i, 'decision', 'statute', 'act']),
          message: `The decision of ${decidedOn} cites ${citeStatute(decision.statute)}, which no longer applied from ${NEW_SOCIAL_SERVICES_ACT_FROM}`,
        };
      }
    }
  },
});
