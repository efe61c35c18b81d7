/**
 * Reading FHIR search parameters from an Express query (https://hl7.org/fhir/R4/search.html): a
 * parameter may be given several times (each occurrence must match: "and"), and a comma inside one
 * value means "or".
 */
import type { Request } from 'express';
import { HttpError } from './problem.js';

/** The occurrences of a query parameter, each as given (commas kept). */
export function occurrences(request: Request, name: string): string[] {
  const raw: unknown = request.query[name];
  return (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((value): value is string => typeof value === 'string');
}

/** The one value of a parameter that takes one; 400 when it is given twice or holds a comma ("or" is not supported there). */
export function single(request: Request, name: string): string | undefined {
  const values = occurrences(request, name);
  if (values.length > 1 || values.some((value) => value.includes(','))) throw new HttpError(400, 'Bad Request', `Give ${name} once, with one value`);
  return values[0];
}

/**
 * Does the client ask, with `Prefer: handling=lenient`, that search parameters the server does not
 * know be ignored? Without it (or with `handling=strict`) they are refused with 400: R4 lets a server
 * do either, and the client choose (https://hl7.org/fhir/R4/search.html#errors).
 */
export function lenientHandling(request: Request): boolean {
  return preferences(request).includes('handling=lenient');
}

/** The `Prefer` header's preferences (RFC 7240), each `name=value` in lower case without spaces. */
function preferences(request: Request): string[] {
  const prefer = request.get('prefer');
  if (prefer === undefined) return [];
  return prefer.split(/[,;]/).map((part) => part.trim().toLowerCase().replaceAll(' ', '').replaceAll('"', ''));
}

/**
 * What a write's answer should carry by `Prefer: return=…` (https://hl7.org/fhir/R4/http.html#ops):
 * `minimal` (nothing beyond the status and locations), `representation` (the resources as stored),
 * `OperationOutcome` (an outcome even when nothing was found to say); undefined when not asked.
 */
export function preferredReturn(request: Request): 'minimal' | 'representation' | 'OperationOutcome' | undefined {
  const asked = preferences(request).find((preference) => preference.startsWith('return='));
  return asked === 'return=minimal' ? 'minimal' : asked === 'return=representation' ? 'representation' : asked === 'return=operationoutcome' ? 'OperationOutcome' : undefined;
}

/**
 * The query's parameters that are not among `known`: refused with 400 naming them, or, under
 * `Prefer: handling=lenient`, returned so the search leaves them out of its links (the self link
 * "SHALL" name only the parameters the search used).
 */
export function ignoredParameters(request: Request, known: ReadonlySet<string>, resourceType: string): string[] {
  const unknown = Object.keys(request.query).filter((name) => !known.has(name));
  if (unknown.length > 0 && !lenientHandling(request)) {
    throw new HttpError(400, 'Bad Request', `Search parameters not supported on ${resourceType}: ${unknown.join(', ')} (see GET /fhir/metadata; Prefer: handling=lenient ignores them)`);
  }
  return unknown;
}
