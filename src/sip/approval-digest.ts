/**
 * What a principal's approval covers, and its digest (seed 000: each principal approves its own part
 * of the plan, at a version; an edit of the part withdraws the approval).
 *
 * A principal approves two things: its own interventions, and the part every principal shares (the
 * goals, others' actions, the overall responsible principal, the coordinator, the follow-ups, and
 * whether no one else acts). An approval records a digest of the two, so that any reader of the plan
 * (not only the `revisePlan` transition) can tell whether a later version left that part unchanged.
 *
 * The digest is SHA-256 over the JSON Canonicalization Scheme (RFC 8785,
 * https://www.rfc-editor.org/rfc/rfc8785) of `{ principal, interventions, shared }`: key order,
 * whitespace and number formatting do not change it, so a plan that travels through FHIR and back
 * keeps its digests.
 *
 * An item's `informationClasses` is digested only when it names a class: the field came later
 * (issue #14) with the default `[]`, and an untagged goal or intervention must digest as it did
 * before, so approvals recorded then still hold. Tagging an item does change its principal's part.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { SipPlan } from './model/index.js';
import { indexPlan, principalOf } from './plan-index.js';

/** The parts approvals cover, as plain JSON values. */
export interface ApprovalParts {
  /** What every principal approves. */
  readonly shared: unknown;
  /** Each principal's own interventions, in plan order. */
  readonly principals: ReadonlyMap<string, readonly unknown[]>;
}

/** The item as digested: without `informationClasses` when it names none (see the module's note). */
function digested<T extends { readonly informationClasses: readonly unknown[] }>(item: T): T | Omit<T, 'informationClasses'> {
  if (item.informationClasses.length > 0) return item;
  const { informationClasses: _untagged, ...rest } = item;
  return rest;
}

export function approvalParts(plan: SipPlan): ApprovalParts {
  const index = indexPlan(plan);
  const byPrincipal = new Map<string, unknown[]>(plan.principals.map((principal) => [principal.id, []]));
  const others: unknown[] = [];
  for (const intervention of plan.interventions) {
    const principal = intervention.responsible === 'individual' ? undefined : principalOf(index, intervention.responsible);
    (principal === undefined ? others : (byPrincipal.get(principal) ?? others)).push(digested(intervention));
  }
  const shared = {
    goals: plan.goals.map(digested),
    othersActions: others,
    overallResponsiblePrincipal: plan.overallResponsiblePrincipal ?? null,
    coordinator: plan.coordinator ?? null,
    followUps: plan.followUps,
    noActionsByOthers: plan.noActionsByOthers,
  };
  return { shared, principals: byPrincipal };
}

/** The canonical JSON (RFC 8785) a principal's approval digests; exported for tests and for readers who want to see it. */
export function canonicalApprovedPart(plan: SipPlan, principal: string, parts: ApprovalParts = approvalParts(plan)): string {
  const text = canonicalize({ principal, interventions: parts.principals.get(principal) ?? [], shared: parts.shared });
  if (text === undefined) throw new Error('an approved part is always JSON');
  return text;
}

/** `sha256:<hex>` of the principal's approved part of the plan as it stands. */
export function approvalDigest(plan: SipPlan, principal: string, parts?: ApprovalParts): string {
  return `sha256:${createHash('sha256').update(canonicalApprovedPart(plan, principal, parts), 'utf8').digest('hex')}`;
}

/** The principals whose approved part differs between two versions. */
export function principalsWithEditedParts(before: SipPlan, after: SipPlan): Set<string> {
  const old = approvalParts(before);
  const now = approvalParts(after);
  const everyone = new Set([...old.principals.keys(), ...now.principals.keys()]);
  return new Set([...everyone].filter((id) => canonicalApprovedPart(before, id, old) !== canonicalApprovedPart(after, id, now)));
}
