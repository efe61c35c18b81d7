/**
 * Bearer token verification (RFC 6750, JWT per RFC 7519) with `jose`: the signature against the
 * configured JWKS, public key or the local key; `iss` and `aud`; `exp` (required) and `nbf` with a
 * small clock tolerance, on an injectable clock; then the organisation's HSA-id from its claim and
 * the SMART scopes from `scope`. Every failure is an `AuthError` with a fixed message.
 */
import {
  createRemoteJWKSet,
  errors,
  importJWK,
  importSPKI,
  jwtVerify,
  type CryptoKey,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose';
import { hsaIdSchema } from '../../sip/identifiers.js';
import { AuthError } from './errors.js';
import { loadOrCreateLocalKey, LOCAL_ALGORITHM, LOCAL_AUDIENCE, LOCAL_ISSUER, type LocalKey } from './local-key.js';
import { parseScopes, type ParsedScopes } from './scopes.js';
import { authDisabledWarning, DEFAULT_ORG_CLAIM, type AuthMode } from './settings.js';

/** Who is calling, as the verified token says. */
export interface VerifiedCaller {
  /** The calling organisation's HSA-id. */
  readonly organization: string;
  readonly subject?: string;
  readonly issuer: string;
  readonly tokenId?: string;
  readonly expiresAt: Date;
  readonly scopes: ParsedScopes;
}

export type VerifyKey = { readonly jwksUrl: URL } | { readonly publicKey: string | JWK } | { readonly localKey: LocalKey };

export interface VerifierOptions {
  readonly issuer: string;
  readonly audience: readonly string[];
  readonly key: VerifyKey;
  readonly algorithms: readonly string[];
  readonly orgClaim?: string;
  readonly clockToleranceSeconds: number;
  /** The current instant; tests fix it. */
  readonly clock?: () => Date;
  /** How many verified tokens to remember ({@link VerifiedTokens}); 0 verifies every signature. Default {@link DEFAULT_TOKEN_CACHE}. */
  readonly tokenCache?: number;
}

/** Verified tokens remembered by default: a few per client of a server with a few hundred clients. */
export const DEFAULT_TOKEN_CACHE = 1_000;
/** The longest a verified token is taken on trust: a key withdrawn from the issuer's JWKS is honoured within this. */
export const TOKEN_CACHE_SECONDS = 60;

interface Remembered {
  readonly caller: VerifiedCaller;
  readonly notBefore?: number;
  /** ms since the epoch: `exp`, or TOKEN_CACHE_SECONDS after the check, whichever is first. */
  readonly until: number;
}

/**
 * Tokens whose signature and claims were verified, by their exact text (a token is its signature:
 * another text is another token), so a client that sends the same bearer token with every call — as
 * SMART Backend Services clients do for its lifetime — costs one ES256 or RS256 verification, not
 * one per call (that was a tenth of a plan read's CPU). A remembered token is still judged against the
 * clock on every call: past `exp` or before `nbf` (with the tolerance) it is verified again, and so
 * refused as before. Bounded: the least recently used are forgotten beyond `size`.
 */
export class VerifiedTokens {
  private readonly tokens = new Map<string, Remembered>();

  constructor(
    private readonly size: number,
    private readonly toleranceMs: number,
  ) {}

  get(token: string, now: Date): VerifiedCaller | undefined {
    const remembered = this.tokens.get(token);
    if (remembered === undefined) return undefined;
    const time = now.getTime();
    if (time >= remembered.until + this.toleranceMs || (remembered.notBefore !== undefined && time < remembered.notBefore - this.toleranceMs)) {
      this.tokens.delete(token);
      return undefined;
    }
    // Most recently used last, so the first key is the one to forget.
    this.tokens.delete(token);
    this.tokens.set(token, remembered);
    return remembered.caller;
  }

  set(token: string, caller: VerifiedCaller, payload: JWTPayload, now: Date): void {
    if (this.size === 0) return;
    const until = Math.min(caller.expiresAt.getTime(), now.getTime() + TOKEN_CACHE_SECONDS * 1000);
    this.tokens.set(token, { caller, until, ...(payload.nbf === undefined ? {} : { notBefore: payload.nbf * 1000 }) });
    if (this.tokens.size > this.size) {
      const oldest = this.tokens.keys().next();
      if (oldest.done !== true) this.tokens.delete(oldest.value);
    }
  }
}

/** Verifies an `Authorization` header value (or its absence) and returns the caller. */
export type TokenVerifier = (authorization: string | undefined) => Promise<VerifiedCaller>;

/** Longer than any token an issuer sends; refused unread so a huge header costs nothing. */
const MAX_TOKEN_LENGTH = 16_384;
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The token of a `Bearer` header (scheme case-insensitive, RFC 7235 §2.1). */
export function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '') throw new AuthError('missingToken', 'no bearer token: send "Authorization: Bearer <token>"');
  const match = /^Bearer +(\S+) *$/i.exec(authorization.trim());
  if (match?.[1] === undefined) throw new AuthError('missingToken', 'the Authorization header is not "Bearer <token>"');
  const token = match[1];
  if (token.length > MAX_TOKEN_LENGTH || !JWS_COMPACT.test(token)) throw new AuthError('malformedToken', 'the bearer token is not a signed JWT (JWS compact serialization)');
  return token;
}

function keyResolver(key: VerifyKey): CryptoKey | JWTVerifyGetKey {
  if ('localKey' in key) return key.localKey.publicKey;
  if ('jwksUrl' in key) return createRemoteJWKSet(key.jwksUrl);
  const { publicKey } = key;
  // The algorithm comes from the token's header, already checked against `algorithms` by jose.
  const imported = new Map<string, Promise<CryptoKey>>();
  return async (header) => {
    const { alg } = header;
    let pending = imported.get(alg);
    if (pending === undefined) {
      pending = (async () => {
        const result = typeof publicKey === 'string' ? await importSPKI(publicKey, alg) : await importJWK(publicKey, alg);
        if (result instanceof Uint8Array) throw new AuthError('badSignature', 'the configured key is not a public key');
        return result;
      })();
      imported.set(alg, pending);
    }
    return pending;
  };
}

/** jose's errors as ours; the messages are ours too, so nothing of the token is repeated. */
function translate(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof errors.JWTExpired) return new AuthError('expired', 'the bearer token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'nbf':
        return new AuthError('notYetValid', 'the bearer token is not valid yet (nbf)');
      case 'iss':
        return new AuthError('wrongIssuer', 'the bearer token is not from the issuer this server trusts');
      case 'aud':
        return new AuthError('wrongAudience', 'the bearer token is not meant for this server (aud)');
      default:
        return new AuthError('invalidClaims', `the bearer token's "${error.claim}" claim is ${error.reason === 'missing' ? 'missing' : 'invalid'}`);
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new AuthError('badSignature', 'the bearer token signature does not verify');
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new AuthError('badSignature', "the bearer token is not signed by one of the issuer's keys");
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return new AuthError('badSignature', 'the bearer token is signed with an algorithm this server does not accept');
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return new AuthError('keysUnavailable', "the issuer's signing keys could not be fetched");
  if (error instanceof errors.JOSEError) return new AuthError('malformedToken', 'the bearer token is not a valid signed JWT');
  // A network failure fetching the JWKS is a TypeError from fetch.
  if (error instanceof TypeError) return new AuthError('keysUnavailable', "the issuer's signing keys could not be fetched");
  throw error;
}

function callerOf(payload: JWTPayload, orgClaim: string): VerifiedCaller {
  const org = payload[orgClaim];
  if (org === undefined || org === null || org === '') throw new AuthError('missingOrgClaim', `the bearer token has no "${orgClaim}" claim naming the calling organisation's HSA-id`);
  if (typeof org !== 'string' || !hsaIdSchema.safeParse(org).success) {
    throw new AuthError('invalidOrgClaim', `the bearer token's "${orgClaim}" claim is not an HSA-id`);
  }
  const scope = payload['scope'];
  if (scope !== undefined && typeof scope !== 'string') throw new AuthError('invalidClaims', 'the bearer token\'s "scope" claim is not a string of space-separated scopes');
  return {
    organization: org,
    ...(payload.sub === undefined ? {} : { subject: payload.sub }),
    issuer: payload.iss ?? '',
    ...(payload.jti === undefined ? {} : { tokenId: payload.jti }),
    expiresAt: new Date((payload.exp ?? 0) * 1000),
    scopes: parseScopes(scope ?? ''),
  };
}

/** A verifier for one issuer and key. */
export function createTokenVerifier(options: VerifierOptions): TokenVerifier {
  const key = keyResolver(options.key);
  const orgClaim = options.orgClaim ?? DEFAULT_ORG_CLAIM;
  const clock = options.clock ?? (() => new Date());
  const verified = new VerifiedTokens(options.tokenCache ?? DEFAULT_TOKEN_CACHE, options.clockToleranceSeconds * 1000);
  return async (authorization) => {
    const token = bearerToken(authorization);
    const now = clock();
    const known = verified.get(token, now);
    if (known !== undefined) return known;
    const verifyOptions: JWTVerifyOptions = {
      issuer: options.issuer,
      audience: [...options.audience],
      algorithms: [...options.algorithms],
      clockTolerance: options.clockToleranceSeconds,
      currentDate: now,
      // A token without exp would never expire.
      requiredClaims: ['exp'],
    };
    let payload: JWTPayload;
    try {
      // Two calls so that TypeScript picks the overload for a key or for a key resolver.
      payload = typeof key === 'function' ? (await jwtVerify(token, key, verifyOptions)).payload : (await jwtVerify(token, key, verifyOptions)).payload;
    } catch (error) {
      throw translate(error);
    }
    const caller = callerOf(payload, orgClaim);
    verified.set(token, caller, payload, now);
    return caller;
  };
}

/** How requests are authenticated, as the server will use it. */
export type Authenticator =
  | { readonly mode: 'disabled'; readonly warning: string }
  | { readonly mode: 'local'; readonly verify: TokenVerifier; readonly localKey: LocalKey }
  | { readonly mode: 'external'; readonly verify: TokenVerifier };

/** The verifier for a resolved mode (`resolveAuthMode`); in local mode, the key is made on first use. */
export async function createAuthenticator(mode: AuthMode, options: { readonly clock?: () => Date; readonly tokenCache?: number } = {}): Promise<Authenticator> {
  const clock = { ...(options.clock === undefined ? {} : { clock: options.clock }), ...(options.tokenCache === undefined ? {} : { tokenCache: options.tokenCache }) };
  switch (mode.mode) {
    case 'disabled':
      return { mode: 'disabled', warning: authDisabledWarning() };
    case 'local': {
      const localKey = await loadOrCreateLocalKey(mode.dataDir);
      const verify = createTokenVerifier({
        issuer: LOCAL_ISSUER,
        audience: [LOCAL_AUDIENCE],
        key: { localKey },
        algorithms: [LOCAL_ALGORITHM],
        clockToleranceSeconds: mode.clockToleranceSeconds,
        ...clock,
      });
      return { mode: 'local', verify, localKey };
    }
    case 'external':
      return {
        mode: 'external',
        verify: createTokenVerifier({
          issuer: mode.issuer,
          audience: mode.audience,
          key: mode.key,
          algorithms: mode.algorithms,
          orgClaim: mode.orgClaim,
          clockToleranceSeconds: mode.clockToleranceSeconds,
          ...clock,
        }),
      };
  }
}
