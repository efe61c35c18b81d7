/**
 * The people and organisations around a SIP: the individual, the two principals (huvudmän) with their
 * units, other actors (berörda aktörer), the professionals who act for them, and relatives, custodial
 * guardians and representatives. Seed 001 §6.1–6.2, §6.6; seed 004 ("Exempel på andra aktörer").
 */
import { z } from 'zod';
import {
  countyCodeSchema,
  hsaIdSchema,
  municipalityCodeSchema,
  organisationsnummerSchema,
  personIdentifierSchema,
} from '../identifiers.js';
import { contactSchema, dateSchema, localIdSchema, nameSchema, refSchema } from './common.js';

export const personNameSchema = z.strictObject({
  given: nameSchema,
  family: nameSchema,
});
export type PersonName = z.infer<typeof personNameSchema>;

/**
 * Protected identity (skyddade personuppgifter, Skatteverket):
 * - `confidentialityMarking`: sekretessmarkering in the population register;
 * - `protectedRegistration`: skyddad folkbokföring (the person is registered at another address).
 * Either way, no address, phone or free-text location of the person may leave the adapter.
 */
export const protectedIdentitySchema = z.enum(['none', 'confidentialityMarking', 'protectedRegistration']);
export type ProtectedIdentity = z.infer<typeof protectedIdentitySchema>;

/** The person the plan is about (den enskilde). */
export const individualSchema = z.strictObject({
  identifier: personIdentifierSchema,
  name: personNameSchema,
  /**
   * Needed when the identifier is a reservnummer, which carries no birth date; for a personnummer or
   * samordningsnummer it must agree with the number.
   */
  birthDate: dateSchema.optional(),
  contact: contactSchema.optional(),
  protectedIdentity: protectedIdentitySchema.default('none'),
  /**
   * False when the person cannot give a valid consent themselves, for instance because of dementia;
   * a legal representative then consents for them (seed 001 §4.2, last paragraph).
   */
  canConsent: z.boolean().default(true),
  /** Preferred language for the meeting, as a BCP 47 tag (e.g. `sv`, `ar`, `so`). */
  language: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a BCP 47 language tag, e.g. sv or ar').optional(),
});
export type Individual = z.infer<typeof individualSchema>;

/** A unit (verksamhet/enhet) of a principal: vårdcentral, psykiatrisk öppenvård, biståndshandläggning … */
export const unitSchema = z.strictObject({
  id: localIdSchema,
  name: nameSchema,
  hsaId: hsaIdSchema.optional(),
  contact: contactSchema.optional(),
});
export type Unit = z.infer<typeof unitSchema>;

/**
 * A principal (huvudman): the municipality's social services (`municipality`) or the region's health
 * care (`region`). A SIP always has both (seed 001 §3, §6.1).
 */
export const principalSchema = z.strictObject({
  id: localIdSchema,
  kind: z.enum(['municipality', 'region']),
  name: nameSchema,
  organisationsnummer: organisationsnummerSchema.optional(),
  hsaId: hsaIdSchema.optional(),
  /** For a municipality: its four-digit SCB kommunkod. */
  municipalityCode: municipalityCodeSchema.optional(),
  /** For a region: its two-digit SCB länskod. */
  countyCode: countyCodeSchema.optional(),
  units: z.array(unitSchema).default([]),
});
export type Principal = z.infer<typeof principalSchema>;

/** Kinds of other actors named in seed 001 §6.2 and seed 004. */
export const otherActorKindSchema = z.enum([
  'school',
  'socialInsuranceAgency',
  'publicEmploymentService',
  'prisonAndProbationService',
  'institutionalCareBoard',
  'police',
  'dentalCare',
  'privateCareProvider',
  'association',
  'other',
]);
export type OtherActorKind = z.infer<typeof otherActorKindSchema>;

/**
 * An other actor (berörd aktör): takes part without the principals' legal duty — school,
 * Försäkringskassan (`socialInsuranceAgency`), Arbetsförmedlingen (`publicEmploymentService`),
 * Kriminalvården (`prisonAndProbationService`), SiS (`institutionalCareBoard`), police, dental care,
 * associations.
 */
export const otherActorSchema = z.strictObject({
  id: localIdSchema,
  kind: otherActorKindSchema,
  name: nameSchema,
  organisationsnummer: organisationsnummerSchema.optional(),
  hsaId: hsaIdSchema.optional(),
  contact: contactSchema.optional(),
});
export type OtherActor = z.infer<typeof otherActorSchema>;

/** A professional acting for a principal, one of its units, or an other actor. */
export const professionalSchema = z.strictObject({
  id: localIdSchema,
  name: personNameSchema,
  /** Job title as written in the plan, e.g. "kurator", "distriktssköterska", "biståndshandläggare". */
  title: nameSchema.optional(),
  hsaId: hsaIdSchema.optional(),
  /** The principal, unit or other actor the professional acts for. */
  organization: refSchema,
  contact: contactSchema.optional(),
});
export type Professional = z.infer<typeof professionalSchema>;

/**
 * Legal or chosen representatives (seed 001 §4.2, seed 004): god man (`trustee`), förvaltare
 * (`administrator`), framtidsfullmakt (`powerOfAttorney`), personligt ombud (`personalAgent`).
 * The first three may consent for a person who cannot; a personligt ombud supports but does not
 * represent the person in law.
 */
export const representativeKindSchema = z.enum(['trustee', 'administrator', 'powerOfAttorney', 'personalAgent']);
export type RepresentativeKind = z.infer<typeof representativeKindSchema>;

/** Representative kinds whose holder may give consent on the person's behalf. */
export const CONSENTING_REPRESENTATIVE_KINDS: readonly RepresentativeKind[] = ['trustee', 'administrator', 'powerOfAttorney'];

const relatedPersonBase = {
  id: localIdSchema,
  name: personNameSchema,
  identifier: personIdentifierSchema.optional(),
  contact: contactSchema.optional(),
};

/**
 * Someone close to the person: a custodial guardian (vårdnadshavare), a relative or other close
 * person (närstående, in its wide sense of seed 001 §6.6), or a representative.
 */
export const relatedPersonSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...relatedPersonBase, kind: z.literal('guardian') }),
  z.strictObject({
    ...relatedPersonBase,
    kind: z.literal('relative'),
    /** In the person's words: "mamma", "granne", "vän" … */
    relationship: nameSchema,
  }),
  z.strictObject({ ...relatedPersonBase, kind: z.literal('representative'), representativeKind: representativeKindSchema }),
]);
export type RelatedPerson = z.infer<typeof relatedPersonSchema>;

/**
 * The person's own account, from the information and request form (seed 003, "Här kan du beskriva
 * din situation"). Texts are the person's own words and stay in Swedish.
 */
export const ownAccountSchema = z.strictObject({
  submittedAt: dateSchema.optional(),
  /** Kartläggning av mina kontakter. */
  contactsMapping: z.string().trim().max(10_000).optional(),
  /** Vad är min upplevelse? */
  experience: z.string().trim().max(10_000).optional(),
  /** Vilka behov, önskemål och förväntningar har jag? */
  needsWishesExpectations: z.string().trim().max(10_000).optional(),
  /** Hur skulle jag vilja att det var? */
  desiredSituation: z.string().trim().max(10_000).optional(),
  /** Önskemål om vem jag vill ha som samordnare. */
  preferredCoordinator: z.string().trim().max(500).optional(),
  /** Whether the person wants to take part in the meeting (seed 003: it may be held without them). */
  wantsToAttendMeeting: z.boolean().optional(),
});
export type OwnAccount = z.infer<typeof ownAccountSchema>;
