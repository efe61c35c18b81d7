/**
 * `request.query` parsed once per URL (src/http/query-once.ts `parseQueryOnce`) against Express's own getter, which
 * parses it anew at every reading: for generated query strings (repeated names, empty values, `+`,
 * percent-encodings, malformed ones), read several times, inside a router mounted on a path (which
 * trims `request.url`), and after the URL is rewritten to another generated one (as a POST search's
 * form is merged in), every reading equals Express's reading of the URL at that moment.
 */
import express, { Router, type Request } from 'express';
import fc from 'fast-check';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { parseQueryOnce } from '../../src/http/query-once.js';

/** Express's own reading of the request's query now: its getter, on the prototype the app's request object was made from. */
function expressQuery(incoming: Request): unknown {
  return Reflect.get(Object.getPrototypeOf(Object.getPrototypeOf(incoming) as object) as object, 'query', incoming);
}

const part = fc.oneof(
  fc.constantFrom('patient:identifier', '_count', '_summary', 'status', '_elements', 'a', 'a[b]', '', '%', '%zz', '%41', '+', 'x+y', '=', '|', '%7C', 'é', '%C3%A9', '%E0'),
  fc.string({ maxLength: 6 }).map(encodeURIComponent),
);
const queryString = fc.array(fc.tuple(part, fc.option(part)), { maxLength: 6 }).map((pairs) => pairs.map(([name, value]) => (value === null ? name : `${name}=${value}`)).join('&'));

describe('request.query parsed once per URL', () => {
  it('reads as Express reads it, again, inside a mounted router, and after the URL is rewritten', async () => {
    const seen: { ours: unknown; express: unknown }[] = [];
    let rewriteTo = '';
    const app = express();
    parseQueryOnce(app);
    const router = Router();
    router.get('/path', (incoming, response) => {
      const record = (): void => {
        seen.push({ ours: incoming.query, express: expressQuery(incoming) });
      };
      record();
      record();
      incoming.url = `/path${rewriteTo === '' ? '' : `?${rewriteTo}`}`;
      record();
      record();
      response.status(204).end();
    });
    app.use((incoming, _response, next) => {
      seen.push({ ours: incoming.query, express: expressQuery(incoming) });
      next();
    });
    app.use('/mounted', router);
    await fc.assert(
      fc.asyncProperty(queryString, queryString, async (first, second) => {
        seen.length = 0;
        rewriteTo = second;
        await request(app).get(`/mounted/path?${first}`).expect(204);
        expect(seen).toHaveLength(5);
        for (const { ours, express: theirs } of seen) expect(ours).toEqual(theirs);
      }),
      { numRuns: 300 },
    );
  });

  it('hands out a query that cannot be changed', async () => {
    const app = express();
    parseQueryOnce(app);
    app.get('/', (incoming, response) => {
      const query = incoming.query as Record<string, unknown>;
      response.json({ frozen: Object.isFrozen(query), arrays: Object.values(query).every((value) => !Array.isArray(value) || Object.isFrozen(value)) });
    });
    const answer = await request(app).get('/?a=1&a=2&b=3').expect(200);
    expect(answer.body).toEqual({ frozen: true, arrays: true });
  });
});
