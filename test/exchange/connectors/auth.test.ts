/**
 * Auth of the connectors (issue #14, "What to build" 1): OAuth2 client credentials and SMART Backend
 * Services tokens, kept until shortly before they expire (a fixed clock moves the time), fetched
 * anew once when the receiver answers 401; the SMART client assertion verified with the public key.
 */
import { decodeProtectedHeader, exportJWK, exportPKCS8, generateKeyPair, importJWK, importPKCS8, jwtVerify, type CryptoKey } from 'jose';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFhirConnector, createTokenSource, JWT_BEARER_ASSERTION_TYPE } from '../../../src/exchange/connectors/index.js';
import type { ReceiverAuth } from '../../../src/exchange/receivers.js';
import { examplePlan, fhirReceiver, messageOf } from './support.js';

const IDP = 'https://idp.example';
const TOKEN_URL = `${IDP}/oauth2/token`;
const FHIR = 'https://fhir.example';
const START = new Date('2026-02-05T14:30:00Z');

let clock = START;
const now = (): Date => clock;
const after = (seconds: number): Date => new Date(START.getTime() + seconds * 1000);

const clientCredentials: ReceiverAuth = {
  type: 'client-credentials',
  tokenUrl: TOKEN_URL,
  clientId: 'sip adapter',
  clientSecret: 's3cret:with/odd chars',
  scope: 'system/CarePlan.write',
  clientAuthentication: 'basic',
};

interface TokenRequest {
  readonly authorization?: string;
  readonly form: URLSearchParams;
}

/** The token endpoint answers the given tokens in turn, recording each request. */
function tokenEndpoint(tokens: readonly string[], expiresIn: number | 'none' = 300): TokenRequest[] {
  const requests: TokenRequest[] = [];
  nock(IDP)
    .post('/oauth2/token')
    .times(tokens.length)
    .reply(function (_uri, body) {
      const authorization = this.req.headers.authorization;
      requests.push({ ...(typeof authorization === 'string' ? { authorization } : {}), form: new URLSearchParams(typeof body === 'string' ? body : '') });
      const token = tokens[requests.length - 1] ?? 'exhausted';
      return [200, { access_token: token, token_type: 'Bearer', ...(expiresIn === 'none' ? {} : { expires_in: expiresIn }) }];
    });
  return requests;
}

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
  clock = START;
});
afterAll(() => {
  nock.enableNetConnect();
});

describe('client credentials', () => {
  it('asks once for several deliveries, again once the token is about to expire', async () => {
    const requests = tokenEndpoint(['token-1', 'token-2']);
    const source = createTokenSource(clientCredentials, { now });
    expect(await source.authorization()).toBe('Bearer token-1');
    clock = after(100);
    expect(await source.authorization()).toBe('Bearer token-1');
    clock = after(269);
    expect(await source.authorization()).toBe('Bearer token-1');
    expect(requests).toHaveLength(1);
    // 300 s of life, fetched anew 30 s before the end.
    clock = after(270);
    expect(await source.authorization()).toBe('Bearer token-2');
    expect(requests).toHaveLength(2);
  });

  it('sends the client with HTTP Basic (form-urlencoded first) and the grant and scope in the form', async () => {
    const requests = tokenEndpoint(['token-1']);
    await createTokenSource(clientCredentials, { now }).authorization();
    const [request] = requests;
    expect(request?.authorization).toBe(`Basic ${Buffer.from('sip%20adapter:s3cret%3Awith%2Fodd%20chars').toString('base64')}`);
    expect(Object.fromEntries(request?.form ?? [])).toEqual({ grant_type: 'client_credentials', scope: 'system/CarePlan.write' });
  });

  it('sends the client in the form when told to', async () => {
    const requests = tokenEndpoint(['token-1']);
    await createTokenSource({ ...clientCredentials, clientAuthentication: 'post' }, { now }).authorization();
    expect(requests[0]?.authorization).toBeUndefined();
    expect(Object.fromEntries(requests[0]?.form ?? [])).toEqual({ grant_type: 'client_credentials', scope: 'system/CarePlan.write', client_id: 'sip adapter', client_secret: 's3cret:with/odd chars' });
  });

  it('shares one fetch among concurrent deliveries', async () => {
    const requests = tokenEndpoint(['token-1', 'token-2']);
    const source = createTokenSource(clientCredentials, { now });
    const headers = await Promise.all([source.authorization(), source.authorization(), source.authorization()]);
    expect(headers).toEqual(['Bearer token-1', 'Bearer token-1', 'Bearer token-1']);
    expect(requests).toHaveLength(1);
  });

  it('keeps a token without expires_in until it is invalidated', async () => {
    const requests = tokenEndpoint(['token-1', 'token-2'], 'none');
    const source = createTokenSource(clientCredentials, { now });
    await source.authorization();
    clock = after(86_400);
    expect(await source.authorization()).toBe('Bearer token-1');
    expect(source.invalidate()).toBe(true);
    expect(await source.authorization()).toBe('Bearer token-2');
    expect(requests).toHaveLength(2);
  });
});

describe('delivering with a token', () => {
  const plan = examplePlan('elderly-discharge-multimorbidity');
  const message = messageOf(plan, 'region-fhir');
  const ok = (count: number) => ({ resourceType: 'Bundle', type: 'transaction-response', entry: Array.from({ length: count }, () => ({ response: { status: '200 OK' } })) });
  const entries = (body: unknown): number => ((typeof body === 'string' ? JSON.parse(body) : body) as { entry: unknown[] }).entry.length;

  it('fetches the token endpoint once for several deliveries, and again after expiry', async () => {
    const requests = tokenEndpoint(['token-1', 'token-2']);
    const seen: string[] = [];
    nock(FHIR)
      .post('/r4')
      .times(4)
      .reply(function (_uri, body) {
        seen.push(String(this.req.headers.authorization));
        return [200, ok(entries(body))];
      });
    const connector = createFhirConnector(fhirReceiver(`${FHIR}/r4`, clientCredentials), { now });
    for (let index = 0; index < 3; index += 1) expect((await connector.deliver(message)).kind).toBe('delivered');
    expect(requests).toHaveLength(1);
    clock = after(299);
    expect((await connector.deliver(message)).kind).toBe('delivered');
    expect(requests).toHaveLength(2);
    expect(seen).toEqual(['Bearer token-1', 'Bearer token-1', 'Bearer token-1', 'Bearer token-2']);
    await connector.close?.();
  });

  it('drops the token on a 401 and tries once more with a new one', async () => {
    const requests = tokenEndpoint(['token-1', 'token-2']);
    nock(FHIR).post('/r4').matchHeader('authorization', 'Bearer token-1').reply(401, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login', diagnostics: 'token revoked' }] });
    nock(FHIR)
      .post('/r4')
      .matchHeader('authorization', 'Bearer token-2')
      .reply((_uri, body) => [200, ok(entries(body))]);
    const connector = createFhirConnector(fhirReceiver(`${FHIR}/r4`, clientCredentials), { now });
    expect(await connector.deliver(message)).toMatchObject({ kind: 'delivered', status: 200 });
    expect(requests).toHaveLength(2);
    expect(nock.isDone()).toBe(true);
    await connector.close?.();
  });

  it('fails when the new token is refused too, without a third try', async () => {
    const requests = tokenEndpoint(['token-1', 'token-2', 'token-3']);
    let posts = 0;
    nock(FHIR)
      .post('/r4')
      .times(3)
      .reply(() => {
        posts += 1;
        return [401, 'Unauthorized'];
      });
    const connector = createFhirConnector(fhirReceiver(`${FHIR}/r4`, clientCredentials), { now });
    expect(await connector.deliver(message)).toEqual({ kind: 'failed', status: 401, reason: `${FHIR}/r4 refused the delivery with 401: Unauthorized` });
    expect(posts).toBe(2);
    expect(requests).toHaveLength(2);
    await connector.close?.();
  });

  it('retries when the token endpoint is down, fails when it refuses the client', async () => {
    const connector = createFhirConnector(fhirReceiver(`${FHIR}/r4`, clientCredentials), { now });
    nock(IDP).post('/oauth2/token').reply(503, 'down for maintenance');
    expect(await connector.deliver(message)).toEqual({ kind: 'retry', reason: `no access token: the token endpoint ${TOKEN_URL} answered 503 (down for maintenance)` });
    nock(IDP).post('/oauth2/token').replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    expect(await connector.deliver(message)).toMatchObject({ kind: 'retry' });
    nock(IDP).post('/oauth2/token').reply(401, { error: 'invalid_client', error_description: 'unknown client' });
    expect(await connector.deliver(message)).toEqual({ kind: 'failed', reason: `no access token: the token endpoint ${TOKEN_URL} answered 401 (invalid_client: unknown client)` });
    nock(IDP).post('/oauth2/token').reply(200, { token_type: 'Bearer', expires_in: 60 });
    const missing = await connector.deliver(message);
    expect(missing.kind === 'failed' && missing.reason).toMatch(/answered without a usable bearer token \(access_token /);
    await connector.close?.();
  });
});

describe('SMART Backend Services', () => {
  let rsa: { privateKey: CryptoKey; publicKey: CryptoKey };
  let ec: { privateKey: CryptoKey; publicKey: CryptoKey };
  beforeAll(async () => {
    rsa = await generateKeyPair('RS384', { extractable: true });
    ec = await generateKeyPair('ES384', { extractable: true });
  });

  const smart = (alg: 'RS384' | 'ES384', privateKey: CryptoKey): ReceiverAuth => ({
    type: 'smart-backend',
    tokenUrl: TOKEN_URL,
    clientId: 'sip-fhir-adapter',
    scope: 'system/CarePlan.write system/CarePlan.read',
    alg,
    kid: `key-${alg}`,
    privateKey,
  });

  it('signs an RS384 client assertion the public key verifies: iss = sub = client id, aud = token URL, exp within 5 minutes', async () => {
    const requests = tokenEndpoint(['token-1', 'token-2']);
    // The key as the configuration imports it from a PKCS#8 PEM.
    const imported = await importPKCS8(await exportPKCS8(rsa.privateKey), 'RS384');
    const source = createTokenSource(smart('RS384', imported), { now });
    expect(await source.authorization()).toBe('Bearer token-1');
    const form = requests[0]?.form ?? new URLSearchParams();
    expect(requests[0]?.authorization).toBeUndefined();
    expect(form.get('grant_type')).toBe('client_credentials');
    expect(form.get('client_assertion_type')).toBe(JWT_BEARER_ASSERTION_TYPE);
    expect(form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    expect(form.get('scope')).toBe('system/CarePlan.write system/CarePlan.read');
    const assertion = form.get('client_assertion') ?? '';
    const { payload, protectedHeader } = await jwtVerify(assertion, rsa.publicKey, {
      issuer: 'sip-fhir-adapter',
      subject: 'sip-fhir-adapter',
      audience: TOKEN_URL,
      algorithms: ['RS384'],
      currentDate: START,
    });
    expect(protectedHeader).toEqual({ alg: 'RS384', kid: 'key-RS384', typ: 'JWT' });
    expect(payload.iat).toBe(START.getTime() / 1000);
    expect(payload.exp).toBe(START.getTime() / 1000 + 300);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);

    // A later assertion has a new jti and is signed at the later instant.
    expect(source.invalidate()).toBe(true);
    clock = after(10);
    await source.authorization();
    const second = requests[1]?.form.get('client_assertion') ?? '';
    const verified = await jwtVerify(second, rsa.publicKey, { currentDate: clock });
    expect(verified.payload.jti).not.toBe(payload.jti);
    expect(verified.payload.exp).toBe(clock.getTime() / 1000 + 300);
  });

  it('signs ES384 with a JWK key, and the assertion does not verify with another key', async () => {
    const requests = tokenEndpoint(['token-1']);
    const jwk = await exportJWK(ec.privateKey);
    const key = (await importJWK(jwk, 'ES384')) as CryptoKey;
    await createTokenSource(smart('ES384', key), { now }).authorization();
    const assertion = requests[0]?.form.get('client_assertion') ?? '';
    expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: 'ES384', kid: 'key-ES384' });
    await expect(jwtVerify(assertion, ec.publicKey, { audience: TOKEN_URL, currentDate: START })).resolves.toBeDefined();
    const other = await generateKeyPair('ES384');
    await expect(jwtVerify(assertion, other.publicKey, { currentDate: START })).rejects.toThrow(/signature verification failed/);
  });
});
