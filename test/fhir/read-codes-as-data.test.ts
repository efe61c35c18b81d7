/**
 * The FHIR reader takes codes from the data: a code that happens to be the name of a member of every
 * JavaScript object (`constructor`, `toString`, `__proto__` …) must be read as any other code the
 * reader does not know, not find that member in a code table (`ownValue`, src/sip/objects.ts).
 * Over the examples' SIP Bundles, each distinct place of a `status` or `code` (its path without the
 * indexes, the first occurrence) is set, one at a time, to such a name and to an unknown code of the
 * same form; the reader must treat both alike.
 */
import { describe, expect, it } from 'vitest';
import { bundleToPlan, planToBundle } from '../../src/fhir/index.js';
import { exampleFiles, readExample } from '../support/examples.js';

type Path = readonly (string | number)[];

/** The paths of the strings under a `status` or `code` member. */
function codePaths(value: unknown, path: Path = []): Path[] {
  if (typeof value === 'string') return path.at(-1) === 'status' || path.at(-1) === 'code' ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((item, index) => codePaths(item, [...path, index]));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([key, item]) => codePaths(item, [...path, key]));
  return [];
}

/** A copy of `bundle` with the string at `path` replaced by `code`. */
function withCode(bundle: unknown, path: Path, code: string): unknown {
  const copy = JSON.parse(JSON.stringify(bundle)) as Record<string | number, unknown>;
  let at: Record<string | number, unknown> = copy;
  for (const step of path.slice(0, -1)) at = at[step] as Record<string | number, unknown>;
  at[path.at(-1) ?? ''] = code;
  return copy;
}

/** What the reader made of a Bundle, with the code written as `code` wherever it appears in a diagnostic. */
function readAs(bundle: unknown, code: string): { ok: boolean; issues: string[] } {
  const read = bundleToPlan(bundle);
  return { ok: read.ok, issues: read.outcome.issue.map((issue) => `${issue.severity} ${issue.code} ${(issue.expression ?? []).join()} ${(issue.diagnostics ?? '').replaceAll(code, 'CODE')}`) };
}

/** Each name beside an unknown code that is a FHIR id, code and token alike (`__proto__` has underscores, so its twin has too). */
const NAMES: readonly (readonly [string, string])[] = [
  ['constructor', 'constrictor'],
  ['toString', 'toStrong'],
  ['hasOwnProperty', 'hasOwnPropertx'],
  ['valueOf', 'valueOx'],
  ['__proto__', '__proxo__'],
];

describe('codes named like members of every JavaScript object', () => {
  it('are read as unknown codes are, at every place of a status or code in the examples', () => {
    let compared = 0;
    const places = new Set<string>();
    for (const file of exampleFiles) {
      const bundle = planToBundle(readExample(file));
      for (const path of codePaths(bundle)) {
        // The resource's type and the path's names: one status or code of each kind is enough.
        const resourceType = path[0] === 'entry' ? (bundle.entry?.[Number(path[1])]?.resource?.resourceType ?? '') : 'Bundle';
        const place = `${resourceType} ${path.filter((step) => typeof step === 'string').join('.')}`;
        if (places.has(place)) continue;
        places.add(place);
        for (const [name, twin] of NAMES) {
          expect(readAs(withCode(bundle, path, name), name), `${file} ${path.join('.')} = ${name}`).toEqual(readAs(withCode(bundle, path, twin), twin));
          compared += 1;
        }
      }
    }
    // The places the reader looks codes up in tables (src/fhir/read/read-activities.ts) are among them.
    expect([...places]).toEqual(expect.arrayContaining(['CarePlan entry.resource.activity.detail.status', 'ServiceRequest entry.resource.status', 'ServiceRequest entry.resource.quantityRatio.denominator.code', 'Appointment entry.resource.participant.status', 'Appointment entry.resource.status']));
    // Every example has statuses and codes; a corpus that compared nothing would prove nothing.
    expect(compared).toBeGreaterThan(100);
  }, 120_000);
});
