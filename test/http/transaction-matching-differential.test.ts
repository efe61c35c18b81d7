/**
 * `withBundleReferences` (a reference that is its own entry's fullUrl kept without `BundleIndex.resolve`,
 * members visited through `Object.keys`) and `matchEntries` (the view grouped by type once) against
 * the functions as they were, kept here verbatim as the reference (docs/performance.md, branch
 * `i11-tx7`). Both must give the same Bundle (deep-equal, and the same objects shared with the input
 * where the former shared them) and the same match, on every example plan's SIP Bundle, those Bundles
 * with their references written every way FHIR allows (relative, RESTful fullUrls, conditional,
 * versioned, fragments, duplicated fullUrls), and generated JSON full of reference look-alikes.
 * Since branch `i11-tx8` `matchEntries` searches each type's free resources without listing them and
 * builds keys in loops, and splits a query with nothing to decode itself (`queryPairs`): the same
 * match on Bundles whose conditional requests are written every way a query may be, and the same
 * pairs as `URLSearchParams` on generated queries.
 */
import type { Bundle, BundleEntry, FhirResource, Identifier } from 'fhir/r4.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAPPING_OPTIONS, IDENTIFIER_SYSTEM, planEntries, planToBundle, resourceIdOf, type PlanEntry } from '../../src/fhir/index.js';
import { BundleIndex, type IndexedEntry } from '../../src/fhir/read/bundle-index.js';
import { IDENTIFIED_BEYOND_KEY, matchEntries, queryPairs, withBundleReferences, type EntryMatch } from '../../src/http/fhir-transaction.js';
import { parsePlan, type SipPlan } from '../../src/sip/index.js';
import { mappablePlanArbitrary, referenceLookAlikeJson } from '../support/arbitraries.js';
import { exampleFiles, readExample } from '../support/examples.js';

// The former functions, verbatim but for their names.
function formerMapReferences(value: unknown, rewrite: (reference: string) => string): unknown {
  if (Array.isArray(value)) {
    const items: readonly unknown[] = value;
    let copy: unknown[] | undefined;
    items.forEach((item, index) => {
      const mapped = formerMapReferences(item, rewrite);
      if (mapped === item) return;
      copy ??= [...items];
      copy[index] = mapped;
    });
    return copy ?? items;
  }
  if (typeof value !== 'object' || value === null) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const mapped = key === 'reference' && typeof item === 'string' ? rewrite(item) : formerMapReferences(item, rewrite);
    if (mapped === item) continue;
    copy ??= { ...value };
    copy[key] = mapped;
  }
  return copy ?? value;
}
function formerWithBundleReferences(bundle: Bundle): Bundle {
  const given: unknown = bundle.entry;
  if (!Array.isArray(given)) return bundle;
  const all = given as unknown[];
  const entries: IndexedEntry[] = [];
  all.forEach((entry, index) => {
    if (!isWellFormedEntry(entry)) return;
    entries.push({ index, fullUrl: entry.fullUrl, resource: entry.resource, path: `Bundle.entry[${String(index)}].resource` });
  });
  const index = new BundleIndex(entries);
  const byIndex = new Map(entries.map((entry) => [entry.index, entry]));
  const entry = (all as BundleEntry[]).map((given, position) => {
    const from = byIndex.get(position);
    if (from === undefined) return given;
    const resource = formerMapReferences(given.resource, (reference) => index.resolve({ reference }, from)?.fullUrl ?? reference) as FhirResource;
    return resource === given.resource ? given : { ...given, resource };
  });
  return entry.every((mapped, position) => mapped === all[position]) ? bundle : { ...bundle, entry };
}
function isWellFormedEntry(entry: unknown): entry is BundleEntry & { resource: FhirResource } {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return false;
  const { resource, fullUrl } = entry as { resource?: unknown; fullUrl?: unknown };
  if (fullUrl !== undefined && typeof fullUrl !== 'string') return false;
  return typeof resource === 'object' && resource !== null && !Array.isArray(resource) && typeof (resource as { resourceType?: unknown }).resourceType === 'string';
}
const SAME_SYSTEM: Readonly<Record<string, string>> = { [IDENTIFIER_SYSTEM.hsaIdRivta]: IDENTIFIER_SYSTEM.hsaId };
function identifierKeys(type: string, resource: FhirResource): string[] {
  const identifiers = (resource as { identifier?: Identifier | Identifier[] }).identifier;
  const list = Array.isArray(identifiers) ? identifiers : identifiers === undefined ? [] : [identifiers];
  const tags = type === 'Provenance' ? (resource.meta?.tag ?? []).map((tag) => ({ system: tag.system, value: tag.code })) : [];
  return [...list, ...tags].flatMap((identifier) =>
    identifier.value === undefined ? [] : [`${type}|${SAME_SYSTEM[identifier.system ?? ''] ?? identifier.system ?? ''}|${identifier.value}`],
  );
}
function conditionalKeys(type: string, entry: BundleEntry): string[] {
  const queries = [entry.request?.ifNoneExist, entry.request?.url.includes('?') === true ? entry.request.url.slice(entry.request.url.indexOf('?') + 1) : undefined];
  return queries.flatMap((query) => {
    if (query === undefined) return [];
    return [...new URLSearchParams(query)].flatMap(([name, value]) => {
      if (name !== 'identifier' && name !== '_tag') return [];
      const bar = value.indexOf('|');
      const system = bar < 0 ? '' : value.slice(0, bar);
      return [`${type}|${SAME_SYSTEM[system] ?? system}|${bar < 0 ? value : value.slice(bar + 1)}`];
    });
  });
}
function localIdCandidates(entry: BundleEntry, resource: FhirResource): string[] {
  const fromUrl = entry.fullUrl?.startsWith('urn:uuid:') === true ? entry.fullUrl.slice('urn:uuid:'.length) : undefined;
  const type = resource.resourceType.toLowerCase();
  return [resource.id, fromUrl].flatMap((candidate) => (candidate === undefined ? [] : [candidate, `${type}-${candidate}`]));
}
interface ViewResource {
  readonly resourceType: string;
  readonly id: string;
  readonly keys: readonly string[];
}
function keyOf(key: PlanEntry['key']): string {
  const { system, value } = key.identifier;
  return `${key.resourceType}|${SAME_SYSTEM[system] ?? system}|${value}`;
}
function viewResources(view: readonly PlanEntry[]): ViewResource[] {
  return view.flatMap((planEntry) => {
    const id = resourceIdOf(planEntry.key.fullUrl);
    if (id === undefined) return [];
    const type = planEntry.resourceType;
    const resource = IDENTIFIED_BEYOND_KEY.has(type) ? planEntry.entry().resource : undefined;
    return [{ resourceType: type, id, keys: resource === undefined ? [keyOf(planEntry.key)] : identifierKeys(type, resource) }];
  });
}
function formerMatchEntries(entries: readonly BundleEntry[], plan: SipPlan, planView: readonly PlanEntry[] = planEntries(plan, DEFAULT_MAPPING_OPTIONS)): EntryMatch {
  const view = viewResources(planView);
  const taken = new Set<ViewResource>();
  const found: (ViewResource | undefined)[] = entries.map(() => undefined);
  const claim = (index: number, candidate: ViewResource | undefined): void => {
    if (candidate === undefined || taken.has(candidate) || found[index] !== undefined) return;
    taken.add(candidate);
    found[index] = candidate;
  };
  const resourceOf = (entry: BundleEntry): FhirResource | undefined => entry.resource;
  const steps: ((entry: BundleEntry, resource: FhirResource, free: ViewResource[]) => ViewResource | undefined)[] = [
    (entry, resource, free) => {
      const keys = new Set([...identifierKeys(resource.resourceType, resource), ...conditionalKeys(resource.resourceType, entry)]);
      return free.find((candidate) => candidate.keys.some((key) => keys.has(key)));
    },
    (entry, resource, free) => {
      const ids = new Set([resourceIdOf(entry.fullUrl), resource.id]);
      return free.find((candidate) => ids.has(candidate.id));
    },
    (entry, resource, free) => {
      const keys = new Set(localIdCandidates(entry, resource).map((localId) => `${resource.resourceType}|${IDENTIFIER_SYSTEM.sipEntity}|${plan.id}/${localId}`));
      return free.find((candidate) => candidate.keys.some((key) => keys.has(key)));
    },
    (_entry, _resource, free) => free[0],
  ];
  for (const step of steps) {
    entries.forEach((entry, index) => {
      const resource = resourceOf(entry);
      if (resource === undefined || found[index] !== undefined) return;
      claim(index, step(entry, resource, view.filter((candidate) => candidate.resourceType === resource.resourceType && !taken.has(candidate))));
    });
  }
  const unmatched = found.flatMap((match, index) => (match === undefined ? [index] : []));
  if (unmatched.length > 0) return { ok: false, unmatched };
  return { ok: true, ids: found.map((match) => ({ resourceType: match?.resourceType ?? '', id: match?.id ?? '' })) };
}

/** The same value, deep-equal, and the same objects kept from the input where the former kept them. */
function expectSameRewrite(bundle: Bundle): void {
  const now = withBundleReferences(bundle);
  const former = formerWithBundleReferences(bundle);
  expect(now).toEqual(former);
  expect(now === bundle).toBe(former === bundle);
  const nowEntries: unknown[] = Array.isArray(now.entry) ? now.entry : [];
  const formerEntries: unknown[] = Array.isArray(former.entry) ? former.entry : [];
  const given: unknown[] = Array.isArray(bundle.entry) ? bundle.entry : [];
  nowEntries.forEach((entry, index) => {
    expect(entry === given[index]).toBe(formerEntries[index] === given[index]);
  });
}

const RESTFUL_BASE = 'http://ehr.example/fhir';

/** The example's Bundle with its references and fullUrls written in one of the ways FHIR allows, chosen by `way`. */
function rewritten(bundle: Bundle, way: number): Bundle {
  const entries = bundle.entry ?? [];
  const typeAndId = new Map(entries.map((entry, index) => [entry.fullUrl ?? '', `${entry.resource?.resourceType ?? 'Basic'}/${String(index)}x`]));
  const identifierOf = new Map(
    entries.map((entry) => {
      const identifier = (entry.resource as { identifier?: Identifier[] } | undefined)?.identifier?.[0];
      return [entry.fullUrl ?? '', identifier?.value === undefined ? undefined : `${entry.resource?.resourceType ?? 'Basic'}?identifier=${encodeURIComponent(`${identifier.system ?? ''}|${identifier.value}`)}`];
    }),
  );
  const reference = (value: string, index: number): string => {
    const relative = typeAndId.get(value);
    if (relative === undefined) return value;
    switch ((way + index) % 6) {
      case 0:
        return relative;
      case 1:
        return `${relative}/_history/2`;
      case 2:
        return identifierOf.get(value) ?? relative;
      case 3:
        return `#${relative}`;
      case 4:
        return `${RESTFUL_BASE}/${relative}`;
      default:
        return value;
    }
  };
  let counter = 0;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, key === 'reference' && typeof item === 'string' ? reference(item, (counter += 1)) : rewrite(item)]));
  };
  return {
    ...bundle,
    entry: entries.map((entry, index) => {
      const [type, id] = (typeAndId.get(entry.fullUrl ?? '') ?? '').split('/');
      const resource = rewrite(entry.resource) as FhirResource;
      const fullUrl = way % 3 === 0 ? `${RESTFUL_BASE}/${type ?? ''}/${id ?? ''}` : way % 3 === 1 && index % 7 === 3 ? entries[0]?.fullUrl : entry.fullUrl;
      return { ...entry, ...(fullUrl === undefined ? {} : { fullUrl }), resource: way % 3 === 0 ? ({ ...resource, id }) : resource };
    }),
  };
}

function parsed(json: unknown): SipPlan {
  const result = parsePlan(json);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.plan;
}

describe('withBundleReferences and matchEntries against the functions as they were', () => {
  it('rewrite and match the example Bundles, as written and with their references written every way', () => {
    for (const file of exampleFiles) {
      const plan = readExample(file);
      const bundle = planToBundle(plan);
      for (const given of [bundle, ...[0, 1, 2, 3, 4, 5].map((way) => rewritten(bundle, way))]) {
        expectSameRewrite(given);
        const entries = given.entry ?? [];
        expect(matchEntries(entries, plan)).toEqual(formerMatchEntries(entries, plan));
        expect(matchEntries([...entries].reverse(), plan)).toEqual(formerMatchEntries([...entries].reverse(), plan));
        expect(matchEntries(entries.slice(3), plan)).toEqual(formerMatchEntries(entries.slice(3), plan));
        expect(matchEntries([...entries, ...entries.slice(0, 5)], plan)).toEqual(formerMatchEntries([...entries, ...entries.slice(0, 5)], plan));
      }
    }
  });

  it('rewrite and match the Bundles of generated plans, stripped of identifiers in part', () => {
    fc.assert(
      fc.property(mappablePlanArbitrary, fc.nat(11), (json, way) => {
        const plan = parsed(json);
        const bundle = rewritten(planToBundle(plan), way);
        expectSameRewrite(bundle);
        const entries = (bundle.entry ?? []).map((entry, index) => (index % 3 === way % 3 && entry.resource !== undefined ? { ...entry, resource: { ...entry.resource, identifier: undefined } as FhirResource } : entry));
        expect(matchEntries(entries, plan)).toEqual(formerMatchEntries(entries, plan));
        // Some entries with nothing the plan keeps (another client's resource): paired by type, in order.
        const anonymous = entries.map((entry, index) =>
          index % 2 === way % 2 && entry.resource !== undefined ? { fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(index).padStart(12, '0')}`, resource: { ...entry.resource, id: undefined, identifier: undefined } as FhirResource, request: { method: 'POST' as const, url: entry.resource.resourceType } } : entry,
        );
        expect(matchEntries(anonymous, plan)).toEqual(formerMatchEntries(anonymous, plan));
        expect(matchEntries([...anonymous].reverse(), plan)).toEqual(formerMatchEntries([...anonymous].reverse(), plan));
      }),
      { numRuns: 150 },
    );
  });

  it('rewrite generated JSON full of reference look-alikes, as entries and as anything else', () => {
    const fullUrls = ['urn:uuid:0b0e7f4e-1', 'http://ehr.example/fhir/Patient/p1', 'Patient/p1', '#p1', 'Patient?identifier=x|1', 'urn:uuid:0b0e7f4e-1/_history/1'];
    const resource = fc.record({ resourceType: fc.constantFrom('Patient', 'Goal', 'CarePlan'), id: fc.option(fc.constantFrom('p1', '0b0e7f4e-1'), { nil: undefined }), identifier: fc.constant([{ system: 'x', value: '1' }]), body: referenceLookAlikeJson(fullUrls), reference: fc.constantFrom(...fullUrls, 'Patient/p2') });
    const entry = fc.oneof(
      fc.record({ fullUrl: fc.option(fc.constantFrom(...fullUrls), { nil: undefined }), resource }),
      referenceLookAlikeJson(fullUrls),
    );
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 6 }), (entries) => {
        expectSameRewrite({ resourceType: 'Bundle', type: 'transaction', entry: entries as BundleEntry[] });
      }),
      { numRuns: 3_000 },
    );
  });
  it('split queries as URLSearchParams does', () => {
    const characters = ['a', 'b', 'identifier', '_tag', '=', '&', '?', '|', '%', '%7C', '%zz', '+', ' ', '\ud83d\ude00', '\ud800', '\udc00', 'é', '#'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...characters), { maxLength: 14 }), (parts) => {
        const query = parts.join('');
        expect(queryPairs(query)).toEqual([...new URLSearchParams(query)]);
      }),
      { numRuns: 20_000 },
    );
    for (const query of ['', '?', '??a=b', '&&', '=', 'a==b', 'identifier=x|1&&_tag=y|2&', '?identifier=x%7C1', 'identifier=x+y|1']) {
      expect(queryPairs(query)).toEqual([...new URLSearchParams(query)]);
    }
  });

  it('match the example Bundles with their conditional requests written every way a query may be', () => {
    const ways: ((query: string) => string)[] = [
      (query) => query,
      (query) => `?${query}`,
      (query) => `&${query}&&`,
      (query) => query.replace('|', '%7C'),
      (query) => query.replace('=', '=x&identifier='),
      (query) => `_tag=${query.slice(query.indexOf('=') + 1)}`,
      (query) => `other=1&${query.replaceAll('-', '+')}`,
      (query) => query.replace('identifier=', 'identifier'),
    ];
    for (const file of exampleFiles) {
      const plan = readExample(file);
      const entries = planToBundle(plan).entry ?? [];
      ways.forEach((way, index) => {
        const written = entries.map((entry, position) => {
          const request = entry.request;
          if (request === undefined) return entry;
          const query = request.ifNoneExist ?? (request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : undefined);
          if (query === undefined) return entry;
          // Half the entries carry it as ifNoneExist, half in the URL; every other one without its identifiers, so the query decides.
          const resource = position % 2 === 0 && entry.resource !== undefined ? ({ ...entry.resource, identifier: undefined } as FhirResource) : entry.resource;
          const type = entry.resource?.resourceType ?? 'Basic';
          const conditional = (position + index) % 2 === 0 ? { method: 'POST' as const, url: type, ifNoneExist: way(query) } : { method: 'PUT' as const, url: `${type}?${way(query)}` };
          return { ...entry, ...(resource === undefined ? {} : { resource }), request: conditional };
        });
        expect(matchEntries(written, plan)).toEqual(formerMatchEntries(written, plan));
        expect(matchEntries([...written].reverse(), plan)).toEqual(formerMatchEntries([...written].reverse(), plan));
      });
    }
  });
});
