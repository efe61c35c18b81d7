/**
 * SIP-möte and kallelse — the meeting and its summons (seed 001 §4.3–4.5; seed 000 "Mötet").
 */
import { z } from 'zod';
import { contactSchema, dateTimeSchema, localIdSchema, nameSchema, refSchema, textSchema } from './common.js';

/**
 * An invitee and their answer. "Vid förhinder ska en ersättare utses": a principal who cannot come
 * names a substitute (seed 001 §4.4).
 */
export const inviteeSchema = z.strictObject({
  /** The individual (`individual`), or a professional, unit, principal, other actor or related person by id. */
  party: z.union([z.literal('individual'), refSchema]),
  required: z.boolean().default(true),
  response: z.enum(['accepted', 'declined', 'tentative', 'noResponse']).default('noResponse'),
  respondedAt: dateTimeSchema.optional(),
  /** The professional who comes instead when the invitee declined. */
  substitute: refSchema.optional(),
});
export type Invitee = z.infer<typeof inviteeSchema>;

/**
 * What a summons states (seed 001 §4.4): whom it concerns (the plan's individual), time, place or
 * digital meeting, agenda, everyone invited, interpreter and other needs, and the convener's contact
 * details.
 */
export const summonsSchema = z.strictObject({
  sentAt: dateTimeSchema,
  sentBy: refSchema,
  start: dateTimeSchema,
  /**
   * A summons states the time of the meeting (seed 001 §4.4), its end as well as its start: a
   * booked FHIR Appointment needs both (R4 invariant app-3).
   */
  end: dateTimeSchema,
  /** Where the meeting is held; the person's home is preferred where possible (seed 000). */
  location: z.string().trim().max(500).optional(),
  digitalMeetingUrl: z.url({ protocol: /^https$/, message: 'must be an https URL' }).optional(),
  /**
   * The agenda, decided with the person beforehand (seed 001 §4.4); a summons without one is not a
   * summons, and the SIP Appointment profile requires it of a booked meeting (sip-app-1).
   */
  agenda: z.string().trim().min(1, 'a summons states the agenda').max(10_000),
  invitees: z.array(inviteeSchema),
  interpreter: z.strictObject({ language: nameSchema }).optional(),
  otherNeeds: z.string().trim().max(2_000).optional(),
  contact: contactSchema.extend({ name: nameSchema }).optional(),
});
export type Summons = z.infer<typeof summonsSchema>;

export const meetingSchema = z.strictObject({
  id: localIdSchema,
  /** `preMeeting`: förmöte between professionals, with consent (seed 001 §4.3). */
  kind: z.enum(['first', 'followUp', 'preMeeting']),
  status: z.enum(['planned', 'summoned', 'held', 'cancelled']),
  summons: summonsSchema.optional(),
  meetingLeader: refSchema.optional(),
  secretary: refSchema.optional(),
  /** The person the individual can turn to with questions after the meeting (seed 000). */
  contactPersonAfterMeeting: refSchema.optional(),
  notes: textSchema.optional(),
});
export type Meeting = z.infer<typeof meetingSchema>;
