import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthError,
  authErrorOutcome,
  authDisabledWarning,
  AuthSettingsError,
  createAuthenticator,
  createTokenVerifier,
  DEFAULT_ORG_CLAIM,
  resolveAuthMode,
  wwwAuthenticate,
  type AuthFailure,
  type VerifierOptions,
} from '../../src/http/auth/index.js';
import { closeServer, listenOnLoopback } from '../support/loopback.js';

const NOW = new Date('2026-03-12T10:00:00Z');
const now = Math.floor(NOW.getTime() / 1000);
const clock = (): Date => NOW;
const ISSUER = 'https://idp.example.se';
const AUDIENCE = 'https://sip.example.se/fhir';
const ORG = 'SE2321000180-1000';
/** A key pair made when the file loads, for the settings' checks (the verification tests make theirs in beforeAll). */
const SETTINGS_KEYS = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const PUBLIC_PEM = SETTINGS_KEYS.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const PRIVATE_PEM = SETTINGS_KEYS.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const PRIVATE_JWK: JsonWebKey = SETTINGS_KEYS.privateKey.export({ format: 'jwk' });

let issuerKey: { privateKey: CryptoKey; publicKey: CryptoKey };
let otherKey: { privateKey: CryptoKey; publicKey: CryptoKey };
let pem: string;

beforeAll(async () => {
  issuerKey = await generateKeyPair('ES384', { extractable: true });
  otherKey = await generateKeyPair('ES384', { extractable: true });
  pem = await exportSPKI(issuerKey.publicKey);
});

interface TokenOptions {
  key?: CryptoKey;
  alg?: string;
  kid?: string;
  claims?: JWTPayload;
  omit?: readonly string[];
}

async function token(options: TokenOptions = {}): Promise<string> {
  const claims: JWTPayload = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'client-falun',
    iat: now,
    nbf: now,
    exp: now + 300,
    jti: 'token-1',
    [DEFAULT_ORG_CLAIM]: ORG,
    scope: 'system/CarePlan.rs system/Consent.read',
    ...options.claims,
  };
  for (const name of options.omit ?? []) Reflect.deleteProperty(claims, name);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'ES384', ...(options.kid === undefined ? {} : { kid: options.kid }) })
    .sign(options.key ?? issuerKey.privateKey);
}

function verifier(overrides: Partial<VerifierOptions> = {}): ReturnType<typeof createTokenVerifier> {
  return createTokenVerifier({
    issuer: ISSUER,
    audience: [AUDIENCE],
    key: { publicKey: pem },
    algorithms: ['ES384', 'RS256'],
    clockToleranceSeconds: 30,
    clock,
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AuthError) return error;
    throw error;
  }
  throw new Error('expected an AuthError');
}

describe('bearer token verification', () => {
  it('accepts a valid token and returns the organisation, subject, expiry and scopes', async () => {
    const caller = await verifier()(`Bearer ${await token()}`);
    expect(caller.organization).toBe(ORG);
    expect(caller.subject).toBe('client-falun');
    expect(caller.issuer).toBe(ISSUER);
    expect(caller.tokenId).toBe('token-1');
    expect(caller.expiresAt).toEqual(new Date((now + 300) * 1000));
    expect(caller.scopes.grants.map((grant) => grant.scope)).toEqual(['system/CarePlan.rs', 'system/Consent.read']);
  });

  it('accepts the key as a public JWK too, and the scheme in any case', async () => {
    const jwk = await exportJWK(issuerKey.publicKey);
    const caller = await verifier({ key: { publicKey: jwk } })(`bearer ${await token()}`);
    expect(caller.organization).toBe(ORG);
  });

  it('allows a small clock skew on exp and nbf', async () => {
    const verify = verifier();
    await expect(verify(`Bearer ${await token({ claims: { exp: now - 20 } })}`)).resolves.toMatchObject({ organization: ORG });
    await expect(verify(`Bearer ${await token({ claims: { nbf: now + 20 } })}`)).resolves.toMatchObject({ organization: ORG });
  });

  it('reads the organisation from another claim when configured', async () => {
    const caller = await verifier({ orgClaim: 'org_hsa_id' })(`Bearer ${await token({ claims: { org_hsa_id: 'SE2120000449-1000' } })}`);
    expect(caller.organization).toBe('SE2120000449-1000');
  });

  const REFUSALS: readonly { name: string; reason: AuthFailure; header: () => Promise<string | undefined>; options?: Partial<VerifierOptions> }[] = [
    { name: 'no Authorization header', reason: 'missingToken', header: () => Promise.resolve(undefined) },
    { name: 'an empty header', reason: 'missingToken', header: () => Promise.resolve('  ') },
    { name: 'another scheme', reason: 'missingToken', header: async () => `Basic ${await token()}` },
    { name: '"Bearer" without a token', reason: 'missingToken', header: () => Promise.resolve('Bearer ') },
    { name: 'a token that is not a JWS', reason: 'malformedToken', header: () => Promise.resolve('Bearer not-a-jwt') },
    { name: 'a JWS with a garbage header', reason: 'malformedToken', header: () => Promise.resolve('Bearer aGVsbG8.d29ybGQ.c2ln') },
    { name: 'a token of 20 kB', reason: 'malformedToken', header: () => Promise.resolve(`Bearer ${'a'.repeat(20_000)}.b.c`) },
    { name: 'a token signed by another key', reason: 'badSignature', header: async () => `Bearer ${await token({ key: otherKey.privateKey })}` },
    {
      name: 'a token whose payload was changed after signing',
      reason: 'badSignature',
      header: async () => {
        const [head, , signature] = (await token()).split('.');
        const forged = Buffer.from(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, exp: now + 300, hsa_id: 'SE2321000016-1000' })).toString('base64url');
        return `Bearer ${head ?? ''}.${forged}.${signature ?? ''}`;
      },
    },
    {
      name: 'an unsigned token (alg none)',
      reason: 'badSignature',
      header: () => {
        const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
        return Promise.resolve(`Bearer ${part({ alg: 'none' })}.${part({ iss: ISSUER, aud: AUDIENCE, exp: now + 300, hsa_id: ORG })}.x`);
      },
    },
    { name: 'an algorithm not accepted', reason: 'badSignature', header: async () => `Bearer ${await token()}`, options: { algorithms: ['RS256'] } },
    { name: 'an expired token', reason: 'expired', header: async () => `Bearer ${await token({ claims: { exp: now - 31 } })}` },
    { name: 'a token not valid yet', reason: 'notYetValid', header: async () => `Bearer ${await token({ claims: { nbf: now + 31 } })}` },
    { name: 'a token without exp', reason: 'invalidClaims', header: async () => `Bearer ${await token({ omit: ['exp'] })}` },
    { name: 'another issuer', reason: 'wrongIssuer', header: async () => `Bearer ${await token({ claims: { iss: 'https://evil.example' } })}` },
    { name: 'no issuer', reason: 'wrongIssuer', header: async () => `Bearer ${await token({ omit: ['iss'] })}` },
    { name: 'another audience', reason: 'wrongAudience', header: async () => `Bearer ${await token({ claims: { aud: 'https://other.example/fhir' } })}` },
    { name: 'no org claim', reason: 'missingOrgClaim', header: async () => `Bearer ${await token({ omit: [DEFAULT_ORG_CLAIM] })}` },
    { name: 'an org claim that is not an HSA-id', reason: 'invalidOrgClaim', header: async () => `Bearer ${await token({ claims: { hsa_id: '232100-0180' } })}` },
    { name: 'an org claim that is not a string', reason: 'invalidOrgClaim', header: async () => `Bearer ${await token({ claims: { hsa_id: ['SE2321000180-1000'] } })}` },
    { name: 'a scope that is not a string', reason: 'invalidClaims', header: async () => `Bearer ${await token({ claims: { scope: ['system/*.*'] } })}` },
  ];

  for (const refusal of REFUSALS) {
    it(`refuses ${refusal.name}: ${refusal.reason}, 401, without the token in the message`, async () => {
      const header = await refusal.header();
      const error = await failure(verifier(refusal.options)(header));
      expect(error.reason).toBe(refusal.reason);
      expect(error.status).toBe(401);
      const sent = header?.replace(/^\S+\s*/, '') ?? '';
      for (const part of sent.split('.').filter((piece) => piece.length > 3)) {
        expect(error.message).not.toContain(part);
        expect(wwwAuthenticate(error)).not.toContain(part);
      }
    });
  }

  it('answers with an RFC 6750 challenge and an OperationOutcome', async () => {
    const missing = await failure(verifier()(undefined));
    expect(wwwAuthenticate(missing)).toBe('Bearer realm="sip-fhir-adapter"');
    const expired = await failure(verifier()(`Bearer ${await token({ claims: { exp: now - 60 } })}`));
    expect(wwwAuthenticate(expired)).toBe('Bearer realm="sip-fhir-adapter", error="invalid_token", error_description="the bearer token has expired"');
    expect(authErrorOutcome(expired)).toEqual({
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: 'expired',
          details: { coding: [{ system: 'http://sip-fhir-adapter.se/fhir/auth-failure', code: 'expired' }] },
          diagnostics: 'the bearer token has expired',
        },
      ],
    });
  });
});

describe('verification against a JWKS URL', () => {
  let server: Server;
  let url: string;
  let served = 0;

  beforeAll(async () => {
    const jwk = { ...(await exportJWK(issuerKey.publicKey)), kid: 'idp-key-1', alg: 'ES384', use: 'sig' };
    server = createServer((_request, response) => {
      served += 1;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    url = `${(await listenOnLoopback(server)).origin}/jwks.json`;
  });
  afterAll(async () => {
    await closeServer(server);
  });

  it('accepts a token signed by a published key, and fetches the set once', async () => {
    const verify = verifier({ key: { jwksUrl: new URL(url) } });
    expect((await verify(`Bearer ${await token({ kid: 'idp-key-1' })}`)).organization).toBe(ORG);
    expect((await verify(`Bearer ${await token({ kid: 'idp-key-1' })}`)).organization).toBe(ORG);
    expect(served).toBe(1);
  });

  it('refuses a token signed by a key the issuer does not publish', async () => {
    const verify = verifier({ key: { jwksUrl: new URL(url) } });
    const error = await failure(verify(`Bearer ${await token({ kid: 'idp-key-1', key: otherKey.privateKey })}`));
    expect(error.reason).toBe('badSignature');
  });

  it('answers 503, not 401, when the keys cannot be fetched', async () => {
    const verify = verifier({ key: { jwksUrl: new URL('http://127.0.0.1:1/jwks.json') } });
    const error = await failure(verify(`Bearer ${await token({ kid: 'idp-key-1' })}`));
    expect(error.reason).toBe('keysUnavailable');
    expect(error.status).toBe(503);
  });
});

describe('auth settings', () => {
  const dataDir = '/nonexistent-data';

  it('uses the local key when no issuer is configured', () => {
    expect(resolveAuthMode({ dataDir })).toEqual({ mode: 'local', dataDir, clockToleranceSeconds: 30 });
  });

  it('uses an external issuer when issuer, audience and one key are configured', () => {
    const mode = resolveAuthMode({ dataDir, issuer: ISSUER, audience: AUDIENCE, jwksUrl: 'https://idp.example.se/jwks' });
    expect(mode).toMatchObject({ mode: 'external', issuer: ISSUER, audience: [AUDIENCE], orgClaim: 'hsa_id', clockToleranceSeconds: 30 });
    expect(mode).not.toHaveProperty('tokenEndpoint');
  });

  it("keeps an external issuer's token endpoint, https or on localhost", () => {
    const https = resolveAuthMode({ dataDir, issuer: ISSUER, audience: AUDIENCE, publicKey: PUBLIC_PEM, tokenEndpoint: 'https://idp.example.se/oauth2/token' });
    expect(https).toMatchObject({ mode: 'external', tokenEndpoint: new URL('https://idp.example.se/oauth2/token') });
    const loopback = resolveAuthMode({ dataDir, issuer: ISSUER, audience: AUDIENCE, publicKey: PUBLIC_PEM, tokenEndpoint: 'http://127.0.0.1:9000/token' });
    expect(loopback).toMatchObject({ mode: 'external', tokenEndpoint: new URL('http://127.0.0.1:9000/token') });
  });

  it('turns authentication off only when told, and says so loudly', async () => {
    expect(resolveAuthMode({ dataDir, authDisabled: true })).toEqual({ mode: 'disabled' });
    expect(resolveAuthMode({ dataDir, authDisabled: false })).toMatchObject({ mode: 'local' });
    const authenticator = await createAuthenticator({ mode: 'disabled' });
    expect(authenticator).toEqual({ mode: 'disabled', warning: authDisabledWarning() });
    expect(authDisabledWarning()).toContain('AUTHENTICATION IS DISABLED');
    expect(authDisabledWarning()).toContain('never expose it to a network');
  });

  const BAD: readonly { name: string; settings: Parameters<typeof resolveAuthMode>[0]; message: RegExp }[] = [
    { name: 'an issuer without a key', settings: { dataDir, issuer: ISSUER, audience: AUDIENCE }, message: /exactly one of jwksUrl and publicKey/ },
    { name: 'a key without an issuer', settings: { dataDir, audience: AUDIENCE, publicKey: 'pem' }, message: /issuer is required/ },
    { name: 'a key without an audience', settings: { dataDir, issuer: ISSUER, publicKey: 'pem' }, message: /audience is required/ },
    { name: 'both a JWKS URL and a key', settings: { dataDir, issuer: ISSUER, audience: AUDIENCE, publicKey: 'pem', jwksUrl: 'https://idp.example.se/jwks' }, message: /exactly one/ },
    { name: 'a JWKS URL over plain http', settings: { dataDir, issuer: ISSUER, audience: AUDIENCE, jwksUrl: 'http://idp.example.se/jwks' }, message: /https/ },
    { name: 'HMAC', settings: { dataDir, issuer: ISSUER, audience: AUDIENCE, publicKey: 'pem', algorithms: ['HS256'] }, message: /algorithms/ },
    { name: 'authDisabled beside an issuer', settings: { dataDir, authDisabled: true, issuer: ISSUER }, message: /choose one/ },
    { name: 'orgClaim alone (local mode has its own claim)', settings: { dataDir, orgClaim: 'org' }, message: /issuer is required/ },
    { name: 'a clock tolerance of an hour', settings: { dataDir, clockToleranceSeconds: 3600 }, message: /clockToleranceSeconds/ },
    { name: 'a key that is no PEM public key', settings: { dataDir, issuer: ISSUER, audience: AUDIENCE, publicKey: 'garbage' }, message: /publicKey is not a PEM public key/ },
    { name: 'a private key in PEM', settings: { dataDir, issuer: ISSUER, audience: AUDIENCE, publicKey: PRIVATE_PEM }, message: /publicKey is not a PEM public key/ },
    { name: 'a PEM public key that does not read', settings: { dataDir, issuer: ISSUER, audience: AUDIENCE, publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' }, message: /publicKey cannot be read/ },
    { name: 'a private JWK', settings: { dataDir, issuer: ISSUER, audience: AUDIENCE, publicKey: PRIVATE_JWK }, message: /publicKey is a private key/ },
    { name: 'a token endpoint without an issuer (the local key has none)', settings: { dataDir, tokenEndpoint: 'https://idp.example.se/token' }, message: /tokenEndpoint is an external issuer's.*sip-fhir token/ },
    { name: 'a token endpoint with authentication off', settings: { dataDir, authDisabled: true, tokenEndpoint: 'https://idp.example.se/token' }, message: /tokenEndpoint is set while authDisabled is/ },
    { name: 'a token endpoint over plain http', settings: { dataDir, issuer: ISSUER, audience: AUDIENCE, publicKey: PUBLIC_PEM, tokenEndpoint: 'http://idp.example.se/token' }, message: /tokenEndpoint must be https/ },
    { name: 'a token endpoint that is no URL', settings: { dataDir, issuer: ISSUER, audience: AUDIENCE, publicKey: PUBLIC_PEM, tokenEndpoint: 'idp token' }, message: /tokenEndpoint is not a URL/ },
  ];
  for (const bad of BAD) {
    it(`refuses ${bad.name}`, () => {
      expect(() => resolveAuthMode(bad.settings)).toThrow(AuthSettingsError);
      expect(() => resolveAuthMode(bad.settings)).toThrow(bad.message);
    });
  }
});
