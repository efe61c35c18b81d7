/** `sip-fhir translate` and `sip-fhir mappings`: output, exit status and where problems are named. */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { parsePlan } from '../../src/sip/index.js';
import { scratchFolder } from '../support/scratch-folders.js';

async function run(argv: string[]): Promise<{ status: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await main(argv, { out: (text) => out.push(text), err: (text) => err.push(text) });
  return { status, out: out.join('\n'), err: err.join('\n') };
}

const scratch = scratchFolder('sip-fhir-translate-');
const SAMPLE = 'mappings/modern-case-api/samples/elderly-home-help.json';
/** A fixed moment of sending, inside every sample's consent period. */
const SENT = ['--at', '2026-04-15T09:00:00+02:00'];

describe('sip-fhir translate', () => {
  it('municipal → FHIR: a Bundle on stdout, what the SIP cannot carry on stderr, exit 0', async () => {
    const result = await run(['translate', '--from', 'modern-case-api', '--to', 'fhir', ...SENT, SAMPLE]);
    expect(result.status).toBe(0);
    const bundle = JSON.parse(result.out) as { resourceType: string; type: string; timestamp: string };
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.type).toBe('transaction');
    expect(new Date(bundle.timestamp).toISOString()).toBe('2026-04-15T07:00:00.000Z');
    expect(result.err).toContain('1 value at /exportedAt not carried into the SIP');
  });

  it('municipal → SIP gives the plan written by hand', async () => {
    const result = await run(['translate', '--from', 'modern-case-api', '--to', 'sip', SAMPLE]);
    expect(result.status).toBe(0);
    const expected = parsePlan(JSON.parse(readFileSync('test/fixtures/mappings/modern-case-api/elderly-home-help.sip.json', 'utf8')) as unknown);
    expect(expected.ok && expected.plan).toEqual(JSON.parse(result.out));
  });

  it('FHIR → municipal: the Bundle back in the system\'s own format', async () => {
    const bundle = join(scratch, 'bundle.json');
    writeFileSync(bundle, (await run(['translate', '--from', 'modern-case-api', '--to', 'fhir', ...SENT, SAMPLE])).out);
    const result = await run(['translate', '--from', 'fhir', '--to', 'modern-case-api', ...SENT, bundle]);
    expect(result.err).toBe('');
    expect(result.status).toBe(0);
    const document = JSON.parse(result.out) as { sipCase: { caseNumber: string; lastModified: string }; decisions: { interventionCode: string }[] };
    expect(document.sipCase).toMatchObject({ caseNumber: 'SIP-2026-0142', lastModified: '2026-03-11 15:20' });
    expect(document.decisions.map((decision) => decision.interventionCode)).toEqual(['HTJ', 'KTV-SOL']);
  });

  it('a rule warning found on the way in and again when sending is said once', async () => {
    const file = join(scratch, 'no-place.json');
    writeFileSync(file, readFileSync(SAMPLE, 'utf8').replace('"location": "Hemma hos Gunnar, Ekholmsvägen 22, Linköping",', ''));
    const result = await run(['translate', '--from', 'modern-case-api', '--to', 'fhir', ...SENT, file]);
    expect(result.status).toBe(0);
    expect(result.err.match(/warning summons\.incomplete/g)).toHaveLength(1);
    expect(result.err).toContain('warning summons.incomplete at mappings/modern-case-api/mapping.json, rule inbound.meetings[0].summons, plan /meetings/0/summons');
  });

  it('a folder needs --out, and then gets one file per input', async () => {
    const folder = 'mappings/modern-case-api/samples';
    const refused = await run(['translate', '--from', 'modern-case-api', '--to', 'fhir', ...SENT, folder]);
    expect(refused.status).toBe(2);
    expect(refused.err).toContain('--out');
    const out = join(scratch, 'bundles');
    const result = await run(['translate', '--from', 'modern-case-api', '--to', 'fhir', ...SENT, '--out', out, folder]);
    expect(result.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(readdirSync(folder).sort());
  });

  it('judges consent at the moment of sending: refused after it expired, exit 1, naming the rule, the mapping rule and the source line', async () => {
    const result = await run(['translate', '--from', 'modern-case-api', '--to', 'fhir', '--at', '2027-03-01T09:00:00+01:00', SAMPLE]);
    expect(result.status).toBe(1);
    expect(result.out).toBe('');
    expect(result.err).toContain('error consent.expired at plan /consents/0/validUntil');
    const inbound = await run(['translate', '--from', 'modern-case-api', '--to', 'modern-case-api', '--at', '2027-03-01T09:00:00+01:00', SAMPLE]);
    expect(inbound.status).toBe(1);
  });

  it('a source code the mapping does not know is an error with its rule and line, exit 1', async () => {
    const file = join(scratch, 'unknown-code.json');
    const text = readFileSync(SAMPLE, 'utf8').replace('"answer": "DECLINED"', '"answer": "MAYBE"');
    writeFileSync(file, text);
    const line = text.split('\n').findIndex((row) => row.includes('"MAYBE"')) + 1;
    const result = await run(['translate', '--from', 'modern-case-api', '--to', 'sip', file]);
    expect(result.status).toBe(1);
    expect(result.err).toContain(`rule inbound.meetings[0].summons.invitees[].response, source /sipMeeting/invitees/4/answer \`answer\` line ${String(line)}: the code "MAYBE" is not in the value map "answer"`);
  });

  it('a plan whose municipal interventions name no known intervention type cannot be written, exit 1, naming rule and plan place', async () => {
    const result = await run(['translate', '--from', 'sip', '--to', 'modern-case-api', ...SENT, 'examples/awaiting-decision.json']);
    expect(result.status).toBe(1);
    expect(result.err).toContain('error mapping.value-unknown');
    // int-5 of the example reads "Hemtjänst morgon och kväll: …", a type the value map does not know.
    expect(result.err).toContain('rule outbound.decisions[].interventionCode, source /interventions/4');
    expect(result.err).toContain('the SIP value "Hemtjänst morgon och kväll" is not in the value map "interventionType"');
  });

  it('an XML system: the third fixture mapping, to FHIR and back to the same XML text', async () => {
    const sample = 'test/fixtures/mappings/third-system/samples/minimal.xml';
    const bundle = join(scratch, 'third.json');
    const toFhir = await run(['translate', '--mappings', 'test/fixtures/mappings', '--from', 'third-system', '--to', 'fhir', ...SENT, sample]);
    expect(toFhir.status).toBe(0);
    writeFileSync(bundle, toFhir.out);
    const back = await run(['translate', '--mappings', 'test/fixtures/mappings', '--from', 'fhir', '--to', 'third-system', ...SENT, bundle]);
    expect(back.status).toBe(0);
    expect(`${back.out}\n`).toBe(readFileSync(sample, 'utf8'));
    // FHIR adds the birth date (from the personnummer) that this format has no place for: said, not dropped.
    expect(back.err).toContain('warning mapping.not-carried at test/fixtures/mappings/third-system/mapping.json, plan /individual/birthDate');
  });

  it('a mapping without an outbound template cannot be translated to, exit 2', async () => {
    const dir = join(scratch, 'inbound-only');
    mkdirSync(join(dir, 'reader'), { recursive: true });
    writeFileSync(join(dir, 'reader', 'mapping.json'), JSON.stringify({ name: 'reader', format: 'json', inbound: { id: 'caseNumber' } }));
    const result = await run(['translate', '--mappings', dir, '--from', 'sip', '--to', 'reader', 'examples/awaiting-decision.json']);
    expect(result.status).toBe(2);
    expect(result.err).toContain('the mapping "reader" has no outbound template');
  });

  it('an unknown format or a broken mapping is exit 2, the broken mapping\'s problems named', async () => {
    const unknown = await run(['translate', '--from', 'no-such-system', '--to', 'sip', SAMPLE]);
    expect(unknown.status).toBe(2);
    expect(unknown.err).toContain('mapping "no-such-system" cannot be used');
    const dir = join(scratch, 'mappings');
    mkdirSync(join(dir, 'broken'), { recursive: true });
    writeFileSync(join(dir, 'broken', 'mapping.json'), JSON.stringify({ name: 'broken', format: 'json', inbound: { id: 'caseNumber.where(' } }));
    const broken = await run(['translate', '--mappings', dir, '--from', 'broken', '--to', 'sip', SAMPLE]);
    expect(broken.status).toBe(2);
    expect(broken.err).toContain('error mapping.expression at');
    expect(broken.err).toContain('rule inbound.id: `caseNumber.where(` does not compile');
    const usage = await run(['translate', '--to', 'sip', SAMPLE]);
    expect(usage.status).toBe(2);
  });
});

describe('sip-fhir mappings', () => {
  it('list names each mapping with its format, directions and samples', async () => {
    const result = await run(['mappings', 'list']);
    expect(result.status).toBe(0);
    expect(result.out).toMatch(/^modern-case-api +json +in, out +3 samples +Modern case system/m);
    const fixtures = await run(['mappings', 'list', '--mappings', 'test/fixtures/mappings']);
    expect(fixtures.out).toMatch(/^third-system +xml +in, out +1 sample +Test fixture/m);
  });

  it('check passes a working mapping with its samples, exit 0', async () => {
    const result = await run(['mappings', 'check', 'mappings/modern-case-api', 'test/fixtures/mappings/third-system']);
    expect(result.status).toBe(0);
    expect(result.out).toContain('mappings/modern-case-api: passes');
    expect(result.out).toContain('sample lss-contact-person.json: translates');
    expect(result.out).toContain('test/fixtures/mappings/third-system: passes');
  });

  it('check fails a mapping with a value map that misses a SIP code, exit 1; a folder without a mapping is exit 2', async () => {
    const folder = join(scratch, 'incomplete', 'third-system');
    mkdirSync(join(folder, 'samples'), { recursive: true });
    const mapping = JSON.parse(readFileSync('test/fixtures/mappings/third-system/mapping.json', 'utf8')) as { valueMaps: { status: { entries: Record<string, string> } } };
    delete mapping.valueMaps.status.entries.X;
    writeFileSync(join(folder, 'mapping.json'), JSON.stringify(mapping));
    const result = await run(['mappings', 'check', folder]);
    expect(result.status).toBe(1);
    expect(result.err).toContain('error mapping.value-map-incomplete');
    expect(result.err).toContain('rule valueMaps.status: no source code for "cancelled" of intervention.status');
    const missing = await run(['mappings', 'check', join(scratch, 'nothing-here')]);
    expect(missing.status).toBe(2);
    expect(missing.err).toContain('mapping.unreadable');
  });
});
