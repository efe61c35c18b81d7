/** `sip-fhir to-fhir` and `from-fhir`: output, exit status and error reporting, in process and as a real process. */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { fhirNormalForm } from '../../src/fhir/index.js';
import { readExample } from '../support/examples.js';
import { scratchFolder } from '../support/scratch-folders.js';

async function run(argv: string[]): Promise<{ status: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await main(argv, { out: (text) => out.push(text), err: (text) => err.push(text) });
  return { status, out: out.join('\n'), err: err.join('\n') };
}

const scratch = scratchFolder('sip-fhir-cli-');

/** A fixed moment of sending, while every example's consent is in force: the suite passes on any day. */
const SENT = ['--at', '2026-05-01T12:00:00+02:00'];

describe('sip-fhir to-fhir', () => {
  it('prints a transaction Bundle and exits 0', async () => {
    const result = await run(['to-fhir', ...SENT, 'examples/adult-psychiatry-addiction.json']);
    expect(result.status).toBe(0);
    const bundle = JSON.parse(result.out) as { resourceType: string; type: string; entry: unknown[] };
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.type).toBe('transaction');
    expect(bundle.entry.length).toBeGreaterThan(10);
  });

  it('adds configured CarePlan categories (a KVÅ code is configuration, never a constant)', async () => {
    const config = join(scratch, 'config.json');
    writeFileSync(config, JSON.stringify({ carePlanCategory: [{ system: 'http://example.se/kva', code: 'XX000' }] }));
    const result = await run(['to-fhir', ...SENT, '--config', config, 'examples/adult-psychiatry-addiction.json']);
    expect(result.status).toBe(0);
    expect(result.out).toContain('"code": "XX000"');
  });

  it('refuses a plan that breaks a rule, exit 1, naming the rule and where', async () => {
    const result = await run(['to-fhir', ...SENT, 'examples/invalid/plan.unresolved-reference.json']);
    expect(result.status).toBe(1);
    expect(result.out).toBe('');
    expect(result.err).toContain('plan.unresolved-reference at /overallResponsiblePrincipal');
  });

  it('judges the consent when the plan is sent: refused after the consent expired, mapped the day before', async () => {
    const expired = await run(['to-fhir', '--at', '2027-02-12T08:00:00+01:00', 'examples/adult-psychiatry-addiction.json']);
    expect(expired.status).toBe(1);
    expect(expired.out).toBe('');
    expect(expired.err).toContain('consent.expired at /consents/0/validUntil');
    expect(expired.err).toContain('nothing of the plan may be sent on 2027-02-12');
    const lastDay = await run(['to-fhir', '--at', '2027-02-11T23:30:00+01:00', 'examples/adult-psychiatry-addiction.json']);
    expect(lastDay.status).toBe(0);
    expect(lastDay.out).toContain('"resourceType": "Bundle"');
  });

  it('refuses to send a plan whose consent was withdrawn, closed or not, and one with no consent', async () => {
    const withdrawn = await run(['to-fhir', ...SENT, 'examples/closed-consent-withdrawn.json']);
    expect(withdrawn.status).toBe(1);
    expect(withdrawn.err).toContain('consent.withdrawn at /consents/0/withdrawal');
    const missing = await run(['to-fhir', ...SENT, 'examples/invalid/consent.missing.json']);
    expect(missing.status).toBe(1);
    expect(missing.err).toContain('consent.missing at /consents');
  });

  it('sends a plan with a fact of the past, printing the warning and its deviation advice', async () => {
    const result = await run(['to-fhir', ...SENT, 'examples/warnings/summons.declined-without-substitute.json']);
    expect(result.status).toBe(0);
    expect(result.err).toContain('warning summons.declined-without-substitute');
    expect(result.err).toContain('deviation (avvikelse)');
  });

  it('refuses a plan recorded with an expired consent when it is sent after the expiry too', async () => {
    const result = await run(['to-fhir', '--at', '2027-02-13T09:00:00+01:00', 'examples/invalid/consent.expired.json']);
    expect(result.status).toBe(1);
    expect(result.out).toBe('');
    expect(result.err).toContain('consent.expired at /consents/0/validUntil');
  });

  it('refuses malformed JSON with its line and column, exit 1', async () => {
    const file = join(scratch, 'broken.json');
    writeFileSync(file, '{\n  "id": "x",\n  oops\n}');
    const result = await run(['to-fhir', ...SENT, file]);
    expect(result.status).toBe(1);
    expect(result.err).toMatch(/line 3/);
  });

  it('reports a bad configuration file, exit 2', async () => {
    const config = join(scratch, 'bad-config.json');
    writeFileSync(config, JSON.stringify({ carePlanCategory: [{ code: 'x' }] }));
    const result = await run(['to-fhir', ...SENT, '--config', config, 'examples/adult-psychiatry-addiction.json']);
    expect(result.status).toBe(2);
    expect(result.err).toContain('/carePlanCategory/0/system');
  });

  it('exits 2 on usage errors and missing files', async () => {
    expect((await run(['to-fhir'])).status).toBe(2);
    expect((await run(['to-fhir', 'a.json', 'b.json'])).status).toBe(2);
    expect((await run(['to-fhir', '--at', 'yesterday', 'examples/adult-psychiatry-addiction.json'])).status).toBe(2);
    const missing = await run(['to-fhir', 'no/such/plan.json']);
    expect(missing.status).toBe(2);
    expect(missing.err).toContain('cannot read "no/such/plan.json"');
  });
});

describe('sip-fhir from-fhir', () => {
  it('reads back what to-fhir wrote: the plan in normal form, exit 0, nothing on stderr', async () => {
    const bundle = join(scratch, 'bundle.json');
    writeFileSync(bundle, (await run(['to-fhir', ...SENT, 'examples/child-two-guardians-school.json'])).out);
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

  describe('applies the SIP rules to the plan it read, each problem an issue with its rule code', () => {
    interface Entry {
      resource: { resourceType: string; provision?: { period?: { end?: string }; actor?: { reference: { reference?: string } }[] } };
    }
    /** The adult example sent at SENT, as a Bundle changed by `edit`, written to a file. */
    async function bundleFile(name: string, edit: (bundle: { timestamp?: string; entry: Entry[] }) => void): Promise<string> {
      const bundle = JSON.parse((await run(['to-fhir', ...SENT, 'examples/adult-psychiatry-addiction.json'])).out) as { timestamp?: string; entry: Entry[] };
      edit(bundle);
      const file = join(scratch, name);
      writeFileSync(file, JSON.stringify(bundle));
      return file;
    }
    const consentOf = (bundle: { entry: Entry[] }): Entry['resource'] => {
      const consent = bundle.entry.find((entry) => entry.resource.resourceType === 'Consent')?.resource;
      if (consent === undefined) throw new Error('the Bundle has no Consent');
      return consent;
    };

    it('a Bundle without its Consent: exit 1, consent.missing', async () => {
      const file = await bundleFile('no-consent.json', (bundle) => {
        bundle.entry = bundle.entry.filter((entry) => entry.resource.resourceType !== 'Consent');
      });
      const result = await run(['from-fhir', '--format', 'json', file]);
      expect(result.status).toBe(1);
      expect(result.out).toBe('');
      const outcome = JSON.parse(result.err) as { issue: { severity: string; details?: { coding?: { code: string }[] } }[] };
      const errors = outcome.issue.filter((issue) => issue.severity === 'error').map((issue) => issue.details?.coding?.[0]?.code);
      expect(errors).toEqual(['consent.missing']);      // The SIP Bundle profile says the same to any validator that loads it.
      const validated = await run(['validate', file]);
      expect(validated.status).toBe(1);
      expect(validated.err + validated.out).toContain('sip-bdl-6');
    });

    it('a Consent that had expired when the version was recorded: exit 1, consent.expired', async () => {
      const file = await bundleFile('expired-consent.json', (bundle) => {
        const period = consentOf(bundle).provision?.period;
        if (period) period.end = '2026-03-01';
      });
      const result = await run(['from-fhir', file]);
      expect(result.status).toBe(1);
      expect(result.err).toContain('error consent.expired at /consents/0/validUntil');      const validated = await run(['validate', file]);
      expect(validated.status).toBe(1);
      expect(validated.err + validated.out).toContain('sip-bdl-7');
    });

    it('a Consent in force when recorded but expired when the Bundle was sent (its timestamp): exit 1, consent.expired', async () => {
      const file = await bundleFile('sent-after-expiry.json', (bundle) => {
        bundle.timestamp = '2027-03-01T10:00:00+01:00';
      });
      const result = await run(['from-fhir', file]);
      expect(result.status).toBe(1);
      expect(result.err).toContain('error consent.expired at /consents/0/validUntil');
      // The same Bundle judged at an instant of the reader's choosing: the consent is in force then.
      expect((await run(['from-fhir', '--at', '2026-04-01T12:00:00+02:00', file])).status).toBe(0);
    });

    it("a Consent that covers only the municipality's part: exit 1, consent.principal-not-covered", async () => {
      const file = await bundleFile('one-principal-consent.json', (bundle) => {
        const consent = consentOf(bundle);
        const region = bundle.entry.find(
          (entry) => entry.resource.resourceType === 'Organization' && JSON.stringify(entry.resource).includes('"Region Dalarna"'),
        ) as { fullUrl?: string } | undefined;
        if (consent.provision) consent.provision.actor = consent.provision.actor?.filter((actor) => actor.reference.reference !== region?.fullUrl);
      });
      const result = await run(['from-fhir', file]);
      expect(result.status).toBe(1);
      expect(result.err).toContain('error consent.principal-not-covered at /consents/0/coveredActors');      const validated = await run(['validate', file]);
      expect(validated.status).toBe(1);
      expect(validated.err + validated.out).toContain('sip-bdl-8');
    });
  });

  it('exits 2 on usage errors', async () => {
    expect((await run(['from-fhir'])).status).toBe(2);
    expect((await run(['from-fhir', '--at', 'soon', 'x.json'])).status).toBe(2);
    expect((await run(['from-fhir', '--format', 'xml', 'x.json'])).status).toBe(2);
  });
});

describe('as a real process', () => {
  it('pipes to-fhir into from-fhir through files, with no stack trace on bad input', async () => {
    const exec = promisify(execFile);
    const cli = ['--import', 'tsx', 'src/cli/bin.ts'];
    const bundle = await exec('node', [...cli, 'to-fhir', ...SENT, 'examples/protected-identity.json']);
    const file = join(scratch, 'protected.json');
    writeFileSync(file, bundle.stdout);
    const back = await exec('node', [...cli, 'from-fhir', file]);
    expect((JSON.parse(back.stdout) as { individual: { protectedIdentity: string } }).individual.protectedIdentity).toBe('protectedRegistration');
    const failed = await exec('node', [...cli, 'from-fhir', 'package.json']).catch((error: unknown) => error as { code: number; stderr: string });
    expect('code' in failed ? failed.code : 0).toBe(1);
    expect('stderr' in failed ? failed.stderr : '').not.toMatch(/\n\s+at /);
  }, 30_000);
});
