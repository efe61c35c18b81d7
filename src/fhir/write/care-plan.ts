/**
 * The SIP → `CarePlan` (https://hl7.org/fhir/R4/careplan.html), intent `plan`.
 *
 * - `status` is worked out, never stored: `draft` until both principals approved the current
 *   version, then `active`; `completed` or `revoked` (consent withdrawn) once closed.
 * - `author` is the principal with overall responsibility (R4 has it; R5 drops it).
 * - Each intervention, and each action by an other actor, is an `activity.detail` whose first
 *   performer is the one responsible and whose second, when named, the professional who does it.
 *   An intervention awaiting a decision is `on-hold` with the `pending-decision` extension.
 * - An intervention with a municipal decision links to its `ServiceRequest` by the `decision`
 *   extension on its detail (decision.ts).
 * - A plan made at discharge from inpatient care carries the `discharge` extension: the kind of
 *   inpatient care, the day, and compulsory care under LPT or LRV (seed 001 §3.3.2, §3.6.1).
 * - `text` is the plan in Swedish as the person reads it (see narrative.ts).
 */
import type { CarePlan, CarePlanActivity, CarePlanActivityDetail, Extension, Period, Reference } from 'fhir/r4.js';
import type { Discharge, Intervention, SipPlan } from '../../sip/index.js';
import { planStatus } from '../../sip/index.js';
import { EXTENSION, IDENTIFIER_SYSTEM } from '../canonical.js';
import { informationClassExtensions } from './information-class.js';
import { CLOSURE_REASON, COMPULSORY_CARE, INPATIENT_CARE, INTERVENTION_STATUS_REASON, SIP_CATEGORY, ownCoding, swedishDisplay } from '../code-systems.js';
import { approvalKey } from './approval.js';
import { decisionKey } from './decision.js';
import type { WriteContext } from './context.js';
import { INDIVIDUAL, compact, complexExtension, keyReference, referenceTo, stringPart } from './context.js';
import { toNarrative } from './narrative.js';

export const ACTIVITY_STATUS: Readonly<Record<Intervention['status'], CarePlanActivityDetail['status']>> = {
  planned: 'not-started',
  ongoing: 'in-progress',
  awaitingDecision: 'on-hold',
  completed: 'completed',
  cancelled: 'cancelled',
};

function scheduled(intervention: Intervention): Partial<Pick<CarePlanActivityDetail, 'scheduledPeriod' | 'scheduledTiming'>> {
  const period = compact({ start: intervention.start, end: intervention.end });
  const hasPeriod = Object.keys(period).length > 0;
  if (intervention.schedule !== undefined) {
    return { scheduledTiming: compact({ repeat: hasPeriod ? { boundsPeriod: period } : undefined, code: { text: intervention.schedule } }) };
  }
  return hasPeriod ? { scheduledPeriod: period } : {};
}

function pendingDecisionExtension(context: WriteContext, intervention: Intervention): Extension | undefined {
  const pending = intervention.pendingDecision;
  if (pending === undefined) return undefined;
  return complexExtension(EXTENSION.pendingDecision, [
    stringPart('decidedBy', pending.decidedBy),
    stringPart('meanwhile', pending.meanwhile),
    pending.expectedDecisionDate === undefined ? undefined : { url: 'expectedDecisionDate', valueDate: pending.expectedDecisionDate },
    pending.reportBackBy === undefined ? undefined : { url: 'reportBackBy', valueDate: pending.reportBackBy },
    pending.reportBackTo === undefined ? undefined : { url: 'reportBackTo', valueReference: referenceTo(context, pending.reportBackTo) },
  ]);
}

/** The link to the intervention's decision (ServiceRequest, see decision.ts): an activity cannot have both `reference` and `detail` (cpl-3). */
function decisionExtension(context: WriteContext, intervention: Intervention): Extension | undefined {
  if (intervention.decision === undefined) return undefined;
  return { url: EXTENSION.decision, valueReference: keyReference(context, context.keys.get('ServiceRequest', decisionKey(intervention)), intervention.decision.concerns.text) };
}

export function toActivity(context: WriteContext, intervention: Intervention): CarePlanActivity {
  const extensions = [pendingDecisionExtension(context, intervention), decisionExtension(context, intervention)].filter((extension) => extension !== undefined);
  return {
    // The intervention's id is the element id, so FHIR → SIP gives it back unchanged.
    id: intervention.id,
    // On the activity, not its detail: the class is the whole intervention's, its decision's included.
    ...(intervention.informationClasses.length === 0 ? {} : { extension: informationClassExtensions(intervention.informationClasses) }),
    detail: compact<CarePlanActivityDetail>({
      extension: extensions,
      status: ACTIVITY_STATUS[intervention.status],
      statusReason:
        intervention.status === 'awaitingDecision'
          ? { coding: [ownCoding(INTERVENTION_STATUS_REASON, 'awaitingDecision')], text: swedishDisplay(INTERVENTION_STATUS_REASON, 'awaitingDecision') }
          : undefined,
      goal: intervention.goals.map((goal) => referenceTo(context, goal)),
      ...scheduled(intervention),
      performer: [referenceTo(context, intervention.responsible), ...(intervention.performer === undefined ? [] : [referenceTo(context, intervention.performer)])],
      description: intervention.description,
    }),
  };
}

/**
 * SIP vid utskrivning (seed 001 §3.3.2): from which inpatient care, when, and the compulsory care
 * under LPT or LRV that follows, where a samordnad vårdplan is prescribed instead (§3.6.1; the SIP
 * CarePlan profile warns of it, sip-cpl-7).
 */
export function dischargeExtension(discharge: Discharge): Extension {
  return complexExtension(EXTENSION.discharge, [
    { url: 'from', valueCoding: ownCoding(INPATIENT_CARE, discharge.from) },
    discharge.dischargedAt === undefined ? undefined : { url: 'dischargedAt', valueDate: discharge.dischargedAt },
    discharge.compulsoryCare === undefined ? undefined : { url: 'compulsoryCare', valueCoding: ownCoding(COMPULSORY_CARE, discharge.compulsoryCare) },
  ]);
}

function planExtensions(context: WriteContext): Extension[] {
  const { plan } = context;
  const { closure } = plan;
  return [
    { url: EXTENSION.planVersion, valueInteger: plan.version },
    { url: EXTENSION.planRecorded, valueDateTime: plan.updatedAt },
    { url: EXTENSION.initiatedBy, valueReference: referenceTo(context, plan.initiatedBy) },
    ...(plan.discharge === undefined ? [] : [dischargeExtension(plan.discharge)]),
    ...plan.followUps.map((followUp) =>
      complexExtension(EXTENSION.followUp, [
        { url: 'date', valueDate: followUp.date },
        followUp.heldAt === undefined ? undefined : { url: 'heldAt', valueReference: referenceTo(context, followUp.heldAt) },
      ]),
    ),
    ...(plan.noActionsByOthers ? [{ url: EXTENSION.noActionsByOthers, valueBoolean: true }] : []),
    ...(closure === undefined
      ? []
      : [
          complexExtension(EXTENSION.closure, [
            closure.reason === undefined ? undefined : { url: 'reason', valueCoding: ownCoding(CLOSURE_REASON, closure.reason) },
            stringPart('reasonText', closure.reasonText),
            { url: 'closedAt', valueDateTime: closure.closedAt },
            { url: 'closedBy', valueReference: referenceTo(context, closure.closedBy) },
            ...closure.informed.map((party) => ({ url: 'informed', valueReference: referenceTo(context, party) })),
          ]),
        ]),
  ];
}

/**
 * `CarePlan.period`: from the day the plan was initiated until it was closed, open while it is not.
 * The facade's `date` search (src/http/fhir-routes.ts) reads the same period.
 */
export function carePlanPeriod(plan: SipPlan): Period {
  return compact({ start: plan.initiatedAt, end: plan.closure?.closedAt });
}

export function toCarePlan(context: WriteContext): CarePlan {
  const { plan, keys } = context;
  // What else belongs to the plan, in the plan's order, which the reader follows (a server returns
  // search results in an order of its own).
  const supportingInfo: Reference[] = [
    ...(plan.ownAccount === undefined ? [] : [keyReference(context, keys.get('QuestionnaireResponse', 'own-account'))]),
    ...plan.consents.map((consent) => referenceTo(context, consent.id)),
    ...plan.meetings.map((meeting) => referenceTo(context, meeting.id)),
    ...plan.approvals.map((approval) => keyReference(context, keys.get('Provenance', approvalKey(approval)))),
    ...plan.deviations.map((deviation) => referenceTo(context, deviation.id)),
  ];
  return compact<CarePlan>({
    resourceType: 'CarePlan',
    text: { status: 'generated', div: toNarrative(plan) },
    extension: planExtensions(context),
    identifier: [{ system: IDENTIFIER_SYSTEM.sipPlan, value: plan.id }],
    status: planStatus(plan),
    intent: 'plan',
    category: [{ coding: [ownCoding(SIP_CATEGORY, 'sip-plan'), ...context.options.carePlanCategory] }],
    title: 'Samordnad individuell plan (SIP)',
    subject: referenceTo(context, INDIVIDUAL),
    period: carePlanPeriod(plan),
    author: plan.overallResponsiblePrincipal === undefined ? undefined : referenceTo(context, plan.overallResponsiblePrincipal),
    careTeam: [keyReference(context, keys.get('CareTeam', plan.id))],
    supportingInfo,
    goal: plan.goals.map((goal) => referenceTo(context, goal.id)),
    activity: plan.interventions.map((intervention) => toActivity(context, intervention)),
    note: plan.notes === undefined ? undefined : [{ text: plan.notes }],
  });
}
