/**
 * Starting the service: the example plans in a new store, each at its own version with the light it
 * has in the file; settings checked before anything starts, every bad one named; `sip-fhir serve`
 * refusing bad settings with exit 2.
 */
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
});
