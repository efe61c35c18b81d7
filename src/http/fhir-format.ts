/**
 * The parameters R4 lets a client give on every FHIR interaction (https://hl7.org/fhir/R4/http.html#parameters):
 * `_format`, which overrides the `Accept` header, and `_pretty`. The facade writes FHIR JSON only
 * (its CapabilityStatement's `format` is `json`), so a client that asks for XML or Turtle, by either
 * means, is answered 406 Not Acceptable rather than given JSON it did not ask for
 * (https://hl7.org/fhir/R4/http.html#mime-type). Both parameters are taken out of the request's query
 * once read, so a search does not see them as search parameters it does not know; the links a search
 * writes still carry them (they are built from the URL as the client sent it).
 */
import type { RequestHandler } from 'express';
import { HttpError } from './problem.js';

/** The names R4 gives FHIR JSON, and the shorthands a `_format` may use. */
const JSON_TYPES: ReadonlySet<string> = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir', 'text/json']);
/** Media ranges of an `Accept` header that FHIR JSON satisfies. */
const JSON_RANGES: ReadonlySet<string> = new Set(['*/*', 'application/*', 'text/*', ...JSON_TYPES]);

interface MediaRange {
  readonly type: string;
  readonly parameters: ReadonlyMap<string, string>;
}

/** `type/subtype; name=value; …` as a lower-case type and its parameters. */
function mediaRange(text: string): MediaRange {
  const [type = '', ...parts] = text.split(';').map((part) => part.trim());
  const parameters = new Map<string, string>();
  for (const part of parts) {
    const equals = part.indexOf('=');
    if (equals > 0) parameters.set(part.slice(0, equals).trim().toLowerCase(), part.slice(equals + 1).trim().replace(/^"(.*)"$/, '$1'));
  }
  // An unencoded `+` in a query string reads as a space: `_format=application/fhir+json` arrives as `application/fhir json`.
  return { type: type.toLowerCase().replaceAll(' ', '+'), parameters };
}

/** A `fhirVersion` parameter, when given, must name R4 (4.0, 4.0.1). */
function isR4(range: MediaRange): boolean {
  const version = range.parameters.get('fhirversion');
  return version === undefined || version === '4.0' || version.startsWith('4.0.');
}

/** Does this `_format` value ask for FHIR JSON of R4? */
export function formatIsJson(value: string): boolean {
  const range = mediaRange(value);
  return JSON_TYPES.has(range.type) && isR4(range);
}

/** Does this `Accept` header admit FHIR JSON of R4? An absent or empty header admits anything. */
export function acceptsJson(header: string | undefined): boolean {
  if (header === undefined || header.trim() === '') return true;
  return header.split(',').some((item) => {
    const range = mediaRange(item);
    const quality = Number(range.parameters.get('q') ?? '1');
    return JSON_RANGES.has(range.type) && !(quality <= 0) && isR4(range);
  });
}

const NOT_ACCEPTABLE = 'This server writes FHIR R4 JSON only (application/fhir+json; _format=json)';

/** The request's URL without the named query parameters (the others as URLSearchParams writes them). */
function withoutParameters(url: string, names: ReadonlySet<string>): string {
  const question = url.indexOf('?');
  if (question < 0) return url;
  const query = new URLSearchParams(url.slice(question + 1));
  for (const name of names) query.delete(name);
  const rest = query.toString();
  return rest === '' ? url.slice(0, question) : `${url.slice(0, question)}?${rest}`;
}

const GENERAL_PARAMETERS: ReadonlySet<string> = new Set(['_format', '_pretty']);

/**
 * Reads `_format`, `_pretty` and `Accept` before any FHIR route: 406 when only a format other than
 * R4 JSON is acceptable, 400 for a `_format` or `_pretty` given twice or a `_pretty` other than
 * `true` / `false` (the answer is written compactly either way: pretty printing is optional).
 */
export function fhirFormat(): RequestHandler {
  return (request, _response, next) => {
    const format: unknown = request.query._format;
    const pretty: unknown = request.query._pretty;
    if ((format !== undefined && typeof format !== 'string') || (pretty !== undefined && typeof pretty !== 'string')) throw new HttpError(400, 'Bad Request', 'Give _format and _pretty once each');
    if (pretty !== undefined && pretty !== 'true' && pretty !== 'false') throw new HttpError(400, 'Bad Request', `_pretty=${pretty}: true or false`);
    if (typeof format === 'string') {
      if (!formatIsJson(format)) throw new HttpError(406, 'Not Acceptable', `_format=${format}: ${NOT_ACCEPTABLE}`);
    } else if (!acceptsJson(request.get('accept'))) {
      throw new HttpError(406, 'Not Acceptable', `Accept: ${request.get('accept') ?? ''}: ${NOT_ACCEPTABLE}`);
    }
    if (format !== undefined || pretty !== undefined) request.url = withoutParameters(request.url, GENERAL_PARAMETERS);
    next();
  };
}
