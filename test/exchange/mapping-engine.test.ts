/**
 * The mapping engine on mappings written as data in the tests: a third system's XML mapping works
 * with no code of its own, and every kind of broken mapping or sample is refused with its place —
 * the mapping file, the rule path, and the source location (pointer or XML path, and line).
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkMappingFolder,
  compileMapping,
  formatIssue,
  loadMapping,
  MappingLoadError,
  translateInbound,
  translateOutbound,
  type Mapping,
  type MappingIssue,
  type OutboundResult,
} from '../../src/exchange/index.js';
import { readXml } from '../../src/exchange/mapping/xml.js';
import { fromIso, toIso } from '../../src/exchange/mapping/dates.js';
import { DEFAULT_MAPPING_OPTIONS, planToBundle } from '../../src/fhir/index.js';
import { checkPlan, type SipPlan } from '../../src/sip/index.js';
import { createValidator, hasErrors } from '../../src/validation/index.js';
import { scratchFolder } from '../support/scratch-folders.js';

/** The plan written back as it would be sent when its version was recorded (an outbound translation always names the moment it sends). */
function outboundWhenRecorded(mapping: Mapping, plan: SipPlan): OutboundResult {
  return translateOutbound(mapping, plan, { at: new Date(plan.updatedAt) });
}


const THIRD = 'test/fixtures/mappings/third-system';
const THIRD_SAMPLE = readFileSync(join(THIRD, 'samples/minimal.xml'), 'utf8');
const MODERN = JSON.parse(readFileSync('mappings/modern-case-api/mapping.json', 'utf8')) as Record<string, unknown>;
const MODERN_SAMPLE = readFileSync('mappings/modern-case-api/samples/elderly-home-help.json', 'utf8');

const lineOf = (text: string, needle: string): number => text.split('\n').findIndex((line) => line.includes(needle)) + 1;

async function compiled(json: unknown, file = 'broken/mapping.json'): Promise<{ mapping?: Mapping; issues: readonly MappingIssue[] }> {
  const result = await compileMapping(json, file);
  return result.ok ? { mapping: result.mapping, issues: [] } : { issues: result.issues };
}

/** The modern mapping with values set (or, for `undefined`, removed) at JSON pointers. */
function modernWith(...edits: readonly (readonly [string, unknown])[]): unknown {
  const copy = structuredClone(MODERN);
  for (const [pointer, value] of edits) {
    const path = pointer.split('/').slice(1);
    const last = path.pop() ?? '';
    let node = copy;
    for (const key of path) node = node[key] as Record<string, unknown>;
    if (value === undefined) Reflect.deleteProperty(node, last);
    else node[last] = value;
  }
  return copy;
}

describe('a third mapping, written as data only', () => {
  it('loads from its folder and turns its XML sample into a SIP that passes check and the SIP profiles', async () => {
    const mapping = await loadMapping(THIRD);
    const result = translateInbound(mapping, THIRD_SAMPLE);
    expect(result.issues.filter((issue) => issue.severity === 'error')).toEqual([]);
    const plan = result.plan;
    if (plan === undefined) throw new Error('no plan');
    expect(plan.updatedAt).toBe('2026-03-11T15:20:00+01:00');
    expect(plan.consents[0]?.form).toBe('oral');
    expect(plan.principals.map((principal) => [principal.id, principal.kind, principal.units.map((unit) => unit.name)])).toEqual([
      ['kommunen', 'municipality', ['Hemtjänst Ekholmen']],
      ['regionen', 'region', ['Vårdcentralen Ekholmen']],
    ]);
    expect(plan.interventions.map((intervention) => [intervention.id, intervention.status, intervention.start])).toEqual([
      ['i1', 'ongoing', '2026-03-01'],
      ['i2', 'planned', undefined],
    ]);
    expect(checkPlan(plan).filter((problem) => problem.severity === 'error')).toEqual([]);
    expect(hasErrors(createValidator().validate(planToBundle(plan, DEFAULT_MAPPING_OPTIONS, new Date('2026-04-01T10:00:00+02:00'))))).toBe(false);
  });

  it('writes the plan back as the same XML document (attributes, text, repeated elements, yyyyMMdd)', async () => {
    const mapping = await loadMapping(THIRD);
    const plan = translateInbound(mapping, THIRD_SAMPLE).plan;
    if (plan === undefined) throw new Error('no plan');
    const back = outboundWhenRecorded(mapping, plan);
    expect(back.issues).toEqual([]);
    expect(back.text).toBe(THIRD_SAMPLE);
  });

  it('passes mappings check', async () => {
    const result = await checkMappingFolder(THIRD);
    expect(result.issues).toEqual([]);
    expect(result.samples.map((sample) => [sample.ok, sample.issues])).toEqual([[true, []]]);
    expect(result.ok).toBe(true);
  });

  it('names the XML path and line of a value the mapping does not know, and of a date in the wrong format', async () => {
    const mapping = await loadMapping(THIRD);
    const bad = THIRD_SAMPLE.replace('status="P"', 'status="Q"').replace('<fran>20260301</fran>', '<fran>2026-03-01</fran>');
    const result = translateInbound(mapping, bad);
    expect(result.plan).toBeUndefined();
    expect(result.issues).toEqual([
      {
        severity: 'error',
        code: 'mapping.date-format',
        file: join(THIRD, 'mapping.json'),
        rule: 'inbound.interventions[].start',
        message: '"2026-03-01" does not match the date format "yyyyMMdd"',
        source: { xmlPath: 'sip/insats[1]/fran', pointer: '/sip/insats/0/fran', expression: 'fran', line: lineOf(bad, '<insats id="i1"') },
      },
      {
        severity: 'error',
        code: 'mapping.value-unknown',
        file: join(THIRD, 'mapping.json'),
        rule: 'inbound.interventions[].status',
        message: 'the code "Q" is not in the value map "status"',
        source: { xmlPath: 'sip/insats[2]/@_status', pointer: '/sip/insats/1/@_status', expression: '`@_status`', line: lineOf(bad, '<insats id="i2"') },
      },
    ]);
  });

  it('names the line of malformed XML', async () => {
    const mapping = await loadMapping(THIRD);
    const result = translateInbound(mapping, THIRD_SAMPLE.replace('</mal>\n  <insats id="i1"', '\n  <insats id="i1"'));
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]?.code).toBe('source.malformed');
    expect(result.issues[0]?.file).toBe(join(THIRD, 'mapping.json'));
    expect(result.issues[0]?.source?.line).toBeGreaterThan(1);
  });

  it('writes a plan value the reverse value map does not know as an error naming the rule and the plan pointer', async () => {
    const mapping = await loadMapping(THIRD);
    const plan = translateInbound(mapping, THIRD_SAMPLE).plan;
    if (plan === undefined) throw new Error('no plan');
    const other = { ...plan, consents: plan.consents.map((consent) => ({ ...consent, form: 'other' as const })) };
    const withUnknown = { ...other, principals: plan.principals };
    const mappingWithoutOther = await compiled(
      (() => {
        const json = JSON.parse(readFileSync(join(THIRD, 'mapping.json'), 'utf8')) as { valueMaps: { form: { entries: Record<string, string> } } };
        delete json.valueMaps.form.entries.A;
        return json;
      })(),
    );
    if (mappingWithoutOther.mapping === undefined) throw new Error('does not compile');
    const result = outboundWhenRecorded(mappingWithoutOther.mapping, withUnknown);
    expect(result.text).toBeUndefined();
    expect(result.issues).toEqual([
      {
        severity: 'error',
        code: 'mapping.value-unknown',
        file: 'broken/mapping.json',
        rule: 'outbound.sip.samtycke.@_form',
        message: 'the SIP value "other" is not in the value map "form"',
        source: { pointer: '', expression: 'consents.first().form' },
      },
    ]);
  });
});

describe('broken mappings are refused at load, every problem with file and rule path', () => {
  it('a FHIRPath expression that does not compile', async () => {
    const { issues } = await compiled(modernWith(['/inbound/individual/name/given', 'client.firstName.where(']));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ severity: 'error', code: 'mapping.expression', file: 'broken/mapping.json', rule: 'inbound.individual.name.given' });
    expect(issues[0]?.message).toContain('`client.firstName.where(` does not compile');
  });

  it('an unknown function and an undefined variable, found by the dry run at load', async () => {
    const { issues } = await compiled(
      modernWith(['/inbound/individual/name/family', 'client.lastName.shout()'], ['/outbound/client/firstName', '%patient.name']),
    );
    expect(issues.map((issue) => [issue.code, issue.rule])).toEqual([
      ['mapping.expression', 'inbound.individual.name.family'],
      ['mapping.expression', 'outbound.client.firstName'],
    ]);
    expect(issues[0]?.message).toContain('shout');
    expect(issues[1]?.message).toContain('patient');
  });

  it('schema violations: a misspelt rule keyword, a missing field, a wrong format, named by their path in the mapping', async () => {
    const { issues } = await compiled(
      modernWith(['/inbound/version', { $path: 'sipCase.revision', $type: 'integer' }], ['/format', undefined], ['/valueMaps/goalStatus/target', 'goal.state']),
    );
    expect(issues.map((issue) => [issue.code, issue.rule, issue.message])).toEqual([
      ['mapping.schema', '(mapping)', "must have required property 'format'"],
      ['mapping.schema', 'valueMaps.goalStatus.target', expect.stringContaining('must be equal to one of the allowed values')],
      ['mapping.schema', 'inbound.version', 'must NOT have additional properties ("$type")'],
    ]);
  });

  it('a $map or $date naming nothing, and a local time without a time zone', async () => {
    const { issues } = await compiled(
      modernWith(['/inbound/meetings/0/kind/$map', 'meetingKinds'], ['/inbound/updatedAt/$date', 'local'], ['/dates/localMinute', { pattern: 'yyyy-MM-dd HH:mm' }]),
    );
    expect(issues.map((issue) => [issue.code, issue.rule])).toEqual([
      ['mapping.date-without-zone', 'dates.localMinute'],
      ['mapping.unknown-date-format', 'inbound.updatedAt.$date'],
      ['mapping.unknown-value-map', 'inbound.meetings[0].kind.$map'],
    ]);
  });

  it('a value map whose reverse is ambiguous', async () => {
    const { issues } = await compiled(modernWith(['/valueMaps/goalStatus/entries/DONE', 'achieved']));
    expect(issues).toEqual([
      { severity: 'error', code: 'mapping.value-map-ambiguous', file: 'broken/mapping.json', rule: 'valueMaps.goalStatus', message: 'several codes map to "achieved"; say in "reverse" which one outbound writes' },
    ]);
  });

  it('loadMapping throws MappingLoadError with the issues, and names a folder that differs from the mapping', async () => {
    const folder = join(scratchFolder('sip-mapping-'), 'other-name');
    mkdirSync(folder);
    writeFileSync(join(folder, 'mapping.json'), JSON.stringify(MODERN));
    const error = await loadMapping(folder).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MappingLoadError);
    expect((error as MappingLoadError).issues).toEqual([
      { severity: 'error', code: 'mapping.name-mismatch', file: join(folder, 'mapping.json'), rule: 'name', message: 'the mapping is named "modern-case-api" but its folder "other-name"' },
    ]);
  });
});

describe('broken samples are refused with their place', () => {
  it('a source code no value map entry knows: never dropped, named with rule, pointer and line', async () => {
    const { mapping } = await compiled(MODERN, 'mappings/modern-case-api/mapping.json');
    if (mapping === undefined) throw new Error('does not compile');
    const sample = MODERN_SAMPLE.replace('"interventionCode": "KTV-SOL"', '"interventionCode": "KTV-XX"');
    const result = translateInbound(mapping, sample);
    expect(result.plan).toBeUndefined();
    expect(result.issues).toEqual([
      {
        severity: 'error',
        code: 'mapping.value-unknown',
        file: 'mappings/modern-case-api/mapping.json',
        rule: 'inbound.interventions[0][].description',
        message: 'the code "KTV-XX" is not in the value map "interventionType"',
        source: { pointer: '/decisions/1', line: lineOf(sample, '"decisionId": "B-2025-1187"') - 1 },
      },
    ]);
  });

  it('a field in the wrong format: a date, a number, a required field missing', async () => {
    const { mapping } = await compiled(MODERN, 'm.json');
    if (mapping === undefined) throw new Error('does not compile');
    const sample = MODERN_SAMPLE.replace('"lastModified": "2026-03-11 15:20"', '"lastModified": "11/3/2026 15:20"').replace('"revision": 2', '"revision": "två"');
    const result = translateInbound(mapping, sample);
    expect(result.issues.map((issue) => [issue.code, issue.rule, issue.source?.pointer, issue.source?.line, issue.message])).toEqual([
      ['mapping.value-type', 'inbound.version', '/sipCase/revision', lineOf(sample, '"revision"'), '"två" is not an integer'],
      ['mapping.date-format', 'inbound.updatedAt', '/sipCase/lastModified', lineOf(sample, '"lastModified"'), '"11/3/2026 15:20" does not match the date format "yyyy-MM-dd HH:mm"'],
    ]);
    const withoutProvider = MODERN_SAMPLE.replace('"provider": { "unitId": "lkp-korttid", ', '"provider": { ');
    const missing = translateInbound(mapping, withoutProvider);
    expect(missing.issues).toEqual([
      {
        severity: 'error',
        // responsible is a union ("individual" or an id): zod says no more than that.
        code: 'schema.invalid-value',
        message: 'Invalid input',
        file: 'm.json',
        planPointer: '/interventions/1/responsible',
        rule: 'inbound.interventions[0][].responsible',
        source: { pointer: '/decisions/1', line: lineOf(withoutProvider, '"decisionId": "B-2025-1187"') - 1 },
      },
    ]);
  });

  it('an expression that yields several values where the SIP holds one', async () => {
    const { mapping } = await compiled(modernWith(['/inbound/notes', 'goals.text']), 'm.json');
    if (mapping === undefined) throw new Error('does not compile');
    const result = translateInbound(mapping, MODERN_SAMPLE);
    expect(result.issues).toEqual([
      { severity: 'error', code: 'mapping.cardinality', file: 'm.json', rule: 'inbound.notes', message: '`goals.text` yields 2 values where the target holds one (use $each for a list)', source: { pointer: '', expression: 'goals.text', line: 1 } },
    ]);
  });

  it('malformed JSON is one problem with its line', async () => {
    const { mapping } = await compiled(MODERN, 'm.json');
    if (mapping === undefined) throw new Error('does not compile');
    const result = translateInbound(mapping, '{\n  "sipCase": {\n}');
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]?.code).toBe('source.malformed');
    expect(result.issues[0]?.message).toMatch(/line 3/);
  });

  it('mappings check names a value map that misses a code the SIP needs, and a sample that fails', async () => {
    const folder = join(scratchFolder('sip-mapping-'), 'modern-case-api');
    mkdirSync(join(folder, 'samples'), { recursive: true });
    writeFileSync(join(folder, 'mapping.json'), JSON.stringify(modernWith(['/valueMaps/goalStatus/entries/CANCELLED', undefined])));
    writeFileSync(join(folder, 'samples', 'bad-date.json'), MODERN_SAMPLE.replace('"validTo": "2026-08-31"', '"validTo": "2026-8-31"'));
    const result = await checkMappingFolder(folder);
    expect(result.ok).toBe(false);
    expect(result.issues.map(formatIssue)).toEqual([
      `error mapping.value-map-incomplete at ${join(folder, 'mapping.json')}, rule valueMaps.goalStatus: no source code for "cancelled" of goal.status: a plan holding it cannot be written`,
    ]);
    expect(result.samples[0]?.issues.map((issue) => [issue.code, issue.rule, issue.source?.pointer])).toEqual([
      // Both the intervention's end and its decision's validity are read from validTo.
      ['mapping.value-type', 'inbound.interventions[0][].end', '/decisions/0/validTo'],
      ['mapping.value-type', 'inbound.interventions[0][].decision.validTo', '/decisions/0/validTo'],
    ]);
  });
});

describe('dates are converted explicitly', () => {
  it('yyyyMMdd, a local minute in Stockholm across the DST change, and ISO 8601 as it is', () => {
    expect(toIso('20261024', { pattern: 'yyyyMMdd' })).toEqual({ ok: true, value: '2026-10-24' });
    expect(toIso('2026-10-24 12:00', { pattern: 'yyyy-MM-dd HH:mm', timeZone: 'Europe/Stockholm' })).toEqual({ ok: true, value: '2026-10-24T12:00:00+02:00' });
    expect(toIso('2026-10-26 12:00', { pattern: 'yyyy-MM-dd HH:mm', timeZone: 'Europe/Stockholm' })).toEqual({ ok: true, value: '2026-10-26T12:00:00+01:00' });
    expect(toIso('2026-02-30', 'iso')).toEqual({ ok: false, message: '"2026-02-30" is not an ISO 8601 date or date-time' });
    expect(fromIso('2026-10-26T11:00:00Z', { pattern: 'yyyy-MM-dd HH:mm', timeZone: 'Europe/Stockholm' })).toEqual({ ok: true, value: '2026-10-26 12:00' });
    expect(fromIso('2026-03-01', { pattern: 'yyyyMMdd' })).toEqual({ ok: true, value: '20260301' });
    expect(fromIso('2026-03-01', { pattern: 'yyyyMMddHHmm', timeZone: 'Europe/Stockholm' })).toEqual({ ok: false, message: 'the date "2026-03-01" has no time for the format "yyyyMMddHHmm"' });
  });
});

describe('the XML convention', () => {
  it('refuses a DOCTYPE (entity expansion) with its line', () => {
    const bomb = '<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY x "xxxxxxxx"><!ENTITY y "&x;&x;&x;&x;">]>\n<a>&y;</a>';
    expect(readXml(bomb, [])).toEqual({ ok: false, message: 'XML with a DOCTYPE is refused: an export needs none, and its entities could expand without bound', line: 2 });
  });

  it('attributes as @_, text as #text beside attributes, values as strings, listed elements always arrays', () => {
    const read = readXml('<a n="1"><b>2</b><c k="x">text</c><d>one</d></a>', ['a.d']);
    expect(read.ok && (JSON.parse(JSON.stringify(read.value)) as unknown)).toEqual({ a: { '@_n': '1', b: '2', c: { '@_k': 'x', '#text': 'text' }, d: ['one'] } });
  });
});
