/**
 * Den enskildes egen beskrivning (seed 003, "Här kan du beskriva din situation") → a
 * `QuestionnaireResponse` to the project's SIP request form, in the person's own Swedish words.
 */
import type { QuestionnaireResponse, QuestionnaireResponseItem } from 'fhir/r4.js';
import type { OwnAccount } from '../../sip/index.js';
import { REQUEST_QUESTIONNAIRE_URL } from '../canonical.js';
import type { WriteContext } from './context.js';
import { INDIVIDUAL, compact, entityIdentifier, referenceTo } from './context.js';

/** The form's text questions, by `linkId` (the SIP field name), with the form's Swedish wording. */
export const OWN_ACCOUNT_TEXT_ITEMS = [
  { linkId: 'contactsMapping', text: 'Kartläggning av mina kontakter' },
  { linkId: 'experience', text: 'Vad är min upplevelse?' },
  { linkId: 'needsWishesExpectations', text: 'Vilka behov, önskemål och förväntningar har jag?' },
  { linkId: 'desiredSituation', text: 'Hur skulle jag vilja att det var?' },
  { linkId: 'preferredCoordinator', text: 'Önskemål om vem jag vill ha som samordnare' },
] as const satisfies readonly { linkId: keyof OwnAccount; text: string }[];

export const WANTS_TO_ATTEND_ITEM = { linkId: 'wantsToAttendMeeting', text: 'Jag vill delta i mötet' } as const;

export function toQuestionnaireResponse(context: WriteContext, account: OwnAccount): QuestionnaireResponse {
  const items: QuestionnaireResponseItem[] = [
    ...OWN_ACCOUNT_TEXT_ITEMS.flatMap(({ linkId, text }) => {
      const value = account[linkId];
      return value === undefined || value === '' ? [] : [{ linkId, text, answer: [{ valueString: value }] }];
    }),
    ...(account.wantsToAttendMeeting === undefined
      ? []
      : [{ ...WANTS_TO_ATTEND_ITEM, answer: [{ valueBoolean: account.wantsToAttendMeeting }] }]),
  ];
  return compact<QuestionnaireResponse>({
    resourceType: 'QuestionnaireResponse',
    identifier: entityIdentifier(context.plan, 'own-account'),
    questionnaire: REQUEST_QUESTIONNAIRE_URL,
    status: 'completed',
    subject: referenceTo(context, INDIVIDUAL),
    authored: account.submittedAt,
    author: referenceTo(context, INDIVIDUAL),
    source: referenceTo(context, INDIVIDUAL),
    item: items,
  });
}
