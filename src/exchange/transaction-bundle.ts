/**
 * The transaction Bundle a FHIR receiver is sent (issue #14), built from the resource texts kept with
 * the version when it was written (migration 6, src/http/derived-view.ts) instead of mapping the whole
 * plan again: mapping was some 55 % of a delivery's CPU (docs/performance.md, "The exchange").
 *
 * A kept text is the resource as the facade answers it: with the facade's `id`, the version's `meta`
 * (`versionId`, `lastUpdated`) where the split falls, and references relative (`Type/id`). The Bundle
 * has the resource as the mapping wrote it: no `id`, the mapping's own `meta`, and references to the
 * entries' `urn:uuid` fullUrls. {@link resourceFromText} undoes the three. What the Bundle needs that is
 * not kept — the entries, their fullUrls and requests (the plan's keys, cheap), and every resource
 * whose mapping reads the instant (Consent), or whose text is missing — comes from `planEntries` as
 * `planToBundle` makes it. The result equals `planToBundle(plan, options, at)` (test/exchange/
 * transaction-bundle.test.ts, over every example and generated plans).
 *
 * Only for the plan as recorded: a plan from which consent removed information is mapped in full
 * (the kept texts hold what was removed). And only under the default mapping options, which the
 * texts were derived with.
 */
import type { Bundle, BundleEntry, FhirResource } from 'fhir/r4.js';
import { DEFAULT_MAPPING_OPTIONS, PROFILE, entryFor, planEntries, planToBundle, resourceIdOf, type FhirMappingOptions, type PlanEntry } from '../fhir/index.js';
import { stockholmInstant, type SipPlan } from '../sip/index.js';
import type { ResourceText } from './delivery.js';

/** Where a kept text's split falls: the end of its `meta`, after the mapping's own meta (if any). */
function joined(text: ResourceText): string {
  // The head ends with `"meta":{` (the mapping wrote no meta) or with `,` after the mapping's meta.
  return text.head.endsWith(',') ? `${text.head.slice(0, -1)}${text.tail}` : `${text.head}${text.tail}`;
}

/** `reference` values rewritten from the facade's `Type/id` back to the Bundle's `urn:uuid` fullUrls. */
function bundleReferences(value: unknown, fullUrls: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) value[index] = bundleReferences(value[index], fullUrls);
    return value;
  }
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  for (const [key, item] of Object.entries(record)) {
    record[key] = key === 'reference' && typeof item === 'string' ? (fullUrls.get(item) ?? item) : bundleReferences(item, fullUrls);
  }
  return record;
}

/**
 * The resource as the mapping wrote it, from its kept text: the facade's `id` and the version's meta
 * taken out (an empty `meta` with them), references to entries as their fullUrls. Undefined when the
 * text is not of this entry.
 */
export function resourceFromText(text: ResourceText, fullUrls: ReadonlyMap<string, string>): FhirResource | undefined {
  // The parsed-JSON boundary: a text this adapter's writer made under the deriver the claim asked for.
  const parsed = JSON.parse(joined(text)) as Record<string, unknown>;
  if (parsed.resourceType !== text.resourceType || parsed.id !== text.id) return undefined;
  const { id: _id, meta, ...rest } = parsed;
  const keptMeta = typeof meta === 'object' && meta !== null && Object.keys(meta).length > 0 ? { meta } : {};
  const { resourceType, ...body } = rest;
  return bundleReferences({ resourceType, ...keptMeta, ...body }, fullUrls) as FhirResource;
}

/**
 * `planToBundle(plan, options, at)`, with every resource that has a kept text taken from it. `texts`
 * must be of this very plan version as recorded.
 */
export function transactionBundle(plan: SipPlan, options: FhirMappingOptions, at: Date, texts: readonly ResourceText[] | undefined): Bundle {
  if (texts === undefined || texts.length === 0 || options !== DEFAULT_MAPPING_OPTIONS) return planToBundle(plan, options, at);
  const entries = planEntries(plan, options, at);
  const fullUrls = new Map<string, string>();
  const byResource = new Map<string, PlanEntry>();
  for (const planEntry of entries) {
    const id = resourceIdOf(planEntry.key.fullUrl);
    if (id === undefined) continue;
    fullUrls.set(`${planEntry.resourceType}/${id}`, planEntry.key.fullUrl);
    byResource.set(`${planEntry.resourceType}/${id}`, planEntry);
  }
  const kept = new Map<PlanEntry, ResourceText>();
  for (const text of texts) {
    const planEntry = byResource.get(`${text.resourceType}/${text.id}`);
    if (planEntry !== undefined) kept.set(planEntry, text);
  }
  const entry = entries.map((planEntry): BundleEntry => {
    const text = kept.get(planEntry);
    const resource = text === undefined ? undefined : resourceFromText(text, fullUrls);
    // The entry around it (fullUrl, request) depends on the key alone, as the mapping writes it.
    return resource === undefined ? planEntry.entry() : entryFor(planEntry.key, resource);
  });
  return { resourceType: 'Bundle', meta: { profile: [PROFILE.bundle] }, type: 'transaction', timestamp: stockholmInstant(at), entry };
}
