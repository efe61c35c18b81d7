/**
 * The SIP code lists a value map can target (`valueMaps.*.target` in the schema), read off the SIP
 * model's own zod schemas so that no code is written twice.
 */
import { z } from 'zod';
import {
  closureSchema,
  decisionSchema,
  consentSchema,
  deviationSchema,
  goalSchema,
  informationClassSchema,
  interventionSchema,
  inviteeSchema,
  meetingSchema,
  otherActorKindSchema,
  principalSchema,
  protectedIdentitySchema,
  relatedPersonSchema,
  representativeKindSchema,
} from '../../sip/index.js';

/** The enum's values, under any `.optional()` or `.default()` around it. */
function enumValues(schema: z.ZodType): readonly string[] {
  let current: z.ZodType | undefined = schema;
  while (current !== undefined && !(current instanceof z.ZodEnum)) {
    current = (current.def as { innerType?: z.ZodType }).innerType;
  }
  return current === undefined ? [] : (current.options as readonly string[]);
}

/** Target name (as the schema's enum spells it) → the SIP codes of that list. */
export const SIP_CODE_LISTS: Readonly<Record<string, readonly string[]>> = {
  'principal.kind': enumValues(principalSchema.shape.kind),
  'otherActor.kind': otherActorKindSchema.options,
  'relatedPerson.kind': relatedPersonSchema.options.map((option) => option.shape.kind.value),
  representativeKind: representativeKindSchema.options,
  'individual.protectedIdentity': protectedIdentitySchema.options,
  'consent.form': enumValues(consentSchema.shape.form),
  'consent.excludedInformation.class': informationClassSchema.options,
  'meeting.kind': enumValues(meetingSchema.shape.kind),
  'meeting.status': enumValues(meetingSchema.shape.status),
  'invitee.response': enumValues(inviteeSchema.shape.response),
  'goal.status': enumValues(goalSchema.shape.status),
  'intervention.status': enumValues(interventionSchema.shape.status),
  'decision.outcome': enumValues(decisionSchema.shape.outcome),
  'decision.status': enumValues(decisionSchema.shape.status),
  'closure.reason': enumValues(closureSchema.shape.reason),
  'deviation.category': enumValues(deviationSchema.shape.category),
  'deviation.status': enumValues(deviationSchema.shape.status),
};
