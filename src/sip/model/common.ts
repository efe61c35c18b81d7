/**
 * Building blocks shared by the SIP model's schemas.
 *
 * Every object schema is strict: an unknown field is an error, so a misspelt field name in an
 * integration is caught at the boundary instead of being silently dropped.
 */
import { z } from 'zod';

/**
 * Identifier of an entity inside one plan (a principal, unit, professional, meeting, goal …). One
 * namespace per plan, so a reference is just the id. The character set is FHIR's `id` type, so the
 * same value can become a resource id (https://hl7.org/fhir/R4/datatypes.html#id).
 */
export const localIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be 1–64 letters, digits, "-" or "." (a FHIR id)');

/** A reference to another entity of the same plan, by its `id`. */
export const refSchema = localIdSchema;

/** A calendar date, `YYYY-MM-DD`, meant in Europe/Stockholm. */
export const dateSchema = z.iso.date({ message: 'must be a date written YYYY-MM-DD' });

/** An instant with its offset from UTC, e.g. `2026-03-02T09:30:00+01:00`. */
export const dateTimeSchema = z.iso.datetime({
  offset: true,
  message: 'must be a date and time with offset, e.g. 2026-03-02T09:30:00+01:00',
});

/** Free text written by people; never empty. */
export const textSchema = z.string().trim().min(1, 'must not be empty').max(10_000);

/** A short name or label. */
export const nameSchema = z.string().trim().min(1, 'must not be empty').max(200);

export const contactSchema = z.strictObject({
  phone: z
    .string()
    .regex(/^\+?[0-9 ()-]{5,20}$/, 'must be a phone number of digits, spaces, "-", "(" or ")", optionally with +')
    .optional(),
  email: z.email({ message: 'must be an e-mail address' }).optional(),
  address: z
    .strictObject({
      line: z.array(nameSchema).min(1),
      postalCode: z.string().regex(/^\d{3} ?\d{2}$/, 'must be a Swedish postal code, e.g. 791 71'),
      city: nameSchema,
    })
    .optional(),
});
export type Contact = z.infer<typeof contactSchema>;
