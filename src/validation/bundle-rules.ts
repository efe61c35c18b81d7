/**
 * Rules of https://hl7.org/fhir/R4/bundle.html that are not FHIRPath constraints of the Bundle
 * StructureDefinition (those, bdl-1 … bdl-12, are evaluated as written), checked the way the HL7
 * Java validator checks them (org.hl7.fhir.validation BundleValidator):
 *
 * - `fullUrl` is absolute, and one that looks like a RESTful URL (`http[s]://…/Type/id`) ends with
 *   the resource's type and id (bundle.html#bundle-unique, "fullUrl SHALL NOT disagree with the id
 *   in the resource"); an entry with a resource has a `fullUrl` except in transactions and batches
 *   ("fullUrl can be empty on a POST") and a search's own OperationOutcome ("results from operations
 *   might involve resources that are not identified", Bundle.entry.fullUrl);
 * - no two entries are the same resource: same server, type, id and version (bundle.html#bundle-unique;
 *   a history Bundle holds versions of one resource, so it is exempt, as bdl-7 exempts it);
 * - a `urn:uuid:`/`urn:oid:` reference that names no entry: an error where the Bundle must resolve
 *   it (transaction and batch, http.html#trules; document, documents.html), a warning elsewhere
 *   (a collection or a message may refer to what it does not carry);
 * - links: `self`, `first`, `previous`, `next`, `last` at most once each; paging links only in
 *   searchset and history Bundles (bundle.html#searchset, http.html#paging);
 * - document Bundles (documents.html#content): the Composition's references resolve inside the
 *   Bundle — a version-specific one (`…/_history/2`) to the entry with that `meta.versionId` — and
 *   every entry is reachable from the Composition by following references (an entry reached only
 *   backwards — it refers to the document but nothing in the document refers to it — is a
 *   warning, except a Provenance);
 * - searchset Bundles (bundle.html#searchset, search.html#conformance): a `self` link; entries
 *   with `search.mode` `match` or `include` carry a resource with an id, `match` entries are of
 *   the type searched (from the self link), `outcome` entries are OperationOutcomes.
 *
 * Every join over entries goes through {@link EntryIndex}, built once per Bundle, so the checks
 * are linear in the number of entries and references.
 */
import { STRUCTURE_RULES } from './api.js';
import type { Finding, Findings } from './issues.js';

type Json = Record<string, unknown>;

const BUNDLE = 'http://hl7.org/fhir/StructureDefinition/Bundle';

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** An absolute URI: a scheme, then a colon (RFC 3986 §3.1). */
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:/;
/** A RESTful resource URL: server base, type, id, maybe a version (https://hl7.org/fhir/R4/http.html#general). */
const RESTFUL = /^(https?:\/\/.+)\/([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;
/** A relative reference `Type/id[/_history/v]`. */
const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;

/** Bundle types whose entries are requests, where `fullUrl` may be absent (bundle.html, Bundle.entry.fullUrl). */
const REQUEST_TYPES: ReadonlySet<string> = new Set(['transaction', 'transaction-response', 'batch', 'batch-response']);
/** Bundle types that must resolve their `urn:uuid:` references among their entries. */
const RESOLVING_TYPES: ReadonlySet<string> = new Set(['transaction', 'batch', 'document']);
const PAGING_RELATIONS: ReadonlySet<string> = new Set(['first', 'previous', 'next', 'last']);
const UNIQUE_RELATIONS: ReadonlySet<string> = new Set(['self', ...PAGING_RELATIONS]);

/** A reference met in an entry, with its FHIRPath (`Bundle.entry[3].resource.subject`). */
export interface MetReference {
  readonly reference: string;
  readonly expression: string;
}

interface Entry {
  readonly index: number;
  readonly fullUrl: string | undefined;
  readonly resource: Json | undefined;
  readonly type: string | undefined;
  readonly id: string | undefined;
  /** `meta.versionId` of the resource. */
  readonly version: string | undefined;
}

/** The entries of one Bundle by fullUrl and by `Type/id`, built once. */
class EntryIndex {
  readonly entries: readonly Entry[];
  readonly #byFullUrl = new Map<string, Entry[]>();
  readonly #byTypeAndId = new Map<string, Entry[]>();

  constructor(entries: readonly Entry[]) {
    this.entries = entries;
    for (const entry of entries) {
      if (entry.fullUrl !== undefined) push(this.#byFullUrl, entry.fullUrl, entry);
      if (entry.type !== undefined && entry.id !== undefined) push(this.#byTypeAndId, `${entry.type}/${entry.id}`, entry);
    }
  }

  /**
   * The entry a literal reference names, from the entry `from` (bundle.html#references): an
   * absolute URL is a fullUrl; a relative `Type/id` is resolved against the base of `from`'s
   * RESTful fullUrl, or else matched by type and id. A version-specific reference
   * (`…/_history/2`) names that version: the entry whose `meta.versionId` is 2.
   */
  resolve(reference: string, from: Entry | undefined): Entry | undefined {
    const versioned = /^(.*)\/_history\/([A-Za-z0-9\-.]{1,64})$/.exec(reference);
    const literal = versioned?.[1] ?? reference;
    const pick = (candidates: readonly Entry[] | undefined) => (versioned === null ? candidates?.[0] : candidates?.find((entry) => entry.version === versioned[2]));
    if (ABSOLUTE.test(literal)) return pick(this.#byFullUrl.get(literal));
    if (RELATIVE.exec(literal) === null) return undefined;
    const base = from?.fullUrl === undefined ? undefined : RESTFUL.exec(from.fullUrl)?.[1];
    const onServer = base === undefined ? undefined : this.#byFullUrl.get(`${base}/${literal}`);
    return onServer === undefined ? pick(this.#byTypeAndId.get(literal)) : pick(onServer);
  }

  hasFullUrl(fullUrl: string): boolean {
    return this.#byFullUrl.has(fullUrl);
  }
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set === undefined) map.set(key, new Set([value]));
  else set.add(value);
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function entriesOf(bundle: Json): Entry[] {
  if (!Array.isArray(bundle.entry)) return [];
  return bundle.entry.map((item: unknown, index) => {
    const entry = isObject(item) ? item : {};
    const resource = isObject(entry.resource) ? entry.resource : undefined;
    const meta = resource?.meta;
    return { index, fullUrl: text(entry.fullUrl), resource, type: text(resource?.resourceType), id: text(resource?.id), version: isObject(meta) ? text(meta.versionId) : undefined };
  });
}

/** Where a reference was met: the index of the entry its expression starts in. */
function entryIndexOf(expression: string, prefix: string): number | undefined {
  if (!expression.startsWith(prefix)) return undefined;
  const match = /^(\d+)\]/.exec(expression.slice(prefix.length));
  return match === null ? undefined : Number(match[1]);
}

type Report = (finding: Omit<Finding, 'source'> & { readonly source?: string }) => void;

export interface BundleCheck {
  readonly bundle: Json;
  /** FHIRPath of the Bundle, `Bundle` or `Bundle.entry[2].resource` for a Bundle inside one. */
  readonly expression: string;
  /** Every Reference met inside the entries while they were walked. */
  readonly references: readonly MetReference[];
  /** Whether a name is an R4 resource type. */
  readonly isResourceType: (name: string) => boolean;
}

/** Checks the rules above on one Bundle; findings go to `findings`. */
export function checkBundleRules(check: BundleCheck, findings: Findings): void {
  const report: Report = (finding) => {
    findings.add({ source: BUNDLE, ...finding });
  };
  const type = text(check.bundle.type) ?? '';
  const index = new EntryIndex(entriesOf(check.bundle));
  checkFullUrls(check, type, index, report);
  if (type !== 'history') checkDuplicates(check, index, report);
  checkDanglingReferences(check, type, index, report);
  checkLinks(check, type, report);
  if (type === 'document') checkDocument(check, index, report);
  if (type === 'searchset') checkSearchset(check, index, report);
}

/** fullUrl: present, absolute, and in agreement with the resource's type and id. */
function checkFullUrls(check: BundleCheck, type: string, index: EntryIndex, report: Report): void {
  for (const entry of index.entries) {
    const at = `${check.expression}.entry[${String(entry.index)}]`;
    if (entry.fullUrl === undefined) {
      if (entry.resource !== undefined && !REQUEST_TYPES.has(type) && !isUnidentifiedOutcome(check.bundle, entry, type)) {
        report({ severity: 'error', code: 'required', rule: STRUCTURE_RULES.fullUrlMissing, expression: at, message: `an entry of a ${type || 'Bundle'} Bundle must have a fullUrl (https://hl7.org/fhir/R4/bundle-definitions.html#Bundle.entry.fullUrl)` });
      }
      continue;
    }
    if (!ABSOLUTE.test(entry.fullUrl)) {
      report({ severity: 'error', code: 'invalid', rule: STRUCTURE_RULES.fullUrlNotAbsolute, expression: `${at}.fullUrl`, message: `fullUrl ${JSON.stringify(entry.fullUrl)} is not an absolute URL (https://hl7.org/fhir/R4/bundle-definitions.html#Bundle.entry.fullUrl)` });
      continue;
    }
    const restful = RESTFUL.exec(entry.fullUrl);
    if (restful === null || entry.type === undefined || !check.isResourceType(restful[2] ?? '')) continue;
    const [, , urlType, urlId] = restful;
    if (urlType !== entry.type || urlId !== entry.id) {
      const has = entry.id === undefined ? `a ${entry.type} without an id` : `${entry.type}/${entry.id}`;
      report({ severity: 'error', code: 'invalid', rule: STRUCTURE_RULES.fullUrlMismatch, expression: `${at}.fullUrl`, message: `fullUrl ${entry.fullUrl} names ${String(urlType)}/${String(urlId)}, but the entry holds ${has}; a RESTful fullUrl must end with the resource's type and id (https://hl7.org/fhir/R4/bundle.html#bundle-unique)` });
    }
  }
}

/**
 * "Results from operations might involve resources that are not identified" (Bundle.entry.fullUrl):
 * the OperationOutcome a search returns about itself (`search.mode` `outcome`, or none given).
 */
function isUnidentifiedOutcome(bundle: Json, entry: Entry, type: string): boolean {
  if (type !== 'searchset' || entry.type !== 'OperationOutcome') return false;
  const item: unknown = Array.isArray(bundle.entry) ? bundle.entry[entry.index] : undefined;
  const search = isObject(item) ? item.search : undefined;
  const mode = isObject(search) ? search.mode : undefined;
  return mode === undefined || mode === 'outcome';
}

/**
 * The same resource twice: same server base (from a RESTful fullUrl; none for a urn or no fullUrl),
 * type, id and `meta.versionId`. Entries with the same fullUrl are bdl-7's (a FHIRPath constraint).
 */
function checkDuplicates(check: BundleCheck, index: EntryIndex, report: Report): void {
  const seen = new Map<string, Entry>();
  for (const entry of index.entries) {
    if (entry.type === undefined || entry.id === undefined) continue;
    const base = entry.fullUrl === undefined ? '' : (RESTFUL.exec(entry.fullUrl)?.[1] ?? '');
    const version = entry.version ?? '';
    const key = `${base} ${entry.type}/${entry.id} ${version}`;
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, entry);
      continue;
    }
    if (first.fullUrl !== undefined && first.fullUrl === entry.fullUrl) continue;
    report({
      severity: 'error',
      code: 'duplicate',
      rule: STRUCTURE_RULES.duplicateEntry,
      expression: `${check.expression}.entry[${String(entry.index)}].resource`,
      message: `${entry.type}/${entry.id}${version === '' ? '' : ` version ${version}`}${base === '' ? '' : ` on ${base}`} is already entry ${String(first.index)}; a resource occurs once in a Bundle (https://hl7.org/fhir/R4/bundle.html#bundle-unique)`,
    });
  }
}

function checkDanglingReferences(check: BundleCheck, type: string, index: EntryIndex, report: Report): void {
  const required = RESOLVING_TYPES.has(type);
  for (const { reference, expression } of check.references) {
    if (!/^urn:(?:uuid|oid):/.test(reference) || index.hasFullUrl(reference)) continue;
    report({
      severity: required ? 'error' : 'warning',
      code: 'not-found',
      rule: STRUCTURE_RULES.danglingReference,
      expression,
      message: required
        ? `${reference} is the fullUrl of no entry in this Bundle; a ${type} Bundle must resolve it (https://hl7.org/fhir/R4/bundle.html#references)`
        : `${reference} is the fullUrl of no entry in this Bundle, so it cannot be resolved (https://hl7.org/fhir/R4/bundle.html#references)`,
    });
  }
}

function checkLinks(check: BundleCheck, type: string, report: Report): void {
  const links = Array.isArray(check.bundle.link) ? check.bundle.link : [];
  const seen = new Set<string>();
  links.forEach((link: unknown, position) => {
    const relation = isObject(link) ? text(link.relation) : undefined;
    if (relation === undefined) return;
    const at = `${check.expression}.link[${String(position)}].relation`;
    if (PAGING_RELATIONS.has(relation) && type !== 'searchset' && type !== 'history') {
      report({ severity: 'error', code: 'invalid', rule: STRUCTURE_RULES.bundleLink, expression: at, message: `a ${type} Bundle has no "${relation}" link: paging links belong to searchset and history Bundles (https://hl7.org/fhir/R4/http.html#paging)` });
    } else if (UNIQUE_RELATIONS.has(relation) && seen.has(relation)) {
      report({ severity: 'error', code: 'invalid', rule: STRUCTURE_RULES.bundleLink, expression: at, message: `the link "${relation}" may occur once only (https://hl7.org/fhir/R4/bundle.html#searchset)` });
    }
    seen.add(relation);
  });
}

/** Reference elements of a Composition that must resolve in a document (documents.html#content), by their JSON path. */
function compositionReferences(composition: Json, at: string): MetReference[] {
  const found: MetReference[] = [];
  const add = (value: unknown, expression: string) => {
    if (Array.isArray(value)) {
      value.forEach((item, position) => {
        add(item, `${expression}[${String(position)}]`);
      });
    } else if (isObject(value) && typeof value.reference === 'string' && !value.reference.startsWith('#')) {
      found.push({ reference: value.reference, expression });
    }
  };
  for (const name of ['subject', 'encounter', 'author', 'custodian']) add(composition[name], `${at}.${name}`);
  forEachItem(composition.attester, `${at}.attester`, (attester, where) => {
    add(attester.party, `${where}.party`);
  });
  forEachItem(composition.event, `${at}.event`, (event, where) => {
    add(event.detail, `${where}.detail`);
  });
  const sections = (value: unknown, where: string): void => {
    forEachItem(value, where, (section, here) => {
      add(section.author, `${here}.author`);
      add(section.focus, `${here}.focus`);
      add(section.entry, `${here}.entry`);
      sections(section.section, `${here}.section`);
    });
  };
  sections(composition.section, `${at}.section`);
  return found;
}

function forEachItem(value: unknown, at: string, visit: (item: Json, at: string) => void): void {
  if (!Array.isArray(value)) return;
  value.forEach((item, position) => {
    if (isObject(item)) visit(item, `${at}[${String(position)}]`);
  });
}

/**
 * A document: the Composition (first entry; bdl-11 checks that it is one) refers to entries of
 * the Bundle, and every entry is reached from it. Links are followed forwards (what an entry
 * refers to) and, failing that, backwards (an entry that refers to a reached one), as the Java
 * validator does; R4 allows only forward links, so an entry reached backwards is a warning
 * unless it is a Provenance, which by design points at what it is about.
 */
function checkDocument(check: BundleCheck, index: EntryIndex, report: Report): void {
  const composition = index.entries[0];
  if (composition?.resource === undefined || composition.type !== 'Composition') return;
  const compositionAt = `${check.expression}.entry[0].resource`;
  for (const { reference, expression } of compositionReferences(composition.resource, compositionAt)) {
    if (index.resolve(reference, composition) !== undefined || /^urn:(?:uuid|oid):/.test(reference)) continue; // an unresolved urn is a dangling reference already
    const version = /\/_history\/([A-Za-z0-9\-.]{1,64})$/.exec(reference)?.[1];
    const what = version === undefined ? `${reference} is not an entry of this document` : `${reference} is not an entry of this document: no entry is version ${version} of it`;
    report({ severity: 'error', code: 'not-found', rule: STRUCTURE_RULES.documentReference, expression, message: `${what}; what the Composition refers to must be in the Bundle (https://hl7.org/fhir/R4/documents.html#content)` });
  }

  // Links between entries, both ways, each reference once: the walk below is linear in them.
  const targets = new Map<Entry, Set<Entry>>();
  const sources = new Map<Entry, Set<Entry>>();
  const prefix = `${check.expression}.entry[`;
  for (const { reference, expression } of check.references) {
    const from = index.entries[entryIndexOf(expression, prefix) ?? -1];
    if (from === undefined || reference.startsWith('#')) continue;
    const target = index.resolve(reference, from);
    if (target === undefined || target === from) continue;
    addTo(targets, from, target);
    addTo(sources, target, from);
  }
  const reached = new Set<Entry>();
  /** Entries reached, in the order reached; each is later asked which entries refer to it. */
  const order: Entry[] = [];
  const forwards = (start: Entry) => {
    const stack = [start];
    while (stack.length > 0) {
      const entry = stack.pop();
      if (entry === undefined || reached.has(entry)) continue;
      reached.add(entry);
      order.push(entry);
      for (const target of targets.get(entry) ?? []) stack.push(target);
    }
  };
  forwards(composition);
  // Backwards: an entry that refers to a reached one is reached too, and what it refers to.
  for (let position = 0; position < order.length; position += 1) {
    const reachedEntry = order[position];
    for (const entry of reachedEntry === undefined ? [] : (sources.get(reachedEntry) ?? [])) {
      if (reached.has(entry)) continue;
      if (entry.type !== 'Provenance') {
        report({ severity: 'warning', code: 'invalid', rule: STRUCTURE_RULES.documentOrphan, expression: `${check.expression}.entry[${String(entry.index)}]`, message: `entry ${String(entry.index)} is reached from the Composition only backwards (it refers to the document, nothing in the document refers to it); R4 documents link forwards from the Composition (https://hl7.org/fhir/R4/documents.html#content)` });
      }
      forwards(entry);
    }
  }
  for (const entry of index.entries) {
    if (reached.has(entry) || entry.resource === undefined) continue;
    report({ severity: 'error', code: 'invalid', rule: STRUCTURE_RULES.documentOrphan, expression: `${check.expression}.entry[${String(entry.index)}]`, message: `entry ${String(entry.index)}${entry.fullUrl === undefined ? '' : ` (${entry.fullUrl})`} is not reached from the Composition by following references; a document holds what its Composition refers to (https://hl7.org/fhir/R4/documents.html#content)` });
  }
}

/** The resource types a search URL asks for: its last path segment, or its `_type` parameter. */
function searchedTypes(url: string, isResourceType: (name: string) => boolean): string[] {
  const [path = '', query = ''] = url.split('?', 2);
  const last = path.split('/').at(-1) ?? '';
  if (isResourceType(last)) return [last];
  for (const parameter of query.split('&')) {
    if (parameter.startsWith('_type=')) return decodeURIComponent(parameter.slice(6)).split(',').filter(isResourceType);
  }
  return [];
}

/** A searchset: a self link naming the search, entries with ids, of the searched types, in the mode they say. */
function checkSearchset(check: BundleCheck, index: EntryIndex, report: Report): void {
  const links = Array.isArray(check.bundle.link) ? check.bundle.link.filter(isObject) : [];
  const self = links.find((link) => link.relation === 'self');
  if (self === undefined) {
    report({ severity: 'warning', code: 'invalid', rule: STRUCTURE_RULES.searchsetSelf, expression: check.expression, message: 'a searchset Bundle should have a "self" link, the search that was done (https://hl7.org/fhir/R4/bundle.html#searchset)' });
  }
  const types = typeof self?.url === 'string' ? searchedTypes(self.url, check.isResourceType) : [];
  const modes = index.entries.map((entry) => {
    const item: unknown = Array.isArray(check.bundle.entry) ? check.bundle.entry[entry.index] : undefined;
    const search = isObject(item) ? item.search : undefined;
    return isObject(search) ? text(search.mode) : undefined;
  });
  const anyMode = modes.some((mode) => mode !== undefined);
  for (const entry of index.entries) {
    const mode = modes[entry.index];
    const at = `${check.expression}.entry[${String(entry.index)}]`;
    if (entry.resource === undefined) continue;
    if (mode === undefined && anyMode) {
      report({ severity: 'warning', code: 'invalid', rule: STRUCTURE_RULES.searchsetEntry, expression: `${at}.search`, message: 'every entry of a searchset should say its search.mode when some do (https://hl7.org/fhir/R4/bundle.html#searchset)' });
    }
    const severity = mode === undefined ? 'warning' : 'error';
    if (mode === 'outcome') {
      if (entry.type !== 'OperationOutcome') report({ severity, code: 'invalid', rule: STRUCTURE_RULES.searchsetEntry, expression: `${at}.resource`, message: `an entry with search.mode "outcome" holds an OperationOutcome, not a ${String(entry.type)} (https://hl7.org/fhir/R4/search.html#errors)` });
      continue;
    }
    if (entry.type === 'OperationOutcome' && mode === undefined) continue;
    if (entry.id === undefined) {
      report({ severity, code: 'invalid', rule: STRUCTURE_RULES.searchsetEntry, expression: `${at}.resource`, message: `a resource found by a search has an id (https://hl7.org/fhir/R4/bundle.html#searchset)` });
    }
    if ((mode === 'match' || mode === undefined) && types.length > 0 && entry.type !== undefined && !types.includes(entry.type)) {
      report({ severity, code: 'invalid', rule: STRUCTURE_RULES.searchsetEntry, expression: `${at}.resource`, message: `a ${entry.type} is not a match of a search for ${types.join(', ')}; other resources are search.mode "include" (https://hl7.org/fhir/R4/bundle.html#searchset)` });
    }
  }
}
