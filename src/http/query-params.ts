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
