/**
 * Native fast paths for SIP Bundle invariants (profiles/input/fsh/sip-bundle.fsh). The profile keeps them
 * as FHIRPath, so any FHIR validator can evaluate them; here the ones met on every SIP Bundle are
 * checked on the JSON with indexes built once per Bundle, where fhirpath.js re-evaluates the
 * `%resource.entry…` join for each entry (issue #13). Like src/validation/native.ts, each is looked
 * up by the exact text of its expression, answers only for plain JSON shapes and leaves anything
 * else to FHIRPath; test/validation/native-sip.test.ts compares it with fhirpath.js on the example
 * Bundles, every profile breaker and generated plans.
 */
import { codeSystemUrl, IDENTIFIER_SYSTEM } from '../fhir/canonical.js';
import { ORGANIZATION_TYPE, PARTICIPANT_ROLE } from '../fhir/code-systems.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { StructureDefinition } from 'fhir/r4.js';
import { defaultProfileDirectory } from './definitions.js';
import type { NativeCheck } from './native.js';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function objects(value: unknown): readonly Json[] | undefined {
  if (value === undefined) return [];
  return Array.isArray(value) && value.every(isObject) ? value : undefined;
}

/** `_name` of each name {@link stringOf} is asked (the few literal names of this module), made once: a name built per call was most of its time. */
const shadowNames = new Map<string, string>();

function shadowOf(name: string): string {
  let shadow = shadowNames.get(name);
  if (shadow === undefined) {
    shadow = `_${name}`;
    shadowNames.set(name, shadow);
  }
  return shadow;
}

function stringOf(node: Json, name: string): string | null | undefined {
  if (node[shadowOf(name)] !== undefined) return undefined;
  const value = node[name];
  if (value === undefined) return null;
  return typeof value === 'string' ? value : undefined;
}

/** The entry resources of a Bundle (entries without one skipped), or undefined when a shape is not plain. */
function entryResources(bundle: unknown): { readonly entry: Json; readonly resource: Json | undefined }[] | undefined {
  if (!isObject(bundle)) return undefined;
  const entries = objects(bundle.entry);
  if (entries === undefined) return undefined;
  const out: { entry: Json; resource: Json | undefined }[] = [];
  for (const entry of entries) {
    const { resource } = entry;
    if (resource !== undefined && (!isObject(resource) || typeof resource.resourceType !== 'string')) return undefined;
    out.push({ entry, resource });
  }
  return out;
}

/** sip-bdl-1: `type = 'transaction' or type = 'collection'`. */
const sipBdl1: NativeCheck = (node) => {
  if (!isObject(node)) return undefined;
  const type = stringOf(node, 'type');
  return typeof type === 'string' ? type === 'transaction' || type === 'collection' : undefined;
};

/** sip-bdl-2: `entry.resource.ofType(CarePlan).count() = 1`. */
const sipBdl2: NativeCheck = (node) => {
  const entries = entryResources(node);
  if (entries === undefined) return undefined;
  return entries.filter(({ resource }) => resource?.resourceType === 'CarePlan').length === 1;
};

const COORDINATOR_SYSTEM = codeSystemUrl(PARTICIPANT_ROLE.id);

/** Whether a CareTeam has exactly one participant with a role coded coordinator; undefined when a shape is not plain. */
function oneCoordinator(team: Json): boolean | undefined {
  const participants = objects(team.participant);
  if (participants === undefined) return undefined;
  let count = 0;
  for (const participant of participants) {
    const roles = objects(participant.role);
    if (roles === undefined) return undefined;
    let coordinator = false;
    for (const role of roles) {
      const codings = objects(role.coding);
      if (codings === undefined) return undefined;
      for (const coding of codings) {
        const system = stringOf(coding, 'system');
        const code = stringOf(coding, 'code');
        if (system === undefined || code === undefined) return undefined;
        if (system === COORDINATOR_SYSTEM && code === 'coordinator') coordinator = true;
      }
    }
    if (coordinator) count += 1;
  }
  return count === 1;
}

/**
 * sip-bdl-4: an active plan has a care team in the Bundle with exactly one coordinator —
 * `<active plans>.exists() implies entry.where(fullUrl in %resource.<active plans>.careTeam.reference)
 * .resource.ofType(CareTeam).where(<one coordinator>).exists()`: the plans' careTeam references are
 * gathered once into a Set and each entry's fullUrl looked up in it.
 */
const sipBdl4: NativeCheck = (node, env) => {
  if (env.resource !== node) return undefined;
  const entries = entryResources(node);
  if (entries === undefined) return undefined;
  const teams = new Set<string>();
  let active = false;
  for (const { resource } of entries) {
    if (resource?.resourceType !== 'CarePlan') continue;
    const status = stringOf(resource, 'status');
    if (status === undefined) return undefined;
    if (status !== 'active') continue;
    active = true;
    const careTeams = objects(resource.careTeam);
    if (careTeams === undefined) return undefined;
    for (const careTeam of careTeams) {
      const reference = stringOf(careTeam, 'reference');
      if (reference === undefined) return undefined;
      if (reference !== null) teams.add(reference);
    }
  }
  if (!active) return true;
  let found = false;
  for (const { entry, resource } of entries) {
    const fullUrl = stringOf(entry, 'fullUrl');
    if (fullUrl === undefined) return undefined;
    if (fullUrl === null || !teams.has(fullUrl) || resource?.resourceType !== 'CareTeam') continue;
    const one = oneCoordinator(resource);
    if (one === undefined) return undefined;
    found ||= one;
  }
  return found;
};

const ORGANIZATION_TYPE_SYSTEM = codeSystemUrl(ORGANIZATION_TYPE.id);
const PLAN_SYSTEM = IDENTIFIER_SYSTEM.sipPlan;

/** A value that is one JSON object or absent (a 0..1 complex element); undefined when it is anything else. */
function single(value: unknown): Json | null | undefined {
  if (value === undefined) return null;
  return isObject(value) ? value : undefined;
}

/** `<element>.reference` of a 0..1 Reference: its string, null when absent; undefined when a shape is not plain. */
function referenceOf(node: Json, name: string): string | null | undefined {
  const reference = single(node[name]);
  if (reference === undefined) return undefined;
  return reference === null ? null : stringOf(reference, 'reference');
}

/** FHIRPath `substring(0, 10).replace('-', '').toInteger()` of a string (null: the empty collection). */
function dateNumber(value: string | null): number | null {
  if (value === null || value === '') return null;
  const digits = value.substring(0, 10).replaceAll('-', '');
  return /^[+-]?\d+$/.test(digits) ? parseInt(digits, 10) : null;
}

/**
 * What the SIP Bundle's cross-resource rules (sip-bdl-3, -5 … -8) read of a Bundle, gathered in one
 * pass over its entries, each part named by the FHIRPath it stands for; undefined when any shape the
 * rules would read is not plain JSON (a primitive with an extension, an array where one object is
 * expected, a `partOf` list), which leaves the rule to FHIRPath.
 */
interface SipBundleFacts {
  readonly entries: readonly { readonly resource: Json | undefined; readonly fullUrl: string | null; readonly partOf: string | null; readonly organization: string | null }[];
  /** `%resource.entry.where(resource.ofType(Organization).type.coding.where(system = <organization type> and code = '<kind>').exists()).fullUrl`. */
  readonly principals: { readonly region: ReadonlySet<string>; readonly municipality: ReadonlySet<string> };
  /** `entry.resource.ofType(CarePlan).where(status = 'active')`. */
  readonly activePlans: readonly Json[];
  readonly hasPlan: boolean;
  /** `…where(status = 'active').activity.detail.select(performer.first().reference)`. */
  readonly performers: ReadonlySet<string>;
  /** `…where(status = 'active').author.reference`. */
  readonly authors: readonly string[];
  /** The consents to the plan (`provision.data.where(meaning = 'related')` naming a CarePlan entry or the plan's identifier). */
  readonly consentsToPlan: readonly Json[];
  /** Of those, the ones in force at `%resource.timestamp` (status active, the date within `provision.period`). */
  readonly inForce: readonly Json[];
}

/** `provision.actor.reference.reference` of one provision; undefined when a shape is not plain. */
function actorsOf(provision: Json | null, into: Set<string>): boolean {
  if (provision === null) return true;
  const actors = objects(provision.actor);
  if (actors === undefined) return false;
  for (const actor of actors) {
    const reference = referenceOf(actor, 'reference');
    if (reference === undefined) return false;
    if (reference !== null) into.add(reference);
  }
  return true;
}

function sipBundleFacts(bundle: unknown): SipBundleFacts | undefined {
  if (!isObject(bundle)) return undefined;
  const listed = entryResources(bundle);
  if (listed === undefined) return undefined;
  const entries: { resource: Json | undefined; fullUrl: string | null; partOf: string | null; organization: string | null }[] = [];
  const principals = { region: new Set<string>(), municipality: new Set<string>() };
  const planUrls = new Set<string>();
  const planIds = new Set<string>();
  const activePlans: Json[] = [];
  const consents: Json[] = [];
  let hasPlan = false;
  for (const { entry, resource } of listed) {
    const fullUrl = stringOf(entry, 'fullUrl');
    if (fullUrl === undefined) return undefined;
    let partOf: string | null = null;
    let organization: string | null = null;
    if (resource !== undefined) {
      const part = referenceOf(resource, 'partOf');
      if (part === undefined) return undefined;
      partOf = part;
      if (resource.resourceType === 'PractitionerRole') {
        const org = referenceOf(resource, 'organization');
        if (org === undefined) return undefined;
        organization = org;
      }
    }
    entries.push({ resource, fullUrl, partOf, organization });
    switch (resource?.resourceType) {
      case 'Organization': {
        const types = objects(resource.type);
        if (types === undefined) return undefined;
        for (const type of types) {
          const codings = objects(type.coding);
          if (codings === undefined) return undefined;
          for (const coding of codings) {
            const system = stringOf(coding, 'system');
            const code = stringOf(coding, 'code');
            if (system === undefined || code === undefined) return undefined;
            if (fullUrl !== null && system === ORGANIZATION_TYPE_SYSTEM && (code === 'region' || code === 'municipality')) principals[code].add(fullUrl);
          }
        }
        break;
      }
      case 'CarePlan': {
        hasPlan = true;
        if (fullUrl !== null) planUrls.add(fullUrl);
        const identifiers = objects(resource.identifier);
        if (identifiers === undefined) return undefined;
        for (const identifier of identifiers) {
          const system = stringOf(identifier, 'system');
          const value = stringOf(identifier, 'value');
          if (system === undefined || value === undefined) return undefined;
          if (system === PLAN_SYSTEM && value !== null) planIds.add(value);
        }
        const status = stringOf(resource, 'status');
        if (status === undefined) return undefined;
        if (status === 'active') activePlans.push(resource);
        break;
      }
      case 'Consent':
        consents.push(resource);
        break;
      default:
    }
  }
  const performers = new Set<string>();
  const authors: string[] = [];
  for (const plan of activePlans) {
    const author = referenceOf(plan, 'author');
    if (author === undefined) return undefined;
    if (author !== null) authors.push(author);
    const activities = objects(plan.activity);
    if (activities === undefined) return undefined;
    for (const activity of activities) {
      const detail = single(activity.detail);
      if (detail === undefined) return undefined;
      if (detail === null) continue;
      const performers_ = objects(detail.performer);
      if (performers_ === undefined) return undefined;
      const first = performers_[0];
      if (first === undefined) continue;
      const reference = stringOf(first, 'reference');
      if (reference === undefined) return undefined;
      if (reference !== null) performers.add(reference);
    }
  }
  const timestamp = stringOf(bundle, 'timestamp');
  if (timestamp === undefined) return undefined;
  const sentOn = dateNumber(timestamp);
  const consentsToPlan: Json[] = [];
  const inForce: Json[] = [];
  for (const consent of consents) {
    const provision = single(consent.provision);
    // The actors of every consent are read by sip-bdl-8 (`%resource.entry.resource.ofType(Consent).provision.actor…`): their shape is checked here.
    if (provision === undefined || !actorsOf(provision, new Set())) return undefined;
    const data = provision === null ? [] : objects(provision.data);
    if (data === undefined) return undefined;
    let toPlan = false;
    for (const datum of data) {
      const meaning = stringOf(datum, 'meaning');
      const reference = single(datum.reference);
      if (meaning === undefined || reference === undefined) return undefined;
      if (reference === null) continue;
      const target = stringOf(reference, 'reference');
      const identifier = single(reference.identifier);
      if (target === undefined || identifier === undefined) return undefined;
      const system = identifier === null ? null : stringOf(identifier, 'system');
      const value = identifier === null ? null : stringOf(identifier, 'value');
      if (system === undefined || value === undefined) return undefined;
      if (meaning === 'related' && ((target !== null && planUrls.has(target)) || (system === PLAN_SYSTEM && value !== null && planIds.has(value)))) toPlan = true;
    }
    if (!toPlan) continue;
    consentsToPlan.push(consent);
    const status = stringOf(consent, 'status');
    const period = provision === null ? null : single(provision.period);
    if (status === undefined || period === undefined) return undefined;
    const start = period === null ? null : stringOf(period, 'start');
    const end = period === null ? null : stringOf(period, 'end');
    if (start === undefined || end === undefined) return undefined;
    const from = dateNumber(start);
    const to = dateNumber(end);
    if (status === 'active' && from !== null && to !== null && sentOn !== null && from <= sentOn && sentOn <= to) inForce.push(consent);
  }
  return { entries, principals, activePlans, hasPlan, performers, authors, consentsToPlan, inForce };
}

/** Whether any of `values` is in `set` (FHIRPath `intersect(…).exists()` on strings). */
function meets(values: Iterable<string>, set: ReadonlySet<string>): boolean {
  for (const value of values) if (set.has(value)) return true;
  return false;
}

/** `%resource.entry.where(resource.partOf.exists()).where(resource.partOf.reference in <principals>).fullUrl`: the units of the principals. */
function unitsOf(facts: SipBundleFacts, principals: ReadonlySet<string>): Set<string> {
  const units = new Set<string>();
  for (const { fullUrl, partOf } of facts.entries) if (fullUrl !== null && partOf !== null && principals.has(partOf)) units.add(fullUrl);
  return units;
}

/**
 * Whether `named` names one of `principals`, a unit of one (an entry whose `partOf` is one), or a
 * PractitionerRole of a principal or of such a unit: the three-way disjunction sip-bdl-3 and
 * sip-bdl-8 write for each principal.
 */
function namesPrincipal(facts: SipBundleFacts, principals: ReadonlySet<string>, named: ReadonlySet<string>): boolean {
  if (meets(named, principals)) return true;
  const listed = (fullUrl: string | null): fullUrl is string => fullUrl !== null && named.has(fullUrl);
  for (const { fullUrl, partOf } of facts.entries) if (partOf !== null && listed(fullUrl) && principals.has(partOf)) return true;
  let units: Set<string> | undefined;
  for (const { resource, fullUrl, organization } of facts.entries) {
    if (resource?.resourceType !== 'PractitionerRole' || !listed(fullUrl) || organization === null) continue;
    units ??= unitsOf(facts, principals);
    if (principals.has(organization) || units.has(organization)) return true;
  }
  return false;
}

/**
 * The facts worked out for one evaluation of a Bundle's constraints, kept on its `env` object under
 * this symbol (not enumerable): the walker makes one `env` for all the constraints of an element, so
 * the five rules that read the facts share one pass over the Bundle instead of making it five times.
 * Nothing outlives the evaluation: the facts are garbage with the `env`. Not a module-level `WeakMap`,
 * whose values V8's scavenger promotes to the old space when their key was alive at one scavenge
 * (src/sip/plan-index.ts `INDEX` says how).
 */
const FACTS: unique symbol = Symbol('sipBundleFacts');

interface WithFacts {
  readonly resource: unknown;
  [FACTS]?: { readonly bundle: unknown; readonly facts: SipBundleFacts | undefined };
}

/** The facts of the Bundle the constraint is evaluated on, when it is evaluated on a Bundle as `%resource` (as the profile's root constraints are). */
function factsOf(node: unknown, env: WithFacts): SipBundleFacts | undefined {
  if (env.resource !== node) return undefined;
  const known = env[FACTS];
  if (known !== undefined && known.bundle === node) return known.facts;
  const facts = sipBundleFacts(node);
  if (Object.isExtensible(env)) Object.defineProperty(env, FACTS, { value: { bundle: node, facts }, writable: true, configurable: true });
  return facts;
}

/** sip-bdl-3: an active plan has interventions a region (its unit, or a role of either) performs, and one a municipality does. */
const sipBdl3: NativeCheck = (node, env) => {
  const facts = factsOf(node, env);
  if (facts === undefined) return undefined;
  if (facts.activePlans.length === 0) return true;
  return namesPrincipal(facts, facts.principals.region, facts.performers) && namesPrincipal(facts, facts.principals.municipality, facts.performers);
};

/** sip-bdl-5: every author of an active plan is a region or a municipality of the Bundle. */
const sipBdl5: NativeCheck = (node, env) => {
  const facts = factsOf(node, env);
  if (facts === undefined) return undefined;
  return facts.authors.every((author) => facts.principals.region.has(author) || facts.principals.municipality.has(author));
};

/** sip-bdl-6: a Bundle with a CarePlan holds a consent to it. */
const sipBdl6: NativeCheck = (node, env) => {
  const facts = factsOf(node, env);
  if (facts === undefined) return undefined;
  return !facts.hasPlan || facts.consentsToPlan.length > 0;
};

/** sip-bdl-7: a consent to the plan is in force at the Bundle's timestamp. */
const sipBdl7: NativeCheck = (node, env) => {
  const facts = factsOf(node, env);
  if (facts === undefined) return undefined;
  return facts.consentsToPlan.length === 0 || facts.inForce.length > 0;
};

/** sip-bdl-8: the consents in force name both principals (or a unit or role of each) as actors, and deny neither. */
const sipBdl8: NativeCheck = (node, env) => {
  const facts = factsOf(node, env);
  if (facts === undefined) return undefined;
  if (facts.inForce.length === 0) return true;
  const actors = new Set<string>();
  const denied = new Set<string>();
  for (const consent of facts.inForce) {
    // sipBundleFacts read the root provision of every consent already.
    const provision = single(consent.provision) ?? null;
    if (!actorsOf(provision, actors)) return undefined;
    const nested = provision === null ? [] : objects(provision.provision);
    if (nested === undefined) return undefined;
    for (const exception of nested) {
      const type = stringOf(exception, 'type');
      if (type === undefined) return undefined;
      if (type === 'deny' && !actorsOf(exception, denied)) return undefined;
    }
  }
  // The expression asks a unit or role to be named by a consent (`fullUrl in %resource.entry.resource.ofType(Consent)
  // .provision.actor…`) and by a consent in force: the second implies the first, every consent in force being a consent.
  const covers = (principals: ReadonlySet<string>): boolean => namesPrincipal(facts, principals, actors) && !meets(denied, principals);
  return covers(facts.principals.region) && covers(facts.principals.municipality);
};

const byKey: Readonly<Record<string, NativeCheck>> = {
  'sip-bdl-1': sipBdl1,
  'sip-bdl-2': sipBdl2,
  'sip-bdl-3': sipBdl3,
  'sip-bdl-4': sipBdl4,
  'sip-bdl-5': sipBdl5,
  'sip-bdl-6': sipBdl6,
  'sip-bdl-7': sipBdl7,
  'sip-bdl-8': sipBdl8,
};

/** The native SIP Bundle checks by the exact expression the profile gives their key. */
export const SIP_NATIVE_CHECKS: ReadonlyMap<string, NativeCheck> = new Map(
  sipBundleInvariants().flatMap(({ key, expression }) => {
    const check = byKey[key];
    return check === undefined ? [] : [[expression, check] as const];
  }),
);

/** The invariants of the shipped SIP Bundle profile (`profiles/StructureDefinition-sip-bundle.json`), key and expression. */
export function sipBundleInvariants(): { readonly key: string; readonly expression: string }[] {
  const file = path.join(defaultProfileDirectory(), 'StructureDefinition-sip-bundle.json');
  const definition = JSON.parse(readFileSync(file, 'utf8')) as StructureDefinition;
  const root = definition.differential?.element.find((element) => element.path === 'Bundle');
  return (root?.constraint ?? []).flatMap(({ key, expression }) => (expression === undefined ? [] : [{ key, expression }]));
}
