/** SIP ⇄ FHIR R4: the mapping both ways, its code systems, canonical URLs and options. */
export * from './canonical.js';
export * from './code-systems.js';
export * from './concept-maps.js';
export * from './options.js';
export * from './normal-form.js';
export { WRITTEN_RESOURCE_TYPES } from './write/bundle.js';
export { planToBundle } from './write/plan-entries.js';
export { planEntries, type PlanEntry } from './write/plan-entries.js';
export { requestFor } from './write/context.js';
export { PROTECTED_LOCATION_TEXT } from './write/appointment.js';
export { toNarrative } from './write/narrative.js';
export { carePlanPeriod } from './write/care-plan.js';
export { toRequestQuestionnaire } from './write/own-account.js';
export { MAPPING_TABLE, renderMappingTable } from './mapping-table.js';
export type { FhirReadResult } from './read/read-plan.js';
export { bundleToPlan } from './read/read-plan.js';
export { RULE_CODE_SYSTEM, readCheckedPlan, ruleIssue } from './rule-issues.js';
export { planResourceIds, resourceIdOf, resourceIdsOf, type ResourceId } from './resource-ids.js';
