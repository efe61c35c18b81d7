/**
 * Samtycke → `Consent` (https://hl7.org/fhir/R4/consent.html), scope `patient-privacy`.
 *
 * R4 has no `Consent.period`: the consent's period (at most one year) is the root provision's. The
 * root provision permits the covered actors; each exclusion is a nested `deny` provision, of an
 * information class (`code`) or of a person or unit (`actor`). The SIP it is for is the provision's
 * `data` with meaning `related`, so the consent is never general (seed 001 §4.2).
 */
import type { Consent as FhirConsent, ConsentProvision, Reference } from 'fhir/r4.js';
import type { Consent } from '../../sip/index.js';
import { consentStateAt } from '../../sip/index.js';
import { EXTENSION, HL7_SYSTEM, IDENTIFIER_SYSTEM } from '../canonical.js';
import { CONSENT_FORM, INFORMATION_CLASS, SIP_CATEGORY, ownCoding } from '../code-systems.js';
import { equivalentStandardCodings } from '../concept-maps.js';
import type { WriteContext } from './context.js';
import { INDIVIDUAL, compact, complexExtension, entityIdentifier, keyReference, referenceTo, stringPart } from './context.js';
import { consentNarrative, generatedText } from './resource-narratives.js';

/** v3 ParticipationType IRCP: the actor receives information under the consent. */
const INFORMATION_RECIPIENT = { coding: [{ system: HL7_SYSTEM.v3ParticipationType, code: 'IRCP', display: 'information recipient' }] };

function planReference(context: WriteContext, planId: string): Reference {
  return planId === context.plan.id
    ? keyReference(context, context.keys.get('CarePlan', context.plan.id))
    : { type: 'CarePlan', identifier: { system: IDENTIFIER_SYSTEM.sipPlan, value: planId } };
}

export function toConsent(context: WriteContext, consent: Consent): FhirConsent {
  const state = consentStateAt(consent, context.at);
  const { withdrawal } = consent;
  const exclusions: ConsentProvision[] = [
    ...consent.excludedInformation.map((excluded) => ({
      type: 'deny' as const,
      code: [compact({ coding: [ownCoding(INFORMATION_CLASS, excluded.class), ...equivalentStandardCodings(INFORMATION_CLASS, excluded.class)], text: excluded.description })],
    })),
    ...consent.excludedParties.map((party) => ({
      type: 'deny' as const,
      actor: [{ role: INFORMATION_RECIPIENT, reference: referenceTo(context, party) }],
    })),
  ];
  return compact<FhirConsent>({
    resourceType: 'Consent',
    text: generatedText(consentNarrative(context, consent)),
    extension: [
      complexExtension(EXTENSION.consentRecording, [
        { url: 'form', valueCoding: ownCoding(CONSENT_FORM, consent.form) },
        consent.documentedBy === undefined ? undefined : { url: 'documentedBy', valueReference: referenceTo(context, consent.documentedBy) },
        stringPart('documentedIn', consent.documentedIn),
      ]),
      ...(consent.childView === undefined
        ? []
        : [complexExtension(EXTENSION.childView, [stringPart('view', consent.childView.view), stringPart('notAskedReason', consent.childView.notAskedReason)])]),
      ...(withdrawal === undefined
        ? []
        : [
            complexExtension(EXTENSION.consentWithdrawal, [
              { url: 'withdrawnAt', valueDateTime: withdrawal.withdrawnAt },
              { url: 'withdrawnBy', valueReference: referenceTo(context, withdrawal.withdrawnBy) },
              withdrawal.recordedBy === undefined ? undefined : { url: 'recordedBy', valueReference: referenceTo(context, withdrawal.recordedBy) },
              stringPart('note', withdrawal.note),
            ]),
          ]),
    ],
    identifier: [entityIdentifier(context.plan, consent.id)],
    // Withdrawn or past its period when the Bundle is sent: no longer in force.
    status: state === 'withdrawn' || state === 'expired' ? 'inactive' : 'active',
    scope: { coding: [{ system: HL7_SYSTEM.consentScope, code: 'patient-privacy', display: 'Privacy Consent' }] },
    category: [{ coding: [ownCoding(SIP_CATEGORY, 'sip-consent'), { system: HL7_SYSTEM.loinc, code: '59284-0', display: 'Patient Consent' }] }],
    patient: referenceTo(context, INDIVIDUAL),
    // ppc-1 asks for a policy: the person opts in and may exclude information and parties (v3 OPTINR).
    policyRule: { coding: [{ system: HL7_SYSTEM.v3ActCode, code: 'OPTINR', display: 'opt-in with restrictions' }] },
    dateTime: consent.givenAt,
    performer: consent.givers.map((giver) => referenceTo(context, giver)),
    organization: context.plan.principals.map((principal) => referenceTo(context, principal.id)),
    verification:
      consent.form === 'written'
        ? undefined
        : consent.givers.map((giver) => ({ verified: true, verifiedWith: referenceTo(context, giver), verificationDate: consent.givenAt })),
    provision: compact<ConsentProvision>({
      type: 'permit',
      period: { start: consent.givenAt, end: consent.validUntil },
      actor: consent.coveredActors.map((actor) => ({ role: INFORMATION_RECIPIENT, reference: referenceTo(context, actor) })),
      data: [{ meaning: 'related', reference: planReference(context, consent.planId) }],
      provision: exclusions,
    }),
  });
}
