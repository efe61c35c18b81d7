/**
 * `sip-fhir validate` with the real validator's verdicts, written against the contract in
 * `src/validation/api.ts`; kept apart from validate-command.test.ts, which tests plumbing only.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ValidateResult } from '../../src/cli/validate-command.js';
import { main } from '../../src/cli/main.js';
import { planToBundle } from '../../src/fhir/index.js';
import { readExample } from '../support/examples.js';
import { scratchFolder } from '../support/scratch-folders.js';

async function run(...argv: string[]): Promise<{ status: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await main(argv, { out: (text) => out.push(text), err: (text) => err.push(text) });
  return { status, out: out.join('\n'), err: err.join('\n') };
}

const dir = scratchFolder('sip-validate-verdicts-');

function write(name: string, content: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

describe('sip-fhir validate verdicts (need the real validator)', () => {
  it('fails an impossible birth date with invalid-value at Patient.birthDate, exit 1', async () => {
    const file = write('bad-birth-date.json', { resourceType: 'Patient', birthDate: '2020-13-45' });
    const { status, out } = await run('validate', file);
    expect(status).toBe(1);
    expect(out).toMatch(/^ {2}error invalid-value at Patient\.birthDate: /m);
  });

  it('fails a code outside a required binding, naming the binding rule and the element', async () => {
    const file = write('bad-status.json', {
      resourceType: 'CarePlan',
      status: 'bogus',
      intent: 'plan',
      subject: { reference: 'Patient/p1' },
      text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Plan</div>' },
    });
    const { status, out } = await run('validate', '--format', 'json', file);
    expect(status).toBe(1);
    const [result] = JSON.parse(out) as ValidateResult[];
    expect(result?.valid).toBe(false);
    expect(result?.outcome.issue).toContainEqual(
      expect.objectContaining({ severity: 'error', expression: ['CarePlan.status'], details: expect.objectContaining({ coding: [expect.objectContaining({ code: 'binding-required' })] }) as unknown }),
    );
  });

  it('judges each .ndjson line on its own: line 2 is missing CarePlan.subject (min-cardinality)', async () => {
    const good = { resourceType: 'Patient', id: 'p1', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">P</div>' } };
    const noSubject = { resourceType: 'CarePlan', status: 'active', intent: 'plan' };
    const file = write('mixed.ndjson', `${JSON.stringify(good)}\n${JSON.stringify(noSubject)}\n`);
    const { status, out } = await run('validate', file);
    expect(status).toBe(1);
    expect(out).toMatch(new RegExp(`${file}:1: ok`));
    expect(out).toContain(`${file}:2: FAILED`);
    expect(out).toMatch(/error min-cardinality at CarePlan\.subject/);
  });

  it('passes every SIP Bundle that to-fhir writes from the examples, exit 0', async () => {
    const files = ['adult-psychiatry-addiction.json', 'child-two-guardians-school.json', 'protected-identity.json'].map((example) =>
      write(`bundle-${example}`, planToBundle(readExample(example))),
    );
    const { status, out } = await run('validate', ...files);
    expect(out).toMatch(/^3 resources: 3 valid, 0 invalid; 0 errors/m);
    expect(status).toBe(0);
  });

  it('reports a dangling urn:uuid reference inside a transaction Bundle at its entry', async () => {
    const bundle = planToBundle(readExample('adult-psychiatry-addiction.json'));
    const carePlanIndex = bundle.entry?.findIndex((entry) => entry.resource?.resourceType === 'CarePlan') ?? -1;
    const carePlan = bundle.entry?.[carePlanIndex]?.resource;
    if (carePlan?.resourceType !== 'CarePlan') throw new Error('the example Bundle has no CarePlan');
    carePlan.subject = { reference: 'urn:uuid:00000000-0000-4000-8000-000000000000' };
    const { status, out } = await run('validate', write('dangling.json', bundle));
    expect(status).toBe(1);
    expect(out).toContain(`error dangling-reference at Bundle.entry[${String(carePlanIndex)}].resource.subject`);
  });
});
