/**
 * Why a request was not authenticated, typed so that the HTTP layer answers with the right status,
 * `WWW-Authenticate` challenge (RFC 6750 §3) and OperationOutcome. No message ever holds the token
 * or any part of it: messages are fixed sentences, with at most an instant or a claim name.
 */
import type { OperationOutcome } from 'fhir/r4.js';

export type AuthFailure =
  | 'missingToken'
  | 'malformedToken'
  | 'badSignature'
  | 'expired'
  | 'notYetValid'
  | 'wrongIssuer'
  | 'wrongAudience'
  | 'invalidClaims'
  | 'missingOrgClaim'
  | 'invalidOrgClaim'
  /** The issuer's keys (JWKS) could not be fetched: not the caller's fault, so 503. */
  | 'keysUnavailable';

export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    readonly reason: AuthFailure,
    message: string,
  ) {
    super(message);
  }

  /** 401 for every failure of the caller's token; 503 when the issuer's keys cannot be had. */
  get status(): 401 | 503 {
    return this.reason === 'keysUnavailable' ? 503 : 401;
  }
}

/** The `WWW-Authenticate` header of a 401 (RFC 6750 §3): no error code when no token was sent. */
export function wwwAuthenticate(error: AuthError, realm = 'sip-fhir-adapter'): string {
  if (error.reason === 'missingToken') return `Bearer realm="${realm}"`;
  const description = error.message.replace(/["\\]/g, "'");
  return `Bearer realm="${realm}", error="invalid_token", error_description="${description}"`;
}

/** The OperationOutcome a refused request gets. */
export function authErrorOutcome(error: AuthError): OperationOutcome {
  const code = error.reason === 'keysUnavailable' ? 'transient' : error.reason === 'expired' ? 'expired' : 'login';
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'error',
        code,
        details: { coding: [{ system: 'http://sip-fhir-adapter.se/fhir/auth-failure', code: error.reason }] },
        diagnostics: error.message,
      },
    ],
  };
}
