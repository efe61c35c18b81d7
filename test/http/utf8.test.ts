/**
 * UTF-8 through ICU at the HTTP edge (src/http/utf8.ts): the same text and bytes as Node's own codec,
 * and over HTTP the same body text as body-parser's text reader gave — a byte order mark dropped, another
 * charset still decoded as that charset, bytes that are not UTF-8 replaced as before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { loadExamples } from '../../src/http/server.js';
import { utf8Bytes, utf8BodyText } from '../../src/http/utf8.js';
import { createPlanStore, type PlanStore } from '../../src/store/index.js';
import { openAppDependencies } from '../support/http-server.js';
import { closeServer, listenOnLoopback } from '../support/loopback.js';

/** What body-parser's text reader made of a UTF-8 body: iconv-lite's `utf8` is a StringDecoder, and it drops a leading U+FEFF. */
function bodyParserText(bytes: Uint8Array): string {
  const text = new StringDecoder('utf8').end(Buffer.from(bytes));
  return text.startsWith('\ufeff') ? text.slice(1) : text;
}

/** Text of at least 1,100 characters (past the length below which Node's codec is used) from parts of any kind. */
const long = (part: fc.Arbitrary<string>): fc.Arbitrary<string> => fc.tuple(part, fc.string({ minLength: 1100, maxLength: 1100 }), part).map((parts) => parts.join(''));
/** Any UTF-16 text: astral characters, lone surrogates and U+0000 included. */
const anyText = fc.string({ unit: 'binary', maxLength: 300 });
/** Mostly ASCII with Swedish letters, dashes and emoji here and there: what plans hold. */
const planText = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '"', '{', 'å', 'Ä', 'ö', '–', '§', '😀', '\u2028'), maxLength: 300 });

describe('utf8BodyText', () => {
  it('gives the text of valid UTF-8, short or long, without a leading byte order mark', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, planText, long(anyText), long(planText)), fc.boolean(), (text, bom) => {
        const bytes = Buffer.from(`${bom ? '\ufeff' : ''}${text}`, 'utf8');
        expect(utf8BodyText(bytes)).toBe(bodyParserText(bytes));
      }),
      { numRuns: 400 },
    );
  });

  it('replaces what is not UTF-8 as body-parser did, in bytes of any kind', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 3000 }),
      // Valid UTF-8 with single bytes broken: a lead without its continuation, a stray continuation, 0xFF.
      fc.tuple(long(planText), fc.array(fc.tuple(fc.nat(), fc.constantFrom(0x80, 0xbf, 0xc3, 0xe2, 0xf0, 0xff, 0xed)), { minLength: 1, maxLength: 5 })).map(([text, breaks]) => {
        const encoded = Buffer.from(text, 'utf8');
        for (const [at, byte] of breaks) encoded[at % encoded.length] = byte;
        return new Uint8Array(encoded);
      }),
    );
    fc.assert(
      fc.property(bytes, (body) => {
        expect(utf8BodyText(body)).toBe(bodyParserText(body));
      }),
      { numRuns: 400 },
    );
  });

  it('decodes the examples that a hand can check', () => {
    expect(utf8BodyText(Buffer.from([0xef, 0xbb, 0xbf, 0x41]))).toBe('A');
    expect(utf8BodyText(Buffer.from(`${'x'.repeat(2000)}Åsa Öberg – 😀`, 'utf8'))).toBe(`${'x'.repeat(2000)}Åsa Öberg – 😀`);
    // An encoded surrogate is not UTF-8: each of its three bytes becomes U+FFFD, as before.
    expect(utf8BodyText(Buffer.concat([Buffer.from('å'.repeat(600)), Buffer.from([0xed, 0xa0, 0x80])]))).toBe(`${'å'.repeat(600)}\ufffd\ufffd\ufffd`);
    // A subarray of a larger buffer: only its own bytes.
    const whole = Buffer.from(`[${'ö'.repeat(1000)}]`, 'utf8');
    expect(utf8BodyText(whole.subarray(1, whole.length - 1))).toBe('ö'.repeat(1000));
  });
});

describe('utf8Bytes', () => {
  it('writes the bytes Buffer.from writes, lone surrogates (U+FFFD) included', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, planText, long(anyText), long(planText)), (text) => {
        expect(utf8Bytes(text).equals(Buffer.from(text, 'utf8'))).toBe(true);
      }),
      { numRuns: 400 },
    );
    expect(utf8Bytes(`${'a'.repeat(2000)}\ud800`).subarray(-3)).toEqual(Buffer.from([0xef, 0xbf, 0xbd]));
  });
});

describe('request bodies over HTTP', () => {
  let folder: string;
  let store: PlanStore;
  let app: ReturnType<typeof createApp>;
  let server: Server;
  let origin: string;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'sip-utf8-'));
    store = await createPlanStore({ dataDir: folder });
    await store.migrate();
    app = createApp(openAppDependencies(store));
    ({ server, origin } = await listenOnLoopback(app));
  }, 60_000);

  afterAll(async () => {
    await closeServer(server);
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  });

  /**
   * `POST /fhir/Patient/$validate` of a Patient with an element named `name` that is not one of
   * Patient's, and a long `id`-free padding so that the body passes the length where ICU takes over:
   * the validator names the element in its diagnostics, so the answer shows the text the body became.
   */
  function patientNaming(name: string): string {
    return `{"resourceType":"Patient","gender":"unknown","${name}":true,"text":{"status":"generated","div":"<div xmlns=\\"http://www.w3.org/1999/xhtml\\">${'Åsa '.repeat(400)}</div>"}}`;
  }

  /** The elements the validator found unknown, the body sent as these bytes (fetch sends them as they are). */
  async function unknownElements(body: Buffer, contentType: string): Promise<string[]> {
    const response = await fetch(`${origin}/fhir/Patient/$validate`, { method: 'POST', headers: { 'Content-Type': contentType }, body: new Uint8Array(body) });
    expect(response.status).toBe(200);
    const outcome = (await response.json()) as { issue: { details?: { text?: string } }[] };
    return outcome.issue.flatMap((issue) => /^(.*) is not an element of Patient$/su.exec(issue.details?.text ?? '')?.[1] ?? []);
  }

  it('reads a UTF-8 body, with or without a byte order mark and a charset, as its text', async () => {
    const body = Buffer.from(patientNaming('förnamn–😀'), 'utf8');
    expect(await unknownElements(body, 'application/fhir+json')).toEqual(['förnamn–😀']);
    expect(await unknownElements(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]), 'application/fhir+json; charset=UTF-8')).toEqual(['förnamn–😀']);
    expect(await unknownElements(body, 'application/json; charset="utf8"')).toEqual(['förnamn–😀']);
  });

  it('reads a body in another charset as that charset, as body-parser does', async () => {
    expect(await unknownElements(Buffer.from(patientNaming('förnamn'), 'latin1'), 'application/fhir+json; charset=ISO-8859-1')).toEqual(['förnamn']);
  });

  it('replaces bytes that are not UTF-8 with U+FFFD', async () => {
    const body = Buffer.from(patientNaming('f\u0001rnamn'), 'utf8');
    body[body.indexOf(0x01)] = 0xff;
    expect(await unknownElements(body, 'application/fhir+json')).toEqual(['f\ufffdrnamn']);
  });

  it('answers a FHIR search and read as UTF-8 with the charset named, as Express wrote a text answer', async () => {
    await loadExamples(store);
    const search = await request(app).get('/fhir/CarePlan?_count=1');
    expect(search.status).toBe(200);
    expect(search.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    expect(Number(search.headers['content-length'])).toBe(Buffer.byteLength(search.text, 'utf8'));
    const { entry } = JSON.parse(search.text) as { entry: { resource: { id: string; title?: string } }[] };
    const carePlan = entry[0]?.resource;
    expect(search.text).toMatch(/[åäöÅÄÖ]/u);
    const read = await request(app).get(`/fhir/CarePlan/${carePlan?.id ?? ''}`);
    expect(read.status).toBe(200);
    expect(read.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    expect((JSON.parse(read.text) as { title?: string }).title).toBe(carePlan?.title);
    const head = await request(app).head(`/fhir/CarePlan/${carePlan?.id ?? ''}`);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(read.headers['content-length']);
  });

  it('answers a SIP read and search as UTF-8 with the charset named, as Express wrote a text answer', async () => {
    await loadExamples(store);
    const search = await request(app).get('/sip/plans?limit=50');
    expect(search.status).toBe(200);
    expect(search.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(search.headers['content-length'])).toBe(Buffer.byteLength(search.text, 'utf8'));
    const { plans } = JSON.parse(search.text) as { plans: { plan: { id: string } }[] };
    const swedish = plans.find((answer) => /[åäöÅÄÖ]/u.test(JSON.stringify(answer.plan)));
    expect(swedish).toBeDefined();
    const read = await request(app).get(`/sip/plans/${swedish?.plan.id ?? ''}`);
    expect(read.status).toBe(200);
    expect(read.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(read.headers['content-length'])).toBe(Buffer.byteLength(read.text, 'utf8'));
    expect((JSON.parse(read.text) as { plan: unknown }).plan).toEqual(swedish?.plan);
  });
});
