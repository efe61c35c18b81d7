/**
 * What every SIP → FHIR mapping function shares: the plan, its index, and one deterministic key per
 * resource. A key is the business identifier the resource is found by on a FHIR server; its
 * `urn:uuid` fullUrl is a name-based (version 5) UUID of that identifier, so the same plan always
 * gives the same Bundle and two plans naming the same organisation give it the same fullUrl.
 */
import type { Address, BundleEntry, BundleEntryRequest, ContactPoint, Extension, FhirResource, Identifier, Reference, Resource } from 'fhir/r4.js';
import { hash } from 'node:crypto';
import { parse as uuidParse, v5 as uuidv5 } from 'uuid';
import type { Contact, IndexedEntity, PlanIndex, SipPlan } from '../../sip/index.js';
import { keptMembers, planIndexOf } from '../../sip/index.js';
import { CANONICAL_BASE, IDENTIFIER_SYSTEM } from '../canonical.js';
import type { FhirMappingOptions } from '../options.js';

/** Namespace of the adapter's name-based UUIDs (RFC 9562 §5.5), itself derived from the canonical base. */
const UUID_NAMESPACE = uuidv5(CANONICAL_BASE, uuidv5.URL);
const UUID_NAMESPACE_BYTES = uuidParse(UUID_NAMESPACE);

/**
 * The namespace's bytes followed by room for a name (at most three UTF-8 bytes a UTF-16 code unit);
 * one per module, written and hashed synchronously, so no two names ever share it.
 */
const NAME_BYTES = Buffer.alloc(1024);
NAME_BYTES.set(UUID_NAMESPACE_BYTES, 0);

/**
 * `uuidv5(name, UUID_NAMESPACE)`, computed as RFC 9562 §5.5 says (SHA-1 of the namespace's bytes and
 * the name's UTF-8, version and variant bits set) with the namespace's bytes parsed once: every
 * resource key of a plan is one of these, on each FHIR read too, and the `uuid` package's encoding of
 * the name and parsing of the namespace on every call were most of their cost. The name is written
 * after the namespace into one buffer of {@link NAME_BYTES} and hashed in one call (`crypto.hash`),
 * not through a `Hash` object made, fed twice and finished for each name: ≈ 1.2 µs a name instead of
 * ≈ 1.7–2.2, some forty names a transaction Bundle sent (docs/performance.md, "The exchange, fourth
 * round"). Equal to `uuidv5` by a property test (test/fhir/name-uuid.test.ts).
 */
export function nameBasedUuid(name: string): string {
  const digest = name.length * 3 <= NAME_BYTES.length - UUID_NAMESPACE_BYTES.length ? hashOf(name) : hash('sha1', Buffer.concat([UUID_NAMESPACE_BYTES, Buffer.from(name, 'utf8')]), 'buffer');
  digest[6] = ((digest[6] ?? 0) & 0x0f) | 0x50;
  digest[8] = ((digest[8] ?? 0) & 0x3f) | 0x80;
  const hex = digest.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** SHA-1 of the namespace and a name that fits in {@link NAME_BYTES}. */
function hashOf(name: string): Buffer {
  const written = NAME_BYTES.write(name, UUID_NAMESPACE_BYTES.length, 'utf8');
  return hash('sha1', NAME_BYTES.subarray(0, UUID_NAMESPACE_BYTES.length + written), 'buffer');
}

/** What every key's fullUrl begins with: the rest is its UUID. */
const UUID_URN_PREFIX = 'urn:uuid:';

/** How a resource is found on a server: conditional create for shared master data, conditional update for the plan's own. */
export type Upsert = 'create-if-none-exist' | 'update';

export interface ResourceKey {
  readonly resourceType: Resource['resourceType'];
  readonly identifier: Identifier & { system: string; value: string };
  readonly fullUrl: string;
  readonly upsert: Upsert;
  /** The key is a `meta.tag` instead of an identifier (Provenance has no identifier in R4). */
  readonly byTag?: boolean;
}

/**
 * How the mapping writes `Reference.reference` to a resource of the plan:
 *
 * - `fullUrl`: the target's `urn:uuid` fullUrl, as a transaction Bundle needs it (the server it is
 *   sent to resolves it within the Bundle): `planToBundle`, the exchange's Bundles;
 * - `relative`: `Type/id`, the target's type and its id on the FHIR facade ({@link facadeReference}),
 *   as the facade serves a resource. The derived texts are written in this form, so no reference in
 *   them needs finding and rewriting after the mapping (docs/performance.md, "The derived texts
 *   without a reference rewrite").
 *
 * Nothing else of a resource depends on the form.
 */
export type ReferenceForm = 'fullUrl' | 'relative';

export interface WriteContext {
  readonly plan: SipPlan;
  readonly index: PlanIndex;
  readonly options: FhirMappingOptions;
  /**
   * When the Bundle is sent (`Bundle.timestamp`): what is in force, such as a consent, is judged at
   * this instant, not when the plan version was recorded.
   */
  readonly at: Date;
  /** Whether the person has protected identity: no address, telecom or free-text location leaves. */
  readonly protectedIdentity: boolean;
  readonly keys: KeyRegistry;
  /** How references to the plan's resources are written. */
  readonly references: ReferenceForm;
}

/** Keys of every resource of one plan, by resource type and local id. */
export class KeyRegistry {
  readonly #keys = new Map<string, ResourceKey>();
  readonly #fullUrls = new Set<string>();

  /**
   * Registers a resource. `preferred` are national identifiers (HSA-id, organisationsnummer …) that
   * name the same thing on any server; the first one not already taken by another resource of this
   * plan becomes the key, else the plan-scoped `fallback`.
   */
  register(
    resourceType: Resource['resourceType'],
    localId: string,
    fallback: ResourceKey['identifier'],
    options: { preferred?: readonly ResourceKey['identifier'][]; upsert: Upsert; byTag?: boolean },
  ): ResourceKey {
    const candidates = [...(options.preferred ?? []), fallback];
    for (const identifier of candidates) {
      const fullUrl = `${UUID_URN_PREFIX}${nameBasedUuid(`${resourceType}|${identifier.system}|${identifier.value}`)}`;
      if (this.#fullUrls.has(fullUrl) && identifier !== fallback) continue;
      const key: ResourceKey = { resourceType, identifier, fullUrl, upsert: options.upsert, ...(options.byTag ? { byTag: true } : {}) };
      this.#fullUrls.add(fullUrl);
      this.#keys.set(`${resourceType}/${localId}`, key);
      return key;
    }
    throw new Error('unreachable: the fallback key is always accepted');
  }

  get(resourceType: Resource['resourceType'], localId: string): ResourceKey {
    const key = this.#keys.get(`${resourceType}/${localId}`);
    if (key === undefined) throw new Error(`no ${resourceType} was registered for "${localId}"`);
    return key;
  }
}

/** The plan-scoped identifier of one of the plan's entities: `<plan id>/<local id>`. */
export function entityIdentifier(plan: SipPlan, localId: string): ResourceKey['identifier'] {
  return { system: IDENTIFIER_SYSTEM.sipEntity, value: `${plan.id}/${localId}` };
}

/** The local id the person the plan is about is registered under. */
export const INDIVIDUAL = 'individual';

/** Which resource stands for an entity of the plan when it is referred to. */
const RESOURCE_OF_KIND: Readonly<Record<IndexedEntity['kind'], Resource['resourceType']>> = {
  principal: 'Organization',
  unit: 'Organization',
  otherActor: 'Organization',
  professional: 'PractitionerRole',
  relatedPerson: 'RelatedPerson',
  consent: 'Consent',
  meeting: 'Appointment',
  goal: 'Goal',
  intervention: 'CarePlan',
  deviation: 'DetectedIssue',
};

export function entityOf(context: WriteContext, id: string): IndexedEntity {
  const entity = context.index.entities.get(id);
  if (entity === undefined) throw new Error(`"${id}" is not declared in the plan`);
  return entity;
}

/**
 * A reference to the resource that stands for `id` (`individual` or a local id). `asInvitee` asks
 * for what R4 allows as an Appointment participant: an organisation is then its HealthcareService.
 *
 * Besides `reference`, it carries the business `identifier` the target is found by on a server and
 * a `display`, so a reader that cannot reach the target (a search that does not include it) still
 * knows whom it names (https://hl7.org/fhir/R4/references.html#logical).
 */
export function referenceTo(context: WriteContext, id: string, options: { asInvitee?: boolean } = {}): Reference {
  if (id === INDIVIDUAL) return keyReference(context, context.keys.get('Patient', INDIVIDUAL));
  const entity = entityOf(context, id);
  let resourceType = RESOURCE_OF_KIND[entity.kind];
  if (options.asInvitee === true && resourceType === 'Organization') resourceType = 'HealthcareService';
  return keyReference(context, context.keys.get(resourceType, id), displayOf(context.plan, id));
}

/**
 * The facade's relative reference to the resource of `key`: `Type/id`, its id the UUID of its
 * `urn:uuid` fullUrl (as `resourceIdOf` reads it, src/fhir/resource-ids.ts). Every key's fullUrl is
 * such a URN ({@link KeyRegistry.register}).
 */
export function facadeReference(key: ResourceKey): string {
  return `${key.resourceType}/${key.fullUrl.slice(UUID_URN_PREFIX.length)}`;
}

/**
 * A reference to a resource of the plan by its key: the `urn:uuid` fullUrl or the facade's `Type/id`
 * (as `context.references` says), and the business identifier a server finds it by (not for a
 * resource keyed by a tag, which has no identifier in R4).
 */
export function keyReference(context: Pick<WriteContext, 'references'>, key: ResourceKey, display?: string): Reference {
  return {
    reference: context.references === 'relative' ? facadeReference(key) : key.fullUrl,
    type: key.resourceType,
    ...(key.byTag === true ? {} : { identifier: key.identifier }),
    ...(display === undefined ? {} : { display }),
  };
}

/** The name of an organisation or person of the plan, for `Reference.display` and the narrative. */
export function displayOf(plan: SipPlan, id: string): string | undefined {
  if (id === INDIVIDUAL) return undefined;
  for (const principal of plan.principals) {
    if (principal.id === id) return principal.name;
    const unit = principal.units.find((candidate) => candidate.id === id);
    if (unit) return unit.name;
  }
  const named = [...plan.otherActors].find((actor) => actor.id === id);
  if (named) return named.name;
  const person = [...plan.professionals, ...plan.relatedPersons].find((candidate) => candidate.id === id);
  return person ? `${person.name.given} ${person.name.family}` : undefined;
}

/**
 * References are written as the Bundle's fullUrls: a context of the other form is this one with
 * `references` set (`planEntries`' facade resources). The index is the plan object's own
 * (`planIndexOf`): a delivery judges consent on the plan it then maps
 * (src/exchange/consent-at-send.ts), and indexed it once there already.
 */
export function newContext(plan: SipPlan, options: FhirMappingOptions, keys: KeyRegistry, at: Date): WriteContext {
  return { plan, index: planIndexOf(plan), options, at, protectedIdentity: plan.individual.protectedIdentity !== 'none', keys, references: 'fullUrl' };
}

/** The Bundle entry for a resource under its key, with the conditional request that makes replay idempotent. */
export function entryFor(key: ResourceKey, resource: FhirResource): BundleEntry {
  return { fullUrl: key.fullUrl, resource, request: requestFor(key) };
}

/** The `request` of the Bundle entry of `key`: it depends on the key alone. */
export function requestFor(key: ResourceKey): BundleEntryRequest {
  const search = `${key.byTag === true ? '_tag' : 'identifier'}=${queryValue(key.identifier.system)}|${queryValue(key.identifier.value)}`;
  return key.upsert === 'update' ? { method: 'PUT', url: `${key.resourceType}?${search}` } : { method: 'POST', url: key.resourceType, ifNoneExist: search };
}

/**
 * What `encodeURIComponent` leaves as it is, with `:` and `/` (which {@link queryValue} puts back):
 * a value of these alone is its own encoding.
 */
const UNENCODED = /^[A-Za-z0-9\-_.!~*'():/]*$/;

/**
 * Percent-encodes a search parameter value, keeping the `:` and `/` of URIs readable (RFC 3986 §3.4).
 * Most keys' systems and values (OIDs, URLs, HSA-ids, uuids) need no encoding: they are returned as
 * they are, without encoding them and putting `:` and `/` back — twice for every entry of every
 * transaction Bundle sent (docs/performance.md, "The exchange, fourth round"; equal to the encoding by a
 * property test, test/fhir/query-value.test.ts, and by test/fhir/mapping-helpers.test.ts).
 */
export function queryValue(value: string): string {
  return UNENCODED.test(value) ? value : encodeURIComponent(value).replaceAll('%3A', ':').replaceAll('%2F', '/');
}

/** Telecom of a contact; email is kept, phone and address only where allowed. */
export function telecomOf(contact: Contact | undefined): ContactPoint[] | undefined {
  if (contact === undefined) return undefined;
  const telecom: ContactPoint[] = [
    ...(contact.phone === undefined ? [] : [{ system: 'phone' as const, value: contact.phone }]),
    ...(contact.email === undefined ? [] : [{ system: 'email' as const, value: contact.email }]),
  ];
  return telecom.length === 0 ? undefined : telecom;
}

export function addressOf(contact: Contact | undefined): Address | undefined {
  const address = contact?.address;
  if (address === undefined) return undefined;
  return { line: [...address.line], postalCode: address.postalCode, city: address.city, country: 'SE' };
}

const isPresent = (member: unknown): boolean => member !== undefined && !(Array.isArray(member) && member.length === 0);

/**
 * Keeps only the defined properties, and no empty array, so optional SIP fields never become
 * `undefined` members or empty lists: one loop over the keys (`keptMembers`, src/sip/objects.ts), the
 * same keys in the same order as `Object.fromEntries(Object.entries(…).filter(…))` (held equal by
 * test/sip/objects.test.ts).
 */
export function compact<T extends object>(value: T): T {
  return keptMembers(value, isPresent);
}

/** A complex extension from named parts; parts without a value are left out. */
export function complexExtension(url: string, parts: readonly (Extension | undefined)[]): Extension {
  return { url, extension: parts.filter((part): part is Extension => part !== undefined) };
}

export function stringPart(url: string, value: string | undefined): Extension | undefined {
  return value === undefined ? undefined : { url, valueString: value };
}
