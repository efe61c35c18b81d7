/**
 * The README's mapping table is the code's: it is rendered from src/fhir/mapping-table.ts, every row's
 * FHIRPath finds a value in the examples' Bundles whenever the SIP field has one, and every field the
 * examples use has a row.
 */
import { readFileSync } from 'node:fs';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
import { describe, expect, it } from 'vitest';
import { planToBundle } from '../../src/fhir/index.js';
import { MAPPING_TABLE } from '../../src/fhir/mapping-table.js';
import { exampleFiles, readExample } from '../support/examples.js';
import { README, readmeWithMappingTable } from '../support/render-mapping-table.js';

/** The values at a SIP path such as `consents[].givers`, arrays flattened where the path says `[]`. */
function valuesAt(value: unknown, path: string): unknown[] {
  let current: unknown[] = [value];
  for (const segment of path.split('.')) {
    const name = segment.replace(/\[\]$/, '');
    current = current.flatMap((item) => {
      const next = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)[name] : undefined;
      return segment.endsWith('[]') && Array.isArray(next) ? (next as unknown[]) : [next];
    });
  }
  return current.filter((item) => item !== undefined && !(Array.isArray(item) && item.length === 0));
}

/** Leaf paths of a plan, with `[]` for array elements. */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every((item) => typeof item !== 'object')) return [prefix];
    return value.flatMap((item) => leafPaths(item, `${prefix}[]`));
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, member]) => leafPaths(member, prefix === '' ? key : `${prefix}.${key}`));
  }
  return [prefix];
}

/** A row for an input of the mapping rather than a plan field, e.g. `(sent at)`: it is always written. */
const isMappingInput = (sip: string): boolean => sip.startsWith('(');

/** Fields that are written only in some states, by design (see the table's notes). */
const WRITTEN_WHEN: Readonly<Record<string, (value: unknown, plan: ReturnType<typeof readExample>) => boolean>> = {
  'individual.canConsent': (value) => value === false,
  noActionsByOthers: (value) => value === true,
  'individual.protectedIdentity': (value) => value !== 'none',
  'individual.contact': (_value, plan) => plan.individual.protectedIdentity === 'none',
};

describe('the mapping table', () => {
  it('is the one in the README (run npm run docs:mapping)', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readme).toBe(readmeWithMappingTable(readme));
  });

  it.each(exampleFiles)('holds for the Bundle of %s: each used field is found where the table says', (file) => {
    const plan = readExample(file);
    const bundle = planToBundle(plan);
    for (const row of MAPPING_TABLE) {
      const values = valuesAt(plan, row.sip).filter((value) => WRITTEN_WHEN[row.sip]?.(value, plan) ?? true);
      if (values.length === 0 && !isMappingInput(row.sip)) continue;
      const found = fhirpath.evaluate(bundle, row.expression, {}, r4) as unknown[];
      expect(found.length, `${row.sip} → ${row.expression}`).toBeGreaterThan(0);
    }
  });

  it('has a row for the send instant, Bundle.timestamp', () => {
    expect(MAPPING_TABLE.filter((row) => isMappingInput(row.sip)).map((row) => [row.sip, row.expression])).toContainEqual(['(sent at)', 'Bundle.timestamp']);
  });

  it('has a row for every field the examples use', () => {
    const rows = MAPPING_TABLE.map((row) => row.sip);
    const covered = (path: string) => rows.some((sip) => path === sip || path.startsWith(`${sip}.`) || path.startsWith(`${sip}[]`));
    const paths = new Set(exampleFiles.flatMap((file) => leafPaths(readExample(file))));
    const uncovered = [...paths].filter((path) => path !== '$schema' && !covered(path));
    expect(uncovered).toEqual([]);
  });

  it('fails for a row whose FHIRPath finds nothing (the check can fail)', () => {
    const bundle = planToBundle(readExample('adult-psychiatry-addiction.json'));
    expect(fhirpath.evaluate(bundle, "Bundle.entry.resource.ofType(CarePlan).extension('http://example.org/none')", {}, r4)).toEqual([]);
  });
});
