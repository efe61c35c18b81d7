/**
 * Shared master data belongs to whoever wrote it first (DESIGN.md §6): Patient, Organization and
 * Practitioner are conditional creates that a server never updates, so the adapter writes nothing
 * plan-specific on them, and reads nothing plan-specific from them. What a server does is simulated
 * here the simple way: the second plan's shared resources are replaced by the first plan's copies.
 */
import type { Bundle, BundleEntry, FhirResource, Identifier, Reference } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAPPING_OPTIONS, IDENTIFIER_SYSTEM, bundleToPlan, fhirNormalForm, planToBundle } from '../../src/fhir/index.js';
import type { SipPlan } from '../../src/sip/index.js';
import { exampleFiles, readExample } from '../support/examples.js';

const SHARED = new Set(['Patient', 'Organization', 'Practitioner']);
const AT = new Date('2026-05-01T12:00:00+02:00');

const sharedEntries = (bundle: Bundle): BundleEntry[] => (bundle.entry ?? []).filter((entry) => SHARED.has(entry.resource?.resourceType ?? ''));

function identifiersOf(resource: FhirResource | undefined): Identifier[] {
  return resource !== undefined && 'identifier' in resource && Array.isArray(resource.identifier) ? resource.identifier : [];
}

describe.each(exampleFiles)('the shared resources of the Bundle of %s', (file) => {
  const bundle = planToBundle(readExample(file), DEFAULT_MAPPING_OPTIONS, AT);

  it('carry no contact details and no plan assessment', () => {
    for (const entry of sharedEntries(bundle)) {
      expect(entry.resource, entry.fullUrl).not.toHaveProperty('telecom');
      expect(entry.resource, entry.fullUrl).not.toHaveProperty('address');
      expect(entry.resource, entry.fullUrl).not.toHaveProperty('extension');
    }
  });

  it('carry a plan-scoped identifier only where it is the key a server finds them by', () => {
    for (const entry of sharedEntries(bundle)) {
      const scoped = identifiersOf(entry.resource).filter((identifier) => identifier.system === IDENTIFIER_SYSTEM.sipEntity);
      if (scoped.length === 0) continue;
      expect(entry.request?.ifNoneExist, entry.fullUrl).toBe(`identifier=${IDENTIFIER_SYSTEM.sipEntity}|${String(scoped[0]?.value)}`);
    }
  });
});

/**
 * The adult example as another plan of the same person and organisations, in which the psychiatric
 * unit (keyed by its HSA-id, so shared) has another local id and another phone number.
 */
function secondPlan(): SipPlan {
  const text = JSON.stringify(readExample('adult-psychiatry-addiction.json')).replaceAll('"unit-psyk-falun"', '"psykiatrin"');
  const second = JSON.parse(text) as SipPlan;
  second.id = 'sip-falun-2026-0999';
  for (const consent of second.consents) consent.planId = second.id;
  const unit = second.principals.flatMap((principal) => principal.units).find((candidate) => candidate.id === 'psykiatrin');
  if (unit === undefined) throw new Error('the example has the psychiatric unit');
  unit.contact = { phone: '023-99 99 99' };
  return second;
}

/** What a server holds after `first` was posted and then `second`: every shared resource as `first` wrote it. */
function asStoredAfter(first: Bundle, second: Bundle): Bundle {
  const stored = new Map(sharedEntries(first).map((entry) => [entry.request?.ifNoneExist, entry.resource]));
  return {
    ...second,
    entry: (second.entry ?? []).map((entry) => {
      const kept = stored.get(entry.request?.ifNoneExist);
      return kept === undefined ? entry : { ...entry, resource: kept };
    }),
  };
}

describe('two plans naming the same organisations', () => {
  const first = readExample('adult-psychiatry-addiction.json');
  const second = secondPlan();
  const firstBundle = planToBundle(first, DEFAULT_MAPPING_OPTIONS, AT);
  const secondBundle = planToBundle(second, DEFAULT_MAPPING_OPTIONS, AT);

  it('share their Patient, Organizations and Practitioners, keyed by national identifiers', () => {
    const keys = (bundle: Bundle) => sharedEntries(bundle).map((entry) => entry.request?.ifNoneExist);
    expect(keys(secondBundle).filter((key) => keys(firstBundle).includes(key)).length).toBeGreaterThan(5);
  });

  it('the second reads back complete, with its own contact details and local ids, from the first writer\'s shared records', () => {
    const read = bundleToPlan(asStoredAfter(firstBundle, secondBundle));
    if (!read.ok) throw new Error(JSON.stringify(read.outcome.issue));
    expect(read.plan).toEqual(fhirNormalForm(second));
    expect(read.plan.principals.flatMap((principal) => principal.units).find((unit) => unit.id === 'psykiatrin')?.contact).toEqual({ phone: '023-99 99 99' });
  });
});

describe('references to parties', () => {
  const bundle = planToBundle(readExample('adult-psychiatry-addiction.json'), DEFAULT_MAPPING_OPTIONS, AT);

  it('carry the identifier the target is found by, and a display, beside the reference', () => {
    const carePlan = bundle.entry?.find((entry) => entry.resource?.resourceType === 'CarePlan')?.resource;
    if (carePlan?.resourceType !== 'CarePlan') throw new Error('the Bundle has a CarePlan');
    const author = carePlan.author as Reference;
    expect(author.identifier).toEqual({ system: IDENTIFIER_SYSTEM.hsaId, value: 'SE2321000180-1000' });
    expect(author.display).toBe('Region Dalarna');
    expect(carePlan.subject.identifier).toEqual({ system: IDENTIFIER_SYSTEM.personnummer, value: '198503141239' });
  });
});
