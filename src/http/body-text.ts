/**
 * The JSON text a request's body was parsed from, kept on the request for a route that hands it on
 * as it came: `POST /fhir` with its Bundle read in a worker thread (src/http/transaction-reader.ts
 * `transactionReaderPool`), which is sent the text instead of the Bundle written out again on the
 * event loop (a `JSON.stringify` of some 60 kB a transaction). Kept only where a route takes it
 * ({@link takeBodyText}), so that no other request carries its text beside its parsed body.
 */
import type { Request } from 'express';

const BODY_TEXT = Symbol('the JSON text of request.body');

type WithBodyText = Request & { [BODY_TEXT]?: string };

/** Keeps `text`, from which `request.body` was parsed, for {@link takeBodyText}. */
export function keepBodyText(request: Request, text: string): void {
  (request as WithBodyText)[BODY_TEXT] = text;
}

/** The text kept by {@link keepBodyText}, taken off the request (so the request no longer holds it). */
export function takeBodyText(request: Request): string | undefined {
  const text = (request as WithBodyText)[BODY_TEXT];
  (request as WithBodyText)[BODY_TEXT] = undefined;
  return text;
}
