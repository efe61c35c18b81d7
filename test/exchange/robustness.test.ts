/**
 * Whatever a source document holds, translating it never throws: a value of any JSON type at any
 * place of a sample gives either a plan that the SIP model accepts, or problems that each name a
 * place (fast-check).
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMapping, translateInbound, type Mapping } from '../../src/exchange/index.js';
import { parsePlan } from '../../src/sip/index.js';

const SAMPLE = JSON.parse(readFileSync('mappings/modern-case-api/samples/lss-contact-person.json', 'utf8')) as unknown;

/** Every JSON pointer of a document, objects and arrays included. */
function pointers(value: unknown, pointer = ''): string[] {
  if (typeof value !== 'object' || value === null) return [pointer];
  const children = Array.isArray(value) ? value.map((item, index) => [String(index), item] as const) : Object.entries(value);
  return [pointer, ...children.flatMap(([key, item]) => pointers(item, `${pointer}/${key}`))];
}

function replaced(document: unknown, pointer: string, value: unknown): unknown {
  if (pointer === '') return value;
  const copy = structuredClone(document);
  const path = pointer.split('/').slice(1);
  const last = path.pop() ?? '';
  let node = copy as Record<string, unknown>;
  for (const key of path) node = node[key] as Record<string, unknown>;
  node[last] = value;
  return copy;
}

let mapping: Mapping;
beforeAll(async () => {
  mapping = await loadMapping('mappings/modern-case-api');
});

describe('translateInbound on hostile documents', () => {
  it('never throws; a plan it returns is a valid plan, every error it gives names a place', () => {
    const places = pointers(SAMPLE);
    fc.assert(
      fc.property(fc.constantFrom(...places), fc.jsonValue(), fc.boolean(), (pointer, value, reportLoss) => {
        const result = translateInbound(mapping, JSON.stringify(replaced(SAMPLE, pointer, value)), { reportLoss });
        if (result.plan !== undefined) expect(parsePlan(result.plan).ok).toBe(true);
        for (const issue of result.issues.filter((candidate) => candidate.severity === 'error')) {
          expect(issue.rule !== undefined || issue.planPointer !== undefined || issue.source !== undefined, JSON.stringify(issue)).toBe(true);
        }
      }),
      { numRuns: 300, seed: 12 },
    );
  });

  it('never throws on text that is not the expected JSON at all', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const result = translateInbound(mapping, text);
        expect(result.plan).toBeUndefined();
        expect(result.issues.length).toBeGreaterThan(0);
      }),
      { numRuns: 200, seed: 12 },
    );
  });
});
