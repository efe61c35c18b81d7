/**
 * How the service authenticates callers, decided once at start:
 *
 * - **external**: `issuer`, `audience` and exactly one of `jwksUrl` or `publicKey` are set; bearer
 *   tokens from that issuer are verified. `tokenEndpoint`, when set, is the issuer's OAuth token
 *   endpoint, which the server names to SMART clients (src/http/smart-configuration.ts);
 * - **local** (the default): none of them is set; the server verifies tokens signed by its own key in
 *   the data folder (`sip-fhir token` issues them), so a fresh install is never open;
 * - **disabled**: `authDisabled: true` and nothing else about tokens; every request is let through and
 *   the server prints `authDisabledWarning()` at every start.
 *
 * Half a configuration (an issuer without a key, a key without an audience, `authDisabled` beside an
 * issuer) is an error, never a silent fall-back to another mode.
 */
import { createPublicKey } from 'node:crypto';
import type { JWK } from 'jose';

/** The claim holding the calling organisation's HSA-id, unless `orgClaim` names another. */
export const DEFAULT_ORG_CLAIM = 'hsa_id';
/** Seconds of clock skew allowed on `exp` and `nbf`. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
/**
 * Asymmetric algorithms only: never `none`, and never HMAC, whose "public" key would let anyone
 * holding the configuration sign tokens.
 */
export const DEFAULT_ALGORITHMS: readonly string[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface AuthSettings {
  /** Turns authentication off. Must be said explicitly; nothing else turns it off. */
  readonly authDisabled?: boolean;
  /** The expected `iss`. */
  readonly issuer?: string;
  /** The expected `aud` (one of them, when several are given). */
  readonly audience?: string | readonly string[];
  /** The issuer's JSON Web Key Set, fetched and cached by jose (`createRemoteJWKSet`). */
  readonly jwksUrl?: string;
  /** The issuer's public key: a PEM SPKI (`-----BEGIN PUBLIC KEY-----`) or a public JWK. */
  readonly publicKey?: string | JWK;
  /** Accepted signature algorithms; `DEFAULT_ALGORITHMS` when absent. */
  readonly algorithms?: readonly string[];
  /** The claim holding the organisation's HSA-id; `DEFAULT_ORG_CLAIM` when absent. External mode only. */
  readonly orgClaim?: string;
  /** Allowed clock skew in seconds (0–300); `DEFAULT_CLOCK_TOLERANCE_SECONDS` when absent. */
  readonly clockToleranceSeconds?: number;
  /**
   * The external issuer's OAuth 2.0 token endpoint, where SMART Backend Services clients get their
   * tokens; https (http only on localhost). External mode only: the local key has no token endpoint.
   */
  readonly tokenEndpoint?: string;
  /** Where the local signing key lives (local mode). */
  readonly dataDir: string;
}

export type ExternalKey = { readonly jwksUrl: URL } | { readonly publicKey: string | JWK };

export type AuthMode =
  | { readonly mode: 'disabled' }
  | { readonly mode: 'local'; readonly dataDir: string; readonly clockToleranceSeconds: number }
  | {
      readonly mode: 'external';
      readonly issuer: string;
      readonly audience: readonly string[];
      readonly key: ExternalKey;
      readonly algorithms: readonly string[];
      readonly orgClaim: string;
      readonly clockToleranceSeconds: number;
      /** The issuer's token endpoint, when configured. */
      readonly tokenEndpoint?: URL;
    };

/** Settings that name no consistent mode. */
export class AuthSettingsError extends Error {
  override readonly name = 'AuthSettingsError';
}

const nonEmpty = (value: string | undefined): boolean => value !== undefined && value.trim() !== '';

/**
 * `value` as a URL the server may trust for keys or name for tokens: https, or http on localhost
 * (for testing), since anything else could be swapped or read on the way.
 */
function secureUrl(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AuthSettingsError(`${name} is not a URL`);
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new AuthSettingsError(`${name} must be https (http only on localhost)`);
  return url;
}

/**
 * Refuses `key` unless it is a public key jose can verify with: a PEM SPKI (`-----BEGIN PUBLIC KEY-----`, what
 * jose's `importSPKI` reads) or a public JWK. Checked at start, so a key that cannot be read stops the
 * start, where it had let every token be refused (503, as if a key set could not be fetched).
 */
function checkedPublicKey(key: string | JWK): void {
  if (typeof key !== 'string' && typeof key.d === 'string') throw new AuthSettingsError("publicKey is a private key: give the issuer's public key");
  if (typeof key === 'string' && !key.trimStart().startsWith('-----BEGIN PUBLIC KEY-----')) {
    throw new AuthSettingsError('publicKey is not a PEM public key: it must begin with -----BEGIN PUBLIC KEY----- (SPKI)');
  }
  try {
    createPublicKey(typeof key === 'string' ? { key, format: 'pem' } : { key: { ...key }, format: 'jwk' });
  } catch {
    throw new AuthSettingsError('publicKey cannot be read as a public key (a PEM SPKI or a public JWK)');
  }
}

/** Decides the mode from the settings, or says what is missing or contradictory. */
export function resolveAuthMode(settings: AuthSettings): AuthMode {
  const audience = settings.audience === undefined ? [] : typeof settings.audience === 'string' ? [settings.audience] : [...settings.audience];
  const external = {
    issuer: settings.issuer !== undefined,
    audience: settings.audience !== undefined,
    jwksUrl: settings.jwksUrl !== undefined,
    publicKey: settings.publicKey !== undefined,
    algorithms: settings.algorithms !== undefined,
    orgClaim: settings.orgClaim !== undefined,
  };
  const named = Object.entries(external)
    .filter(([, set]) => set)
    .map(([name]) => name);
  const tolerance = settings.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > 300) throw new AuthSettingsError('clockToleranceSeconds must be from 0 to 300');

  if (settings.authDisabled === true) {
    if (named.length > 0) throw new AuthSettingsError(`authDisabled is set together with ${named.join(', ')}: choose one`);
    if (settings.tokenEndpoint !== undefined) throw new AuthSettingsError('tokenEndpoint is set while authDisabled is: a token endpoint is an external issuer\'s, set with issuer, audience and its key');
    return { mode: 'disabled' };
  }
  if (named.length === 0) {
    if (settings.tokenEndpoint !== undefined) throw new AuthSettingsError('tokenEndpoint is an external issuer\'s: set issuer, audience and jwksUrl or publicKey with it (tokens signed by the local key come from `sip-fhir token`, not from a token endpoint)');
    return { mode: 'local', dataDir: settings.dataDir, clockToleranceSeconds: tolerance };
  }

  if (!nonEmpty(settings.issuer)) throw new AuthSettingsError('issuer is required when tokens come from an external issuer');
  if (audience.length === 0 || !audience.every((item) => nonEmpty(item))) throw new AuthSettingsError('audience is required when tokens come from an external issuer');
  if (external.jwksUrl === external.publicKey) throw new AuthSettingsError('set exactly one of jwksUrl and publicKey');
  let key: ExternalKey;
  if (settings.jwksUrl !== undefined) {
    key = { jwksUrl: secureUrl('jwksUrl', settings.jwksUrl) };
  } else {
    key = { publicKey: settings.publicKey ?? '' };
  }
  const algorithms = settings.algorithms ?? DEFAULT_ALGORITHMS;
  const refused = algorithms.filter((alg) => !DEFAULT_ALGORITHMS.includes(alg));
  if (algorithms.length === 0 || refused.length > 0) throw new AuthSettingsError(`algorithms must be some of ${DEFAULT_ALGORITHMS.join(', ')}`);
  const orgClaim = settings.orgClaim ?? DEFAULT_ORG_CLAIM;
  if (!nonEmpty(orgClaim)) throw new AuthSettingsError('orgClaim must not be empty');
  if ('publicKey' in key) checkedPublicKey(key.publicKey);
  const tokenEndpoint = settings.tokenEndpoint === undefined ? undefined : secureUrl('tokenEndpoint', settings.tokenEndpoint);
  return { mode: 'external', issuer: settings.issuer ?? '', audience, key, algorithms, orgClaim, clockToleranceSeconds: tolerance, ...(tokenEndpoint === undefined ? {} : { tokenEndpoint }) };
}

/** What the server prints at every start when authentication is disabled. */
export function authDisabledWarning(): string {
  const bar = '!'.repeat(78);
  return [
    bar,
    '!! WARNING: AUTHENTICATION IS DISABLED (authDisabled: true)',
    '!! Every request is accepted without a token, from anyone who can reach this server,',
    "!! and no organisation's access to plans is checked. The plans hold sensitive personal",
    '!! data (health and social services). Use this only on your own machine with test data;',
    '!! never expose it to a network. Remove authDisabled to require bearer tokens again.',
    bar,
  ].join('\n');
}
