/**
 * The transaction Bundle a FHIR receiver is sent (issue #14), as JSON text, written from the resource
 * texts kept with the version when it was written (migration 6, src/http/derived-view.ts) instead of
 * mapping the whole plan again: mapping was some 55 % of a delivery's CPU (docs/performance.md, "The
 * exchange").
 *
 * A kept text is the resource as the facade answers it: `{"resourceType":…,"id":…,"meta":{…` with the
 * facade's `id`, the version's `versionId` and `lastUpdated` where the text is split (at the end of
 * `meta`), and references relative (`Type/id`). The Bundle has the resource as the mapping wrote it:
 * no `id`, the mapping's own `meta` (none when it wrote none), and references to the entries'
 * `urn:uuid` fullUrls. {@link bundleResourceText} undoes the three on the text, without parsing it:
 * in JSON text an unescaped `"reference":"` can only be a key, and the head's opening is checked to
 * be exactly what derived-view.ts writes (else the entry is mapped). What is not kept — the entries'
 * fullUrls and requests (from the plan's keys), and every resource whose mapping reads the instant
 * (Consent) or whose text is missing — comes from `planEntries` as `planToBundle` makes it.
 *
 * The text is `JSON.stringify(planToBundle(plan, options, at))` to the byte (test/exchange/
 * transaction-bundle.test.ts, over every example and generated plans, at several instants). Only for
 * the plan as recorded, or that plan with the consents' exclusion descriptions taken out (only the
 * Consents' mapping reads them, and Consents are always mapped) — a plan from which consent removed
 * information is mapped in full, as the kept texts hold what was removed — and only under the default
 * mapping options the texts were derived with.
 */
import { DEFAULT_MAPPING_OPTIONS, PROFILE, planEntries, planToBundle, requestFor, resourceIdOf, type FhirMappingOptions, type PlanEntry } from '../fhir/index.js';
import { stockholmInstant, type SipPlan } from '../sip/index.js';
import type { ResourceText } from './delivery.js';

/** The Bundle as JSON text, and how many entries it has. */
export interface TransactionBundleText {
  readonly text: string;
  readonly entries: number;
}

/** A `reference` key and its value, in JSON text (an unescaped `"` cannot be inside a string). */
const REFERENCE = /"reference":"([^"\\]*)"/g;

/**
 * The resource's JSON text as the mapping writes it into the Bundle, from its kept text: the facade's
 * `id` and the version's meta taken out (`meta` with them, when the mapping wrote none), references
 * to entries as their fullUrls. Undefined when the text does not open as a kept text of this entry does.
 */
export function bundleResourceText(text: ResourceText, fullUrls: ReadonlyMap<string, string>): string | undefined {
  const type = `{"resourceType":${JSON.stringify(text.resourceType)}`;
  const opening = `${type},"id":${JSON.stringify(text.id)},"meta":{`;
  if (!text.head.startsWith(opening) || !text.tail.startsWith('}')) return undefined;
  // What the mapping put in meta: nothing, or its members and the comma before the version's.
  const meta = text.head.slice(opening.length);
  if (meta !== '' && !meta.endsWith(',')) return undefined;
  const resource = `${type}${meta === '' ? '' : `,"meta":{${meta.slice(0, -1)}}`}${text.tail.slice(1)}`;
  return resource.replace(REFERENCE, (whole, reference: string) => {
    const fullUrl = fullUrls.get(reference);
    return fullUrl === undefined ? whole : `"reference":${JSON.stringify(fullUrl)}`;
  });
}

/**
 * `JSON.stringify(planToBundle(plan, options, at))`, with every resource that has a kept text written
 * from it. `texts` must be of this very plan version as recorded; `plan` may be it with the consents'
 * exclusion descriptions taken out (`withoutExclusionDescriptions`).
 */
export function transactionBundleText(plan: SipPlan, options: FhirMappingOptions, at: Date, texts: readonly ResourceText[] | undefined): TransactionBundleText {
  if (texts === undefined || texts.length === 0 || options !== DEFAULT_MAPPING_OPTIONS) {
    const bundle = planToBundle(plan, options, at);
    return { text: JSON.stringify(bundle), entries: bundle.entry?.length ?? 0 };
  }
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
  const entryTexts = entries.map((planEntry): string => {
    const text = kept.get(planEntry);
    const resource = text === undefined ? undefined : bundleResourceText(text, fullUrls);
    if (resource === undefined) return JSON.stringify(planEntry.entry());
    // The entry around it, as entryFor writes it: fullUrl, resource, request (which depends on the key alone).
    return `{"fullUrl":${JSON.stringify(planEntry.key.fullUrl)},"resource":${resource},"request":${JSON.stringify(requestFor(planEntry.key))}}`;
  });
  const head = JSON.stringify({ resourceType: 'Bundle', meta: { profile: [PROFILE.bundle] }, type: 'transaction', timestamp: stockholmInstant(at) });
  return { text: `${head.slice(0, -1)},"entry":[${entryTexts.join(',')}]}`, entries: entries.length };
}
