/**
 * Samtycke — the person's consent to the SIP (seed 001 §4.2; seed 003 "Samtycke").
 *
 * A consent is never general: it names this plan, the actors it lets exchange information, and a
 * period of at most one year. It can be given in writing, orally or "in another way", may exclude
 * information and persons or units, and can be withdrawn at any time. For a child every custodial
 * guardian consents; for a person who cannot consent, a legal representative does.
 */
import { z } from 'zod';
import { dateSchema, dateTimeSchema, refSchema, textSchema } from './common.js';

/** Who gave the consent: the individual, or a related person (guardian or representative) by id. */
export const consentGiverSchema = z.union([z.literal('individual'), refSchema]);
export type ConsentGiver = z.infer<typeof consentGiverSchema>;

/**
 * Information classes a person may exclude from the exchange. They are the project's own codes
 * (CodeSystem in `profiles/`): there is no national code list for SIP exclusions.
 */
export const informationClassSchema = z.enum([
  'mentalHealth',
  'substanceUse',
  'sexualAndReproductiveHealth',
  'geneticInformation',
  'financialSituation',
  'criminalRecord',
  'familySituation',
  'other',
]);
export type InformationClass = z.infer<typeof informationClassSchema>;

/**
 * The child's own view of the SIP when guardians consent for a child (seed 001 §4.2: "I beaktande av
 * barnets ålder och mognad bör hen tillfrågas och delta i beslutet"): what the child said, or why the
 * child was not asked, given age and maturity.
 */
export const childViewSchema = z
  .strictObject({
    view: z.string().trim().min(1).max(5_000).optional(),
    notAskedReason: z.string().trim().min(1).max(2_000).optional(),
  })
  .refine((childView) => (childView.view === undefined) !== (childView.notAskedReason === undefined), {
    message: "states either the child's view or why the child was not asked, not both",
  });
export type ChildView = z.infer<typeof childViewSchema>;

export const consentSchema = z.strictObject({
  id: refSchema,
  /** The plan this consent is for; a consent for any other purpose is general and not valid for SIP. */
  planId: refSchema,
  givers: z.array(consentGiverSchema).min(1, 'a consent names at least one giver'),
  form: z.enum(['written', 'oral', 'other']),
  /** The professional who documented an oral or other consent (seed 001 §4.2). */
  documentedBy: refSchema.optional(),
  /** Where it was documented, e.g. the shared record system. */
  documentedIn: z.string().trim().max(200).optional(),
  givenAt: dateSchema,
  validUntil: dateSchema,
  /** Principals, units and other actors that may exchange information within this SIP. */
  coveredActors: z.array(refSchema),
  excludedInformation: z
    .array(z.strictObject({ class: informationClassSchema, description: z.string().trim().max(1_000).optional() }))
    .default([]),
  /** Persons or units the person does not consent to (seed 001 §4.2). */
  excludedParties: z.array(refSchema).default([]),
  /** For a child: the child's own view, or why it was not asked (seed 001 §4.2). */
  childView: childViewSchema.optional(),
  withdrawal: z
    .strictObject({
      withdrawnAt: dateTimeSchema,
      withdrawnBy: consentGiverSchema,
      recordedBy: refSchema.optional(),
      note: textSchema.optional(),
    })
    .optional(),
});
export type Consent = z.infer<typeof consentSchema>;
