/**
 * What every FHIR → SIP reader shares: the Bundle's index, the issues found so far, and the local id
 * each entry became. Issues are OperationOutcome issues whose `expression` is a FHIRPath into the
 * Bundle as received, so nothing that could not be mapped is dropped silently.
 */
import type { Address, CodeableConcept, Coding, ContactPoint, Element, Extension, OperationOutcomeIssue, Reference } from 'fhir/r4.js';
import { IDENTIFIER_SYSTEM } from '../canonical.js';
import type { CodeSystemDefinition } from '../code-systems.js';
import { translateToOwn } from '../concept-maps.js';
import type { BundleIndex, IndexedEntry } from './bundle-index.js';
import { identifiersOf } from './bundle-index.js';

export const LOCAL_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * Shared master data: another writer may own these, so a plan-scoped identifier on one of them may
 * be another plan's and never gives a local id (DESIGN.md §6).
 */
const SHARED_TYPES = new Set(['Patient', 'Organization', 'Practitioner']);

/** What the plan's CareTeam records about one of its members (extension `plan-party`, care-team.ts). */
export interface PartyDetails {
  /** Position among the CareTeam's participants: the plan's order. */
  readonly order: number;
  readonly localId?: string;
  /** The plan's contact details, when the participant has a `plan-party` extension. */
  readonly contact?: { readonly telecom: readonly ContactPoint[]; readonly address: readonly Address[] };
  readonly canConsent?: boolean;
}

export class ReadContext {
  readonly index: BundleIndex;
  readonly issues: OperationOutcomeIssue[] = [];
  readonly #localIds = new Map<IndexedEntry, string>();
  readonly #taken = new Set<string>(['individual']);
  /** Entry of the plan's Patient: references to it become `individual`. */
  patient: IndexedEntry | undefined;
  readonly #parties = new Map<IndexedEntry, PartyDetails>();
  /** Local ids the CareTeam gives members that are not in the Bundle, by the member reference's key. */
  readonly #absentMembers = new Map<string, string>();
  /** Organisations known only from references to them, by the reference's key (see {@link keptParty}). */
  readonly #kept = new Map<string, { id: string; name: string }>();

  constructor(index: BundleIndex) {
    this.index = index;
  }

  issue(severity: OperationOutcomeIssue['severity'], code: OperationOutcomeIssue['code'], expression: string, diagnostics: string): void {
    this.issues.push({ severity, code, diagnostics, expression: [expression] });
  }

  /**
   * The adapter's code in `target` for `codings`, its own or through a ConceptMap (concept-maps.ts).
   * Codes that neither knows are reported at `path`, never dropped silently.
   */
  ownCode(target: CodeSystemDefinition, codings: readonly (Coding | undefined)[] | undefined, path: string): string | undefined {
    const code = translateToOwn(target, codings);
    const present = (codings ?? []).filter((coding): coding is Coding => coding?.code !== undefined);
    if (code === undefined && present.length > 0) {
      const shown = present.map((coding) => `${coding.system ?? '(no system)'}|${coding.code ?? ''}`).join(', ');
      this.issue('warning', 'code-invalid', path, `No SIP code (${target.id}) and no ConceptMap in profiles/ knows ${shown}; it is not read`);
    }
    return code;
  }

  /** Records what the plan's CareTeam says about the member in `entry`. */
  setParty(entry: IndexedEntry, details: PartyDetails): void {
    if (!this.#parties.has(entry)) this.#parties.set(entry, details);
  }

  /** Records the local id the CareTeam gives a member whose resource is not in the Bundle. */
  setAbsentMember(reference: Reference, localId: string): void {
    for (const key of referenceKeys(reference)) this.#absentMembers.set(key, localId);
  }

  /**
   * The organisation a reference names when its target is not in the Bundle (a search that did not
   * include it), kept from what the reference carries: its `display` as the name, and the local id
   * the CareTeam gives it, else one made from its identifier. Each is read once, however many
   * references name it; the plan's other actors list them ({@link keptOrganizations}).
   */
  keptParty(reference: Reference): string | undefined {
    const keys = referenceKeys(reference);
    for (const key of keys) {
      const kept = this.#kept.get(key);
      if (kept !== undefined) return kept.id;
    }
    const type = reference.type ?? /([A-Z][A-Za-z]+)\/[^/]+$/.exec(reference.reference ?? '')?.[1];
    if (type !== 'Organization' && type !== 'HealthcareService') return undefined;
    const name = reference.display ?? reference.identifier?.value;
    if (name === undefined) return undefined;
    const preferred = keys.map((key) => this.#absentMembers.get(key)).find((id) => id !== undefined);
    const fromIdentifier = reference.identifier?.value?.replace(/[^A-Za-z0-9\-.]/g, '-').slice(0, 64);
    const id = [preferred, fromIdentifier, 'organization'].find((candidate): candidate is string => candidate !== undefined && LOCAL_ID.test(candidate) && !this.#taken.has(candidate)) ?? `organization-${String(this.#kept.size + 1)}`;
    this.#taken.add(id);
    const kept = { id, name };
    for (const key of keys) this.#kept.set(key, kept);
    return id;
  }

  /** The organisations read from references alone, each once. */
  keptOrganizations(): { id: string; name: string }[] {
    return [...new Set(this.#kept.values())];
  }

  party(entry: IndexedEntry): PartyDetails | undefined {
    return this.#parties.get(entry);
  }

  /** Sorts entries into the plan's order (the CareTeam's); entries it does not list keep Bundle order, after those it does. */
  inPlanOrder<T>(items: readonly T[], entryOf: (item: T) => IndexedEntry): T[] {
    const position = (item: T): number => this.#parties.get(entryOf(item))?.order ?? Number.MAX_SAFE_INTEGER;
    return items
      .map((item, i) => ({ item, i }))
      .sort((a, b) => position(a.item) - position(b.item) || a.i - b.i)
      .map(({ item }) => item);
  }

  /**
   * The local id an entry becomes: the one the plan's CareTeam gives it, else the `<local id>` of
   * its `sip-entity` identifier when the adapter wrote it on a resource the plan owns, else its
   * resource id, else the uuid of its `urn:uuid` fullUrl; prefixed by its type when that is taken, so
   * ids stay unique in the plan. A shared resource's `sip-entity` identifier is never used: it may be
   * another plan's.
   */
  localIdOf(entry: IndexedEntry, preferred?: string): string {
    const known = this.#localIds.get(entry);
    if (known !== undefined) return known;
    const own = SHARED_TYPES.has(entry.resource.resourceType)
      ? undefined
      : identifiersOf(entry.resource).find((identifier) => identifier.system === IDENTIFIER_SYSTEM.sipEntity)?.value;
    const candidates = [
      preferred,
      this.#parties.get(entry)?.localId,
      own?.slice(own.indexOf('/') + 1),
      entry.resource.id,
      entry.fullUrl?.startsWith('urn:uuid:') === true ? entry.fullUrl.slice('urn:uuid:'.length) : undefined,
    ].filter((candidate): candidate is string => candidate !== undefined && LOCAL_ID.test(candidate));
    const type = entry.resource.resourceType.toLowerCase();
    const id =
      [...candidates, ...candidates.map((candidate) => `${type}-${candidate}`.slice(0, 64))].find((candidate) => !this.#taken.has(candidate)) ??
      `${type}-${String(entry.index)}`;
    this.#taken.add(id);
    this.#localIds.set(entry, id);
    return id;
  }

  /** The local id an entry already has, if it became a SIP entity. */
  knownLocalId(entry: IndexedEntry): string | undefined {
    return this.#localIds.get(entry);
  }
}

/** What identifies a reference's target without the target: its literal reference and its identifier. */
function referenceKeys(reference: Reference): string[] {
  return [
    ...(reference.reference === undefined ? [] : [`ref ${reference.reference}`]),
    ...(reference.identifier?.value === undefined ? [] : [`id ${reference.identifier.system ?? ''}|${reference.identifier.value}`]),
  ];
}

export function extensionsOf(element: Element | undefined, url: string): Extension[] {
  return (element?.extension ?? []).filter((extension) => extension.url === url);
}

export function extensionOf(element: Element | undefined, url: string): Extension | undefined {
  return extensionsOf(element, url)[0];
}

export function partOf(extension: Extension | undefined, name: string): Extension | undefined {
  return extension?.extension?.find((part) => part.url === name);
}

export function partsOf(extension: Extension | undefined, name: string): Extension[] {
  return extension?.extension?.filter((part) => part.url === name) ?? [];
}

export function codeOf(concept: CodeableConcept | undefined, system: string): string | undefined {
  return concept?.coding?.find((coding: Coding) => coding.system === system)?.code;
}

export function hasCode(concepts: readonly CodeableConcept[] | undefined, system: string, code: string): boolean {
  return (concepts ?? []).some((concept) => codeOf(concept, system) === code);
}

/** The inverse of a writer's code table, so reading can never disagree with writing. */
export function invert<K extends string, V extends string>(table: Readonly<Record<K, V>>): Record<V, K> {
  return Object.fromEntries(Object.entries(table).map(([key, value]) => [value, key])) as Record<V, K>;
}
