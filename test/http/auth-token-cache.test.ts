/**
 * Verified bearer tokens are remembered by their text (src/http/auth/verify.ts), and a remembered one
 * is still judged against the clock on every call: past its `exp` or before its `nbf` it is refused as
 * if never seen, another text is verified afresh, and the memory is bounded and forgets after a minute.
 */
import { generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuthError, createTokenVerifier, DEFAULT_ORG_CLAIM } from '../../src/http/auth/index.js';
import { VerifiedTokens, type VerifiedCaller } from '../../src/http/auth/verify.js';

const NOW = new Date('2026-03-12T10:00:00Z');
const now = NOW.getTime() / 1000;
const ISSUER = 'https://idp.example.se';
const AUDIENCE = 'https://sip.example.se/fhir';
const ORG = 'SE2321000180-1000';

let key: { privateKey: CryptoKey; publicKey: CryptoKey };
beforeAll(async () => {
  key = await generateKeyPair('ES256');
});

const sign = (claims: JWTPayload): Promise<string> =>
  new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'client-falun', nbf: now, exp: now + 300, [DEFAULT_ORG_CLAIM]: ORG, scope: 'system/CarePlan.rs', ...claims })
    .setProtectedHeader({ alg: 'ES256' })
    .sign(key.privateKey);

/** A verifier of tokens signed by `key`, with 30 s of clock tolerance, on a clock the test moves. */
function verifierOn(clock: () => Date): ReturnType<typeof createTokenVerifier> {
  const localKey = { kid: 'test', privateKey: key.privateKey, publicKey: key.publicKey, file: '' };
  return createTokenVerifier({ issuer: ISSUER, audience: [AUDIENCE], key: { localKey }, algorithms: ['ES256'], clockToleranceSeconds: 30, clock });
}

const failure = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
  } catch (error) {
    return error instanceof AuthError ? error.reason : String(error);
  }
  return 'accepted';
};

describe('remembered bearer tokens', () => {
  it('refuses a remembered token once it has expired, and one changed by a character', async () => {
    let clockNow = NOW;
    const verifier = verifierOn(() => clockNow);
    const token = await sign({});
    expect((await verifier(`Bearer ${token}`)).organization).toBe(ORG);
    expect((await verifier(`Bearer ${token}`)).organization).toBe(ORG);
    // exp is NOW + 300 s; with 30 s of tolerance it is refused from NOW + 330 s.
    clockNow = new Date(NOW.getTime() + 329_000);
    expect((await verifier(`Bearer ${token}`)).organization).toBe(ORG);
    clockNow = new Date(NOW.getTime() + 330_000);
    expect(await failure(verifier(`Bearer ${token}`))).toBe('expired');
    clockNow = NOW;
    const [header, payload, signature] = token.split('.');
    const changed = `${header ?? ''}.${payload ?? ''}.${signature?.startsWith('A') === true ? 'B' : 'A'}${signature?.slice(1) ?? ''}`;
    expect(await failure(verifier(`Bearer ${changed}`))).toBe('badSignature');
  });

  it('refuses a remembered token before its nbf when the clock is set back', async () => {
    let clockNow = NOW;
    const verifier = verifierOn(() => clockNow);
    const token = await sign({});
    expect((await verifier(`Bearer ${token}`)).organization).toBe(ORG);
    clockNow = new Date(NOW.getTime() - 31_000);
    expect(await failure(verifier(`Bearer ${token}`))).toBe('notYetValid');
  });
});

describe('VerifiedTokens', () => {
  const caller = (organization: string, expiresAt = new Date(NOW.getTime() + 3_600_000)): VerifiedCaller => ({
    organization,
    issuer: ISSUER,
    expiresAt,
    scopes: { grants: [], ignored: [] },
  });

  it('forgets the least recently used beyond its size', () => {
    const tokens = new VerifiedTokens(2, 0);
    tokens.set('a', caller('A'), {}, NOW);
    tokens.set('b', caller('B'), {}, NOW);
    expect(tokens.get('a', NOW)?.organization).toBe('A');
    tokens.set('c', caller('C'), {}, NOW);
    expect(tokens.get('b', NOW)).toBeUndefined();
    expect(tokens.get('a', NOW)?.organization).toBe('A');
    expect(tokens.get('c', NOW)?.organization).toBe('C');
  });

  it('forgets a token a minute after it was verified, at its exp if that is sooner, and remembers nothing at size 0', () => {
    const tokens = new VerifiedTokens(10, 0);
    tokens.set('long', caller('A'), {}, NOW);
    tokens.set('short', caller('B', new Date(NOW.getTime() + 10_000)), {}, NOW);
    expect(tokens.get('long', new Date(NOW.getTime() + 59_999))?.organization).toBe('A');
    expect(tokens.get('short', new Date(NOW.getTime() + 10_000))).toBeUndefined();
    expect(tokens.get('long', new Date(NOW.getTime() + 60_000))).toBeUndefined();
    const none = new VerifiedTokens(0, 0);
    none.set('a', caller('A'), {}, NOW);
    expect(none.get('a', NOW)).toBeUndefined();
  });
});
