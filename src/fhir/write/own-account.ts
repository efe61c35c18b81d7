/**
 * Den enskildes egen beskrivning (seed 003, "Här kan du beskriva din situation") → a
 * `QuestionnaireResponse` to the project's SIP request form, in the person's own Swedish words.
 */
import type { Questionnaire, QuestionnaireResponse, QuestionnaireResponseItem } from 'fhir/r4.js';
import type { OwnAccount } from '../../sip/index.js';
import { REQUEST_QUESTIONNAIRE_URL } from '../canonical.js';
import type { WriteContext } from './context.js';
import { INDIVIDUAL, compact, entityIdentifier, referenceTo } from './context.js';
import { generatedText, ownAccountNarrative } from './resource-narratives.js';

/** The form's text questions, by `linkId` (the SIP field name), with the form's Swedish wording. */
export const OWN_ACCOUNT_TEXT_ITEMS = [
  { linkId: 'contactsMapping', text: 'Kartläggning av mina kontakter' },
  { linkId: 'experience', text: 'Vad är min upplevelse?' },
  { linkId: 'needsWishesExpectations', text: 'Vilka behov, önskemål och förväntningar har jag?' },
  { linkId: 'desiredSituation', text: 'Hur skulle jag vilja att det var?' },
  { linkId: 'preferredCoordinator', text: 'Önskemål om vem jag vill ha som samordnare' },
] as const satisfies readonly { linkId: keyof OwnAccount; text: string }[];

export const WANTS_TO_ATTEND_ITEM = { linkId: 'wantsToAttendMeeting', text: 'Jag vill delta i mötet' } as const;

/** The request form's title, which heads the person's account in the narrative too. */
export const REQUEST_FORM_TITLE = 'Information och önskemål inför SIP';

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
  const answered = items.map((item) => {
    const answer = item.answer?.[0];
    return { text: item.text ?? item.linkId, answer: answer?.valueString ?? (answer?.valueBoolean === true ? 'Ja' : 'Nej') };
  });
  return compact<QuestionnaireResponse>({
    resourceType: 'QuestionnaireResponse',
    text: generatedText(ownAccountNarrative(context.plan, account, REQUEST_FORM_TITLE, answered)),
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

/** The SIP request form (seed 003) as a Questionnaire, for `profiles/`; answers refer to it by URL. */
export function toRequestQuestionnaire(version: string): Questionnaire {
  return {
    resourceType: 'Questionnaire',
    id: 'sip-request',
    url: REQUEST_QUESTIONNAIRE_URL,
    version,
    name: 'SIPRequest',
    title: REQUEST_FORM_TITLE,
    status: 'draft',
    publisher: 'sip-fhir-adapter',
    description: 'Den enskildes egen beskrivning inför en samordnad individuell plan (seed 003, "Här kan du beskriva din situation").',
    subjectType: ['Patient'],
    item: [
      ...OWN_ACCOUNT_TEXT_ITEMS.map(({ linkId, text }) => ({ linkId, text, type: linkId === 'preferredCoordinator' ? ('string' as const) : ('text' as const) })),
      { ...WANTS_TO_ATTEND_ITEM, type: 'boolean' as const },
    ],
  };
}
