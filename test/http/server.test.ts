/**
 * Starting the service: the example plans in a new store, each at its own version with the light it
 * has in the file; settings checked before anything starts, every bad one named; `sip-fhir serve`
 * refusing bad settings with exit 2.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { banner } from '../../src/cli/serve-command.js';
import { issueLocalToken } from '../../src/http/auth/index.js';
import { loadConfig, serverConfigSchema } from '../../src/http/config.js';
import { startServer, type RunningServer } from '../../src/http/server.js';
import { exampleFiles, readExample } from '../support/examples.js';

const NOW = new Date('2026-04-01T10:00:00+02:00');

describe('a new store', () => {
  let server: RunningServer;
  let folder: string;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'sip-server-'));
    server = await startServer(serverConfigSchema.parse({ port: 0, dataDir: folder }), { clock: () => NOW, logger: pino({ level: 'silent' }) });
  }, 60_000);

  afterAll(async () => {
    await server.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('holds every example plan at its own version, with its history from version 1', async () => {
    for (const file of exampleFiles) {
      const plan = readExample(file);
      const stored = await server.store.get(plan.id);
      expect(stored?.plan, file).toEqual(plan);
      expect((await server.store.history(plan.id)).map((version) => version.version), file).toEqual(Array.from({ length: plan.version }, (_, i) => i + 1));
    }
  });

  it('answers a principal of an example with the plan and its green light', async () => {
    if (server.authenticator.mode !== 'local') throw new Error('the server signs its own tokens');
    const token = await issueLocalToken({ org: 'SE2321000180-1000', scopes: 'system/CarePlan.read', ttlSeconds: 600 }, server.authenticator.localKey, NOW);
    const response = await request(server.url).get('/sip/plans/sip-falun-2026-0142').set('Authorization', `Bearer ${token}`).expect(200);
    expect(response.body).toMatchObject({ version: 3, trafficLight: 'green', status: 'active' });
  });
});

describe('settings', () => {
  it('names every bad setting with its variable, all at once', () => {
    const result = loadConfig({ SIP_PORT: '99999', SIP_MAX_BODY: 'huge', DATABASE_URL: 'mysql://x' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(3);
    expect(result.problems.join('\n')).toMatch(/SIP_PORT \(port\) must be 0–65535/);
    expect(result.problems.join('\n')).toMatch(/SIP_MAX_BODY/);
    expect(result.problems.join('\n')).toMatch(/DATABASE_URL \(databaseUrl\) must be a postgres:\/\/ or postgresql:\/\/ URL/);
  });

  it('takes defaults, and command-line values over the environment', () => {
    const result = loadConfig({ SIP_PORT: '9000', SIP_MAX_BODY: '2MiB' }, { port: '9100' });
    expect(result).toMatchObject({ ok: true, config: { port: 9100, host: '127.0.0.1', dataDir: './data', maxBodyBytes: 2 * 1024 * 1024, loadExamples: true, authDisabled: false } });
  });

  it('names authentication settings that do not fit together with their variables, before anything starts', () => {
    const halfIssuer = loadConfig({ SIP_AUTH_ISSUER: 'https://idp.example.se' });
    expect(halfIssuer.ok).toBe(false);
    if (halfIssuer.ok) return;
    expect(halfIssuer.problems).toHaveLength(1);
    expect(halfIssuer.problems[0]).toMatch(/^the authentication settings do not fit together: audience is required .*audience is SIP_AUTH_AUDIENCE/);
    const endpointAlone = loadConfig({ SIP_AUTH_TOKEN_ENDPOINT: 'https://idp.example.se/token' });
    expect(endpointAlone.ok).toBe(false);
    if (endpointAlone.ok) return;
    expect(endpointAlone.problems[0]).toMatch(/tokenEndpoint is an external issuer's.*tokenEndpoint is SIP_AUTH_TOKEN_ENDPOINT/);
    // A key that cannot be read stopped nothing before: every token was then refused with a 503.
    const badKey = loadConfig({ SIP_AUTH_ISSUER: 'https://idp.example.se', SIP_AUTH_AUDIENCE: 'sip', SIP_AUTH_PUBLIC_KEY: 'garbage' });
    expect(badKey.ok).toBe(false);
    if (badKey.ok) return;
    expect(badKey.problems[0]).toMatch(/publicKey is not a PEM public key.*publicKey is SIP_AUTH_PUBLIC_KEY/);
    const notUrl = loadConfig({ SIP_AUTH_TOKEN_ENDPOINT: 'token please' });
    expect(notUrl.ok).toBe(false);
    if (notUrl.ok) return;
    expect(notUrl.problems.join('\n')).toMatch(/SIP_AUTH_TOKEN_ENDPOINT \(authTokenEndpoint\) must be a URL/);
    const whole = loadConfig({ SIP_AUTH_ISSUER: 'https://idp.example.se', SIP_AUTH_AUDIENCE: 'sip', SIP_AUTH_PUBLIC_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString(), SIP_AUTH_TOKEN_ENDPOINT: 'https://idp.example.se/token' });
    expect(whole).toMatchObject({ ok: true, config: { authTokenEndpoint: 'https://idp.example.se/token' } });
  });

  it('sip-fhir serve refuses authentication settings that do not fit together with exit 2, not as an internal error', async () => {
    const err: string[] = [];
    const saved = process.env.SIP_AUTH_ISSUER;
    process.env.SIP_AUTH_ISSUER = 'https://idp.example.se';
    try {
      const status = await main(['serve', '--port', '0'], { out: () => undefined, err: (text) => err.push(text) });
      expect(status).toBe(2);
    } finally {
      if (saved === undefined) delete process.env.SIP_AUTH_ISSUER;
      else process.env.SIP_AUTH_ISSUER = saved;
    }
    expect(err.join('\n')).toMatch(/the settings are not valid:\n {2}the authentication settings do not fit together: audience is required/);
    expect(err.join('\n')).not.toMatch(/internal error/);
  });

  it('sip-fhir serve refuses bad settings with exit 2 and the reason on stderr', async () => {
    const err: string[] = [];
    const status = await main(['serve', '--port', 'eighty'], { out: () => undefined, err: (text) => err.push(text) });
    expect(status).toBe(2);
    expect(err.join('\n')).toMatch(/SIP_PORT \(port\)/);
  });
});

describe('the start-up banner', () => {
  it('names the SIP API, the FHIR base, the docs page, the OpenAPI document and how to get a token', () => {
    const config = serverConfigSchema.parse({ dataDir: './data' });
    const lines = banner('http://127.0.0.1:8080', config, 'local').split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'SIP adapter listening on http://127.0.0.1:8080',
        '  SIP API:    http://127.0.0.1:8080/sip/plans',
        '  FHIR base:  http://127.0.0.1:8080/fhir (http://127.0.0.1:8080/fhir/metadata)',
        '  API docs:   http://127.0.0.1:8080/docs',
        '  OpenAPI:    http://127.0.0.1:8080/openapi.json',
        '              npx sip-fhir token --data-dir ./data --org SE2321000180-1000 --scope "system/*.*"',
      ]),
    );
  });

  it("names an external issuer's token endpoint and where SMART clients find it, or the setting that would", () => {
    const external = { dataDir: './data', authIssuer: 'https://idp.example.se', authAudience: 'sip', authPublicKey: 'pem' };
    const named = banner('http://127.0.0.1:8080', serverConfigSchema.parse({ ...external, authTokenEndpoint: 'https://idp.example.se/token' }), 'external');
    expect(named).toContain('its token endpoint https://idp.example.se/token, named at http://127.0.0.1:8080/fhir/.well-known/smart-configuration');
    const unnamed = banner('http://127.0.0.1:8080', serverConfigSchema.parse(external), 'external');
    expect(unnamed).toContain('(set SIP_AUTH_TOKEN_ENDPOINT to name its token endpoint to SMART clients)');
    expect(banner('http://127.0.0.1:8080', serverConfigSchema.parse({ dataDir: './data' }), 'local')).not.toContain('token endpoint');
  });
});
