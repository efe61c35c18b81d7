/**
 * SIP Decision: a municipal decision (beslut) on an intervention of a SIP, as a ServiceRequest
 * (https://hl7.org/fhir/R4/servicerequest.html), GLOSSARY.md's FHIR home for an intervention that
 * needs a decision. How a decision's parts map, and why, is in src/fhir/write/decision.ts.
 */
import type { StructureDefinition } from 'fhir/r4.js';
import { EXTENSION, codeSystemUrl } from '../canonical.js';
import { SIP_CATEGORY } from '../code-systems.js';
import type { Invariant } from './define.js';
import { element, extensionSlices, profile } from './define.js';

const DECISIONS = 'GLOSSARY.md, "Municipal decisions (beslut)" (Socialstyrelsen\'s national information model)';

export const DECISION_INVARIANTS: readonly Invariant[] = [
  {
    key: 'sip-dec-1',
    severity: 'error',
    human: 'A SIP decision is categorised as one (category sip-category#sip-decision)',
    expression: `category.coding.where(system = '${codeSystemUrl(SIP_CATEGORY.id)}' and code = 'sip-decision').exists()`,
    source: 'DESIGN.md §4 (the resources of a SIP are found by their SIP category)',
  },
  {
    key: 'sip-dec-2',
    severity: 'error',
    human: 'A SIP decision says in words what it concerns (code.text), states its statute and when it was made (authoredOn)',
    expression: `code.text.exists() and extension('${EXTENSION.statute}').exists() and authoredOn.exists()`,
    source: `${DECISIONS}: what it concerns with its statute (kod) and the decision time (tidpunkt)`,
  },
  {
    key: 'sip-dec-3',
    severity: 'error',
    human: 'A SIP decision is in force (active) or overturned (revoked)',
    expression: "status = 'active' or status = 'revoked'",
    source: `${DECISIONS}: its status (in force, overturned) is kept apart`,
  },
];

export const SIP_DECISION: StructureDefinition = profile({
  id: 'sip-decision',
  type: 'ServiceRequest',
  title: 'SIP Decision',
  description:
    "A municipal decision (beslut) on an intervention of a SIP: what it concerns and its statute, granted or refused (doNotPerform), the reasoning, the decision time, the decider, the granted scope, validity and provider.",
  invariants: DECISION_INVARIANTS,
  elements: [
    ...extensionSlices('ServiceRequest', [{ name: 'statute', url: EXTENSION.statute, min: 1, short: 'The provision the decision was made under' }]),
    element('ServiceRequest.basedOn', { min: 1, short: 'The SIP CarePlan whose intervention the decision backs' }),
    element('ServiceRequest.status', { short: 'active: in force; revoked: overturned' }),
    element('ServiceRequest.intent', { fixedCode: 'order' }),
    element('ServiceRequest.category', { min: 1 }),
    element('ServiceRequest.doNotPerform', { short: 'true: the application was refused (avslag); absent: granted (bifall)' }),
    element('ServiceRequest.code', { min: 1, short: 'What the decision concerns: the municipality\'s own code and words' }),
    element('ServiceRequest.authoredOn', { min: 1, short: 'When the decision was made (tidpunkt)' }),
  ],
});
