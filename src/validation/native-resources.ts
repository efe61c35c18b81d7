/**
 * Native checks of the constraints on a SIP Bundle's resources that fhirpath.js still evaluated on
 * every new Bundle (issue #11): the one-line SIP rules whose keys hold the plan's own references or
 * dates, so the result cache never answers them (sip-app-2, sip-tsk-1, sip-cpl-4/6/7, sip-con-2/3/4/6,
 * sip-pat-1), and R4's tim-9 (as repaired, src/validation/repaired-constraints.ts) and Task inv-1.
 * Each one ran once or twice per Bundle through fhirpath.js at 0.03–0.8 ms a call.
 *
 * As in src/validation/native.ts, a check is looked up by the exact text of the expression it
 * replaces (a profile that words a rule otherwise is evaluated as written), and answers only for
 * plain JSON — strings where strings belong, arrays of objects where elements repeat, no `_name`
 * beside a value it reads, no null — leaving anything else (`undefined`) to FHIRPath.
 * test/validation/native-resources.test.ts holds every answer equal to fhirpath.js's on the official
 * R4 examples, the example plans' Bundles, those broken by every profile breaker, generated plans and
 * generated resources in every shape, and shows each check failing where the rule fails.
 */
import r4 from 'fhirpath/fhir-context/r4/index.js';
import { codeSystemUrl, EXTENSION } from '../fhir/canonical.js';
import { COMPULSORY_CARE as COMPULSORY_CARE_SYSTEM } from '../fhir/code-systems.js';
import type { NativeCheck } from './native.js';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The items of a repeating element: [] when absent, undefined when not a plain array of objects. */
function objects(value: unknown): readonly Json[] | undefined {
  if (value === undefined) return [];
  return Array.isArray(value) && value.every(isObject) ? value : undefined;
}

/** A 0..1 complex element: the object, null when absent, undefined when anything else. */
function single(value: unknown): Json | null | undefined {
  if (value === undefined) return null;
  return isObject(value) ? value : undefined;
}

/** A singleton primitive as a string: its value, null when absent, undefined when not plain (`_name`, a non-string). */
function stringOf(node: Json, name: string): string | null | undefined {
  if (node[`_${name}`] !== undefined) return undefined;
  const value = node[name];
  if (value === undefined) return null;
  return typeof value === 'string' ? value : undefined;
}

/** `extension('<url>')` of a node: its extensions with that url; undefined when a shape is not plain. */
function extensionsOf(node: Json, url: string): Json[] | undefined {
  const extensions = objects(node.extension);
  if (extensions === undefined) return undefined;
  const found: Json[] = [];
  for (const extension of extensions) {
    const at = stringOf(extension, 'url');
    if (at === undefined) return undefined;
    if (at === url) found.push(extension);
  }
  return found;
}

/** `extension('<url>').extension('<inner>')` of a node; undefined when a shape is not plain. */
function innerExtensionsOf(node: Json, url: string, inner: string): Json[] | undefined {
  const outer = extensionsOf(node, url);
  if (outer === undefined) return undefined;
  const found: Json[] = [];
  for (const extension of outer) {
    const nested = extensionsOf(extension, inner);
    if (nested === undefined) return undefined;
    found.push(...nested);
  }
  return found;
}

/** The JSON names of Extension.value[x] in the R4 model fhirpath.js uses (`valueString`, `valueCoding` …). */
const EXTENSION_VALUE_NAMES: readonly string[] = (r4.choiceTypePaths['Extension.value'] ?? []).map((type) => `value${type}`);

/** `.value.exists()` of an Extension: whether it has a value; undefined when one is not plain (`_valueX`, null, an array). */
function hasValue(extension: Json): boolean | undefined {
  let found = false;
  for (const name of Object.keys(extension)) {
    if (name.startsWith('_value')) return undefined;
    if (!name.startsWith('value')) continue;
    const value = extension[name];
    // A name the model does not know (`value` alone, `valueFoo`) is left to fhirpath.js's own reading.
    if (value === null || Array.isArray(value) || !EXTENSION_VALUE_NAMES.includes(name)) return undefined;
    found = true;
  }
  return found;
}

/**
 * `<status> = '<code>' implies <then>`: true when the status is absent (an empty left side with a
 * true or empty right side never gives false, and `then` is always true or false here) or another code.
 */
function statusImplies(node: unknown, code: string, then: (node: Json) => boolean | undefined): boolean | undefined {
  if (!isObject(node)) return undefined;
  const status = stringOf(node, 'status');
  if (status === undefined) return undefined;
  if (status !== code) {
    // An absent status: `{} implies X` is true when X is, else empty, which is not a failure either.
    return status === null ? (then(node) === undefined ? undefined : true) : true;
  }
  return then(node);
}

const VIRTUAL_SERVICE = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.virtualService';

/**
 * sip-app-2: a booked meeting has a place — `status = 'booked' implies (participant.actor.where(type =
 * 'Location' or reference.startsWith('Location/')).exists() or extension('<virtualService>')
 * .extension('address').exists())`.
 */
const sipApp2: NativeCheck = (node) =>
  statusImplies(node, 'booked', (appointment) => {
    const participants = objects(appointment.participant);
    if (participants === undefined) return undefined;
    let located = false;
    for (const participant of participants) {
      const actor = single(participant.actor);
      if (actor === undefined) return undefined;
      if (actor === null) continue;
      const type = stringOf(actor, 'type');
      const reference = stringOf(actor, 'reference');
      if (type === undefined || reference === undefined) return undefined;
      if (type === 'Location' || reference?.startsWith('Location/') === true) located = true;
    }
    const addresses = innerExtensionsOf(appointment, VIRTUAL_SERVICE, 'address');
    if (addresses === undefined) return undefined;
    return located || addresses.length > 0;
  });

const FOLLOW_UP = EXTENSION.followUp;

/** sip-cpl-4: an active plan has a follow-up date — `status = 'active' implies extension('<follow-up>').extension('date').exists()`. */
const sipCpl4: NativeCheck = (node) =>
  statusImplies(node, 'active', (plan) => {
    const dates = innerExtensionsOf(plan, FOLLOW_UP, 'date');
    return dates === undefined ? undefined : dates.length > 0;
  });

/** sip-cpl-6: `status = 'active' implies (activity.exists() and activity.all(detail.performer.exists()))`. */
const sipCpl6: NativeCheck = (node) =>
  statusImplies(node, 'active', (plan) => {
    const activities = objects(plan.activity);
    if (activities === undefined) return undefined;
    let all = true;
    for (const activity of activities) {
      const detail = single(activity.detail);
      if (detail === undefined) return undefined;
      const performers = detail === null ? [] : objects(detail.performer);
      if (performers === undefined) return undefined;
      if (performers.length === 0) all = false;
    }
    return activities.length > 0 && all;
  });

const DISCHARGE = EXTENSION.discharge;
const COMPULSORY_CARE = codeSystemUrl(COMPULSORY_CARE_SYSTEM.id);

/**
 * sip-cpl-7 (a warning): `extension('<discharge>').extension('compulsoryCare').value.ofType(Coding)
 * .where(system = '<sip-compulsory-care>').empty()`: only a `valueCoding` is a Coding.
 */
const sipCpl7: NativeCheck = (node) => {
  if (!isObject(node)) return undefined;
  const cares = innerExtensionsOf(node, DISCHARGE, 'compulsoryCare');
  if (cares === undefined) return undefined;
  for (const care of cares) {
    if (care._valueCoding !== undefined) return undefined;
    const coding = single(care.valueCoding);
    if (coding === undefined) return undefined;
    if (coding === null) continue;
    const system = stringOf(coding, 'system');
    if (system === undefined) return undefined;
    if (system === COMPULSORY_CARE) return false;
  }
  return true;
};

/** The Consent's `provision` (null when absent), undefined when it is not one object. */
const provisionOf = (node: unknown): Json | null | undefined => (isObject(node) ? single(node.provision) : undefined);

/** sip-con-2: `provision.exists() and provision.type = 'permit'`; an absent type makes the right side empty, which passes. */
const sipCon2: NativeCheck = (node) => {
  const provision = provisionOf(node);
  if (provision === undefined) return undefined;
  if (provision === null) return false;
  const type = stringOf(provision, 'type');
  if (type === undefined) return undefined;
  return type === null || type === 'permit';
};

/** A FHIR date or dateTime as fhirpath.js reads one; other text is left to it. */
const DATE_TIME = /^\d{4}(?:-\d{2}(?:-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** FHIRPath `substring(0, 10).replace('-', '').toInteger()` of a date (replace is of every `-`). */
function dateNumber(value: string): number {
  return parseInt(value.substring(0, 10).replaceAll('-', ''), 10);
}

/**
 * sip-con-3: a consent runs at most a year — `provision.period.start.exists() and
 * provision.period.end.exists() and provision.period.select(<end as yyyymmdd> - <start as
 * yyyymmdd>) <= 10000`.
 */
const sipCon3: NativeCheck = (node) => {
  const provision = provisionOf(node);
  if (provision === undefined) return undefined;
  const period = provision === null ? null : single(provision.period);
  if (period === undefined) return undefined;
  if (period === null) return false;
  const start = stringOf(period, 'start');
  const end = stringOf(period, 'end');
  if (start === undefined || end === undefined) return undefined;
  if (start === null || end === null) return false;
  if (!DATE_TIME.test(start) || !DATE_TIME.test(end)) return undefined;
  return dateNumber(end) - dateNumber(start) <= 10_000;
};

/** sip-con-4: `provision.provision.all(type = 'deny')`; a nested provision without a type is left to FHIRPath. */
const sipCon4: NativeCheck = (node) => {
  const provision = provisionOf(node);
  if (provision === undefined) return undefined;
  const nested = provision === null ? [] : objects(provision.provision);
  if (nested === undefined) return undefined;
  let all = true;
  for (const exception of nested) {
    const type = stringOf(exception, 'type');
    if (type === undefined || type === null) return undefined;
    if (type !== 'deny') all = false;
  }
  return all;
};

/** sip-con-6: `provision.data.where(meaning = 'related').exists()`. */
const sipCon6: NativeCheck = (node) => {
  const provision = provisionOf(node);
  if (provision === undefined) return undefined;
  const data = provision === null ? [] : objects(provision.data);
  if (data === undefined) return undefined;
  let related = false;
  for (const datum of data) {
    const meaning = stringOf(datum, 'meaning');
    if (meaning === undefined) return undefined;
    if (meaning === 'related') related = true;
  }
  return related;
};

/** sip-pat-1: `identifier.where(system.exists() and value.exists()).exists()`. */
const sipPat1: NativeCheck = (node) => {
  if (!isObject(node)) return undefined;
  const identifiers = objects(node.identifier);
  if (identifiers === undefined) return undefined;
  let found = false;
  for (const identifier of identifiers) {
    const system = stringOf(identifier, 'system');
    const value = stringOf(identifier, 'value');
    if (system === undefined || value === undefined) return undefined;
    if (system !== null && value !== null) found = true;
  }
  return found;
};

const PLAN_VERSION = EXTENSION.planVersion;

/**
 * sip-tsk-1: an approval names the plan's version — `focus.reference.exists() and
 * (focus.reference.contains('/_history/') or extension('<plan-version>').value.exists())`.
 */
const sipTsk1: NativeCheck = (node) => {
  if (!isObject(node)) return undefined;
  const focus = single(node.focus);
  if (focus === undefined) return undefined;
  const reference = focus === null ? null : stringOf(focus, 'reference');
  if (reference === undefined) return undefined;
  if (reference === null) return false;
  if (reference.includes('/_history/')) return true;
  const versions = extensionsOf(node, PLAN_VERSION);
  if (versions === undefined) return undefined;
  let valued = false;
  for (const version of versions) {
    const has = hasValue(version);
    if (has === undefined) return undefined;
    valued ||= has;
  }
  return valued;
};

/** Task inv-1 (R4): `lastModified.exists().not() or authoredOn.exists().not() or lastModified >= authoredOn`; decided only when one is absent. */
const taskInv1: NativeCheck = (node) => {
  if (!isObject(node)) return undefined;
  const modified = stringOf(node, 'lastModified');
  const authored = stringOf(node, 'authoredOn');
  if (modified === undefined || authored === undefined) return undefined;
  return modified === null || authored === null ? true : undefined;
};

const NOT_WITH_OFFSET: ReadonlySet<string> = new Set(['C', 'CM', 'CD', 'CV']);

/**
 * tim-9 as repaired (src/validation/repaired-constraints.ts): `offset.empty() or (when.exists() and
 * when.where($this in ('C' | 'CM' | 'CD' | 'CV')).empty())` on Timing.repeat.
 */
const tim9: NativeCheck = (node) => {
  if (!isObject(node) || node._offset !== undefined || node._when !== undefined) return undefined;
  const { offset, when } = node;
  if (offset === undefined) return true;
  if (typeof offset !== 'number') return undefined;
  if (when === undefined) return false;
  if (!Array.isArray(when) || !when.every((code): code is string => typeof code === 'string')) return undefined;
  return when.length > 0 && !when.some((code) => NOT_WITH_OFFSET.has(code));
};

/**
 * The native checks of this module by the exact expression they replace, with their keys (for the
 * tests). The expressions are written out as the profiles word them, so that a profile worded
 * otherwise, or naming another URL, falls back to FHIRPath; test/validation/native-resources.test.ts
 * holds each equal to the shipped profile's text.
 */
export const RESOURCE_NATIVE_CHECKS: ReadonlyMap<string, { readonly key: string; readonly check: NativeCheck }> = new Map([
  ["status = 'booked' implies (participant.actor.where(type = 'Location' or reference.startsWith('Location/')).exists() or extension('http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.virtualService').extension('address').exists())", { key: 'sip-app-2', check: sipApp2 }],
  ["status = 'active' implies extension('http://sip-fhir-adapter.se/fhir/StructureDefinition/follow-up').extension('date').exists()", { key: 'sip-cpl-4', check: sipCpl4 }],
  ["status = 'active' implies (activity.exists() and activity.all(detail.performer.exists()))", { key: 'sip-cpl-6', check: sipCpl6 }],
  ["extension('http://sip-fhir-adapter.se/fhir/StructureDefinition/discharge').extension('compulsoryCare').value.ofType(Coding).where(system = 'http://sip-fhir-adapter.se/fhir/CodeSystem/sip-compulsory-care').empty()", { key: 'sip-cpl-7', check: sipCpl7 }],
  ["provision.exists() and provision.type = 'permit'", { key: 'sip-con-2', check: sipCon2 }],
  ["provision.period.start.exists() and provision.period.end.exists() and provision.period.select(end.substring(0, 10).replace('-', '').toInteger() - start.substring(0, 10).replace('-', '').toInteger()) <= 10000", { key: 'sip-con-3', check: sipCon3 }],
  ["provision.provision.all(type = 'deny')", { key: 'sip-con-4', check: sipCon4 }],
  ["provision.data.where(meaning = 'related').exists()", { key: 'sip-con-6', check: sipCon6 }],
  ['identifier.where(system.exists() and value.exists()).exists()', { key: 'sip-pat-1', check: sipPat1 }],
  ["focus.reference.exists() and (focus.reference.contains('/_history/') or extension('http://sip-fhir-adapter.se/fhir/StructureDefinition/plan-version').value.exists())", { key: 'sip-tsk-1', check: sipTsk1 }],
  ['lastModified.exists().not() or authoredOn.exists().not() or lastModified >= authoredOn', { key: 'inv-1', check: taskInv1 }],
  ["offset.empty() or (when.exists() and when.where($this in ('C' | 'CM' | 'CD' | 'CV')).empty())", { key: 'tim-9', check: tim9 }],
]);

/** The native check of `expression` in this module, if it has one. */
export function resourceNativeCheck(expression: string): NativeCheck | undefined {
  return RESOURCE_NATIVE_CHECKS.get(expression)?.check;
}
