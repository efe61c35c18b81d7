/**
 * Godkännande per huvudman (seed 000: red, yellow, green) → one `Task` (code `approve`) per
 * principal, telling whether the current version is approved by it, and one `Provenance` (agent type
 * `verifier`, on behalf of the principal) per approval given, which is the record the traffic light is
 * worked out from.
 *
 * Provenance has no identifier in R4, so it is keyed by a `meta.tag` in the `sip-entity` system.
 */
import type { Provenance, Reference, Task } from 'fhir/r4.js';
import type { Approval, Principal } from '../../sip/index.js';
import { approvalsInForce } from '../../sip/index.js';
import { EXTENSION, HL7_SYSTEM, IDENTIFIER_SYSTEM } from '../canonical.js';
import { APPROVAL_WITHDRAWAL_REASON, SIP_CATEGORY, ownCoding } from '../code-systems.js';
import type { WriteContext } from './context.js';
import { INDIVIDUAL, compact, complexExtension, entityIdentifier, keyReference, referenceTo } from './context.js';
import { approvalProvenanceNarrative, approvalTaskNarrative, generatedText } from './resource-narratives.js';

/** The local key of one approval: principal, version and instant, which together never repeat. */
export function approvalKey(approval: Approval): string {
  return `${approval.principal}.approval.v${String(approval.version)}.${approval.approvedAt.replace(/[^0-9]/g, '')}`;
}

function carePlanReference(context: WriteContext): Reference {
  return keyReference(context, context.keys.get('CarePlan', context.plan.id));
}

export function toApprovalProvenance(context: WriteContext, approval: Approval): Provenance {
  const { withdrawn } = approval;
  return compact<Provenance>({
    resourceType: 'Provenance',
    meta: { tag: [{ system: IDENTIFIER_SYSTEM.sipEntity, code: entityIdentifier(context.plan, approvalKey(approval)).value }] },
    text: generatedText(approvalProvenanceNarrative(context.plan, approval)),
    extension: [
      { url: EXTENSION.planVersion, valueInteger: approval.version },
      ...(approval.digest === undefined ? [] : [{ url: EXTENSION.approvalDigest, valueString: approval.digest }]),
      ...(withdrawn === undefined
        ? []
        : [
            complexExtension(EXTENSION.approvalWithdrawal, [
              { url: 'at', valueDateTime: withdrawn.at },
              { url: 'reason', valueCoding: ownCoding(APPROVAL_WITHDRAWAL_REASON, withdrawn.reason) },
            ]),
          ]),
    ],
    target: [carePlanReference(context)],
    recorded: approval.approvedAt,
    activity: { coding: [ownCoding(SIP_CATEGORY, 'sip-approval')] },
    agent: [
      {
        type: { coding: [{ system: HL7_SYSTEM.provenanceParticipantType, code: 'verifier', display: 'Verifier' }] },
        who: referenceTo(context, approval.approvedBy),
        onBehalfOf: referenceTo(context, approval.principal),
      },
    ],
  });
}

export function toApprovalTask(context: WriteContext, principal: Principal): Task {
  const { plan } = context;
  const inForce = approvalsInForce(plan).find((approval) => approval.principal === principal.id);
  const approved = inForce !== undefined;
  const given = plan.approvals.filter((approval) => approval.principal === principal.id);
  return compact<Task>({
    resourceType: 'Task',
    text: generatedText(approvalTaskNarrative(plan, principal, inForce)),
    // The version this Task asks the principal to approve: the focus is the CarePlan's urn:uuid,
    // which cannot carry `/_history/` in a transaction (profile sip-approval-task, sip-tsk-1).
    extension: [{ url: EXTENSION.planVersion, valueInteger: plan.version }],
    identifier: [entityIdentifier(plan, `${principal.id}.approval`)],
    status: approved ? 'completed' : 'requested',
    businessStatus: { text: approved ? 'Godkänd' : 'Inte godkänd' },
    intent: 'order',
    code: { coding: [{ system: HL7_SYSTEM.taskCode, code: 'approve', display: 'Activate/approve the focal resource' }] },
    description: `${principal.name} godkänner sin del av SIP, version ${String(plan.version)}`,
    focus: carePlanReference(context),
    for: referenceTo(context, INDIVIDUAL),
    authoredOn: plan.updatedAt,
    owner: referenceTo(context, principal.id),
    input: [{ type: { text: 'Planversion' }, valueInteger: plan.version }],
    relevantHistory: given.map((approval) => keyReference(context, context.keys.get('Provenance', approvalKey(approval)))),
  });
}
