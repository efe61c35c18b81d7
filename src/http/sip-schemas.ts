/**
 * What the SIP JSON API takes and answers, as zod schemas: the routes parse request bodies and
 * queries with them, and the OpenAPI document (./openapi.ts) is generated from them, so the document
 * cannot say other than what the routes do. Request bodies are built from the SIP model's own schemas
 * (src/sip/model/), leaving out what only a transition sets (a meeting's status, when a summons was
 * sent, an invitee's answer before it is given).
 */
import { z } from 'zod';
import type { Problem } from '../sip/index.js';
import { closureSchema, consentGiverSchema, consentSchema, inviteeSchema, meetingSchema, PLAN_STATUSES, refSchema, sipPlanSchema, summonsSchema, TRAFFIC_LIGHTS, textSchema } from '../sip/index.js';

/** The query of `GET /sip/plans`. */
export const planSearchQuerySchema = z.strictObject({
  person: z.string().min(1).optional().describe("The person's personnummer or samordningsnummer in any form (10 or 12 digits, with or without - or +), or reservnummer as the plan writes it"),
  status: z.enum(PLAN_STATUSES).optional().describe('The plan status: draft until both principals approve, active, completed or revoked (closed on consent withdrawal)'),
  principal: z.string().min(1).optional().describe('A principal, by its local id or HSA-id'),
  followUpDueBy: z.iso.date().optional().describe('Plans with a follow-up not yet held on or before this date'),
  consentEndsBy: z.iso.date().optional().describe('Plans whose consent ends on or before this date'),
  overdue: z.enum(['true', 'false']).optional().describe('true: plans with a follow-up whose date has passed and that was not held'),
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('At most this many plans'),
  offset: z.coerce.number().int().min(0).default(0).describe('Skip this many plans'),
});

/** `POST /sip/plans/{id}/approvals`: a principal approves its part of the current version. */
export const approvalRequestSchema = z.strictObject({
  principal: refSchema.describe('The principal that approves (its local id in the plan)'),
  approvedBy: refSchema.describe('The professional who approves for it'),
});

/** `POST /sip/plans/{id}/consents/{consentId}/withdrawal`. */
export const withdrawalRequestSchema = z.strictObject({
  withdrawnBy: consentGiverSchema.describe('Who withdraws: "individual" or a related person (guardian, representative) by id'),
  recordedBy: refSchema.describe('The professional who records the withdrawal'),
  note: textSchema.optional(),
});

/** `POST /sip/plans/{id}/closure`: when is the moment it is recorded. */
export const closureRequestSchema = closureSchema.omit({ closedAt: true });

/** `POST /sip/plans/{id}/consents`: a new consent; it names this plan unless `planId` says otherwise. */
export const consentRequestSchema = consentSchema.omit({ withdrawal: true }).extend({ planId: refSchema.optional().describe('The plan the consent is for; this plan when left out') });

/** `POST /sip/plans/{id}/meetings`: a planned meeting; its summons is sent with its own call. */
export const meetingRequestSchema = meetingSchema.omit({ status: true, summons: true });

/** `POST /sip/plans/{id}/meetings/{meetingId}/summons`: sent at the moment it is recorded, nobody has answered yet. */
export const summonsRequestSchema = summonsSchema.omit({ sentAt: true }).extend({ invitees: z.array(inviteeSchema.pick({ party: true, required: true })) });

/** `PUT /sip/plans/{id}/meetings/{meetingId}/invitees/{party}/response`. */
export const summonsAnswerRequestSchema = z
  .strictObject({
    response: inviteeSchema.shape.response.unwrap().exclude(['noResponse']),
    respondedAt: inviteeSchema.shape.respondedAt.describe('When the invitee answered; the moment it is recorded when left out'),
    substitute: inviteeSchema.shape.substitute.describe('Who comes instead, named by an invitee who declined (seed 001 §4.4)'),
  })
  .refine((answer) => answer.substitute === undefined || answer.response === 'declined', {
    path: ['substitute'],
    message: 'a substitute is named by an invitee who declined',
  });

/** `PUT /sip/plans/{id}/meetings/{meetingId}/status`: the meeting was held (with its roles) or is cancelled. */
export const meetingOutcomeRequestSchema = z.strictObject({
  status: meetingSchema.shape.status.extract(['held', 'cancelled']),
  ...meetingSchema.pick({ meetingLeader: true, secretary: true, contactPersonAfterMeeting: true, notes: true }).shape,
});

/** A problem a SIP rule finds (src/sip/problem.ts). */
export const problemSchema: z.ZodType<Problem> = z.object({
  code: z.string().describe('The rule code, e.g. consent.withdrawn (docs/rules.md)'),
  severity: z.enum(['error', 'warning']),
  message: z.string(),
  pointer: z.string().describe('RFC 6901 JSON pointer into the plan (or the request body); "" is the whole document'),
  source: z.object({ document: z.string(), section: z.string() }).optional().describe('The seed document and section the rule comes from'),
  kind: z.enum(['integrity', 'completeness', 'history']).optional(),
  reportDeviation: z.boolean().optional().describe('A fact of the past to report as a deviation (seed 001 §5.2)'),
});

/** An error answer of the SIP API, `application/problem+json` (RFC 9457), with the rule problems. */
export const problemDocumentSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string(),
  instance: z.string().optional(),
  problems: z.array(problemSchema).optional(),
});

const recordedFields = {
  version: z.int().min(1),
  recordedAt: z.string().describe('When the store recorded this version (the server clock)'),
  recordedBy: z.string().describe("The HSA-id of the organisation that recorded it, or system for the examples"),
  trafficLight: z.enum(TRAFFIC_LIGHTS).describe('red: no principal has approved the version; yellow: one; green: every principal'),
  status: z.enum(PLAN_STATUSES),
  warnings: z.array(problemSchema).optional().describe('Problems of rules that warn; they do not fail the call'),
};

/** A plan as the API answers it: the plan, which version, and what follows from it. */
export const planAnswerSchema = z.object({ plan: sipPlanSchema, ...recordedFields });
export type PlanAnswer = z.output<typeof planAnswerSchema>;

/** What a write answers when the plan it recorded may no longer be sent (its consent was withdrawn): what was recorded, not the plan. */
export const withheldAnswerSchema = z.object({ ...recordedFields, planId: z.string(), withheld: z.string().describe('Why the plan is not in the answer') });

export const searchAnswerSchema = z.object({ count: z.int(), offset: z.int(), limit: z.int(), plans: z.array(planAnswerSchema) });

export const historyAnswerSchema = z.object({ versions: z.array(planAnswerSchema) });
