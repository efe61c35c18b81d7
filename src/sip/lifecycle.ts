/**
 * What follows from a plan's content without being stored: which approvals are in force, the traffic
 * light (seed 000, "Ikonförklaringar"), the plan's status, and its step in the SIP process
 * (seed 001 §4: initiation → consent → preparation → summons → meeting → follow-up → closure).
 */
import { approvalDigest, approvalParts, type ApprovalParts } from './approval-digest.js';
import { consentsInForce } from './consent-status.js';
import { formatDate, stockholmDate } from './dates.js';
import type { Approval, FollowUp, SipPlan } from './model/index.js';

/**
 * The approvals that count for the current version: not withdrawn, for a version that exists, and for
 * what the plan states now. An approval with a digest counts while its part is unchanged (the digest
 * still matches, whatever version it named); one without a digest counts only for the version it
 * names, since nothing else shows what it approved.
 */
export function approvalsInForce(plan: SipPlan): Approval[] {
  let parts: ApprovalParts | undefined;
  return plan.approvals.filter((approval) => {
    if (approval.withdrawn !== undefined || approval.version > plan.version) return false;
    if (approval.digest === undefined) return approval.version === plan.version;
    parts ??= approvalParts(plan);
    return approval.digest === approvalDigest(plan, approval.principal, parts);
  });
}

/** The traffic lights a plan version shows, in the order of approval (the SIP API's `trafficLight`, the store's kept column). */
export const TRAFFIC_LIGHTS = ['red', 'yellow', 'green'] as const;
export type TrafficLight = (typeof TRAFFIC_LIGHTS)[number];

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

/** The statuses a plan has: the FHIR CarePlan status codes it maps to (the SIP API's `status`, the store's status columns). */
export const PLAN_STATUSES = ['draft', 'active', 'completed', 'revoked'] as const;
export type PlanStatus = (typeof PLAN_STATUSES)[number];

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

/**
 * Follow-ups of an open plan whose date has passed at `at` without being held (seed 001 §4.6: a SIP
 * is always followed up). What a search for overdue plans asks; the rule follow-up.overdue reports it.
 */
export function overdueFollowUps(plan: SipPlan, at: Date): { followUp: FollowUp; index: number }[] {
  if (isClosed(plan)) return [];
  const today = formatDate(stockholmDate(at));
  return plan.followUps.flatMap((followUp, index) => (followUp.heldAt === undefined && followUp.date < today ? [{ followUp, index }] : []));
}
