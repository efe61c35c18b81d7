/**
 * The receivers configuration (issue #14, "What to build" 1): a valid file resolves every secret and
 * key; each kind of bad setting is named by its JSON pointer, all of them at once.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadReceivers, parseReceivers, receiverSummary, ReceiversConfigError, type Receiver } from '../../src/exchange/receivers.js';

const EXAMPLE = fileURLToPath(new URL('../../receivers.example.json', import.meta.url));

let dir: string;
let pkcs8: string;
let privateJwk: string;
let publicPem: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'receivers-'));
  const rsa = await generateKeyPair('RS384', { extractable: true });
  pkcs8 = await exportPKCS8(rsa.privateKey);
  publicPem = await exportSPKI(rsa.publicKey);
  const ec = await generateKeyPair('ES384', { extractable: true });
  privateJwk = JSON.stringify(await exportJWK(ec.privateKey));
  await writeFile(path.join(dir, 'client.pem'), pkcs8);
  await writeFile(path.join(dir, 'client.jwk.json'), privateJwk);
  await writeFile(path.join(dir, 'secret.txt'), '  s3cret-from-file\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ENV = { FHIR_TOKEN: 'token-from-env', CLIENT_SECRET: 'secret-from-env' };

const valid = {
  receivers: [
    { id: 'region-fhir', organization: 'SE2321000040-1000', kind: 'fhir', base: 'https://fhir.region.example/fhir/', auth: { type: 'bearer', token: { env: 'FHIR_TOKEN' } } },
    {
      id: 'region-oauth',
      organization: '232100-0040',
      kind: 'fhir',
      base: 'http://127.0.0.1:8080/fhir',
      timeoutMs: 2500,
      auth: { type: 'client-credentials', tokenUrl: 'https://idp.example/token', clientId: 'adapter', clientSecret: { file: 'secret.txt' }, scope: 'system/CarePlan.write' },
    },
    {
      id: 'region-smart',
      organization: '2321000040',
      kind: 'fhir',
      base: 'https://fhir.example/r4',
      auth: { type: 'smart-backend', tokenUrl: 'https://fhir.example/auth/token', clientId: 'sip-adapter', scope: 'system/*.write', alg: 'RS384', kid: 'key-1', privateKey: { file: 'client.pem' } },
    },
    {
      id: 'region-smart-ec',
      organization: 'SE2321000040-1000',
      kind: 'fhir',
      base: 'https://fhir.example/r4',
      auth: { type: 'smart-backend', tokenUrl: 'https://fhir.example/auth/token', clientId: 'sip-adapter', scope: 'system/*.write', alg: 'ES384', kid: 'key-2', privateKey: { file: 'client.jwk.json' } },
    },
    { id: 'kommun-api', organization: '212000-0449', kind: 'mapping', mapping: 'modern-case-api', endpoint: 'https://kommun.example/api/sip', auth: { type: 'client-credentials', tokenUrl: 'https://kommun.example/oauth/token', clientId: 'sip', clientSecret: { env: 'CLIENT_SECRET' }, clientAuthentication: 'post' } },
    { id: 'kommun-drop', organization: '212000-0449', kind: 'mapping', mapping: 'legacy-xml-export', folder: 'drop/kommun', auth: { type: 'none' } },
  ],
};

async function problemsOf(json: unknown, env: Record<string, string> = ENV): Promise<string[]> {
  try {
    await parseReceivers(json, dir, { env });
  } catch (error) {
    expect(error).toBeInstanceOf(ReceiversConfigError);
    return [...(error as ReceiversConfigError).problems];
  }
  throw new Error('expected the configuration to be refused');
}

/** The valid configuration with one receiver's settings changed (undefined removes one). */
function withReceiver(index: number, change: Record<string, unknown>): unknown {
  const receivers: Record<string, unknown>[] = valid.receivers.map((receiver) => ({ ...receiver }));
  const target = receivers[index] ?? {};
  for (const [key, value] of Object.entries(change)) {
    if (value === undefined) Reflect.deleteProperty(target, key);
    else target[key] = value;
  }
  return { receivers };
}

describe('a valid receivers file', () => {
  let receivers: Receiver[];
  beforeAll(async () => {
    const file = path.join(dir, 'receivers.json');
    await writeFile(file, `// the receivers of the test\n${JSON.stringify(valid, null, 2)}`);
    receivers = await loadReceivers(file, { env: ENV });
  });

  it('keeps every receiver in order with its kind and organisation, organisationsnummer normalised', () => {
    expect(receivers.map((receiver) => [receiver.id, receiver.kind, receiver.organization, receiver.mapping])).toEqual([
      ['region-fhir', 'fhir', 'SE2321000040-1000', undefined],
      ['region-oauth', 'fhir', '232100-0040', undefined],
      ['region-smart', 'fhir', '232100-0040', undefined],
      ['region-smart-ec', 'fhir', 'SE2321000040-1000', undefined],
      ['kommun-api', 'mapping', '212000-0449', 'modern-case-api'],
      ['kommun-drop', 'mapping', '212000-0449', 'legacy-xml-export'],
    ]);
  });

  it('defaults the timeout to 10 000 ms and keeps a given one; drops the trailing slash of a base', () => {
    expect(receivers.map((receiver) => receiver.timeoutMs)).toEqual([10_000, 2500, 10_000, 10_000, 10_000, 10_000]);
    expect(receivers[0]).toMatchObject({ base: 'https://fhir.region.example/fhir' });
  });

  it('resolves secrets from the environment and from files (trimmed, relative to the file)', () => {
    expect(receivers[0]?.auth).toEqual({ type: 'bearer', token: 'token-from-env' });
    expect(receivers[1]?.auth).toMatchObject({ type: 'client-credentials', clientSecret: 's3cret-from-file', clientAuthentication: 'basic' });
    expect(receivers[4]?.auth).toMatchObject({ clientSecret: 'secret-from-env', clientAuthentication: 'post' });
  });

  it('imports a PKCS#8 PEM and a JWK private key for signing', () => {
    for (const receiver of [receivers[2], receivers[3]]) {
      expect(receiver?.auth.type).toBe('smart-backend');
      if (receiver?.auth.type === 'smart-backend') expect(receiver.auth.privateKey.type).toBe('private');
    }
  });

  it('summarises a receiver for logs without any secret', () => {
    expect(receivers.map(receiverSummary)).toEqual([
      { id: 'region-fhir', organization: 'SE2321000040-1000', kind: 'fhir', target: 'https://fhir.region.example/fhir', auth: 'bearer' },
      { id: 'region-oauth', organization: '232100-0040', kind: 'fhir', target: 'http://127.0.0.1:8080/fhir', auth: 'client-credentials' },
      { id: 'region-smart', organization: '232100-0040', kind: 'fhir', target: 'https://fhir.example/r4', auth: 'smart-backend' },
      { id: 'region-smart-ec', organization: 'SE2321000040-1000', kind: 'fhir', target: 'https://fhir.example/r4', auth: 'smart-backend' },
      { id: 'kommun-api', organization: '212000-0449', kind: 'mapping', target: 'https://kommun.example/api/sip', mapping: 'modern-case-api', auth: 'client-credentials' },
      { id: 'kommun-drop', organization: '212000-0449', kind: 'mapping', target: `folder ${path.join(dir, 'drop/kommun')}`, mapping: 'legacy-xml-export', auth: 'none' },
    ]);
    expect(JSON.stringify(receivers.map(receiverSummary))).not.toMatch(/token-from-env|secret-from|s3cret/);
  });

  it('makes a folder absolute, relative to the file', () => {
    expect(receivers[5]).toMatchObject({ folder: path.join(dir, 'drop/kommun') });
    expect(receivers[5]).not.toHaveProperty('endpoint');
  });
});

describe('the example at the repository root', () => {
  it('loads, with its comments, once its environment variables are set', async () => {
    const receivers = await loadReceivers(EXAMPLE, { env: { REGION_FHIR_CLIENT_SECRET: 'x', REGION_SMART_KEY: pkcs8, KOMMUN_API_TOKEN: 'y' } });
    expect(receivers.map((receiver) => receiver.kind)).toContain('mapping');
    expect(receivers.map((receiver) => receiver.kind)).toContain('fhir');
  });
});

describe('bad settings, each named by its JSON pointer', () => {
  it('names a URL that is not http(s)', async () => {
    const auth = { ...valid.receivers[1]?.auth, tokenUrl: 'ftp://idp.example/token' };
    expect(await problemsOf(withReceiver(1, { auth, base: 'not a url' }))).toEqual([
      '/receivers/1/auth/tokenUrl: must be an https or http URL',
      '/receivers/1/base: must be an https or http URL',
    ]);
  });

  it('names an organisation that is neither an HSA-id nor an organisationsnummer', async () => {
    const problems = await problemsOf(withReceiver(0, { organization: '212000-0143' }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^\/receivers\/0\/organization: must be an HSA-id .* or a valid organisationsnummer/);
  });

  it('names an unknown kind, an unknown auth type, a missing setting and one that is not a setting', async () => {
    const problems = await problemsOf({
      receivers: [
        { ...valid.receivers[0], kind: 'soap' },
        { ...valid.receivers[0], id: 'a', kind: undefined },
        { ...valid.receivers[0], id: 'b', auth: { type: 'basic' } },
        { ...valid.receivers[0], id: 'c', base: undefined },
        { ...valid.receivers[0], id: 'd', retries: 3 },
      ],
    });
    expect(problems).toEqual([
      '/receivers/0/kind: must be "fhir" or "mapping"',
      '/receivers/1/kind: is required',
      '/receivers/2/auth/type: must be one of "none", "bearer", "client-credentials", "smart-backend"',
      '/receivers/3/base: is required',
      '/receivers/4/retries: is not a setting here',
    ]);
  });

  it('names a bad timeout and a bad SMART algorithm', async () => {
    const auth = { ...valid.receivers[2]?.auth, alg: 'HS256' };
    expect(await problemsOf(withReceiver(2, { timeoutMs: 0, auth }))).toEqual([
      '/receivers/2/timeoutMs: must be at least 1 ms',
      '/receivers/2/auth/alg: must be "RS384" or "ES384" (SMART Backend Services)',
    ]);
  });

  it('names a value of the wrong type as such, not as missing', async () => {
    expect(await problemsOf(withReceiver(0, { timeoutMs: 'fast', id: 7 }))).toEqual(['/receivers/0/id: must be a non-empty id', '/receivers/0/timeoutMs: must be a whole number of milliseconds']);
  });

  it('names duplicate ids and an unknown mapping', async () => {
    const json = withReceiver(4, { mapping: 'no-such-system' }) as { receivers: Record<string, unknown>[] };
    json.receivers.push({ ...valid.receivers[0] });
    const problems = await problemsOf(json);
    expect(problems).toHaveLength(2);
    expect(problems).toContain('/receivers/6/id: "region-fhir" is already the id of /receivers/0');
    expect(problems.find((problem) => problem.startsWith('/receivers/4/mapping: no mapping "no-such-system" in '))).toBeDefined();
  });

  it('names a mapping receiver with both or neither of endpoint and folder', async () => {
    const both = await problemsOf(withReceiver(5, { endpoint: 'https://kommun.example/in' }));
    expect(both).toEqual(['/receivers/5: must have exactly one of "endpoint" (an HTTP URL to post to) and "folder" (a folder to drop files in)']);
    const neither = await problemsOf(withReceiver(4, { endpoint: undefined }));
    expect(neither).toEqual(['/receivers/4: must have exactly one of "endpoint" (an HTTP URL to post to) and "folder" (a folder to drop files in)']);
  });

  it('names a secret reference that cannot be resolved, without showing any secret', async () => {
    const problems = await problemsOf(valid, { CLIENT_SECRET: 'secret-from-env' });
    expect(problems).toEqual(['/receivers/0/auth/token/env: the environment variable FHIR_TOKEN is not set (or empty)']);
    const missingFile = { ...valid.receivers[2]?.auth, privateKey: { file: 'nowhere.pem' } };
    const [fileProblem] = await problemsOf(withReceiver(2, { auth: missingFile }));
    expect(fileProblem).toMatch(/^\/receivers\/2\/auth\/privateKey\/file: cannot read .*nowhere\.pem \(ENOENT\)$/);
    const badShape = { ...valid.receivers[0]?.auth, token: { vault: 'x' } };
    expect(await problemsOf(withReceiver(0, { auth: badShape }))).toEqual(['/receivers/0/auth/token: must be a non-empty string, { "env": "NAME" } or { "file": "path" }']);
  });

  it('names a private key that is not one: a public key, garbage, a key of the other algorithm', async () => {
    const smart = valid.receivers[2]?.auth ?? {};
    const problems = await problemsOf({
      receivers: [
        { ...valid.receivers[2], auth: { ...smart, privateKey: publicPem } },
        { ...valid.receivers[2], id: 'b', auth: { ...smart, privateKey: '-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----' } },
        { ...valid.receivers[2], id: 'c', auth: { ...smart, alg: 'RS384', privateKey: privateJwk } },
        { ...valid.receivers[2], id: 'd', auth: { ...smart, privateKey: JSON.stringify({ ...(JSON.parse(privateJwk) as object), d: undefined }) } },
      ],
    });
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/^\/receivers\/0\/auth\/privateKey: must be a JWK or a PKCS#8 PEM/);
    expect(problems[1]).toMatch(/^\/receivers\/1\/auth\/privateKey: cannot be read as a private key for RS384/);
    expect(problems[2]).toMatch(/^\/receivers\/2\/auth\/privateKey: cannot be read as a private key for RS384/);
    expect(problems[3]).toBe('/receivers/3/auth/privateKey: is a public JWK: the private key (with "d") is needed to sign');
    expect(problems.join('\n')).not.toContain(publicPem.split('\n')[1]);
    expect(problems.join('\n')).not.toContain('not base64');
  });

  it('refuses auth on a folder drop', async () => {
    expect(await problemsOf(withReceiver(5, { auth: { type: 'bearer', token: 'x' } }))).toEqual(['/receivers/5/auth: a folder drop has no authentication: must be { "type": "none" }']);
  });

  it('gives every problem of a file at once, with the file named, and a syntax error by line', async () => {
    const json = withReceiver(0, { base: 'x', organization: 'y' });
    const error = await parseReceivers(json, dir, { env: ENV }, 'receivers.json').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ReceiversConfigError);
    expect((error as ReceiversConfigError).message).toMatch(/^receivers\.json: 2 problems in the receivers configuration:\n {2}\/receivers\/0\/organization: .*\n {2}\/receivers\/0\/base: must be an https or http URL$/);
    const file = path.join(dir, 'broken.json');
    await writeFile(file, '{\n  "receivers": [\n    { "id": }\n  ]\n}\n');
    await expect(loadReceivers(file, { env: ENV })).rejects.toThrow(/line 3: ValueExpected/);
    await expect(loadReceivers(path.join(dir, 'absent.json'))).rejects.toThrow(/cannot read the file \(ENOENT\)/);
    expect(await problemsOf({ receiver: [] })).toEqual(['/receivers: is required', '/receiver: is not a setting here']);
  });
});
