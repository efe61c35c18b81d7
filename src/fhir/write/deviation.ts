/**
 * Avvikelse (seed 001 §5.2) → `DetectedIssue` (https://hl7.org/fhir/R4/detectedissue.html), listed in
 * the plan's `supportingInfo`. `author` allows only people and devices in R4, so a deviation reported
 * by a principal or unit names it in the `reported-by` extension instead.
 */
import type { DetectedIssue } from 'fhir/r4.js';
import type { Deviation } from '../../sip/index.js';
import { EXTENSION } from '../canonical.js';
import { DEVIATION_CATEGORY, SIP_CATEGORY, ownCoding } from '../code-systems.js';
import type { WriteContext } from './context.js';
import { INDIVIDUAL, compact, entityIdentifier, entityOf, referenceTo } from './context.js';
import { informationClassExtensions } from './information-class.js';
import { deviationNarrative, generatedText } from './resource-narratives.js';

export const DEVIATION_STATUS: Readonly<Record<Deviation['status'], DetectedIssue['status']>> = {
  open: 'registered',
  underInvestigation: 'preliminary',
  closed: 'final',
};

export function toDetectedIssue(context: WriteContext, deviation: Deviation): DetectedIssue {
  const byProfessional = entityOf(context, deviation.reportedBy).kind === 'professional';
  return compact<DetectedIssue>({
    resourceType: 'DetectedIssue',
    text: generatedText(deviationNarrative(context.plan, deviation)),
    extension: [
      ...(byProfessional ? [] : [{ url: EXTENSION.reportedBy, valueReference: referenceTo(context, deviation.reportedBy) }]),
      ...(deviation.interimResponsiblePrincipal === undefined
        ? []
        : [{ url: EXTENSION.interimResponsiblePrincipal, valueReference: referenceTo(context, deviation.interimResponsiblePrincipal) }]),
      ...informationClassExtensions(deviation.informationClasses),
    ],
    identifier: [entityIdentifier(context.plan, deviation.id)],
    status: DEVIATION_STATUS[deviation.status],
    code: { coding: [ownCoding(DEVIATION_CATEGORY, deviation.category), ownCoding(SIP_CATEGORY, 'sip-deviation')] },
    patient: referenceTo(context, INDIVIDUAL),
    identifiedDateTime: deviation.reportedAt,
    author: byProfessional ? referenceTo(context, deviation.reportedBy) : undefined,
    implicated: [referenceTo(context, deviation.concerns)],
    detail: deviation.description,
    mitigation:
      deviation.interimResponsibility === undefined
        ? undefined
        : [{ action: { text: deviation.interimResponsibility } }],
  });
}
