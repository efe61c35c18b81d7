/**
 * The entries of a Bundle and how references between them resolve, following
 * https://hl7.org/fhir/R4/bundle.html#references: `urn:uuid:`/`urn:oid:` and absolute URLs match
 * `fullUrl`; a relative `Type/id` is resolved against the referring entry's base URL, or else by
 * type and id; a conditional reference `Type?identifier=system|value` (transactions) and a logical
 * reference (`Reference.identifier`) match an entry by identifier. Version suffixes are ignored.
 */
import type { FhirResource, Identifier, Reference } from 'fhir/r4.js';

export interface IndexedEntry {
  readonly index: number;
  readonly fullUrl: string | undefined;
  readonly resource: FhirResource;
  /** FHIRPath to the resource, e.g. `Bundle.entry[3].resource`. */
  readonly path: string;
}

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:/i;
const RESTFUL = /^https?:\/\/.+\/[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const RESOURCE_URL = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** A resource's identifiers, whether it has a list of them or (QuestionnaireResponse) one. */
export function identifiersOf(resource: FhirResource): readonly Identifier[] {
  const { identifier } = resource as { identifier?: Identifier | Identifier[] };
  if (identifier === undefined) return [];
  return Array.isArray(identifier) ? identifier : [identifier];
}

function hasIdentifier(resource: FhirResource, system: string | undefined, value: string | undefined): boolean {
  return identifiersOf(resource).some((identifier) => identifier.value === value && (system === undefined || identifier.system === system));
}

export class BundleIndex {
  readonly entries: readonly IndexedEntry[];

  constructor(entries: readonly IndexedEntry[]) {
    this.entries = entries;
  }

  ofType<T extends FhirResource['resourceType']>(resourceType: T): (IndexedEntry & { resource: Extract<FhirResource, { resourceType: T }> })[] {
    return this.entries.filter(
      (entry): entry is IndexedEntry & { resource: Extract<FhirResource, { resourceType: T }> } => entry.resource.resourceType === resourceType,
    );
  }

  /**
   * The entry a reference points to, or `undefined` when it is not in the Bundle. A literal reference
   * that names no entry still finds its target by the reference's `identifier`, when it has one
   * (a logical reference, https://hl7.org/fhir/R4/references.html#logical): a Bundle assembled from
   * searches holds the target under the server's URL, not the writer's `urn:uuid`.
   */
  resolve(reference: Reference | undefined, from: IndexedEntry): IndexedEntry | undefined {
    if (reference === undefined) return undefined;
    return (reference.reference === undefined ? undefined : this.#resolveLiteral(reference.reference, from)) ?? this.#resolveLogical(reference);
  }

  #resolveLogical(reference: Reference): IndexedEntry | undefined {
    const { identifier } = reference;
    if (identifier?.value === undefined) return undefined;
    return this.entries.find(
      (entry) => (reference.type === undefined || entry.resource.resourceType === reference.type) && hasIdentifier(entry.resource, identifier.system, identifier.value),
    );
  }

  #resolveLiteral(literal: string, from: IndexedEntry): IndexedEntry | undefined {
    if (literal.startsWith('#')) return undefined;
    const conditional = /^([A-Z][A-Za-z]+)\?identifier=([^&]*)$/.exec(literal);
    if (conditional) {
      const [system, value] = decodeURIComponent(conditional[2] ?? '').split('|', 2);
      return this.entries.find(
        (entry) => entry.resource.resourceType === conditional[1] && hasIdentifier(entry.resource, value === undefined ? undefined : system, value ?? system),
      );
    }
    const unversioned = literal.replace(/\/_history\/[A-Za-z0-9\-.]{1,64}$/, '');
    const exact = this.entries.find((entry) => entry.fullUrl === literal || entry.fullUrl === unversioned);
    // An absolute URL that is no entry's fullUrl points outside the Bundle.
    if (exact !== undefined || ABSOLUTE.test(literal)) return exact;
    const match = RESOURCE_URL.exec(literal);
    if (match === null) return undefined;
    const [, type, id] = match;
    const sameTypeAndId = (entry: IndexedEntry) => entry.resource.resourceType === type && entry.resource.id === id;
    // Entries without a RESTful fullUrl live on the server the Bundle is sent to (or read from).
    const local = this.entries.find((entry) => sameTypeAndId(entry) && (entry.fullUrl === undefined || !RESTFUL.test(entry.fullUrl)));
    if (from.fullUrl !== undefined && RESTFUL.test(from.fullUrl)) {
      // Relative to a RESTful fullUrl: that server's base, never an entry of another server.
      const base = from.fullUrl.replace(RESOURCE_URL, '');
      return this.entries.find((entry) => entry.fullUrl === `${base}/${type ?? ''}/${id ?? ''}`) ?? local;
    }
    return local ?? this.entries.find(sameTypeAndId);
  }
}
