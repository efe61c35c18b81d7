/**
 * Native fast paths for SIP Bundle invariants (profiles/input/fsh/sip-bundle.fsh). The profile keeps them
 * as FHIRPath, so any FHIR validator can evaluate them; here the ones met on every SIP Bundle are
 * checked on the JSON with indexes built once per Bundle, where fhirpath.js re-evaluates the
 * `%resource.entry…` join for each entry (issue #13). Like src/validation/native.ts, each is looked
 * up by the exact text of its expression, answers only for plain JSON shapes and leaves anything
 * else to FHIRPath; test/validation/native-sip.test.ts compares it with fhirpath.js on the example
 * Bundles, every profile breaker and generated plans.
 */
import { codeSystemUrl } from '../fhir/canonical.js';
import { PARTICIPANT_ROLE } from '../fhir/code-systems.js';
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

function stringOf(node: Json, name: string): string | null | undefined {
  if (node[`_${name}`] !== undefined) return undefined;
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

const byKey: Readonly<Record<string, NativeCheck>> = { 'sip-bdl-1': sipBdl1, 'sip-bdl-2': sipBdl2, 'sip-bdl-4': sipBdl4 };

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
