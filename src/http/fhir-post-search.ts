/**
 * Search by POST (https://hl7.org/fhir/R4/http.html#search): `POST [base]/[type]/_search` with the
 * parameters in an `application/x-www-form-urlencoded` body, which keeps them out of URLs and the
 * logs of proxies — a personnummer in `patient:identifier` is one. R4: "Servers supporting Search
 * via HTTP SHALL support both modes of operation".
 *
 * The form's parameters are appended to the URL's, and the request's URL rewritten to carry them
 * all, so the search routes read one query whichever way it came, and the `self` and `next` links
 * they build name every parameter used (as GETs, which R4 lets a server answer with).
 */
import express, { type Request, type RequestHandler } from 'express';
import { HttpError } from './problem.js';

const FORM = 'application/x-www-form-urlencoded';
const SEARCH_PATH = /^\/[A-Za-z]+\/_search\/?$/;

/** The requests whose body was a search form, read here: the JSON body reader leaves them alone. */
const formSearches = new WeakSet<Request>();

/** Whether `request` is a POST search whose form this module read. */
export function isFormSearch(request: Request): boolean {
  return formSearches.has(request);
}

/** Middleware for the FHIR base: reads a `POST …/{type}/_search` form (at most `maxBodyBytes`, 413 above) into the URL's query; 415 for another body. */
export function postSearch(maxBodyBytes: number): RequestHandler[] {
  const form = express.text({ type: FORM, limit: maxBodyBytes });
  const merge: RequestHandler = (request, _response, next) => {
    if (request.method !== 'POST' || !SEARCH_PATH.test(request.path)) {
      next();
      return;
    }
    const body: unknown = request.body;
    if (!request.is(FORM) && request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0') {
      throw new HttpError(415, 'Unsupported Media Type', `Send the search parameters of POST ${request.originalUrl.split('?')[0] ?? ''} as ${FORM} (or search with GET); got ${request.headers['content-type'] ?? 'no Content-Type'}`);
    }
    const question = request.url.indexOf('?');
    const query = new URLSearchParams(question < 0 ? '' : request.url.slice(question + 1));
    for (const [name, value] of new URLSearchParams(typeof body === 'string' ? body : '')) query.append(name, value);
    const search = query.toString();
    request.url = `${request.path}${search === '' ? '' : `?${search}`}`;
    request.originalUrl = `${request.baseUrl}${request.url}`;
    formSearches.add(request);
    next();
  };
  return [form, merge];
}
