/**
 * The OpenAPI document and the docs page: the document is valid OpenAPI 3.1 by the official schema
 * (as @seriousme/openapi-schema-validator carries it), it lists exactly the routes the Express app
 * registers (so it cannot drift from them), its schemas are the zod schemas' (the example plans pass
 * the SipPlan schema, what zod refuses it refuses too), and the server answers both without a token
 * over loopback HTTP, the page as HTML that lists every operation and loads nothing from elsewhere.
 */
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppDependencies } from '../../src/http/app.js';
import { openApiDocument, type JsonObject } from '../../src/http/openapi.js';
import type { PlanStore } from '../../src/store/plan-store.js';
import { exampleFiles } from '../support/examples.js';
import { startTestServer, type TestServer } from '../support/http-server.js';

const document = openApiDocument();

/** What the router keeps of each registered middleware or route (router 2.x, Express 5). */
interface Layer {
  readonly route?: { readonly path: unknown; readonly methods: Readonly<Record<string, boolean>> };
  readonly handle?: { readonly stack?: unknown };
  readonly rawPath?: unknown;
}

/** Every `METHOD /path` the router's stack registers, mounted routers included, path parameters as `{name}`. */
function registeredRoutes(stack: readonly Layer[], prefix = ''): string[] {
  return stack.flatMap((layer) => {
    if (layer.route !== undefined) {
      const { path, methods } = layer.route;
      const paths = (Array.isArray(path) ? path : [path]).map(String);
      return Object.keys(methods)
        .filter((method) => methods[method] === true && method !== '_all')
        .flatMap((method) => paths.map((one) => `${method.toUpperCase()} ${prefix}${one}`.replace(/:(\w+)/g, '{$1}').replace(/(.)\/$/, '$1')));
    }
    const inner = layer.handle?.stack;
    if (!Array.isArray(inner)) return [];
    const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
    return registeredRoutes(inner as Layer[], `${prefix}${mount}`);
  });
}

function documentedRoutes(openapi: JsonObject): string[] {
  const paths = openapi.paths as Record<string, Record<string, unknown>>;
  return Object.entries(paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
}

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 by the official schema', async () => {
    const result = await new Validator().validate(document);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.1');
  });

  it('would be refused by the same validator if it were broken (the check can fail)', async () => {
    const { info: _info, ...withoutInfo } = document;
    expect((await new Validator().validate(withoutInfo)).valid).toBe(false);
    const badParameter = structuredClone(document) as { paths: Record<string, Record<string, { parameters: JsonObject[] }>> };
    const search = badParameter.paths['/sip/plans']?.get;
    if (search === undefined) throw new Error('the document lists GET /sip/plans');
    search.parameters[0] = { name: 'person', in: 'body' };
    expect((await new Validator().validate(badParameter)).valid).toBe(false);
  });

  it('lists every route the app registers, and no other', () => {
    // The routes are read from the app's router; the handlers never run, so the store is never touched.
    const dependencies: AppDependencies = {
      store: {} as PlanStore,
      clock: () => new Date('2026-04-01T10:00:00+02:00'),
      logger: pino({ level: 'silent' }),
      maxBodyBytes: 1024,
      rateLimitPerMinute: 10,
      authenticate: () => Promise.reject(new Error('not called')),
      mayAccess: () => ({ allowed: false, reason: 'not called' }),
    };
    const app = createApp(dependencies) as unknown as { router: { stack: Layer[] } };
    const registered = registeredRoutes(app.router.stack);
    expect(registered).toContain('POST /sip/plans/{id}/meetings/{meetingId}/summons');
    expect(registered).toContain('GET /fhir/{type}/{id}');
    expect([...new Set(registered)].sort()).toEqual(documentedRoutes(document).sort());
  });

  it('describes every SIP operation with the SMART scope it needs, and its errors as problem+json', () => {
    const paths = document.paths as Record<string, Record<string, { security: Record<string, string[]>[]; responses: Record<string, { content?: Record<string, unknown> }> }>>;
    expect(paths['/sip/plans/{id}']?.get?.security).toEqual([{ bearer: ['system/CarePlan.read'] }]);
    expect(paths['/sip/plans/{id}/meetings/{meetingId}/invitees/{party}/response']?.put?.security).toEqual([{ bearer: ['system/CarePlan.write'] }]);
    expect(paths['/openapi.json']?.get?.security).toEqual([]);
    expect(Object.keys(paths['/sip/plans/{id}/consents']?.post?.responses['422']?.content ?? {})).toEqual(['application/problem+json']);
    expect(Object.keys(paths['/fhir/CarePlan']?.get?.responses['200']?.content ?? {})).toEqual(['application/fhir+json']);
    expect((document.components as { securitySchemes: JsonObject }).securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  });

  describe('its schemas, as JSON Schema 2020-12', () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
    ajv.addSchema({ $id: 'http://localhost/openapi.json', components: document.components }, 'openapi');
    const validatorOf = (name: string) => {
      const validate = ajv.getSchema(`http://localhost/openapi.json#/components/schemas/${name}`);
      if (validate === undefined) throw new Error(`no schema ${name}`);
      return validate;
    };

    it.each(exampleFiles)('take the example plan %s as a SipPlan', (file) => {
      const validate = validatorOf('SipPlan');
      expect(validate(JSON.parse(readFileSync(`examples/${file}`, 'utf8')) as unknown), JSON.stringify(validate.errors)).toBe(true);
    });

    it('refuse what the zod schemas refuse: an unknown field, a date that is not one, a summons that says when it was sent', () => {
      const plan = JSON.parse(readFileSync('examples/adult-psychiatry-addiction.json', 'utf8')) as JsonObject;
      expect(validatorOf('SipPlan')({ ...plan, colour: 'red' })).toBe(false);
      expect(validatorOf('SipPlan')({ ...plan, initiatedAt: '2026-02-30' })).toBe(false);
      const summons = { sentBy: 'p', start: '2026-04-15T13:00:00+02:00', end: '2026-04-15T14:30:00+02:00', agenda: 'Uppföljning.', invitees: [{ party: 'individual' }] };
      expect(validatorOf('SummonsRequest')(summons)).toBe(true);
      expect(validatorOf('SummonsRequest')({ ...summons, sentAt: '2026-04-01T10:00:00+02:00' })).toBe(false);
      expect(validatorOf('SummonsAnswerRequest')({ response: 'declined', substitute: 'prof-sara-holm' })).toBe(true);
      expect(validatorOf('SummonsAnswerRequest')({ response: 'noResponse' })).toBe(false);
      expect(validatorOf('MeetingOutcomeRequest')({ status: 'planned' })).toBe(false);
    });
  });
});

describe('the service answers the document and the page without a token', () => {
  let server: TestServer;
  // The documents do not depend on the store: the embedded one is enough here.
  beforeAll(async () => {
    server = await startTestServer('pglite');
  }, 60_000);
  afterAll(async () => {
    await server.close();
  });

  it('GET /openapi.json is the document, as JSON', async () => {
    const response = await request(server.url).get('/openapi.json').expect(200);
    expect(response.headers['content-type']).toContain('application/json');
    expect(response.body).toEqual(document);
  });

  it('GET /docs is an HTML page listing every operation, with nothing loaded from elsewhere and no script', async () => {
    const response = await request(server.url).get('/docs').expect(200);
    expect(response.headers['content-type']).toContain('text/html');
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    const page = response.text;
    for (const route of documentedRoutes(document)) {
      const [method = '', path = ''] = route.split(' ');
      expect(page, route).toContain(`<span class="method ${method.toLowerCase()}">${method}</span> <code>${path}</code>`);
    }
    expect(page).toContain('<h3>SummonsAnswerRequest</h3>');
    expect(page).toContain('<code>system/CarePlan.write</code>');
    expect(page).not.toMatch(/<script|<link|src="http|@import/i);
  });
});
