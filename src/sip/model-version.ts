/**
 * Which SIP model a stored plan version was written by. The store writes it beside every version;
 * a version written by the model running now was parsed by it before it was stored, and rows are
 * immutable, so reading it back need not parse it again (src/store/sql-plan-store.ts). A version
 * written by any other model is parsed, and one that no longer parses is an UnreadablePlanError.
 *
 * The version is the structure of the model's schema (its JSON Schema, as zod writes it, hashed)
 * and {@link PLAN_MODEL_REVISION}: a change of a field, a type, a default or an enum changes the
 * hash by itself; a change only a refinement makes (a rule inside `superRefine`, a normalisation in
 * a transform) does not show in the JSON Schema, so whoever makes one raises the revision.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { sipPlanSchema } from './model/index.js';

/** Raise when what the model accepts or how it normalises changes without its shape changing. */
export const PLAN_MODEL_REVISION = 1;

let computed: string | undefined;

/** The SIP model running now, as `<revision>:<hash of the schema>`; computed once (some 10 ms). */
export function planModelVersion(): string {
  computed ??= modelVersionOf(sipPlanSchema, PLAN_MODEL_REVISION);
  return computed;
}

/** The version of a model with this schema and revision. */
export function modelVersionOf(schema: z.ZodType, revision: number): string {
  // `unrepresentable: 'any'` is zod's option name, not a TypeScript `any`: the model's transforms have no
  // JSON Schema, and zod throws on them without it. Changing it would change every model version's hash.
  const shape = JSON.stringify(z.toJSONSchema(schema, { unrepresentable: 'any', io: 'output' }));
  return `${String(revision)}:${createHash('sha256').update(shape).digest('hex').slice(0, 32)}`;
}
