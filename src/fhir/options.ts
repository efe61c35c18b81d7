/**
 * Configuration of the FHIR mapping. National codes are configuration, not constants: the KVÅ code
 * a region reports SIP with, or a SNOMED CT concept, must be verified before it is written into a
 * plan, so the adapter only adds them when told to (DESIGN.md §4, last paragraph).
 */
import { z } from 'zod';

const codingSchema = z.strictObject({
  system: z.url({ message: 'must be the code system URI' }),
  code: z.string().trim().min(1),
  display: z.string().trim().min(1).optional(),
});

export const fhirMappingOptionsSchema = z.strictObject({
  /** Extra codings for `CarePlan.category`, e.g. the KVÅ code for SIP (verify it with Socialstyrelsen). */
  carePlanCategory: z.array(codingSchema).default([]),
});

export type FhirMappingOptions = z.infer<typeof fhirMappingOptionsSchema>;

export const DEFAULT_MAPPING_OPTIONS: FhirMappingOptions = { carePlanCategory: [] };
