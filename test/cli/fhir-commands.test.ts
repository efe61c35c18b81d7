/** `sip-fhir to-fhir` and `from-fhir`: output, exit status and error reporting, in process and as a real process. */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { fhirNormalForm } from '../../src/fhir/index.js';
import { readExample } from '../support/examples.js';

async function run(argv: string[]): Promise<{ status: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await main(argv, { out: (text) => out.push(text), err: (text) => err.push(text) });
  return { status, out: out.join('\n'), err: err.join('\n') };
}

const scratch = mkdtempSync(join(tmpdir(), 'sip-fhir-cli-'));

describe('sip-fhir to-fhir', () => {
  it('prints a transaction Bundle and exits 0', async () => {
    const result = await run(['to-fhir', 'examples/adult-psychiatry-addiction.json']);
    expect(result.status).toBe(0);
    const bundle = JSON.parse(result.out) as { resourceType: string; type: string; entry: unknown[] };
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.type).toBe('transaction');
    expect(bundle.entry.length).toBeGreaterThan(10);
  });

  it('adds configured CarePlan categories (a KVÅ code is configuration, never a constant)', async () => {
    const config = join(scratch, 'config.json');
    writeFileSync(config, JSON.stringify({ carePlanCategory: [{ system: 'http://example.se/kva', code: 'XX000' }] }));
    const result = await run(['to-fhir', '--config', config, 'examples/adult-psychiatry-addiction.json']);
    expect(result.status).toBe(0);
    expect(result.out).toContain('"code": "XX000"');
  });

  it('refuses a plan that breaks a rule, exit 1, naming the rule and where', async () => {
    const result = await run(['to-fhir', 'examples/invalid/consent.expired.json']);
    expect(result.status).toBe(1);
    expect(result.out).toBe('');
    expect(result.err).toContain('consent.expired at /consents/0/validUntil');
  });

  it('refuses malformed JSON with its line and column, exit 1', async () => {
    const file = join(scratch, 'broken.json');
    writeFileSync(file, '{\n  "id": "x",\n  oops\n}');
    const result = await run(['to-fhir', file]);
    expect(result.status).toBe(1);
    expect(result.err).toMatch(/line 3/);
  });

  it('reports a bad configuration file, exit 2', async () => {
    const config = join(scratch, 'bad-config.json');
    writeFileSync(config, JSON.stringify({ carePlanCategory: [{ code: 'x' }] }));
    const result = await run(['to-fhir', '--config', config, 'examples/adult-psychiatry-addiction.json']);
    expect(result.status).toBe(2);
    expect(result.err).toContain('/carePlanCategory/0/system');
  });

  it('exits 2 on usage errors and missing files', async () => {
    expect((await run(['to-fhir'])).status).toBe(2);
    expect((await run(['to-fhir', 'a.json', 'b.json'])).status).toBe(2);
    const missing = await run(['to-fhir', 'no/such/plan.json']);
    expect(missing.status).toBe(2);
    expect(missing.err).toContain('cannot read "no/such/plan.json"');
  });
});

describe('sip-fhir from-fhir', () => {
  it('reads back what to-fhir wrote: the plan in normal form, exit 0, nothing on stderr', async () => {
    const bundle = join(scratch, 'bundle.json');
    writeFileSync(bundle, (await run(['to-fhir', 'examples/child-two-guardians-school.json'])).out);
    const result = await run(['from-fhir', bundle]);
    expect(result.status).toBe(0);
    expect(result.err).toBe('');
    expect(JSON.parse(result.out)).toEqual(JSON.parse(JSON.stringify(fhirNormalForm(readExample('child-two-guardians-school.json')))));
  });

  it('reports what it cannot map on stderr with FHIRPath locations, and still reads the plan', async () => {
    const result = await run(['from-fhir', 'test/fixtures/fhir/ehr-transaction-relative-refs.json']);
    expect(result.status).toBe(0);
    expect(result.err).toMatch(/warning not-supported at Bundle\.entry\[\d+\]\.resource\.addresses/);
  });

  it('prints an OperationOutcome with --format json', async () => {
    const result = await run(['from-fhir', '--format', 'json', 'test/fixtures/fhir/ehr-transaction-relative-refs.json']);
    expect((JSON.parse(result.err) as { resourceType: string }).resourceType).toBe('OperationOutcome');
  });

  it('exits 1 when the Bundle holds no plan, saying why and where', async () => {
    const file = join(scratch, 'history.json');
    writeFileSync(file, JSON.stringify({ resourceType: 'Bundle', type: 'history', entry: [] }));
    const result = await run(['from-fhir', file]);
    expect(result.status).toBe(1);
    expect(result.out).toBe('');
    expect(result.err).toContain('error not-supported at Bundle.type');
  });

  it('exits 2 on usage errors', async () => {
    expect((await run(['from-fhir'])).status).toBe(2);
    expect((await run(['from-fhir', '--format', 'xml', 'x.json'])).status).toBe(2);
  });
});

describe('as a real process', () => {
  it('pipes to-fhir into from-fhir through files, with no stack trace on bad input', async () => {
    const exec = promisify(execFile);
    const cli = ['--import', 'tsx', 'src/cli/bin.ts'];
    const bundle = await exec('node', [...cli, 'to-fhir', 'examples/protected-identity.json']);
    const file = join(scratch, 'protected.json');
    writeFileSync(file, bundle.stdout);
    const back = await exec('node', [...cli, 'from-fhir', file]);
    expect((JSON.parse(back.stdout) as { individual: { protectedIdentity: string } }).individual.protectedIdentity).toBe('protectedRegistration');
    const failed = await exec('node', [...cli, 'from-fhir', 'package.json']).catch((error: unknown) => error as { code: number; stderr: string });
    expect('code' in failed ? failed.code : 0).toBe(1);
    expect('stderr' in failed ? failed.stderr : '').not.toMatch(/\n\s+at /);
  }, 30_000);
});
