/**
 * Authentication and access for the HTTP service (issue #11): bearer token verification, SMART
 * Backend Services scopes, which organisation may see which plan, and the server's local signing key.
 * The HTTP app plugs these in; none of them knows about HTTP beyond a header value.
 */
export { mayAccess, type AccessDecision, type AccessRefusal, type AccessRole } from './access.js';
export { AuthError, authErrorOutcome, wwwAuthenticate, type AuthFailure } from './errors.js';
export {
  checkLocalTokenRequest,
  issueLocalToken,
  loadOrCreateLocalKey,
  LOCAL_ALGORITHM,
  LOCAL_AUDIENCE,
  LOCAL_ISSUER,
  LOCAL_KEY_FILE,
  LocalKeyError,
  LocalTokenError,
  MAX_LOCAL_TTL_SECONDS,
  type LocalKey,
  type LocalTokenRequest,
} from './local-key.js';
export { allows, describeIgnored, INTERACTIONS, parseScope, parseScopes, type IgnoredScope, type Interaction, type ParsedScopes, type ScopeGrant } from './scopes.js';
export {
  authDisabledWarning,
  AuthSettingsError,
  DEFAULT_ALGORITHMS,
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  DEFAULT_ORG_CLAIM,
  resolveAuthMode,
  type AuthMode,
  type AuthSettings,
} from './settings.js';
export { bearerToken, createAuthenticator, createTokenVerifier, type Authenticator, type TokenVerifier, type VerifiedCaller, type VerifierOptions, type VerifyKey } from './verify.js';
