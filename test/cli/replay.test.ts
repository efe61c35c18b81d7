/**
 * `sip-fhir replay`: against the real adapter on a loopback port (PGlite, a token signed by its own
 * key) with the official R4 transaction example and the project's example Bundles; and against small
 * loopback servers that record what they get, for what the adapter cannot show: concurrency, order,
 * `.ndjson` lines posted as resources, hostile text in the JUnit report, no answer at all.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { XMLParser } from 'fast-xml-parser';
import { SyntaxValidator } from 'fast-xml-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { compare, DEFAULT_EXPECTATION } from '../../src/cli/replay-report.js';
import { exampleFiles } from '../support/examples.js';
import { NOW, freshPlan, startTestServer, type TestServer } from '../support/http-server.js';
import { closeServer, listenOnLoopback } from '../support/loopback.js';

const execFileAsync = promisify(execFile);
const R4_EXAMPLES = join(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'), '..');
const OFFICIAL_TRANSACTION = 'Bundle-bundle-transaction.json';

async function run(argv: string[]): Promise<{ status: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await main(argv, { out: (text) => out.push(text), err: (text) => err.push(text) });
  return { status, out: out.join('\n'), err: err.join('\n') };
}

const scratch = mkdtempSync(join(tmpdir(), 'sip-replay-test-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** A fresh folder below the scratch folder. */
function folder(name: string): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(file, JSON.stringify(value, null, 2));
}

/** fast-xml-parser with attributes kept, `testcase` always an array. */
function parseJunit(xml: string): { suites: Record<string, unknown>; suite: Record<string, unknown>; cases: Record<string, unknown>[] } {
  expect(() => SyntaxValidator.validate(xml)).not.toThrow();
  const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseAttributeValue: false, isArray: (name) => name === 'testcase' }).parse(xml) as {
    testsuites: Record<string, unknown> & { testsuite: Record<string, unknown> & { testcase?: Record<string, unknown>[] } };
  };
  return { suites: parsed.testsuites, suite: parsed.testsuites.testsuite, cases: parsed.testsuites.testsuite.testcase ?? [] };
}

/** A loopback HTTP server that answers with `handler` and records what it got. */
interface Recorder {
  readonly url: string;
  readonly requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  /** The most requests it was answering at once. */
  readonly maxConcurrent: () => number;
  close(): Promise<void>;
}

async function recorder(handler: (body: string, response: ServerResponse) => void | Promise<void>): Promise<Recorder> {
  const requests: Recorder['requests'] = [];
  let open = 0;
  let max = 0;
  const server: Server = createServer((request, response) => {
    open += 1;
    max = Math.max(max, open);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      void Promise.resolve(handler(body, response)).finally(() => {
        open -= 1;
      });
    });
  });
  const { origin } = await listenOnLoopback(server);
  return {
    url: `${origin}/fhir`,
    requests,
    maxConcurrent: () => max,
    close: () => closeServer(server, { dropConnections: true }),
  };
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/fhir+json' });
  response.end(JSON.stringify(body));
}

const OK_OUTCOME = { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: 'ok' }] };

describe('sip-fhir replay against the adapter (PGlite, loopback)', () => {
  let adapter: TestServer;
  let bundles: string;
  let expectations: string;
  /** The examples to-fhir would not send at NOW, by file. */
  const refused: string[] = [];

  beforeAll(async () => {
    adapter = await startTestServer('pglite');
    bundles = folder('bundles');
    expectations = folder('expect');
    // The project's example Bundles, as `sip-fhir to-fhir` writes them, sent at the server's moment.
    for (const file of exampleFiles) {
      const result = await run(['to-fhir', '--at', NOW.toISOString(), join('examples', file)]);
      if (result.status === 0) writeFileSync(join(bundles, file), result.out);
      else refused.push(file);
    }
    // The adult example as a plan new to the adapter (version 1, no approval yet), which it records.
    const plan = join(scratch, 'fresh-plan.json');
    writeJson(plan, freshPlan('sip-replay-fresh'));
    const fresh = await run(['to-fhir', '--at', NOW.toISOString(), plan]);
    expect(fresh.status).toBe(0);
    writeFileSync(join(bundles, 'fresh-plan.json'), fresh.out);
    copyFileSync(join(R4_EXAMPLES, OFFICIAL_TRANSACTION), join(bundles, OFFICIAL_TRANSACTION));
  }, 120_000);

  afterAll(async () => {
    await adapter.close();
  });

  it('to-fhir sends every example whose consent is in force at NOW: not the withdrawn one, nor the one given from 2026-04-07', () => {
    expect(refused).toEqual(['closed-consent-withdrawn.json', 'protected-identity.json']);
  });

  it('replays the official R4 transaction example and the example Bundles into a JUnit report whose counts are right', async () => {
    // What the adapter answers, read from its README and code, not from this run:
    // the official example holds DELETE and GET entries: 400, not a SIP transaction.
    writeJson(join(expectations, `${OFFICIAL_TRANSACTION}.expect.json`), {
      status: 400,
      issues: [{ severity: 'error', code: 'not-supported', expression: 'Bundle.entry[5].request.method', diagnostics: 'DELETE' }],
    });
    // The adult example is at version 3 with approvals of versions 2 and 3, which the adapter never had.
    writeJson(join(expectations, 'adult-psychiatry-addiction.json.expect.json'), {
      status: 422,
      issues: [{ severity: 'error', code: 'business-rule', diagnostics: 'names an earlier version the adapter never had' }],
    });
    // The token is Region Dalarna's, which is a party only to the adult plan.
    const others = exampleFiles.filter((file) => file !== 'adult-psychiatry-addiction.json' && !refused.includes(file));
    for (const file of others) {
      writeJson(join(expectations, `${file}.expect.json`), { status: 403, issues: [{ severity: 'error', code: 'forbidden', diagnostics: 'may not record this plan' }] });
    }
    // A plan new to the adapter: 200, and each of its resources created.
    const freshEntries = (JSON.parse(readFileSync(join(bundles, 'fresh-plan.json'), 'utf8')) as { entry: unknown[] }).entry.length;
    writeJson(join(expectations, 'fresh-plan.json.expect.json'), { status: 200, entries: Array.from({ length: freshEntries }, () => 201) });

    const report = join(scratch, 'adapter.xml');
    const result = await run(['replay', bundles, '--target', `${adapter.url}/fhir`, '--token', adapter.token, '--expect', expectations, '--report', 'junit', '--out', report, '--concurrency', '2']);
    expect(result.err).toBe('');
    expect(result.status).toBe(0);
    const items = 1 + others.length + 1 + 1;
    expect(result.out).toContain(`${String(items)} items: ${String(items)} passed, 0 failed, 0 errors`);

    const { suites, suite, cases } = parseJunit(readFileSync(report, 'utf8'));
    expect(suites['@_tests']).toBe(String(items));
    expect(suite).toMatchObject({ '@_tests': String(items), '@_failures': '0', '@_errors': '0' });
    expect(Number(suite['@_time'])).toBeGreaterThan(0);
    expect(cases.map((testcase) => testcase['@_name'])).toEqual([OFFICIAL_TRANSACTION, 'adult-psychiatry-addiction.json', ...others, 'fresh-plan.json'].sort().map((file) => join(bundles, file)));
    expect(cases.every((testcase) => testcase['failure'] === undefined && testcase['error'] === undefined)).toBe(true);
    const official = JSON.parse(String(cases.find((testcase) => String(testcase['@_name']).endsWith(OFFICIAL_TRANSACTION))?.['system-out'])) as { url: string; outcome: { status: number } };
    expect(official).toMatchObject({ url: `${adapter.url}/fhir`, outcome: { status: 400 } });
  }, 120_000);

  it('exits 1 on a wrong expectation, with a failure element that says expected and got', async () => {
    const only = folder('official-only');
    copyFileSync(join(R4_EXAMPLES, OFFICIAL_TRANSACTION), join(only, OFFICIAL_TRANSACTION));
    const wrong = folder('expect-wrong');
    writeJson(join(wrong, `${OFFICIAL_TRANSACTION}.expect.json`), { status: 200 });
    const result = await run(['replay', only, '--target', `${adapter.url}/fhir`, '--token', adapter.token, '--expect', wrong, '--report', 'junit']);
    expect(result.status).toBe(1);
    // The report went to stdout, so the item lines and the summary went to stderr.
    expect(result.err).toContain('FAILED 400');
    expect(result.err).toContain('1 item: 0 passed, 1 failed, 0 errors');
    const { suite, cases } = parseJunit(result.out);
    expect(suite).toMatchObject({ '@_tests': '1', '@_failures': '1', '@_errors': '0' });
    const failure = cases[0]?.['failure'] as Record<string, string>;
    expect(failure['@_message']).toBe('expected status 200, got 400');
    expect(failure['#text']).toContain('expected: {"status":200}');
    expect(failure['#text']).toContain('"status":400');
  }, 60_000);

  it('without a token the adapter answers 401, which fails the default expectation of 2xx', async () => {
    const only = folder('official-no-token');
    copyFileSync(join(R4_EXAMPLES, OFFICIAL_TRANSACTION), join(only, OFFICIAL_TRANSACTION));
    const result = await run(['replay', only, '--target', `${adapter.url}/fhir`]);
    expect(result.status).toBe(1);
    expect(result.out).toContain('expected status 2xx, got 401');
  }, 60_000);
});

describe('sip-fhir replay against any FHIR server', () => {
  it('posts a transaction to the base and another resource to its type, as application/fhir+json with the bearer token', async () => {
    const server = await recorder((_body, response) => {
      answer(response, 201, OK_OUTCOME);
    });
    try {
      const dir = folder('kinds');
      writeJson(join(dir, 'a-transaction.json'), { resourceType: 'Bundle', type: 'transaction', entry: [] });
      writeJson(join(dir, 'b-patient.json'), { resourceType: 'Patient', id: 'p1' });
      writeJson(join(dir, 'c-collection.json'), { resourceType: 'Bundle', type: 'collection' });
      const tokenFile = join(scratch, 'token.txt');
      writeFileSync(tokenFile, 'header.payload.signature\n');
      const out = join(scratch, 'kinds.json');
      const result = await run(['replay', dir, '--target', `${server.url}/`, '--token-file', tokenFile, '--concurrency', '1', '--report', 'json', '--out', out]);
      expect(result.status).toBe(0);
      const report = JSON.parse(readFileSync(out, 'utf8')) as { target: string; items: { url: string }[] };
      expect(report.target).toBe(server.url);
      expect(report.items.map((item) => item.url)).toEqual([server.url, `${server.url}/Patient`, `${server.url}/Bundle`]);
      // The token is sent, never written down.
      expect(readFileSync(out, 'utf8')).not.toContain('header.payload.signature');
      expect(server.requests.map((request) => [request.method, request.url])).toEqual([
        ['POST', '/fhir'],
        ['POST', '/fhir/Patient'],
        ['POST', '/fhir/Bundle'],
      ]);
      for (const request of server.requests) {
        expect(request.headers['content-type']).toBe('application/fhir+json');
        expect(request.headers.authorization).toBe('Bearer header.payload.signature');
      }
      // The file's bytes as they are.
      expect(server.requests[1]?.body).toBe(readFileSync(join(dir, 'b-patient.json'), 'utf8'));
    } finally {
      await server.close();
    }
  });

  it('reads .ndjson line by line: each line an item named path#line, with its own expectation; a malformed line fails unsent', async () => {
    const server = await recorder((body, response) => {
      const { id } = JSON.parse(body) as { id: string };
      if (id === 'bad') answer(response, 422, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invariant', expression: ['Patient.name'], diagnostics: 'pat-1 broken' }] });
      else answer(response, 201, { resourceType: 'Patient', id });
    });
    try {
      const dir = folder('ndjson');
      const file = join(dir, 'patients.ndjson');
      writeFileSync(file, ['{"resourceType":"Patient","id":"one"}', '', '{"resourceType":"Patient","id":"bad"}', '{"resourceType": "Patient", oops}', '{"resourceType":"Patient","id":"four"}'].join('\n'));
      const expect3 = folder('ndjson-expect');
      writeJson(join(expect3, 'patients.ndjson#3.expect.json'), { status: 422, issues: [{ code: 'invariant', expression: 'Patient.name' }] });
      const out = join(scratch, 'ndjson.json');
      const result = await run(['replay', file, '--target', server.url, '--expect', expect3, '--report', 'json', '--out', out]);
      expect(result.status).toBe(1);
      expect(server.requests.map((request) => (JSON.parse(request.body) as { id: string }).id)).toEqual(['one', 'bad', 'four']);
      const report = JSON.parse(readFileSync(out, 'utf8')) as { summary: { tests: number; passed: number; failures: number; errors: number }; items: { name: string; passed: boolean; outcome: { kind: string; status?: number; error?: string } }[] };
      expect(report.summary).toMatchObject({ tests: 4, passed: 3, failures: 0, errors: 1 });
      expect(report.items.map((item) => [item.name, item.passed, item.outcome.status ?? item.outcome.error])).toEqual([
        [`${file}#1`, true, 201],
        [`${file}#3`, true, 422],
        [`${file}#4`, false, 'malformed-input'],
        [`${file}#5`, true, 201],
      ]);
      expect(result.out).toContain(`${file}#4: FAILED malformed-input`);
    } finally {
      await server.close();
    }
  });

  it('keeps at most --concurrency requests in flight, started in input order', async () => {
    const server = await recorder(async (_body, response) => {
      await new Promise((resolve) => setTimeout(resolve, 60));
      answer(response, 200, OK_OUTCOME);
    });
    try {
      const dir = folder('concurrency');
      const lines = Array.from({ length: 12 }, (_, index) => JSON.stringify({ resourceType: 'Patient', id: `p${String(index)}` }));
      writeFileSync(join(dir, 'many.ndjson'), lines.join('\n'));
      const three = await run(['replay', dir, '--target', server.url, '--concurrency', '3', '--quiet']);
      expect(three.status).toBe(0);
      expect(three.out).toContain('12 items: 12 passed');
      expect(server.maxConcurrent()).toBe(3);

      const one = await recorder(async (_body, response) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        answer(response, 200, OK_OUTCOME);
      });
      try {
        expect((await run(['replay', dir, '--target', one.url, '--concurrency', '1'])).status).toBe(0);
        expect(one.maxConcurrent()).toBe(1);
        expect(one.requests.map((request) => (JSON.parse(request.body) as { id: string }).id)).toEqual(lines.map((_, index) => `p${String(index)}`));
      } finally {
        await one.close();
      }
    } finally {
      await server.close();
    }
  });

  it('records a refused connection and a timeout as error outcomes, never a crash: exit 1, JUnit error elements', async () => {
    // A port that was just free: nothing listens on it.
    const gone = await recorder(() => undefined);
    const refusedUrl = gone.url;
    await gone.close();
    const silent = await recorder(() => undefined);
    try {
      const dir = folder('unreachable');
      writeJson(join(dir, 'patient.json'), { resourceType: 'Patient', id: 'p1' });
      const refused = await run(['replay', dir, '--target', refusedUrl, '--report', 'junit']);
      expect(refused.status).toBe(1);
      expect(refused.err).toContain('FAILED connection-refused');
      const refusedReport = parseJunit(refused.out);
      expect(refusedReport.suite).toMatchObject({ '@_tests': '1', '@_failures': '0', '@_errors': '1' });
      expect((refusedReport.cases[0]?.['error'] as Record<string, string>)['@_type']).toBe('connection-refused');

      const timedOut = await run(['replay', dir, '--target', silent.url, '--timeout', '200', '--report', 'junit']);
      expect(timedOut.err).toContain('FAILED timeout');
      expect(timedOut.status).toBe(1);
      const error = parseJunit(timedOut.out).cases[0]?.['error'] as Record<string, string>;
      expect(error['@_type']).toBe('timeout');
      expect(error['@_message']).toContain('no answer within 200 ms');
    } finally {
      await silent.close();
    }
  });

  it('times out a server that trickles its answer, however steadily: --timeout bounds the whole exchange', async () => {
    const trickle = await recorder(async (_body, response) => {
      response.writeHead(200, { 'Content-Type': 'application/fhir+json' });
      for (let index = 0; index < 40 && !response.destroyed; index += 1) {
        response.write(' ');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      response.end('{}');
    });
    try {
      const file = join(folder('trickle'), 'patient.json');
      writeJson(file, { resourceType: 'Patient' });
      const result = await run(['replay', file, '--target', trickle.url, '--timeout', '300']);
      expect(result.status).toBe(1);
      expect(result.out).toContain('FAILED timeout');
    } finally {
      await trickle.close();
    }
  });

  it('as a real process: ends when the run ends, status 0 and the JSON report on stdout', async () => {
    const server = await recorder((_body, response) => {
      answer(response, 201, OK_OUTCOME);
    });
    try {
      const file = join(folder('process'), 'patient.json');
      writeJson(file, { resourceType: 'Patient' });
      // Asynchronous: the server answers from this process's event loop.
      const child = await execFileAsync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'replay', file, '--target', server.url, '--report', 'json'], { encoding: 'utf8', timeout: 20_000 });
      expect((JSON.parse(child.stdout) as { summary: { passed: number } }).summary.passed).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('shows progress on stderr with --progress (count/total and rate), none with --quiet', async () => {
    const server = await recorder((_body, response) => {
      answer(response, 200, OK_OUTCOME);
    });
    try {
      const file = join(folder('progress'), 'five.ndjson');
      writeFileSync(file, Array.from({ length: 5 }, (_, index) => JSON.stringify({ resourceType: 'Patient', id: `p${String(index)}` })).join('\n'));
      const shown = await run(['replay', file, '--target', server.url, '--progress']);
      expect(shown.status).toBe(0);
      expect(shown.err).toMatch(/^replayed 5\/5, \d+\.\d\/s$/m);
      const quiet = await run(['replay', file, '--target', server.url, '--progress', '--quiet']);
      expect(quiet.err).toBe('');
      expect(quiet.out).toMatch(/^5 items: 5 passed, 0 failed, 0 errors; \d+ ms/);
    } finally {
      await server.close();
    }
  });

  it('warns of an expectation for no item (a misspelt name), and exits 2 when an input is over --max-file-size, replaying the rest but what is not UTF-8', async () => {
    const server = await recorder((_body, response) => {
      answer(response, 201, OK_OUTCOME);
    });
    try {
      const dir = folder('mixed');
      writeJson(join(dir, 'small.json'), { resourceType: 'Patient' });
      writeFileSync(join(dir, 'latin1.json'), Buffer.from([0x7b, 0x22, 0x6e, 0xe4, 0x22, 0x3a, 0x31, 0x7d]));
      writeJson(join(dir, 'large.json'), { resourceType: 'Patient', text: { status: 'generated', div: `<div>${'x'.repeat(200)}</div>` } });
      const expectDir = folder('mixed-expect');
      writeJson(join(expectDir, 'smal.json.expect.json'), { status: 201 });
      const result = await run(['replay', dir, '--target', server.url, '--expect', expectDir, '--max-file-size', '100']);
      expect(result.status).toBe(2);
      expect(server.requests).toHaveLength(1);
      expect(result.out).toContain(`${join(dir, 'large.json')}: FAILED input-too-large`);
      expect(result.out).toContain(`${join(dir, 'small.json')}: ok 201`);
      // Bytes that are not UTF-8 are never sent (nor turned into U+FFFD on the way).
      expect(result.out).toContain(`${join(dir, 'latin1.json')}: FAILED malformed-input`);
      expect(result.out).toContain('Invalid UTF-8 at byte offset 3');
      expect(result.err).toContain(`the expectation "${join(expectDir, 'smal.json.expect.json')}" is for no item replayed`);
    } finally {
      await server.close();
    }
  });

  it('writes no password of the target URL into the report', async () => {
    const server = await recorder((_body, response) => {
      answer(response, 200, OK_OUTCOME);
    });
    try {
      const file = join(folder('basic'), 'patient.json');
      writeJson(file, { resourceType: 'Patient' });
      const result = await run(['replay', file, '--target', server.url.replace('http://', 'http://tester:s3cret@'), '--report', 'junit']);
      expect(result.status).toBe(0);
      expect(server.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from('tester:s3cret').toString('base64')}`);
      expect(result.out).not.toContain('s3cret');
      expect(parseJunit(result.out).suite['@_name']).toBe(`sip-fhir replay ${server.url}`);
    } finally {
      await server.close();
    }
  });

  it('escapes what the server and the file names say: the JUnit file is well formed and says it back', async () => {
    const hostile = 'a <b> & "c" \'d\' ]]> \u0001 \ud800 é';
    const server = await recorder((_body, response) => {
      answer(response, 400, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: hostile }] });
    });
    try {
      const dir = folder('hostile');
      const name = 'x&<y>"z.json';
      writeJson(join(dir, name), { resourceType: 'Patient' });
      const out = join(scratch, 'hostile.xml');
      const result = await run(['replay', dir, '--target', server.url, '--report', 'junit', '--out', out]);
      expect(result.status).toBe(1);
      const { cases } = parseJunit(readFileSync(out, 'utf8'));
      expect(cases[0]?.['@_name']).toBe(join(dir, name));
      const failure = cases[0]?.['failure'] as Record<string, string>;
      // What XML cannot hold (U+0001, a lone surrogate) is escaped, the rest comes back as it was.
      expect(failure['#text']).toContain('a <b> & \\"c\\" \'d\' ]]> \\u0001 \\ud800 é');
    } finally {
      await server.close();
    }
  });
});

describe('sip-fhir replay usage errors (exit 2)', () => {
  const file = join(scratch, 'usage.json');
  writeJson(file, { resourceType: 'Patient' });

  it.each([
    [['replay', file], '--target <FHIR base URL> is required'],
    [['replay', file, '--target', 'ftp://example.org/fhir'], '--target must be an http or https URL'],
    [['replay', '--target', 'http://127.0.0.1:9/fhir'], 'name at least one'],
    [['replay', file, '--target', 'http://127.0.0.1:9/fhir', '--token', 'a', '--token-file', file], 'give --token or --token-file, not both'],
    [['replay', file, '--target', 'http://127.0.0.1:9/fhir', '--concurrency', '0'], '--concurrency must be a whole number from 1 to 64'],
    [['replay', file, '--target', 'http://127.0.0.1:9/fhir', '--report', 'xml'], '--report must be "json" or "junit"'],
    [['replay', file, '--target', 'http://127.0.0.1:9/fhir', '--out', join(scratch, 'x.xml')], '--out is where the report goes'],
    [['replay', file, '--target', 'http://127.0.0.1:9/fhir', '--expect', file], '--expect must be a folder'],
  ])('%j', async (argv, message) => {
    const result = await run(argv);
    expect(result.status).toBe(2);
    expect(result.err).toContain(message);
  });

  it('refuses a bad expectation file before anything is sent, naming the file and the field', async () => {
    const dir = folder('bad-expect');
    writeJson(join(dir, 'usage.json.expect.json'), { status: 'teapot' });
    const result = await run(['replay', file, '--target', 'http://127.0.0.1:9/fhir', '--expect', dir]);
    expect(result.status).toBe(2);
    expect(result.err).toContain('usage.json.expect.json" is not valid: status');
  });

  it('exits 2 for an input that does not exist', async () => {
    const result = await run(['replay', join(scratch, 'missing.json'), '--target', 'http://127.0.0.1:9/fhir']);
    expect(result.status).toBe(2);
    expect(result.err).toContain('no such file or folder');
  });

  it('--help prints the expectation format, exit 0', async () => {
    const result = await run(['replay', '--help']);
    expect(result.status).toBe(0);
    expect(result.out).toContain('.expect.json');
    expect(result.out).toContain('"entries"');
  });
});

describe('compare: an answer against an expectation', () => {
  const answer422 = {
    kind: 'response' as const,
    status: 422,
    timeMs: 5,
    issues: [
      { severity: 'error', code: 'invariant', expression: ['Bundle.entry[0].resource'], diagnostics: 'cpl-3: period.start before end' },
      { severity: 'warning', code: 'informational' },
    ],
  };

  it('matches issues as a subset, each field of an expected issue against one issue', () => {
    expect(compare(answer422, { status: 422, issues: [{ code: 'invariant', expression: 'Bundle.entry[0].resource', diagnostics: 'cpl-3' }] })).toEqual([]);
    expect(compare(answer422, { status: '4xx', issues: [{ severity: 'warning' }, { severity: 'error' }] })).toEqual([]);
  });

  it('fails an issue no single issue of the answer matches, saying what the answer had', () => {
    // The severity of one issue and the code of the other: no one issue has both.
    const mismatches = compare(answer422, { status: 422, issues: [{ severity: 'warning', code: 'invariant' }] });
    expect(mismatches).toEqual(['expected an issue warning invariant, got error invariant at Bundle.entry[0].resource "cpl-3: period.start before end"; warning informational']);
    expect(compare(answer422, { status: 422, issues: [{ expression: 'Bundle.entry[1].resource' }] })).toHaveLength(1);
    expect(compare(answer422, { status: 422, issues: [{ diagnostics: 'cpl-4' }] })).toHaveLength(1);
  });

  it('matches every entry status, in order and in number', () => {
    const response = { kind: 'response' as const, status: 200, timeMs: 1, issues: [], entries: [{ status: '201 Created' }, { status: '200 OK' }] };
    expect(compare(response, { status: 200, entries: [201, '2xx'] })).toEqual([]);
    expect(compare(response, { entries: [200, 201] })).toEqual(['expected entries [200, 201], got [201 Created, 200 OK]']);
    expect(compare(response, { entries: [201] })).toHaveLength(1);
  });

  it('fails an error outcome whatever was expected, and a 3xx against the default', () => {
    expect(compare({ kind: 'error', error: 'timeout', message: 'no answer within 5 ms', timeMs: 5 }, DEFAULT_EXPECTATION)).toEqual(['expected status 2xx, got no answer: timeout (no answer within 5 ms)']);
    expect(compare({ kind: 'response', status: 302, timeMs: 1, issues: [] }, DEFAULT_EXPECTATION)).toEqual(['expected status 2xx, got 302']);
  });
});
