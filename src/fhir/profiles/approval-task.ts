/**
 * SIP approval Task: one per principal, asking it to approve its part of one version of the plan
 * (https://hl7.org/fhir/R4/task.html; seed 000: red, yellow, green).
 *
 * Which version: in a transaction Bundle the CarePlan is referred to by its `urn:uuid` fullUrl,
 * which cannot carry `/_history/<version>` (the server assigns ids and versions while it processes
 * the transaction, https://hl7.org/fhir/R4/http.html#trules). So the Task names the version in the
 * `plan-version` extension, as the approval's Provenance does; a Task read from a server may
 * instead have a version-specific `focus` reference (`CarePlan/<id>/_history/<version>`).
 */
import type { StructureDefinition } from 'fhir/r4.js';
import { EXTENSION, HL7_SYSTEM } from '../canonical.js';
import type { Invariant } from './define.js';
import { element, extensionSlices, profile } from './define.js';

const APPROVAL = 'Seed 000 (godkännande per huvudman, röd/gul/grön); DESIGN.md §3 "an approval is for a version"';

export const APPROVAL_TASK_INVARIANTS: readonly Invariant[] = [
  {
    key: 'sip-tsk-1',
    severity: 'error',
    human: 'An approval Task is about one version of the CarePlan: a version-specific focus reference, or the plan-version extension',
    expression: `focus.reference.exists() and (focus.reference.contains('/_history/') or extension('${EXTENSION.planVersion}').value.exists())`,
    source: APPROVAL,
  },
  {
    key: 'sip-tsk-2',
    severity: 'error',
    human: 'An approval Task is owned by the principal whose approval it asks for (owner)',
    expression: 'owner.exists()',
    source: `${APPROVAL}; seed 001 §6.1 (Huvudmän)`,
  },
];

export const SIP_APPROVAL_TASK: StructureDefinition = profile({
  id: 'sip-approval-task',
  type: 'Task',
  title: 'SIP approval Task',
  description: "A principal's approval of its part of one version of a SIP: requested until approved, then completed (seed 000).",
  invariants: APPROVAL_TASK_INVARIANTS,
  elements: [
    ...extensionSlices('Task', [{ name: 'planVersion', url: EXTENSION.planVersion, short: 'The plan version to approve' }]),
    element('Task.code', { min: 1, patternCodeableConcept: { coding: [{ system: HL7_SYSTEM.taskCode, code: 'approve' }] } }),
    element('Task.focus', { min: 1, short: 'The CarePlan (version) to approve' }),
    element('Task.owner', { min: 1, short: 'The principal (Organization)' }),
  ],
});
