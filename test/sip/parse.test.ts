import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePlan, parsePlanText } from '../../src/sip/index.js';

const example = readFileSync(new URL('../../examples/adult-psychiatry-addiction.json', import.meta.url), 'utf8');
const plan = (): Record<string, unknown> => JSON.parse(example) as Record<string, unknown>;

describe('the SIP boundary', () => {
  it('reads a valid plan and fills in defaults', () => {
    const result = parsePlanText(example);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.plan.individual.protectedIdentity).toBe('none');
      expect(result.plan.deviations).toEqual([]);
    }
  });

  it('names the line and column of malformed JSON', () => {
    const result = parsePlanText('{\n  "id": "x",\n  "version": 1,,\n}');
    expect(result).toEqual({
      ok: false,
      problems: [expect.objectContaining({ code: 'json.malformed', pointer: '', message: expect.stringMatching(/line 3, column 16/) as unknown })],
    });
  });

  it('names the pointer of a wrong type', () => {
    const result = parsePlan({ ...plan(), version: '3' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toEqual([{ code: 'schema.wrong-type', severity: 'error', pointer: '/version', message: 'Expected number, got string "3"' }]);
  });

  it('wants a summons to state its agenda (seed 001 §4.4)', () => {
    const input = plan() as { meetings: { summons: { agenda: string } }[] };
    const summons = input.meetings[0]?.summons;
    if (summons === undefined) throw new Error('the example has no summons');
    summons.agenda = '   ';
    const result = parsePlan(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((problem) => [problem.pointer, problem.message])).toEqual([['/meetings/0/summons/agenda', expect.stringContaining('agenda') as unknown]]);
  });

  it('names each unknown field, however deep', () => {
    const input = plan();
    (input.individual as Record<string, unknown>).shoeSize = 43;
    input.colour = 'blue';
    const result = parsePlan(input);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems.map((problem) => [problem.code, problem.pointer])).toEqual(
        expect.arrayContaining([
          ['schema.unknown-field', '/individual/shoeSize'],
          ['schema.unknown-field', '/colour'],
        ]),
      );
    }
  });

  it('names a missing required field and a bad value inside arrays', () => {
    const input = plan();
    delete input.updatedAt;
    ((input.consents as Record<string, unknown>[])[0] as Record<string, unknown>).givenAt = '12/02/2026';
    const result = parsePlan(input);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ code: 'schema.missing-field', pointer: '/updatedAt' }),
          expect.objectContaining({ code: 'schema.invalid-value', pointer: '/consents/0/givenAt', message: 'must be a date written YYYY-MM-DD' }),
        ]),
      );
    }
  });

  it('escapes pointer segments per RFC 6901', () => {
    const result = parsePlan({ ...plan(), 'a/b~c': 1 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]?.pointer).toBe('/a~1b~0c');
  });

  it('refuses a document that is not an object', () => {
    const result = parsePlan([1, 2]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]).toMatchObject({ code: 'schema.wrong-type', pointer: '' });
  });
});
