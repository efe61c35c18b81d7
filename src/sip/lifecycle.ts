/**
 * What follows from a plan's content without being stored: which approvals are in force, the traffic
 * light (seed 000, "Ikonförklaringar"), the plan's status, and its step in the SIP process
 * (seed 001 §4: initiation → consent → preparation → summons → meeting → follow-up → closure).
 */
import { consentsInForce } from './consent-status.js';
import type { Approval, SipPlan } from './model/index.js';

/** An approval counts for the current version unless it was withdrawn or names a later version. */
export function approvalsInForce(plan: SipPlan): Approval[] {
  return plan.approvals.filter((approval) => approval.withdrawn === undefined && approval.version <= plan.version);
}

export type TrafficLight = 'red' | 'yellow' | 'green';

/**
 * Red: planning in progress, no principal has approved; yellow: partly approved; green: every
 * principal of the plan has an approval in force for the current version.
 */
export function trafficLight(plan: SipPlan): TrafficLight {
  const approved = new Set(approvalsInForce(plan).map((approval) => approval.principal));
  const principals = plan.principals.map((principal) => principal.id);
  const count = principals.filter((id) => approved.has(id)).length;
  if (count === 0) return 'red';
  return count === principals.length ? 'green' : 'yellow';
}

export function isClosed(plan: SipPlan): boolean {
  return plan.closure !== undefined;
}

export type PlanStatus = 'draft' | 'active' | 'completed' | 'revoked';

/**
 * Draft until green, then active; at closure, revoked when consent was withdrawn and completed
 * otherwise. These are the FHIR CarePlan status codes the plan maps to.
 */
export function planStatus(plan: SipPlan): PlanStatus {
  if (plan.closure) return plan.closure.reason === 'consentWithdrawn' ? 'revoked' : 'completed';
  return trafficLight(plan) === 'green' ? 'active' : 'draft';
}

export type ProcessStep = 'initiated' | 'consented' | 'summoned' | 'planned' | 'followingUp' | 'closed';

/** The step of the SIP process the plan has reached at `at`. */
export function processStep(plan: SipPlan, at: Date): ProcessStep {
  if (plan.closure) return 'closed';
  const held = plan.meetings.filter((meeting) => meeting.status === 'held');
  if (held.some((meeting) => meeting.kind === 'followUp')) return 'followingUp';
  if (held.some((meeting) => meeting.kind === 'first')) return 'planned';
  if (plan.meetings.some((meeting) => meeting.summons !== undefined && meeting.status !== 'cancelled')) return 'summoned';
  return consentsInForce(plan, at).length > 0 ? 'consented' : 'initiated';
}
