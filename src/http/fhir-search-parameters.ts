/**
 * The patient search parameters of the resource types the facade serves, as the official R4
 * definitions give them (`Bundle-searchParams.json` of `hl7.fhir.r4.examples`, the package the
 * validator reads its base definitions from): for each type, its `patient` and `subject` reference
 * parameters that may point at a Patient, with the FHIRPath that finds the references.
 *
 * Read once, on the first call, and only what the facade's types need is kept.
 * https://hl7.org/fhir/R4/searchparameter-registry.html
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle, SearchParameter } from 'fhir/r4.js';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
import { WRITTEN_RESOURCE_TYPES } from '../fhir/index.js';
import { basePackageDirectory } from '../validation/definitions.js';

/** One reference search parameter of a type, as the facade evaluates it. */
export interface PatientSearchParameter {
  /** The parameter's code: `patient` or `subject`. */
  readonly code: 'patient' | 'subject';
  /** The canonical URL of its official definition. */
  readonly definition: string;
  /** The official expression's part for this type, e.g. `Task.for.where(resolve() is Patient)`. */
  readonly expression: string;
  /**
   * The type a reference must name when the expression says `.where(resolve() is X)`: the facade
   * judges that from the reference's own `X/id`, as every reference it writes is relative and typed.
   */
  readonly targetType: string | undefined;
  /** The references the parameter finds in a resource of the type. */
  readonly references: (resource: object) => readonly { reference?: string }[];
}

const CODES: readonly string[] = ['patient', 'subject'];
const RESOLVED_AS = /^(?<path>.+)\.where\(resolve\(\) is (?<type>[A-Z][A-Za-z]+)\)$/;

/**
 * A parameter that narrows what a person's search finds by a value of the resource: `date` (a date,
 * dateTime or Period) or a status code (`status`, Goal's `lifecycle-status`).
 */
export interface FilterSearchParameter {
  readonly code: string;
  readonly type: 'date' | 'token';
  readonly definition: string;
  readonly expression: string;
  /** The values the expression finds in a resource: strings (dates, codes) or Periods. */
  readonly values: (resource: object) => readonly unknown[];
}

const FILTER_CODES: ReadonlyMap<string, 'date' | 'token'> = new Map([
  ['date', 'date'],
  ['status', 'token'],
  ['lifecycle-status', 'token'],
]);

/**
 * A reference search parameter of a type, for `_include={type}:{code}` (https://hl7.org/fhir/R4/search.html#include):
 * the references its official expression finds, of the types it may target.
 */
export interface IncludeParameter {
  readonly code: string;
  readonly definition: string;
  readonly expression: string;
  /** The types the parameter may point at (`SearchParameter.target`), narrowed to the one a `.where(resolve() is X)` names. */
  readonly targets: readonly string[];
  readonly references: (resource: object) => readonly { reference?: string }[];
}

interface Table {
  readonly references: ReadonlyMap<string, readonly PatientSearchParameter[]>;
  readonly filters: ReadonlyMap<string, readonly FilterSearchParameter[]>;
  readonly includes: ReadonlyMap<string, readonly IncludeParameter[]>;
}

let table: Table | undefined;

/** The patient and subject parameters of `type` that may point at a Patient, in the order patient, subject; none for a type without. */
export function patientSearchParameters(type: string): readonly PatientSearchParameter[] {
  table ??= readTable();
  return table.references.get(type) ?? [];
}

/** The `date` and status parameters of `type`, as its official definitions give them; none for a type without. */
export function filterSearchParameters(type: string): readonly FilterSearchParameter[] {
  table ??= readTable();
  return table.filters.get(type) ?? [];
}

/** Every reference parameter of `type` as the official definitions give them, by code, for `_include`; none for a type without. */
export function includeParameters(type: string): readonly IncludeParameter[] {
  table ??= readTable();
  return table.includes.get(type) ?? [];
}

/** The part of an official expression (several types' parts joined by " | ") that is `type`'s. */
function partOf(expression: string, type: string): string | undefined {
  return expression
    .split(' | ')
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${type}.`));
}

function readTable(): Table {
  // The parsed-JSON boundary: the official package's Bundle of every R4 SearchParameter.
  const bundle = JSON.parse(readFileSync(path.join(basePackageDirectory(), 'Bundle-searchParams.json'), 'utf8')) as Bundle;
  const types: ReadonlySet<string> = new Set(WRITTEN_RESOURCE_TYPES);
  const found = new Map<string, PatientSearchParameter[]>();
  const filters = new Map<string, FilterSearchParameter[]>();
  const includes = new Map<string, IncludeParameter[]>();
  for (const entry of bundle.entry ?? []) {
    const parameter = entry.resource as SearchParameter | undefined;
    if (parameter?.resourceType !== 'SearchParameter' || parameter.expression === undefined) continue;
    const { expression } = parameter;
    const filterType = FILTER_CODES.get(parameter.code);
    if (filterType !== undefined && parameter.type === filterType) {
      for (const type of parameter.base) {
        const part = types.has(type) ? partOf(expression, type) : undefined;
        if (part === undefined) continue;
        const evaluate = fhirpath.compile(part, r4);
        filters.set(type, [...(filters.get(type) ?? []), { code: parameter.code, type: filterType, definition: parameter.url, expression: part, values: (resource) => evaluate(resource) as unknown[] }]);
      }
      continue;
    }
    if (parameter.type === 'reference') {
      for (const type of parameter.base) {
        const part = types.has(type) ? partOf(expression, type) : undefined;
        if (part === undefined) continue;
        includes.set(type, [...(includes.get(type) ?? []), includeParameter(parameter, part)]);
      }
    }
    if (parameter.type !== 'reference' || !CODES.includes(parameter.code)) continue;
    if (!(parameter.target ?? []).includes('Patient')) continue;
    for (const type of parameter.base) {
      // A parameter shared by several types (clinical-patient) gives each its own part, joined by " | ".
      const part = types.has(type) ? partOf(expression, type) : undefined;
      if (part === undefined) continue;
      const list = found.get(type) ?? [];
      list.push(compiled(parameter.code as 'patient' | 'subject', parameter.url, part));
      found.set(type, list);
    }
  }
  for (const list of found.values()) list.sort((a, b) => CODES.indexOf(a.code) - CODES.indexOf(b.code));
  for (const list of includes.values()) list.sort((a, b) => a.code.localeCompare(b.code));
  return { references: found, filters, includes };
}

function includeParameter(parameter: SearchParameter, expression: string): IncludeParameter {
  const resolved = RESOLVED_AS.exec(expression)?.groups;
  const evaluate = fhirpath.compile(resolved?.path ?? expression, r4);
  return {
    code: parameter.code,
    definition: parameter.url,
    expression,
    targets: resolved?.type === undefined ? (parameter.target ?? []) : [resolved.type],
    references: (resource) => (evaluate(resource) as unknown[]).filter((value): value is { reference?: string } => typeof value === 'object' && value !== null && !Array.isArray(value)),
  };
}

function compiled(code: 'patient' | 'subject', definition: string, expression: string): PatientSearchParameter {
  const resolved = RESOLVED_AS.exec(expression)?.groups;
  const pathOnly = resolved?.path ?? expression;
  const evaluate = fhirpath.compile(pathOnly, r4);
  return {
    code,
    definition,
    expression,
    targetType: resolved?.type,
    references: (resource) =>
      (evaluate(resource) as unknown[]).filter((value): value is { reference?: string } => typeof value === 'object' && value !== null && !Array.isArray(value)),
  };
}

/** What the CapabilityStatement says of the search of a type other than CarePlan. */
export const TYPE_SEARCH_DOCUMENTATION =
  'By the person: a search names the patient (or subject), the person’s identifier, or ids; it reads the plans of that person alone, judged as a read is (access, consent at the moment of the answer). A resource several plans show is one match, as the plan recorded last maps it. _include={type}:{reference parameter}[:{type}] adds what the matches refer to, from the plan each was found in. A search of every plan’s parts is refused (400): search CarePlan with _include or _revinclude';

/** The types searched here: every type the mapping writes but CarePlan, which has its own search. */
export function searchableTypes(): string[] {
  return [...WRITTEN_RESOURCE_TYPES].filter((type) => type !== 'CarePlan' && typeSearchParameters(type).length > 0);
}

/** One search parameter of a type, as the CapabilityStatement lists it. */
export interface TypeSearchParameter {
  readonly name: string;
  readonly type: 'token' | 'reference' | 'date';
  readonly definition: string;
  readonly documentation: string;
}

/**
 * The search parameters `type` takes here: `_id` and, on Patient, `identifier`; on the other types
 * their official `patient` and `subject` parameters (with `:identifier`). None for a type no
 * parameter names a person of (Organization, Location …): those are read by id or included.
 */
export function typeSearchParameters(type: string): TypeSearchParameter[] {
  if (type === 'Patient') {
    return [
      { name: '_id', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/Resource-id', documentation: 'The Patient’s id; several, comma-separated, for any of them' },
      {
        name: 'identifier',
        type: 'token',
        definition: 'http://hl7.org/fhir/SearchParameter/Patient-identifier',
        documentation: 'The person’s personnummer, samordningsnummer or reservnummer: <system>|<value>, or the value alone',
      },
    ];
  }
  const references = patientSearchParameters(type);
  if (references.length === 0) return [];
  return [
    { name: '_id', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/Resource-id', documentation: `The ${type}’s id; several, comma-separated, for any of them` },
    ...references.map((parameter) => ({
      name: parameter.code,
      type: 'reference' as const,
      definition: parameter.definition,
      documentation: `${parameter.expression}: Patient/<id>${parameter.code === 'subject' ? ' (or <Type>/<id>)' : ''}, or ${parameter.code}:identifier=<system>|<personnummer …>`,
    })),
    ...filterSearchParameters(type).map((parameter) => ({
      name: parameter.code,
      type: parameter.type,
      definition: parameter.definition,
      documentation:
        parameter.type === 'date'
          ? `${parameter.expression}, with the prefixes eq, ge, gt, le, lt, sa and eb; a value without a time zone is read in Europe/Stockholm. Narrows a search that names a person or ids`
          : `${parameter.expression}: a code, or several comma-separated for any of them (a system before | is not compared: the element's codes have one). Narrows a search that names a person or ids`,
    })),
  ];
}

/** What the CapabilityStatement says of Patient/$everything (src/http/fhir-type-search.ts). */
export const EVERYTHING_DOCUMENTATION =
  'GET or POST /fhir/Patient/{id}/$everything: every resource of the plans about the person the caller may read and be sent now (access and consent judged at the answer), the Patient first, one entry per resource; _type; start and end, the care dates (a resource whose type\'s date parameter has a value outside them is left out; one without is kept); _since (plan versions recorded at or after it) and _count with next links';
