/**
 * SMART discovery (SMART App Launch 2.2, "Conformance" and "Backend Services", step 2): a server whose
 * tokens come from an external issuer names that issuer's token endpoint at
 * `/fhir/.well-known/smart-configuration` — without a token, as JSON whatever the Accept header — and in
 * its CapabilityStatement's `oauth-uris` extension; fhir-kit-client, which nobody here wrote, finds it
 * there. A server signing its own tokens has no token endpoint and says so with a 404. The real server
 * on a loopback port, on the embedded store.
 */
import type { CapabilityStatement, OperationOutcome } from 'fhir/r4.js';
import { Client } from 'fhir-kit-client';
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverConfigSchema } from '../../src/http/config.js';
import { startServer, type RunningServer } from '../../src/http/server.js';
import { formatIssues, validateWithJsonSchema, validateWithMedplum } from '../support/fhir-validators.js';
import { NOW, startTestServer, type TestServer } from '../support/http-server.js';
import { scratchFolder } from '../support/scratch-folders.js';

const ISSUER = 'https://idp.example.se';
const AUDIENCE = 'urn:sip-fhir-adapter:test';
const TOKEN_ENDPOINT = 'https://idp.example.se/oauth2/token';
const OAUTH_URIS = 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris';

describe('SMART discovery with an external issuer whose token endpoint is set', () => {
  let server: RunningServer;
  let issuerKey: CryptoKey;

  beforeAll(async () => {
    const keys = await generateKeyPair('ES384', { extractable: true });
    issuerKey = keys.privateKey;
    const config = serverConfigSchema.parse({
      port: 0,
      dataDir: scratchFolder('sip-smart-'),
      loadExamples: false,
      authIssuer: ISSUER,
      authAudience: AUDIENCE,
      authPublicKey: await exportSPKI(keys.publicKey),
      authTokenEndpoint: TOKEN_ENDPOINT,
    });
    server = await startServer(config, { clock: () => NOW, logger: pino({ level: 'silent' }) });
  }, 60_000);

  afterAll(() => server.close());

  it('answers the discovery document without a token, as application/json whatever the Accept header', async () => {
    // Written by hand from SMART App Launch 2.2: Backend Services with asymmetric client authentication, scopes in v1 and v2 syntax.
    const expected = {
      token_endpoint: TOKEN_ENDPOINT,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      scopes_supported: ['system/CarePlan.rs', 'system/CarePlan.cu', 'system/AuditEvent.rs', 'system/CarePlan.read', 'system/CarePlan.write', 'system/AuditEvent.read'],
      capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2'],
    };
    for (const accept of [undefined, 'application/json', 'text/html', 'application/fhir+xml']) {
      const call = request(server.url).get('/fhir/.well-known/smart-configuration');
      const response = await (accept === undefined ? call : call.set('Accept', accept));
      expect(response.status, String(accept)).toBe(200);
      expect(response.headers['content-type'], String(accept)).toBe('application/json; charset=utf-8');
      expect(response.body, String(accept)).toEqual(expected);
    }
  });

  it('names the token endpoint in the CapabilityStatement, which stays valid R4 to two independent validators', async () => {
    const statement = (await request(server.url).get('/fhir/metadata').expect(200)).body as CapabilityStatement;
    const security = statement.rest?.[0]?.security;
    expect(security?.service?.[0]?.coding?.[0]?.code).toBe('SMART-on-FHIR');
    expect(security?.extension).toEqual([{ url: OAUTH_URIS, extension: [{ url: 'token', valueUri: TOKEN_ENDPOINT }] }]);
    const errors = [...validateWithMedplum(statement), ...validateWithJsonSchema(statement)].filter((issue) => issue.severity === 'error' || issue.severity === 'fatal');
    expect(formatIssues(errors)).toBe('(no issues)');
  });

  it('is where fhir-kit-client finds the token endpoint', async () => {
    const auth = await new Client({ baseUrl: `${server.url}/fhir` }).smartAuthMetadata();
    expect(auth.tokenUrl?.href).toBe(TOKEN_ENDPOINT);
  });

  it("serves a token the issuer signed, as the discovery's scopes say", async () => {
    const token = await new SignJWT({ scope: 'system/CarePlan.rs', hsa_id: 'SE2321000180-1000' })
      .setProtectedHeader({ alg: 'ES384' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('backend-client')
      .setIssuedAt(Math.floor(NOW.getTime() / 1000))
      .setExpirationTime(Math.floor(NOW.getTime() / 1000) + 300)
      .sign(issuerKey);
    const searchset = await request(server.url).get('/fhir/CarePlan?_count=1').set('Authorization', `Bearer ${token}`).expect(200);
    expect(searchset.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    await request(server.url).get('/fhir/CarePlan?_count=1').expect(401);
  });
});

describe('SMART discovery on a server that signs its own tokens', () => {
  let test: TestServer;

  beforeAll(async () => {
    test = await startTestServer('pglite');
  }, 60_000);

  afterAll(() => test.close());

  it('answers 404 with an OperationOutcome saying where its tokens come from, without asking for one', async () => {
    const response = await request(test.url).get('/fhir/.well-known/smart-configuration').expect(404);
    expect(response.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    const outcome = response.body as OperationOutcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0]?.diagnostics).toMatch(/no OAuth token endpoint.*`sip-fhir token`.*SIP_AUTH_TOKEN_ENDPOINT/);
  });

  it('names no token endpoint in its CapabilityStatement', async () => {
    const statement = (await request(test.url).get('/fhir/metadata').expect(200)).body as CapabilityStatement;
    expect(statement.rest?.[0]?.security?.extension).toBeUndefined();
    expect(statement.rest?.[0]?.security?.service?.[0]?.coding?.[0]?.code).toBe('SMART-on-FHIR');
  });
});
