/**
 * The server's own signing key, for when no issuer is configured: secure by default, and easy to
 * try. The key pair (ES256, P-256) is made on first use and kept as a private JWK in the data folder,
 * readable by its owner only (0600); `sip-fhir token` signs tokens with it and the server accepts
 * only tokens signed by it, with the local issuer and audience below.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { hsaIdSchema } from '../../sip/identifiers.js';
import { DEFAULT_ORG_CLAIM } from './settings.js';
import { describeIgnored, parseScopes } from './scopes.js';

export const LOCAL_ISSUER = 'urn:sip-fhir-adapter:local';
export const LOCAL_AUDIENCE = 'urn:sip-fhir-adapter:api';
export const LOCAL_ALGORITHM = 'ES256';
/** The key's file, in the data folder. */
export const LOCAL_KEY_FILE = 'local-signing-key.jwk.json';
/** Local tokens live at most a day: enough to try the service, short enough to forget safely. */
export const MAX_LOCAL_TTL_SECONDS = 86_400;

export interface LocalKey {
  /** The JWK thumbprint (RFC 7638) of the public key, the tokens' `kid`. */
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly file: string;
}

/** The key file cannot be used: unreadable, not a P-256 private JWK, or readable by others. */
export class LocalKeyError extends Error {
  override readonly name = 'LocalKeyError';
}

function isPrivateP256(value: unknown): value is JWK & { kty: 'EC'; crv: 'P-256'; x: string; y: string; d: string } {
  if (typeof value !== 'object' || value === null) return false;
  const jwk = value as Record<string, unknown>;
  return jwk['kty'] === 'EC' && jwk['crv'] === 'P-256' && typeof jwk['x'] === 'string' && typeof jwk['y'] === 'string' && typeof jwk['d'] === 'string';
}

async function fromJwk(jwk: JWK & { x: string; y: string; d: string; crv: string; kty: string }, file: string): Promise<LocalKey> {
  const publicJwk: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
  const [privateKey, publicKey, kid] = await Promise.all([
    importJWK({ ...publicJwk, d: jwk.d }, LOCAL_ALGORITHM),
    importJWK(publicJwk, LOCAL_ALGORITHM),
    calculateJwkThumbprint(publicJwk),
  ]);
  if (!('type' in privateKey) || !('type' in publicKey)) throw new LocalKeyError(`${file}: not an EC key`);
  return { kid, privateKey, publicKey, file };
}

async function readKey(file: string): Promise<LocalKey> {
  if (process.platform !== 'win32') {
    const { mode } = await stat(file);
    // Like ssh: a private key others can read is not trusted, not silently used.
    if ((mode & 0o077) !== 0) {
      throw new LocalKeyError(`${file} is readable by others (mode ${(mode & 0o777).toString(8)}); make it 0600 (chmod 600) or delete it to make a new key`);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch {
    throw new LocalKeyError(`${file} is not a JSON Web Key; delete it to make a new key`);
  }
  if (!isPrivateP256(value)) throw new LocalKeyError(`${file} is not a P-256 private JSON Web Key; delete it to make a new key`);
  return fromJwk(value, file);
}

/**
 * The local signing key of `dataDir`, made on first use. The file is created exclusively (`wx`) with
 * mode 0600, so two processes starting together never overwrite each other's key: the loser reads
 * the winner's. The data folder is created (0700) when missing.
 */
export async function loadOrCreateLocalKey(dataDir: string): Promise<LocalKey> {
  const file = path.join(dataDir, LOCAL_KEY_FILE);
  try {
    return await readKey(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const { privateKey } = await generateKeyPair(LOCAL_ALGORITHM, { extractable: true });
  const jwk = await exportJWK(privateKey);
  // Written whole to a file of our own, then linked into place: a link fails if the name exists, so
  // of two processes starting together exactly one key wins, and no one ever reads a half-written key.
  const draft = `${file}.${String(process.pid)}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(draft, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(jwk)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(draft);
  }
  return readKey(file);
}

export interface LocalTokenRequest {
  /** The calling organisation's HSA-id. */
  readonly org: string;
  /** Space-separated SMART system scopes; each must grant something. */
  readonly scopes: string;
  /** The token's `sub`; the organisation's HSA-id when absent. */
  readonly subject?: string;
  readonly ttlSeconds: number;
}

/** A request `issueLocalToken` cannot honour. */
export class LocalTokenError extends Error {
  override readonly name = 'LocalTokenError';
}

/** Checks a token request as `issueLocalToken` does; the CLI reports the message as a usage error. */
export function checkLocalTokenRequest(request: LocalTokenRequest): void {
  const org = hsaIdSchema.safeParse(request.org);
  if (!org.success) throw new LocalTokenError(`--org: ${org.error.issues[0]?.message ?? 'not an HSA-id'}`);
  const scopes = parseScopes(request.scopes);
  const [ignored] = scopes.ignored;
  if (ignored !== undefined) throw new LocalTokenError(`--scope: ${describeIgnored(ignored)}`);
  if (scopes.grants.length === 0) throw new LocalTokenError('--scope: name at least one scope, e.g. "system/CarePlan.rs"');
  if (!Number.isInteger(request.ttlSeconds) || request.ttlSeconds < 1 || request.ttlSeconds > MAX_LOCAL_TTL_SECONDS) {
    throw new LocalTokenError(`--ttl: must be a whole number of seconds from 1 to ${MAX_LOCAL_TTL_SECONDS}`);
  }
  if (request.subject?.trim() === '') throw new LocalTokenError('--subject: must not be empty');
}

/** Signs a token with the local key: what `sip-fhir token` prints and the server accepts in local mode. */
export async function issueLocalToken(request: LocalTokenRequest, key: LocalKey, now: Date = new Date()): Promise<string> {
  checkLocalTokenRequest(request);
  const issuedAt = Math.floor(now.getTime() / 1000);
  const scope = request.scopes.split(/\s+/).filter((part) => part !== '').join(' ');
  return new SignJWT({ [DEFAULT_ORG_CLAIM]: request.org, scope })
    .setProtectedHeader({ alg: LOCAL_ALGORITHM, kid: key.kid, typ: 'JWT' })
    .setIssuer(LOCAL_ISSUER)
    .setAudience(LOCAL_AUDIENCE)
    .setSubject(request.subject ?? request.org)
    .setIssuedAt(issuedAt)
    .setNotBefore(issuedAt)
    .setExpirationTime(issuedAt + request.ttlSeconds)
    .setJti(randomUUID())
    .sign(key.privateKey);
}
