/**
 * A person searched for by their number, in the form the store keeps it.
 *
 * Plans (and the audit log) keep a personnummer or samordningsnummer as twelve digits without a
 * separator (src/sip/identifiers.ts), but people and systems write `19850314-1239` or `850314-1239`.
 * Every search by a person's number (`/sip/plans?person=`, `/fhir/CarePlan?patient:identifier=`,
 * `/fhir/AuditEvent?patient:identifier=`) normalises the value first:
 *
 * - without a system, a valid personnummer or samordningsnummer in any form is normalised; any other
 *   value is searched as written, because it may be a reservnummer, whose format is its issuer's
 *   (so a mistyped personnummer finds nothing: an empty result, not an error);
 * - with the personnummer or samordningsnummer system of HL7 Sweden
 *   (http://electronichealth.se/identifier/…), a value that is not a valid number of that kind is
 *   a 400 naming the parameter, since it can name nobody;
 * - with any other system (a reservnummer's issuer), the value is searched as written.
 */
import { IDENTIFIER_SYSTEM } from '../fhir/index.js';
import { searchedIdentityNumber } from '../sip/index.js';
import { HttpError } from './problem.js';

/** The value of `person=` (no system) as the store keeps it. */
export function searchedPerson(value: string): string {
  return searchedIdentityNumber(value)?.normalized ?? value;
}

/**
 * The token of `patient:identifier=` (https://hl7.org/fhir/R4/search.html#token) with its value as
 * the store keeps it; `parameter` names the parameter in the 400.
 */
export function searchedPersonToken(parameter: string, given: { system?: string; value: string }): { system?: string; value: string } {
  const { system, value } = given;
  const kind = system === IDENTIFIER_SYSTEM.personnummer ? 'personnummer' : system === IDENTIFIER_SYSTEM.samordningsnummer ? 'samordningsnummer' : undefined;
  if (kind === undefined) return system === undefined || system === '' ? { ...given, value: searchedPerson(value) } : given;
  const number = searchedIdentityNumber(value);
  if (number === undefined) {
    throw new HttpError(400, 'Bad Request', `${parameter}: "${value}" is not a valid ${kind} (ten or twelve digits with a valid date and check digit, as YYYYMMDD-NNNN or YYMMDD-NNNN)`);
  }
  if (number.coordination !== (kind === 'samordningsnummer')) {
    throw new HttpError(400, 'Bad Request', `${parameter}: "${value}" is a ${number.coordination ? 'samordningsnummer' : 'personnummer'}, not a ${kind}; use the system ${IDENTIFIER_SYSTEM[number.coordination ? 'samordningsnummer' : 'personnummer']}`);
  }
  return { system, value: number.normalized };
}
