/**
 * The `Authorization` header a connector sends to its receiver (issue #14, "What to build" 1).
 *
 * - `bearer`: a static token, as configured.
 * - `client-credentials`: OAuth 2.0 client credentials grant (RFC 6749 §4.4), the client
 *   authenticated with HTTP Basic (§2.3.1) or in the form.
 * - `smart-backend`: SMART Backend Services
 *   (https://hl7.org/fhir/smart-app-launch/backend-services.html): the client authenticates with a
 *   JWT it signs (RFC 7523), `iss` = `sub` = client id, `aud` = the token URL, a unique `jti`, and
 *   `exp` five minutes ahead at most; `kid` names the key in the client's JWKS.
 *
 * An obtained token is kept until shortly before its `expires_in` runs out (so a request never leaves
 * with a token that expires on the way), then fetched again; concurrent deliveries share one fetch.
 * A receiver that answers 401 makes the connector `invalidate()` the token and try once more with a
 * new one. A token without `expires_in` is kept until the receiver refuses it.
 */
import { randomUUID } from 'node:crypto';
import axios, { type AxiosInstance } from 'axios';
import { SignJWT } from 'jose';
import { z } from 'zod';
import type { ReceiverAuth } from '../receivers.js';

/** The assertion type of RFC 7523 §2.2 that SMART Backend Services uses. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The longest lifetime SMART Backend Services allows a client assertion (five minutes). */
export const ASSERTION_LIFETIME_SECONDS = 300;

/** A token is fetched anew this long before it expires (or at half its life, if that is shorter). */
export const REFRESH_MARGIN_MS = 30_000;

/** Why no token could be had; `retryable` when the token server may answer later (timeout, 5xx, 429). */
export class TokenError extends Error {
  override readonly name = 'TokenError';
  readonly retryable: boolean;
  readonly status?: number;

  constructor(message: string, retryable: boolean, status?: number) {
    super(message);
    this.retryable = retryable;
    if (status !== undefined) this.status = status;
  }
}

export interface TokenSource {
  /** The `Authorization` header value, or undefined for a receiver without auth. Throws `TokenError`. */
  authorization(): Promise<string | undefined>;
  /** Forget the kept token (the receiver answered 401); false when there is nothing to fetch anew. */
  invalidate(): boolean;
}

export interface TokenSourceOptions {
  /** The clock (tests give a fixed one). */
  readonly now?: () => Date;
  /** The HTTP client for the token endpoint (default: a new axios instance). */
  readonly http?: AxiosInstance;
  readonly timeoutMs?: number;
}

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().refine((type) => type.toLowerCase() === 'bearer', 'is not "bearer"').optional(),
  expires_in: z.coerce.number().positive().optional(),
});

interface Kept {
  readonly header: string;
  /** When to fetch anew, in ms since the epoch; undefined: until the receiver refuses it. */
  readonly staleAt?: number;
}

function errorText(data: unknown): string {
  if (typeof data === 'string') {
    try {
      return errorText(JSON.parse(data));
    } catch {
      return data.slice(0, 300);
    }
  }
  if (data !== null && typeof data === 'object') {
    const { error, error_description: description } = data as { error?: unknown; error_description?: unknown };
    if (typeof error === 'string') return typeof description === 'string' ? `${error}: ${description}` : error;
  }
  return '';
}

/** Tokens from an OAuth 2.0 token endpoint: kept, refreshed when stale, shared by concurrent callers. */
class OAuthTokenSource implements TokenSource {
  readonly #auth: Extract<ReceiverAuth, { type: 'client-credentials' | 'smart-backend' }>;
  readonly #http: AxiosInstance;
  readonly #now: () => Date;
  readonly #timeoutMs: number;
  #kept: Kept | undefined;
  #pending: Promise<Kept> | undefined;

  constructor(auth: Extract<ReceiverAuth, { type: 'client-credentials' | 'smart-backend' }>, options: TokenSourceOptions) {
    this.#auth = auth;
    this.#http = options.http ?? axios.create();
    this.#now = options.now ?? (() => new Date());
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  async authorization(): Promise<string> {
    const kept = this.#kept;
    if (kept !== undefined && (kept.staleAt === undefined || this.#now().getTime() < kept.staleAt)) return kept.header;
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return (await this.#pending).header;
  }

  invalidate(): boolean {
    this.#kept = undefined;
    return true;
  }

  async #form(): Promise<{ form: URLSearchParams; headers: Record<string, string> }> {
    const auth = this.#auth;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' };
    if (auth.type === 'smart-backend') {
      form.set('client_assertion_type', JWT_BEARER_ASSERTION_TYPE);
      form.set('client_assertion', await this.#assertion(auth));
      form.set('scope', auth.scope);
      return { form, headers };
    }
    if (auth.scope !== undefined) form.set('scope', auth.scope);
    if (auth.clientAuthentication === 'post') {
      form.set('client_id', auth.clientId);
      form.set('client_secret', auth.clientSecret);
    } else {
      // RFC 6749 §2.3.1: client id and secret are form-urlencoded before they are joined for Basic.
      const basic = Buffer.from(`${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`).toString('base64');
      headers.Authorization = `Basic ${basic}`;
    }
    return { form, headers };
  }

  async #assertion(auth: Extract<ReceiverAuth, { type: 'smart-backend' }>): Promise<string> {
    const issuedAt = Math.floor(this.#now().getTime() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: auth.alg, kid: auth.kid, typ: 'JWT' })
      .setIssuer(auth.clientId)
      .setSubject(auth.clientId)
      .setAudience(auth.tokenUrl)
      .setJti(randomUUID())
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ASSERTION_LIFETIME_SECONDS)
      .sign(auth.privateKey);
  }

  async #fetch(): Promise<Kept> {
    const { form, headers } = await this.#form();
    const url = this.#auth.tokenUrl;
    const sentAt = this.#now().getTime();
    let response;
    try {
      response = await this.#http.post<string>(url, form.toString(), { headers, timeout: this.#timeoutMs, responseType: 'text', validateStatus: () => true, maxRedirects: 0 });
    } catch (error) {
      const code = axios.isAxiosError(error) ? (error.code ?? error.message) : String(error);
      throw new TokenError(`the token endpoint ${url} could not be reached (${code})`, true);
    }
    const { status } = response;
    if (status < 200 || status >= 300) {
      const detail = errorText(response.data);
      const retryable = status === 429 || status === 408 || status >= 500;
      throw new TokenError(`the token endpoint ${url} answered ${String(status)}${detail === '' ? '' : ` (${detail})`}`, retryable, status);
    }
    let body: unknown;
    try {
      body = JSON.parse(response.data);
    } catch {
      throw new TokenError(`the token endpoint ${url} answered ${String(status)} without a JSON token response`, true, status);
    }
    const parsed = tokenResponseSchema.safeParse(body);
    if (!parsed.success) {
      const what = parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ');
      throw new TokenError(`the token endpoint ${url} answered without a usable bearer token (${what})`, false, status);
    }
    const { access_token: token, expires_in: expiresIn } = parsed.data;
    const lifetimeMs = expiresIn === undefined ? undefined : expiresIn * 1000;
    const kept: Kept =
      lifetimeMs === undefined ? { header: `Bearer ${token}` } : { header: `Bearer ${token}`, staleAt: sentAt + lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2) };
    this.#kept = kept;
    return kept;
  }
}

/** The token source of a receiver's auth setting. */
export function createTokenSource(auth: ReceiverAuth, options: TokenSourceOptions = {}): TokenSource {
  switch (auth.type) {
    case 'none':
      return { authorization: () => Promise.resolve(undefined), invalidate: () => false };
    case 'bearer': {
      const header = `Bearer ${auth.token}`;
      return { authorization: () => Promise.resolve(header), invalidate: () => false };
    }
    case 'client-credentials':
    case 'smart-backend':
      return new OAuthTokenSource(auth, options);
  }
}
