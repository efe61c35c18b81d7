/**
 * `POST /exchange/inbound/{mapping}` end to end, on the real server on a loopback port (PGlite, and
 * one test on the machine's PostgreSQL): every sample of both shipped mappings is recorded and read
 * back through the FHIR facade; a replayed export records nothing; an edited one records version 2;
 * the refusals (400 malformed JSON and XML with line and column, 401, 403, 404, 413, 415, 422 for a
 * mapping error and a rule error) each answer a well-formed OperationOutcome naming the place; and
 * random bytes and random mutations of the samples (fast-check) never give a 500.
 *
 * The clock is set per export to an hour after the instant the export says its plan last changed:
 * the SIP rules refuse a version recorded before the decisions it holds, or outside its consent.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { CarePlan, OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadMapping, translateInbound, type Mapping } from '../../src/exchange/index.js';
import { RULE_CODE_SYSTEM } from '../../src/fhir/index.js';
import { issueLocalToken } from '../../src/http/auth/index.js';
import type { SipPlan } from '../../src/sip/index.js';
import { createValidator } from '../../src/validation/index.js';
import { startTestServer, type Driver, type TestServer } from '../support/http-server.js';

interface Sample {
  readonly mapping: string;
  readonly file: string;
  readonly text: string;
  readonly contentType: string;
  /** The plan the sample holds, read here only for its id, its instant and an organisation that is a party to it. */
  readonly plan: SipPlan;
}

const MAPPINGS = ['modern-case-api', 'legacy-xml-export'] as const;
const CONTENT_TYPE: Readonly<Record<string, string>> = { 'modern-case-api': 'application/json', 'legacy-xml-export': 'application/xml' };
/** An HSA-id that is no party to any sample. */
const STRANGER = 'SE2321000180-9999';

const loaded = new Map<string, Mapping>();
const samples: Sample[] = [];
for (const name of MAPPINGS) {
  const mapping = await loadMapping(join('mappings', name));
  loaded.set(name, mapping);
  const folder = join('mappings', name, 'samples');
  for (const file of readdirSync(folder).sort()) {
    const text = readFileSync(join(folder, file), 'utf8');
    const plan = translateInbound(mapping, text).plan;
    if (plan === undefined) throw new Error(`the sample ${name}/${file} translates (mappings check holds this)`);
    samples.push({ mapping: name, file, text, contentType: CONTENT_TYPE[name] ?? '', plan });
  }
}
const sample = (mapping: string, file: string): Sample => {
  const found = samples.find((candidate) => candidate.mapping === mapping && candidate.file === file);
  if (found === undefined) throw new Error(`no sample ${mapping}/${file}`);
  return found;
};

/** An organisation of the plan with an HSA-id (the principals' first, else a unit's): one the access rules let write it. */
function partyOf(plan: SipPlan): string {
  const hsaIds = [...plan.principals.map((principal) => principal.hsaId), ...plan.principals.flatMap((principal) => principal.units.map((unit) => unit.hsaId))];
  const found = hsaIds.find((id): id is string => id !== undefined);
  if (found === undefined) throw new Error(`plan ${plan.id} names no HSA-id`);
  return found;
}

const HOUR = 3_600_000;
const instantAfter = (plan: SipPlan): Date => new Date(new Date(plan.updatedAt).getTime() + HOUR);

const validator = createValidator();

/** The answer is a FHIR R4 OperationOutcome that the base definitions accept. */
function expectOutcome(body: unknown): OperationOutcome {
  expect(body).toMatchObject({ resourceType: 'OperationOutcome' });
  const verdict = validator.validate(body, {});
  expect(verdict.issue.filter((issue) => issue.severity === 'error' || issue.severity === 'fatal')).toEqual([]);
  return body as OperationOutcome;
}

const errorsOf = (outcome: OperationOutcome): OperationOutcomeIssue[] => outcome.issue.filter((issue) => issue.severity === 'error');

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
  readonly contentType: string;
}

function harness(driver: Driver) {
  let test: TestServer | undefined;
  let now = new Date('2026-04-01T10:00:00+02:00');
  const context = {
    get test(): TestServer {
      if (test === undefined) throw new Error('the server did not start');
      return test;
    },
    async close() {
      await test?.close();
    },
    setClock(at: Date) {
      now = at;
    },
    async start() {
      test = await startTestServer(driver, { clock: () => now });
    },
    async token(organization: string, scopes = 'system/*.*'): Promise<string> {
      const { authenticator } = context.test.server;
      if (authenticator.mode !== 'local') throw new Error('the test server signs its own tokens');
      return issueLocalToken({ org: organization, scopes, ttlSeconds: 3600 }, authenticator.localKey, now);
    },
    async post(mapping: string, body: string | Uint8Array, contentType: string, token?: string, headers: Record<string, string> = {}): Promise<Answer> {
      const response = await fetch(`${context.test.url}/exchange/inbound/${mapping}`, {
        method: 'POST',
        headers: { ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }), 'Content-Type': contentType, ...headers },
        body,
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text) as unknown;
      } catch {
        // Left as text: the test that reads it says what it expected.
      }
      return { status: response.status, headers: response.headers, body: parsed, contentType: response.headers.get('content-type') ?? '' };
    },
    /** Posts a sample as a party of its plan, the clock an hour after its plan last changed. */
    async postSample(given: Sample, text = given.text, headers: Record<string, string> = {}): Promise<Answer> {
      context.setClock(instantAfter(given.plan));
      return context.post(given.mapping, text, given.contentType, await context.token(partyOf(given.plan)), headers);
    },
    async read(path: string, organization: string): Promise<{ status: number; body: unknown; etag: string | null }> {
      const response = await fetch(`${context.test.url}${path}`, { headers: { Authorization: `Bearer ${await context.token(organization)}` } });
      return { status: response.status, body: await response.json(), etag: response.headers.get('etag') };
    },
  };
  return context;
}

/** The accepted issue of a success: its result code and the location of the recorded CarePlan version. */
function accepted(outcome: OperationOutcome): { result: string | undefined; location: string | undefined } {
  const issue = outcome.issue.find((candidate) => candidate.severity === 'information' && candidate.details?.coding?.[0]?.code !== undefined);
  return { result: issue?.details?.coding?.[0]?.code, location: issue?.location?.[0] };
}

describe('POST /exchange/inbound/{mapping} on the embedded store (PGlite)', () => {
  const h = harness('pglite');

  beforeAll(async () => {
    await h.start();
  }, 180_000);

  afterAll(async () => {
    await h.close();
  });

  // Two samples of different systems name the same case number (SIP-2026-0031) for different
  // people; each is recorded here as a plan of its own by giving the second its own id.
  const distinct = (given: Sample): Sample => {
    if (given.mapping !== 'legacy-xml-export' || given.plan.id !== 'SIP-2026-0031') return given;
    const text = given.text.replaceAll('SIP-2026-0031', 'SIP-2026-9031');
    return { ...given, text, plan: { ...given.plan, id: 'SIP-2026-9031' } };
  };

  it.each(samples.map((given) => [`${given.mapping}/${given.file}`, given] as const))(
    'records %s as version 1 and serves it as FHIR, with the mapping’s loss notes in the answer',
    async (_name, given) => {
      const exported = distinct(given);
      const answer = await h.postSample(exported);
      expect(answer.status).toBe(201);
      expect(answer.contentType).toContain('application/fhir+json');
      const outcome = expectOutcome(answer.body);
      const { result, location } = accepted(outcome);
      expect(result).toBe('created');
      expect(location).toMatch(/^\/fhir\/CarePlan\/[^/]+\/_history\/1$/);
      expect(answer.headers.get('location')).toBe(location);
      expect(answer.headers.get('etag')).toBe('W/"1"');
      // Every sample exports something the SIP has no place for (a timestamp of the export at least), reported where it stood.
      const notes = outcome.issue.filter((issue) => issue.details?.coding?.[0]?.code === 'mapping.not-carried');
      expect(notes.length).toBeGreaterThan(0);
      for (const note of notes) {
        expect(note.severity).toBe('warning');
        expect(note.location?.[0]).toMatch(given.mapping === 'legacy-xml-export' ? /^Export\// : /^\//);
      }

      const stored = await h.test.server.store.get(exported.plan.id);
      expect(stored?.version).toBe(1);
      expect(stored?.recordedBy).toBe(partyOf(exported.plan));
      expect(stored?.plan.individual.identifier).toEqual(exported.plan.individual.identifier);
      expect(stored?.plan.goals).toEqual(exported.plan.goals);
      expect(stored?.plan.interventions).toEqual(exported.plan.interventions);

      const read = await h.read((location ?? '').replace(/\/_history\/\d+$/, ''), partyOf(exported.plan));
      expect(read.status).toBe(200);
      expect(read.etag).toBe('W/"1"');
      const carePlan = read.body as CarePlan;
      expect(carePlan.resourceType).toBe('CarePlan');
      expect(carePlan.identifier?.map((identifier) => identifier.value)).toContain(exported.plan.id);
      expect(carePlan.goal).toHaveLength(exported.plan.goals.length);
    },
  );

  it('tells of an approval of an earlier revision in a new plan, and records the plan without it', async () => {
    const given = sample('legacy-xml-export', 'samordningsnummer-utskrivning.xml');
    // The sample is revision 3 of its case with an approval of revision 2: recorded above as version 1.
    expect(given.plan.version).toBe(3);
    expect(given.plan.approvals.map((approval) => approval.version)).toEqual([2]);
    const stored = await h.test.server.store.get(given.plan.id);
    expect(stored?.plan.approvals).toEqual([]);
    const replayed = expectOutcome((await h.postSample(given)).body);
    expect(accepted(replayed).result).toBe('unchanged');

    // Posted as a plan of its own, the answer says which approval was left out and why.
    const answer = await h.postSample(given, given.text.replaceAll(given.plan.id, 'SIP-2026-7733'));
    expect(answer.status).toBe(201);
    const notes = expectOutcome(answer.body).issue.filter((issue) => issue.details?.coding?.[0]?.code === 'inbound.approval-not-carried');
    expect(notes).toEqual([expect.objectContaining({ severity: 'warning', location: ['plan /approvals'] })]);
    expect(notes[0]?.diagnostics).toMatch(/revision 2 was not recorded/);
    expect((await h.test.server.store.get('SIP-2026-7733'))?.plan.approvals).toEqual([]);
  });

  it('records nothing when the same export is posted again, and version 2 for an edited one', async () => {
    const given = sample('modern-case-api', 'elderly-home-help.json');
    const before = (await h.test.server.store.history(given.plan.id)).length;
    expect(before).toBe(1);

    const again = await h.postSample(given);
    expect(again.status).toBe(200);
    expect(accepted(expectOutcome(again.body)).result).toBe('unchanged');
    expect(again.headers.get('etag')).toBe('W/"1"');
    expect((await h.test.server.store.history(given.plan.id)).length).toBe(1);

    const document = JSON.parse(given.text) as { goals: { text: string }[] };
    const goal = document.goals[0];
    if (goal === undefined) throw new Error('the sample has a goal');
    goal.text = 'Kunna duscha själv med stöd av hemtjänsten två dagar i veckan';
    const edited = await h.postSample(given, JSON.stringify(document));
    expect(edited.status).toBe(200);
    const outcome = expectOutcome(edited.body);
    expect(accepted(outcome)).toEqual({ result: 'updated', location: expect.stringMatching(/\/_history\/2$/) as unknown });
    expect(edited.headers.get('etag')).toBe('W/"2"');
    const history = await h.test.server.store.history(given.plan.id);
    expect(history.map((stored) => stored.version).sort()).toEqual([1, 2]);
    const latest = await h.test.server.store.get(given.plan.id);
    expect(latest?.plan.goals[0]?.description).toBe(goal.text);

    // An If-Match that names an older version is refused, and records nothing.
    document.goals[0] = { ...goal, text: `${goal.text}, och laga frukost` };
    const stale = await h.postSample(given, JSON.stringify(document), { 'If-Match': 'W/"1"' });
    expect(stale.status).toBe(412);
    expect(stale.headers.get('etag')).toBe('W/"2"');
    expectOutcome(stale.body);
    const malformedIfMatch = await h.postSample(given, JSON.stringify(document), { 'If-Match': 'yesterday' });
    expect(malformedIfMatch.status).toBe(400);
    expect((await h.test.server.store.history(given.plan.id)).length).toBe(2);
    document.goals[0] = goal;

    // The edit replayed is unchanged too.
    const replay = await h.postSample(given, JSON.stringify(document));
    expect(accepted(expectOutcome(replay.body)).result).toBe('unchanged');
    expect((await h.test.server.store.history(given.plan.id)).length).toBe(2);

    await vi.waitFor(async () => {
      const log = await h.test.server.store.auditLog({ planId: given.plan.id });
      expect(log).toContainEqual(expect.objectContaining({ action: 'update', what: 'POST /exchange/inbound/modern-case-api', outcome: 'success', detail: '200', organization: partyOf(given.plan) }));
    });
  });

  it('refuses malformed JSON with 400, naming its line and column', async () => {
    const given = sample('modern-case-api', 'lss-contact-person.json');
    const broken = given.text.replace('"revision": 1,', '"revision": 1');
    const answer = await h.postSample(given, broken);
    expect(answer.status).toBe(400);
    const [issue, ...rest] = errorsOf(expectOutcome(answer.body));
    expect(rest).toEqual([]);
    expect(issue).toMatchObject({ code: 'structure', details: { coding: [{ code: 'source.malformed' }] }, location: ['line 7, column 5'] });
    expect(await h.test.server.store.get('SIP-2026-0031')).toMatchObject({ version: 1 });
  });

  it('refuses malformed XML with 400, naming its line and column', async () => {
    const given = sample('legacy-xml-export', 'skyddad-identitet-vald.xml');
    const lines = given.text.split('\n');
    const at = lines.findIndex((line) => line.includes('<Huvudman '));
    lines[at] = (lines[at] ?? '').replace('<Huvudman ', '<Huvudman <');
    const answer = await h.postSample(given, lines.join('\n'));
    expect(answer.status).toBe(400);
    const [issue, ...rest] = errorsOf(expectOutcome(answer.body));
    expect(rest).toEqual([]);
    expect(issue).toMatchObject({ code: 'structure', details: { coding: [{ code: 'source.malformed' }] } });
    expect(issue?.location?.[0]).toMatch(new RegExp(`^line ${String(at + 1)}, column \\d+$`));
  });

  it('refuses a body of another media type with 415, and a mapping the adapter does not have with 404', async () => {
    const given = sample('legacy-xml-export', 'skyddad-identitet-vald.xml');
    const token = await h.token(partyOf(given.plan));
    const asJson = await h.post('legacy-xml-export', given.text, 'application/json', token);
    expect(asJson.status).toBe(415);
    expect(errorsOf(expectOutcome(asJson.body))[0]?.diagnostics).toMatch(/application\/xml or text\/xml/);
    const json = sample('modern-case-api', 'lss-contact-person.json');
    const asText = await h.post('modern-case-api', json.text, 'text/plain', token);
    expect(asText.status).toBe(415);
    expectOutcome(asText.body);
    const asTextXml = await h.post('legacy-xml-export', given.text, 'text/xml; charset=utf-8', token);
    expect(asTextXml.status).toBe(200);
    const unknown = await h.post('procapita-export', given.text, 'application/xml', token);
    expect(unknown.status).toBe(404);
    expect(errorsOf(expectOutcome(unknown.body))[0]?.diagnostics).toMatch(/No mapping "procapita-export" here; the mappings are legacy-xml-export, modern-case-api/);
  });

  it('refuses a code the mapping does not know with 422, naming the JSON pointer, and in XML the element path and line', async () => {
    const json = sample('modern-case-api', 'lss-contact-person.json');
    const answer = await h.postSample(json, json.text.replace('"status": "ACTIVE" }', '"status": "ACTIV" }'));
    expect(answer.status).toBe(422);
    const errors = errorsOf(expectOutcome(answer.body));
    expect(errors).toEqual([
      expect.objectContaining({
        code: 'code-invalid',
        details: { coding: [{ code: 'mapping.value-unknown' }], text: 'the code "ACTIV" is not in the value map "goalStatus"' },
        location: ['/goals/0/status', `line ${String(json.text.split('\n').findIndex((line) => line.includes('"goalId": "m-1"')) + 1)}`],
      }),
    ]);
    // The mapping file is named as the caller knows it, never by the server's folders.
    expect(errors[0]?.diagnostics).toMatch(/^error mapping\.value-unknown at modern-case-api\/mapping\.json, rule inbound\.goals\[\]\.status/);

    const xml = sample('legacy-xml-export', 'skyddad-identitet-vald.xml');
    const lines = xml.text.split('\n');
    const at = lines.findIndex((line) => /<Huvudman [^>]*typ="R"/.test(line));
    expect(at).toBeGreaterThan(0);
    lines[at] = (lines[at] ?? '').replace('typ="R"', 'typ="Q"');
    const refused = await h.postSample(xml, lines.join('\n'));
    expect(refused.status).toBe(422);
    const xmlErrors = errorsOf(expectOutcome(refused.body));
    expect(xmlErrors).toContainEqual(expect.objectContaining({ details: expect.objectContaining({ coding: [{ code: 'mapping.value-unknown' }] }) as unknown, location: ['Export/Organisationer/Huvudman[2]/@_typ', `line ${String(at + 1)}`] }));
  });

  it('refuses an export that breaks a SIP rule with 422, the rule code located in the source', async () => {
    const given = sample('modern-case-api', 'lss-contact-person.json');
    // A client with protected identity whose contact details are in the export: the rules keep them from the plan.
    const broken = given.text.replace('"protectedIdentity": false,', '"protectedIdentity": true, "protectionKind": "SKYDDAD_FOLKBOKFORING",');
    const answer = await h.postSample(given, broken);
    expect(answer.status).toBe(422);
    const errors = errorsOf(expectOutcome(answer.body));
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) {
      expect(error.details?.coding?.[0]?.system).toBe(RULE_CODE_SYSTEM);
      expect(error.location?.[0]).toMatch(/^\/client\//);
    }
    expect((await h.test.server.store.history('SIP-2026-0031')).length).toBe(1);
  });

  it('refuses (409) an export that names a plan id the adapter holds for another person, and records nothing', async () => {
    // Both samples use case number SIP-2026-0031, for two different people (see above).
    const held = sample('modern-case-api', 'lss-contact-person.json');
    const other = sample('legacy-xml-export', 'aldre-hemtjanst-hemsjukvard.xml');
    expect(other.plan.individual.identifier).not.toEqual(held.plan.individual.identifier);
    if ((await h.test.server.store.get('SIP-2026-0031')) === undefined) {
      h.setClock(instantAfter(held.plan));
      expect((await h.postSample(held)).status).toBe(201);
    }
    const before = (await h.test.server.store.history('SIP-2026-0031')).length;
    h.setClock(instantAfter(other.plan));
    const answer = await h.post(other.mapping, other.text, other.contentType, await h.token(partyOf(held.plan)));
    expect(answer.status).toBe(409);
    expect(errorsOf(expectOutcome(answer.body))[0]?.diagnostics).toMatch(/is about another person/);
    expect((await h.test.server.store.history('SIP-2026-0031')).length).toBe(before);
  });

  it('refuses a call without a token (401) and a caller that is no party to the plan (403), and audits both', async () => {
    const given = sample('modern-case-api', 'protected-identity-housing-support.json');
    h.setClock(instantAfter(given.plan));
    const anonymous = await h.post(given.mapping, given.text, given.contentType);
    expect(anonymous.status).toBe(401);
    expectOutcome(anonymous.body);
    const stranger = await h.post(given.mapping, given.text.replace('SIP-2025-0977', 'SIP-2025-7977'), given.contentType, await h.token(STRANGER));
    expect(stranger.status).toBe(403);
    expect(errorsOf(expectOutcome(stranger.body))[0]?.diagnostics).toMatch(/Organisation SE2321000180-9999 may not record this plan/);
    const readOnly = await h.post(given.mapping, given.text.replace('SIP-2025-0977', 'SIP-2025-7977'), given.contentType, await h.token(partyOf(given.plan), 'system/CarePlan.read'));
    expect(readOnly.status).toBe(403);
    expectOutcome(readOnly.body);
    expect(await h.test.server.store.get('SIP-2025-7977')).toBeUndefined();
    await vi.waitFor(async () => {
      const log = await h.test.server.store.auditLog({ organization: STRANGER });
      expect(log).toContainEqual(expect.objectContaining({ what: 'POST /exchange/inbound/modern-case-api', outcome: 'refused', detail: '403', planId: 'SIP-2025-7977' }));
      const anonymousLog = await h.test.server.store.auditLog({ organization: 'anonymous' });
      expect(anonymousLog).toContainEqual(expect.objectContaining({ what: 'POST /exchange/inbound/modern-case-api', outcome: 'refused', detail: '401' }));
    });
  });

  it('refuses text the store cannot keep (U+0000) with 400, naming its place in the plan', async () => {
    const given = sample('modern-case-api', 'lss-contact-person.json');
    const answer = await h.postSample(given, given.text.replace('"Jag vill ha någon', '"Jag vill\\u0000 ha någon').replaceAll('SIP-2026-0031', 'SIP-2026-8031'));
    expect(answer.status).toBe(400);
    expect(errorsOf(expectOutcome(answer.body))).toEqual([expect.objectContaining({ location: ['plan /goals/0/description'] })]);
    expect(await h.test.server.store.get('SIP-2026-8031')).toBeUndefined();
    // In the case number, which would name the audit entry: the SIP model refuses such an id (422), and the audit does not fail.
    const inId = await h.postSample(given, given.text.replaceAll('SIP-2026-0031', 'SIP-2026-\\u00008031'));
    expect(inId.status).toBe(422);
    expect(errorsOf(expectOutcome(inId.body))[0]?.location?.[0]).toBe('/sipCase/caseNumber');
  });

  it('refuses a body over the limit with 413', async () => {
    const given = sample('modern-case-api', 'lss-contact-person.json');
    const padded = given.text.replace('{', `{"padding": "${'x'.repeat(300 * 1024)}",`);
    const answer = await h.postSample(given, padded);
    expect(answer.status).toBe(413);
    expectOutcome(answer.body);
  });

  it('answers 405 with Allow: POST to another method', async () => {
    const response = await fetch(`${h.test.url}/exchange/inbound/modern-case-api`, { headers: { Authorization: `Bearer ${await h.token(STRANGER)}` } });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expectOutcome(await response.json());
  });

  it('never answers 500 to random bytes or to random mutations of the samples, and stays up', async () => {
    const seen = new Set<number>();
    const check = async (mapping: string, body: string | Uint8Array, contentType: string, token: string): Promise<void> => {
      const answer = await h.post(mapping, body, contentType, token);
      seen.add(answer.status);
      expect(answer.status, typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body)).toBeLessThan(500);
      expectOutcome(answer.body);
    };
    const bytes = fc.uint8Array({ maxLength: 400 });
    const given = samples.map((candidate) => fc.constant(candidate));
    await fc.assert(
      fc.asyncProperty(fc.oneof(...given), bytes, async (target, body) => {
        h.setClock(instantAfter(target.plan));
        await check(target.mapping, body, target.contentType, await h.token(partyOf(target.plan)));
      }),
      { numRuns: 40 },
    );
    const mutation = fc.record({
      at: fc.nat(),
      cut: fc.nat({ max: 40 }),
      insert: fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 6 }), fc.constantFrom('<', '>', '"', '&', '&#0;', '&#xD800;', '\\u0000', '\\ud800', '{', '}', '[', ']', ',', '</Export>', '<!DOCTYPE x>', '1e999', 'null')),
    });
    await fc.assert(
      fc.asyncProperty(fc.oneof(...given), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (target, edits) => {
        let text = target.text;
        for (const edit of edits) {
          const at = edit.at % (text.length + 1);
          text = text.slice(0, at) + edit.insert + text.slice(at + edit.cut);
        }
        // A mutation must not write over a plan another test reads: it is posted under an id of its own.
        text = text.replaceAll(target.plan.id, `${target.plan.id}-fc`);
        h.setClock(instantAfter(target.plan));
        await check(target.mapping, text, target.contentType, await h.token(partyOf(target.plan)));
      }),
      { numRuns: 80 },
    );
    expect(seen.size).toBeGreaterThan(1);
    const health = await fetch(`${h.test.url}/health`);
    expect(health.status).toBe(200);
  }, 240_000);
});

describe('POST /exchange/inbound/{mapping} on PostgreSQL', () => {
  const h = harness('postgres');

  beforeAll(async () => {
    await h.start();
  }, 180_000);

  afterAll(async () => {
    await h.close();
  });

  it('records an XML and a JSON export, replays them without a second version, and serves them as FHIR', async () => {
    for (const given of [sample('legacy-xml-export', 'ung-vuxen-lss-psykiatri.xml'), sample('modern-case-api', 'lss-contact-person.json')]) {
      const created = await h.postSample(given);
      expect(created.status).toBe(201);
      const location = accepted(expectOutcome(created.body)).location ?? '';
      const replay = await h.postSample(given);
      expect(replay.status).toBe(200);
      expect(accepted(expectOutcome(replay.body)).result).toBe('unchanged');
      expect((await h.test.server.store.history(given.plan.id)).map((stored) => stored.version)).toEqual([1]);
      const read = await h.read(location.replace(/\/_history\/\d+$/, ''), partyOf(given.plan));
      expect(read.status).toBe(200);
      expect((read.body as CarePlan).identifier?.map((identifier) => identifier.value)).toContain(given.plan.id);
    }
  });
});
