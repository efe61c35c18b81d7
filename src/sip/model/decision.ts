/**
 * A municipal decision (beslut) on an intervention, as Socialstyrelsen's national information model
 * for social services describes it (../shared/GLOSSARY.md, "Municipal decisions (beslut)"): what it
 * concerns with its statute (`kod`), granted or refused (`bifall`), the reasoning (`motivering`) and
 * the decision time (`tidpunkt`); its status (in force, overturned) is kept apart from the outcome.
 * Scope, validity and provider come from practice: the order (uppdrag) to the provider states the
 * granted time.
 *
 * What a decision concerns is a local code (KSI, Klassifikation av socialtjänstens insatser, has no
 * public code system URI or OID), so the code system is configuration: the municipality's mapping
 * names its own URI.
 */
import { z } from 'zod';
import { dateSchema, dateTimeSchema, refSchema, textSchema } from './common.js';

/**
 * A provision of Swedish law, as SFS number, chapter, section and point. Both numberings of the
 * social services act occur in real data: a decision made before 2025-07-01 keeps its old reference
 * (SoL 2001:453 4 kap. 1 §), a later one cites the new act (SoL 2025:400 11 kap. 1 §); LSS
 * (1993:387) has no chapters (9 § 4). Render one with `citeStatute` (src/sip/law.ts).
 */
export const statuteSchema = z.strictObject({
  /** The act's SFS number: `2025:400` (SoL), `2001:453` (former SoL), `1993:387` (LSS). */
  act: z.string().regex(/^\d{4}:\d{1,4}$/, 'must be an SFS number, e.g. 2025:400'),
  /** The chapter (kapitel); absent for acts without chapters, such as LSS. */
  chapter: z.int().min(1).optional(),
  /** The section (paragraf). */
  section: z.int().min(1),
  /** The point (punkt) of the section, e.g. 4 in LSS 9 § 4 (kontaktperson). */
  point: z.int().min(1).optional(),
});
export type Statute = z.infer<typeof statuteSchema>;

/** What the decision concerns: the municipality's own intervention code with its system, and words. */
export const decisionConcernsSchema = z
  .strictObject({
    /** URI of the municipality's own code system (configuration: no national URI exists for KSI). */
    system: z.url({ message: 'must be the code system URI' }).optional(),
    code: z.string().trim().min(1).max(64).optional(),
    text: textSchema,
  })
  .refine((concerns) => (concerns.system === undefined) === (concerns.code === undefined), {
    path: ['code'],
    message: 'a code needs its code system (system) and a system its code',
  });
export type DecisionConcerns = z.infer<typeof decisionConcernsSchema>;

/**
 * How much is granted: in words ("varje dag 07.30–08.15"), and as hours per week or month where the
 * case system counts them. A partly granted application is recorded as granted with the scope granted.
 */
export const decisionScopeSchema = z
  .strictObject({
    text: z.string().trim().min(1).max(500).optional(),
    hours: z.number().positive().max(744).optional(),
    per: z.enum(['week', 'month']).optional(),
  })
  .refine((scope) => (scope.hours === undefined) === (scope.per === undefined), {
    path: ['per'],
    message: 'granted hours need their period (per: "week" or "month"), and a period its hours',
  });
export type DecisionScope = z.infer<typeof decisionScopeSchema>;

export const decisionSchema = z.strictObject({
  concerns: decisionConcernsSchema,
  statute: statuteSchema,
  /** Bifall or avslag. */
  outcome: z.enum(['granted', 'refused']),
  /** Motivering: why the decision was made as it was. */
  reasoning: textSchema.optional(),
  /** Tidpunkt: when the decision was made. */
  decidedAt: dateTimeSchema,
  /** The professional who made the decision (biståndshandläggare), by id. */
  decidedBy: refSchema.optional(),
  scope: decisionScopeSchema.optional(),
  /** The period the decision is valid for. */
  validFrom: dateSchema.optional(),
  validTo: dateSchema.optional(),
  /** The unit, principal or other actor that provides the intervention (utförare), by id. */
  provider: refSchema.optional(),
  /** In force, or overturned (upphävt, e.g. on appeal); kept apart from the outcome. */
  status: z.enum(['inForce', 'overturned']).default('inForce'),
});
export type Decision = z.infer<typeof decisionSchema>;
