import { chmodSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  allows,
  AuthError,
  createAuthenticator,
  issueLocalToken,
  loadOrCreateLocalKey,
  LOCAL_AUDIENCE,
  LOCAL_ISSUER,
  LOCAL_KEY_FILE,
  LocalKeyError,
  LocalTokenError,
  resolveAuthMode,
  type TokenVerifier,
} from '../../src/http/auth/index.js';
import { scratchFolder } from '../support/scratch-folders.js';

const NOW = new Date('2026-03-12T10:00:00Z');
const ORG = 'SE2321000180-4PSY';

const tempDir = (): string => scratchFolder('sip-auth-');

async function localVerifier(dataDir: string, at: Date): Promise<TokenVerifier> {
  const authenticator = await createAuthenticator(resolveAuthMode({ dataDir }), { clock: () => at });
  if (authenticator.mode !== 'local') throw new Error(`expected local mode, got ${authenticator.mode}`);
  return authenticator.verify;
}

async function reason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AuthError) return error.reason;
    throw error;
  }
  return 'accepted';
}

describe('the local signing key', () => {
  it('is created once, with mode 0600, in a data folder it makes, and the same key is loaded again', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const first = await loadOrCreateLocalKey(dataDir);
    const file = path.join(dataDir, LOCAL_KEY_FILE);
    expect(first.file).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o077).toBe(0);
    const written = readFileSync(file, 'utf8');
    expect(JSON.parse(written)).toMatchObject({ kty: 'EC', crv: 'P-256' });

    const second = await loadOrCreateLocalKey(dataDir);
    expect(second.kid).toBe(first.kid);
    expect(readFileSync(file, 'utf8')).toBe(written);
    // A token signed with the first load verifies with the second.
    const token = await issueLocalToken({ org: ORG, scopes: 'system/*.rs', ttlSeconds: 60 }, first, NOW);
    expect((await (await localVerifier(dataDir, NOW))(`Bearer ${token}`)).organization).toBe(ORG);
  });

  it('is one key when several start together, and none of them reads a half-written key', async () => {
    // Ten rounds of twenty at once: the race between making the file and writing it showed in CI.
    for (let round = 0; round < 10; round++) {
      const dataDir = tempDir();
      const keys = await Promise.all(Array.from({ length: 20 }, () => loadOrCreateLocalKey(dataDir)));
      expect(new Set(keys.map((key) => key.kid)).size).toBe(1);
      expect(readdirSync(dataDir)).toEqual([LOCAL_KEY_FILE]);
    }
  });

  it('is refused when others can read it', async () => {
    const dataDir = tempDir();
    await loadOrCreateLocalKey(dataDir);
    chmodSync(path.join(dataDir, LOCAL_KEY_FILE), 0o644);
    await expect(loadOrCreateLocalKey(dataDir)).rejects.toThrow(LocalKeyError);
    await expect(loadOrCreateLocalKey(dataDir)).rejects.toThrow(/readable by others \(mode 644\)/);
  });

  it('is refused when the file is not a P-256 private JWK', async () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, LOCAL_KEY_FILE);
    writeFileSync(file, '{"kty":"oct","k":"c2VjcmV0"}', { mode: 0o600 });
    await expect(loadOrCreateLocalKey(dataDir)).rejects.toThrow(/not a P-256 private JSON Web Key/);
    writeFileSync(file, 'not json', { mode: 0o600 });
    await expect(loadOrCreateLocalKey(dataDir)).rejects.toThrow(/not a JSON Web Key/);
  });
});

describe('local tokens', () => {
  it('carry the organisation, scopes, subject, local issuer and audience, and the key id', async () => {
    const key = await loadOrCreateLocalKey(tempDir());
    const token = await issueLocalToken({ org: ORG, scopes: ' system/CarePlan.rs  system/Consent.read ', subject: 'test-client', ttlSeconds: 600 }, key, NOW);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: key.kid, typ: 'JWT' });
    expect(decodeJwt(token)).toMatchObject({
      iss: LOCAL_ISSUER,
      aud: LOCAL_AUDIENCE,
      sub: 'test-client',
      hsa_id: ORG,
      scope: 'system/CarePlan.rs system/Consent.read',
      iat: NOW.getTime() / 1000,
      nbf: NOW.getTime() / 1000,
      exp: NOW.getTime() / 1000 + 600,
    });
  });

  it('are accepted in local mode until they expire, and only when signed by this data folder’s key', async () => {
    const dataDir = tempDir();
    const key = await loadOrCreateLocalKey(dataDir);
    const token = await issueLocalToken({ org: ORG, scopes: 'system/CarePlan.rs', ttlSeconds: 600 }, key, NOW);
    const caller = await (await localVerifier(dataDir, NOW))(`Bearer ${token}`);
    expect(caller).toMatchObject({ organization: ORG, subject: ORG, issuer: LOCAL_ISSUER });
    expect(allows(caller.scopes, 'CarePlan', 'search')).toBe(true);
    expect(allows(caller.scopes, 'CarePlan', 'update')).toBe(false);

    expect(await reason((await localVerifier(dataDir, new Date(NOW.getTime() + 631_000)))(`Bearer ${token}`))).toBe('expired');
    const elsewhere = await issueLocalToken({ org: ORG, scopes: 'system/CarePlan.rs', ttlSeconds: 600 }, await loadOrCreateLocalKey(tempDir()), NOW);
    expect(await reason((await localVerifier(dataDir, NOW))(`Bearer ${elsewhere}`))).toBe('badSignature');
  });

  const BAD: readonly { name: string; request: Parameters<typeof issueLocalToken>[0]; message: RegExp }[] = [
    { name: 'an organisation that is not an HSA-id', request: { org: '232100-0180', scopes: 'system/*.rs', ttlSeconds: 60 }, message: /--org: HSA-id must look like/ },
    { name: 'no scope', request: { org: ORG, scopes: ' ', ttlSeconds: 60 }, message: /--scope: name at least one scope/ },
    { name: 'a patient scope', request: { org: ORG, scopes: 'system/*.rs patient/*.read', ttlSeconds: 60 }, message: /"patient\/\*\.read" is not a system\/ scope/ },
    { name: 'a restricted scope', request: { org: ORG, scopes: 'system/CarePlan.rs?status=active', ttlSeconds: 60 }, message: /restriction/ },
    { name: 'a TTL of zero', request: { org: ORG, scopes: 'system/*.rs', ttlSeconds: 0 }, message: /--ttl/ },
    { name: 'a TTL over a day', request: { org: ORG, scopes: 'system/*.rs', ttlSeconds: 86_401 }, message: /--ttl/ },
    { name: 'an empty subject', request: { org: ORG, scopes: 'system/*.rs', ttlSeconds: 60, subject: ' ' }, message: /--subject/ },
  ];
  for (const bad of BAD) {
    it(`are not issued for ${bad.name}`, async () => {
      const key = await loadOrCreateLocalKey(tempDir());
      const issuing = issueLocalToken(bad.request, key, NOW);
      await expect(issuing).rejects.toThrow(LocalTokenError);
      await expect(issueLocalToken(bad.request, key, NOW)).rejects.toThrow(bad.message);
    });
  }
});
