/**
 * The SIP itself (seed 001 §4.5–4.7, §5.2; seed 000; seed 002): goals, interventions with who is
 * responsible, follow-up, approvals per principal and version, closure and deviations; and, for a
 * plan made at discharge from inpatient care, the discharge (seed 001 §3.3.2, §3.6.1).
 */
import { z } from 'zod';
import { consentSchema, informationClassSchema } from './consent.js';
import { decisionSchema } from './decision.js';
import { dateSchema, dateTimeSchema, localIdSchema, refSchema, textSchema } from './common.js';
import { meetingSchema } from './meeting.js';
import {
  individualSchema,
  otherActorSchema,
  ownAccountSchema,
  principalSchema,
  professionalSchema,
  relatedPersonSchema,
} from './participants.js';

/**
 * The information classes (seed 001 §4.2: "möjlighet att undanta uppgifter") an item's free text
 * belongs to. A consent that excludes one of them removes every item tagged with it before the plan
 * leaves the adapter (src/sip/without-information.ts). Tagged are the items whose own words can hold
 * such information — goals, interventions (with their decision) and deviations. The plan's and the
 * meetings' notes and the person's own account are not tagged: a meeting is a structural part of
 * the process (goals, follow-ups and approvals point to it) and cannot be removed whole, and a note
 * tagged as a whole would take everything else it says with it. Information of an excludable class
 * belongs in a tagged goal, intervention or deviation, not in a note.
 */
export const informationClassesSchema = z.array(informationClassSchema).default([]);

/**
 * The slutenvård (inpatient care, heldygnsvård) the person is discharged from: somatic or
 * psychiatric. Lag (2017:612) om samverkan vid utskrivning från sluten hälso- och sjukvård covers
 * both (seed 001 §3.3.2).
 */
export const inpatientCareSchema = z.enum(['somaticInpatientCare', 'psychiatricInpatientCare']);
export type InpatientCare = z.infer<typeof inpatientCareSchema>;

/**
 * The law under which the person, once discharged, continues in compulsory care outside hospital:
 * öppen psykiatrisk tvångsvård under LPT (lag 1991:1128 om psykiatrisk tvångsvård) or öppen
 * rättspsykiatrisk vård under LRV (lag 1991:1129 om rättspsykiatrisk vård). A person whose
 * compulsory care ends at discharge has none.
 */
export const compulsoryCareSchema = z.enum(['LPT', 'LRV']);
export type CompulsoryCare = z.infer<typeof compulsoryCareSchema>;

/**
 * SIP vid utskrivning från sluten hälso- och sjukvård (seed 001 §3.3.2, lag 2017:612 4 kap.
 * 1–3 §§): the plan is made because the person is discharged from inpatient care and then needs
 * interventions from both the municipality and the region.
 *
 * `compulsoryCare` is set when the person leaves inpatient care for öppen psykiatrisk tvångsvård
 * (LPT) or öppen rättspsykiatrisk vård (LRV): the law then prescribes a samordnad vårdplan instead
 * of a SIP (seed 001 §3.6.1; LPT 7 a §, LRV 12 a §), which the rule `plan.compulsory-care-discharge`
 * warns about. Both kinds of compulsory care are psychiatric inpatient care, so the model refuses
 * `compulsoryCare` after a somatic discharge: that is a contradiction in the data, not a judgement
 * about the plan, hence a schema check rather than a rule.
 */
export const dischargeSchema = z
  .strictObject({
    from: inpatientCareSchema,
    /** The day the person was, or is to be, discharged (utskrivningsdag). */
    dischargedAt: dateSchema.optional(),
    compulsoryCare: compulsoryCareSchema.optional(),
  })
  .refine((discharge) => discharge.compulsoryCare === undefined || discharge.from === 'psychiatricInpatientCare', {
    path: ['compulsoryCare'],
    message: 'compulsory care under LPT or LRV follows only a discharge from psychiatric inpatient care (from: "psychiatricInpatientCare")',
  });
export type Discharge = z.infer<typeof dischargeSchema>;

/** A goal, in the person's own words where possible (seed 001 §3.1, §4.5 point 1). */
export const goalSchema = z.strictObject({
  id: localIdSchema,
  description: textSchema,
  /** Who expressed the goal: the individual, or a related person or professional by id. */
  expressedBy: z.union([z.literal('individual'), refSchema]).default('individual'),
  status: z.enum(['active', 'achieved', 'notAchieved', 'cancelled']).default('active'),
  targetDate: dateSchema.optional(),
  /** The meeting where the goal was set or last revised. */
  setAt: refSchema.optional(),
  /** The goal this one replaces after a follow-up revised it. */
  replaces: refSchema.optional(),
  /** The information classes the goal's words belong to (see {@link informationClassesSchema}). */
  informationClasses: informationClassesSchema,
});
export type Goal = z.infer<typeof goalSchema>;

/**
 * I väntan på beslut (seed 001 §4.5.1): when an intervention cannot be decided at the meeting, the
 * plan says what happens meanwhile, how the time until the decision looks, and when the decision is
 * reported back.
 */
export const pendingDecisionSchema = z.strictObject({
  /** Who decides: "läkare efter bedömning", "biståndshandläggare", "socialnämndens arbetsutskott" … */
  decidedBy: z.string().trim().max(200).optional(),
  meanwhile: z.string().trim().max(5_000).optional(),
  expectedDecisionDate: dateSchema.optional(),
  reportBackBy: dateSchema.optional(),
  reportBackTo: refSchema.optional(),
});
export type PendingDecision = z.infer<typeof pendingDecisionSchema>;

/**
 * An intervention (insats/åtgärd). `responsible` is a principal, one of its units, an other actor, or
 * `individual` for what the person does themselves ("den enskilde vet vilket ansvar hen själv har").
 */
export const interventionSchema = z.strictObject({
  id: localIdSchema,
  description: textSchema,
  responsible: z.union([z.literal('individual'), refSchema]),
  /** The professional who carries it out, when named. */
  performer: refSchema.optional(),
  goals: z.array(refSchema).default([]),
  status: z.enum(['planned', 'ongoing', 'awaitingDecision', 'completed', 'cancelled']),
  start: dateSchema.optional(),
  end: dateSchema.optional(),
  /** How often or when, in words: "två gånger i veckan", "varje vardag 08–09". */
  schedule: z.string().trim().max(500).optional(),
  pendingDecision: pendingDecisionSchema.optional(),
  /**
   * The municipality's decision (beslut) the intervention rests on, once made (GLOSSARY.md,
   * "Municipal decisions"). One per intervention: a new decision on the same need is a new
   * intervention, or replaces this one when the earlier is overturned.
   */
  decision: decisionSchema.optional(),
  /**
   * The information classes the intervention's words, and its decision's, belong to (see
   * {@link informationClassesSchema}); an excluded class removes the intervention with its decision.
   */
  informationClasses: informationClassesSchema,
});
export type Intervention = z.infer<typeof interventionSchema>;

/** A planned follow-up (uppföljning, seed 001 §4.6): its date, and the meeting where it was held. */
export const followUpSchema = z.strictObject({
  date: dateSchema,
  heldAt: refSchema.optional(),
});
export type FollowUp = z.infer<typeof followUpSchema>;

/**
 * A principal's approval of its part of the plan at one version (seed 000: primary care and the
 * municipality approve separately; red / yellow / green). An edit of an approved part withdraws it.
 */
export const approvalSchema = z.strictObject({
  principal: refSchema,
  version: z.int().min(1),
  approvedAt: dateTimeSchema,
  approvedBy: refSchema,
  /**
   * What was approved: a digest of the principal's part and the shared part at approval
   * (`sha256:<hex>`, see src/sip/approval-digest.ts). It binds the approval to its content, so any
   * reader can tell whether a later version left the part unchanged; without one, an approval counts
   * only for the version it names.
   */
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be "sha256:" and 64 lowercase hex digits').optional(),
  withdrawn: z
    .strictObject({
      at: dateTimeSchema,
      reason: z.enum(['editedAfterApproval', 'revokedByPrincipal']),
    })
    .optional(),
});
export type Approval = z.infer<typeof approvalSchema>;

/** Avslutning (seed 001 §4.7): why, when, and who was told. */
export const closureSchema = z.strictObject({
  reason: z.enum(['goalsMet', 'needNoLongerExists', 'consentWithdrawn', 'other']).optional(),
  reasonText: z.string().trim().max(2_000).optional(),
  closedAt: dateTimeSchema,
  closedBy: refSchema,
  informed: z.array(z.union([z.literal('individual'), refSchema])).default([]),
});
export type Closure = z.infer<typeof closureSchema>;

/** Avvikelse (seed 001 §5.2): an unexpected event between principals that risked quality or harm. */
export const deviationSchema = z.strictObject({
  id: localIdSchema,
  reportedAt: dateTimeSchema,
  reportedBy: refSchema,
  concerns: refSchema,
  category: z.enum(['absentFromMeeting', 'interventionNotDelivered', 'decisionDelayed', 'informationNotShared', 'other']),
  description: textSchema,
  status: z.enum(['open', 'underInvestigation', 'closed']).default('open'),
  /** The interim division of responsibility agreed while the deviation is investigated. */
  interimResponsibility: z.string().trim().max(2_000).optional(),
  /**
   * The principal that holds responsibility meanwhile ("tillfällig ansvarsfördelning", seed 001 §5.2),
   * while the deviation is open or under investigation.
   */
  interimResponsiblePrincipal: refSchema.optional(),
  /** The information classes the deviation's words belong to (see {@link informationClassesSchema}). */
  informationClasses: informationClassesSchema,
});
export type Deviation = z.infer<typeof deviationSchema>;

export const sipPlanSchema = z.strictObject({
  /** Optional pointer to a JSON Schema for editors; ignored by the adapter. */
  $schema: z.string().optional(),
  id: localIdSchema,
  /** The plan's version; every change makes a new one. Approvals name the version they approve. */
  version: z.int().min(1),
  /** When this version was recorded. Rules are evaluated at this instant unless told otherwise. */
  updatedAt: dateTimeSchema,
  initiatedAt: dateSchema,
  initiatedBy: z.union([z.literal('individual'), refSchema]),
  /** Set when the plan is made at discharge from inpatient care (seed 001 §3.3.2, §3.6.1). */
  discharge: dischargeSchema.optional(),
  individual: individualSchema,
  relatedPersons: z.array(relatedPersonSchema).default([]),
  ownAccount: ownAccountSchema.optional(),
  principals: z.array(principalSchema),
  otherActors: z.array(otherActorSchema).default([]),
  professionals: z.array(professionalSchema).default([]),
  /** Huvudansvarig/samordnare: the named professional responsible for the SIP process and follow-up. */
  coordinator: refSchema.optional(),
  consents: z.array(consentSchema).default([]),
  meetings: z.array(meetingSchema).default([]),
  goals: z.array(goalSchema).default([]),
  interventions: z.array(interventionSchema).default([]),
  /**
   * True when the plan states that no one but the principals and the individual takes any action
   * (seed 001 §4.5 point 3 is then answered "none" rather than left out).
   */
  noActionsByOthers: z.boolean().default(false),
  overallResponsiblePrincipal: refSchema.optional(),
  followUps: z.array(followUpSchema).default([]),
  approvals: z.array(approvalSchema).default([]),
  closure: closureSchema.optional(),
  deviations: z.array(deviationSchema).default([]),
  notes: textSchema.optional(),
});
export type SipPlan = z.infer<typeof sipPlanSchema>;
/** A plan as written in JSON, before defaults are filled in. */
export type SipPlanInput = z.input<typeof sipPlanSchema>;
