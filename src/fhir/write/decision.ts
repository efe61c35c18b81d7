/**
 * A municipal decision (beslut) on an intervention → `ServiceRequest`
 * (https://hl7.org/fhir/R4/servicerequest.html), intent `order`: GLOSSARY.md's FHIR home for an
 * intervention that needs a decision. The decision goes to the person and an order (uppdrag) to the
 * provider; a ServiceRequest with intent `order` is "a request/demand and authorization for action"
 * (https://hl7.org/fhir/R4/valueset-request-intent.html), which is what a granted decision is.
 *
 * - Outcome: a refusal (avslag) is `doNotPerform = true`, R4's own way of saying the service is not
 *   to be done (https://hl7.org/fhir/R4/servicerequest-definitions.html#ServiceRequest.doNotPerform);
 *   a grant (bifall) leaves it out. No extension is needed, and a receiver that knows only R4 never
 *   reads a refusal as an order to act.
 * - Status is kept apart from the outcome, as the information model keeps it: `active` while the
 *   decision is in force, `revoked` once it is overturned ("terminated prior to the known full
 *   completion", https://hl7.org/fhir/R4/valueset-request-status.html). `revoked` is not used for a
 *   refusal: that would merge "never granted" with "granted, then overturned".
 * - What it concerns is `code`: the municipality's own code with its system (configuration: KSI has
 *   no national URI) and the words in `code.text`; its statute is the `statute` extension.
 * - `authoredOn` is the decision time, `requester` who decided, `performer` the provider,
 *   `occurrencePeriod` the validity, `reasonCode.text` the reasoning (motivering); the granted scope
 *   is `orderDetail.text` in words and `quantityRatio` in hours per week or month (UCUM `h`, `wk`,
 *   `mo`).
 * - `basedOn` is the SIP CarePlan, and the intervention links to the decision from its
 *   `activity.detail` by the `decision` extension (an activity cannot have both `reference` and
 *   `detail`, cpl-3). The identifier is the intervention's (`<plan id>/<intervention id>.decision`).
 */
import type { Ratio, ServiceRequest } from 'fhir/r4.js';
import type { Decision, DecisionScope, Intervention } from '../../sip/index.js';
import { EXTENSION, HL7_SYSTEM } from '../canonical.js';
import { SIP_CATEGORY, ownCoding } from '../code-systems.js';
import type { WriteContext } from './context.js';
import { INDIVIDUAL, compact, complexExtension, entityIdentifier, keyReference, referenceTo } from './context.js';
import { decisionNarrative, generatedText } from './resource-narratives.js';

export const DECISION_STATUS: Readonly<Record<Decision['status'], ServiceRequest['status']>> = {
  inForce: 'active',
  overturned: 'revoked',
};

/** UCUM code of the period granted hours are counted per. */
export const SCOPE_PERIOD: Readonly<Record<NonNullable<DecisionScope['per']>, string>> = { week: 'wk', month: 'mo' };

/** The local id a decision's ServiceRequest is registered under: its intervention's. */
export function decisionKey(intervention: Intervention): string {
  return `${intervention.id}.decision`;
}

export function decisionIdentifier(context: WriteContext, intervention: Intervention) {
  return entityIdentifier(context.plan, decisionKey(intervention));
}

function hoursPer(scope: DecisionScope | undefined): Ratio | undefined {
  if (scope?.hours === undefined || scope.per === undefined) return undefined;
  const period = SCOPE_PERIOD[scope.per];
  return {
    numerator: { value: scope.hours, unit: 'h', system: HL7_SYSTEM.ucum, code: 'h' },
    denominator: { value: 1, unit: period, system: HL7_SYSTEM.ucum, code: period },
  };
}

export function toDecisionServiceRequest(context: WriteContext, intervention: Intervention, decision: Decision): ServiceRequest {
  const { statute, concerns, scope } = decision;
  const validity = compact({ start: decision.validFrom, end: decision.validTo });
  return compact<ServiceRequest>({
    resourceType: 'ServiceRequest',
    text: generatedText(decisionNarrative(context.plan, intervention, decision)),
    extension: [
      complexExtension(EXTENSION.statute, [
        { url: 'act', valueString: statute.act },
        statute.chapter === undefined ? undefined : { url: 'chapter', valuePositiveInt: statute.chapter },
        { url: 'section', valuePositiveInt: statute.section },
        statute.point === undefined ? undefined : { url: 'point', valuePositiveInt: statute.point },
      ]),
    ],
    identifier: [decisionIdentifier(context, intervention)],
    basedOn: [keyReference(context, context.keys.get('CarePlan', context.plan.id))],
    status: DECISION_STATUS[decision.status],
    intent: 'order',
    category: [{ coding: [ownCoding(SIP_CATEGORY, 'sip-decision')] }],
    doNotPerform: decision.outcome === 'refused' ? true : undefined,
    code: compact({
      coding: concerns.system === undefined || concerns.code === undefined ? undefined : [{ system: concerns.system, code: concerns.code }],
      text: concerns.text,
    }),
    orderDetail: scope?.text === undefined ? undefined : [{ text: scope.text }],
    quantityRatio: hoursPer(scope),
    subject: referenceTo(context, INDIVIDUAL),
    occurrencePeriod: Object.keys(validity).length === 0 ? undefined : validity,
    authoredOn: decision.decidedAt,
    requester: decision.decidedBy === undefined ? undefined : referenceTo(context, decision.decidedBy),
    performer: decision.provider === undefined ? undefined : [referenceTo(context, decision.provider)],
    reasonCode: decision.reasoning === undefined ? undefined : [{ text: decision.reasoning }],
  });
}
