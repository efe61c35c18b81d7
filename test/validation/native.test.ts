/**
 * The native ref-1 and ext-1 checks (src/validation/native.ts):
 * - on hand-made JSON whose verdict follows from the R4 wording (a `#id` reference names a contained
 *   resource of the root resource; an extension has a value or nested extensions, not both or neither),
 *   and the shapes they leave to FHIRPath;
 * - against fhirpath.js evaluating the R4 expression, on every Reference-like object (one with a
 *   `reference`) and every extension of the example Bundles, the profile breakers, the mutated
 *   official examples and generated plans: wherever the native check answers, it answers the same.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import fc from 'fast-check';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
import { describe, expect, it } from 'vitest';
import { planToBundle } from '../../src/fhir/index.js';
import { parsePlan } from '../../src/sip/index.js';
import { NATIVE_CHECKS } from '../../src/validation/native.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, readExample } from '../support/examples.js';
import { BREAKERS } from '../support/profile-breakers.js';
import { MUTATION_CORPUS } from './mutation-corpus.js';

const REF_1 = "reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))";
const EXT_1 = 'extension.exists() != value.exists()';

function check(expression: string): NonNullable<ReturnType<typeof NATIVE_CHECKS.get>> {
  const found = NATIVE_CHECKS.get(expression);
  if (found === undefined) throw new Error(`no native check for ${expression}`);
  return found;
}
const ref1 = check(REF_1);
const ext1 = check(EXT_1);
const env = (root: unknown) => ({ resource: root, rootResource: root });

describe('ref-1, natively', () => {
  const root = { resourceType: 'CarePlan', contained: [{ resourceType: 'Goal', id: 'g1' }] };
  it('passes a reference to a contained resource, an absolute or relative one, and none', () => {
    expect(ref1({ reference: '#g1' }, env(root))).toBe(true);
    expect(ref1({ reference: 'Patient/1' }, env(root))).toBe(true);
    expect(ref1({ reference: 'urn:uuid:0a8c6a70-7a0a-4d36-9a43-0b1d1d6e8f00' }, env(root))).toBe(true);
    expect(ref1({ display: 'no reference' }, env(root))).toBe(true);
  });
  it('fails a #id no contained resource has, and any #id in a resource with nothing contained', () => {
    expect(ref1({ reference: '#g2' }, env(root))).toBe(false);
    expect(ref1({ reference: '#g1' }, env({ resourceType: 'CarePlan' }))).toBe(false);
  });
  it('leaves _reference, a non-string reference and odd contained lists to FHIRPath', () => {
    expect(ref1({ _reference: { extension: [] } }, env(root))).toBeUndefined();
    expect(ref1({ reference: 42 }, env(root))).toBeUndefined();
    expect(ref1({ reference: '#g1' }, env({ resourceType: 'CarePlan', contained: { id: 'g1' } }))).toBeUndefined();
  });
});

describe('ext-1, natively', () => {
  it('passes a value alone or nested extensions alone; fails both and neither', () => {
    expect(ext1({ url: 'u', valueString: 'x' }, env({}))).toBe(true);
    expect(ext1({ url: 'u', valueBoolean: false }, env({}))).toBe(true);
    expect(ext1({ url: 'u', extension: [{ url: 'a', valueCode: 'c' }] }, env({}))).toBe(true);
    expect(ext1({ url: 'u', extension: [{ url: 'a', valueCode: 'c' }], valueString: 'x' }, env({}))).toBe(false);
    expect(ext1({ url: 'u' }, env({}))).toBe(false);
    expect(ext1({ url: 'u', extension: [] }, env({}))).toBe(false);
    // Not an Extension.value[x] name: FHIRPath does not see it as the value.
    expect(ext1({ url: 'u', valueFoo: 'x' }, env({}))).toBe(false);
  });
  it('leaves _value…, null values and a non-array extension to FHIRPath', () => {
    expect(ext1({ url: 'u', _valueString: { id: 'a' } }, env({}))).toBeUndefined();
    expect(ext1({ url: 'u', valueString: null }, env({}))).toBeUndefined();
    expect(ext1({ url: 'u', extension: { url: 'a', valueCode: 'c' } }, env({}))).toBeUndefined();
  });
});

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every Reference-like object and every extension in `value`, with the resource it is in (contained resources in their container's). */
function nodesOf(value: unknown, root: Json, out: { kind: 'ref' | 'ext'; node: Json; root: Json }[] = []): typeof out {
  if (Array.isArray(value)) {
    for (const item of value) nodesOf(item, root, out);
    return out;
  }
  if (!isObject(value)) return out;
  // Consent.provision.data has a `reference` that is itself a Reference: not one of ref-1's nodes.
  if ('reference' in value && !isObject(value.reference)) out.push({ kind: 'ref', node: value, root });
  for (const [name, child] of Object.entries(value)) {
    if ((name === 'extension' || name === 'modifierExtension') && Array.isArray(child)) for (const item of child) if (isObject(item)) out.push({ kind: 'ext', node: item, root });
    // A Bundle entry's resource is a root of its own; a contained resource is inside its container.
    const entryResource = name === 'resource' && isObject(child) && typeof child.resourceType === 'string';
    nodesOf(child, entryResource ? child : root, out);
  }
  return out;
}

const compiled = {
  ref: fhirpath.compile({ base: 'Reference', expression: REF_1 }, r4, { userInvocationTable: { trace: { fn: (items: unknown[]) => items, arity: { 1: ['String' as const] } } } }),
  ext: fhirpath.compile({ base: 'Extension', expression: EXT_1 }, r4),
};

/** How many nodes the native check decided; throws on the first where it disagrees with fhirpath.js. */
function compare(resource: unknown): { decided: number; total: number } {
  if (!isObject(resource)) return { decided: 0, total: 0 };
  let decided = 0;
  const nodes = nodesOf(resource, resource);
  for (const { kind, node, root } of nodes) {
    const native = (kind === 'ref' ? ref1 : ext1)(node, env(root));
    if (native === undefined) continue;
    decided += 1;
    const result = compiled[kind](node, { resource: root, rootResource: root }) as unknown[];
    const passed = !(result.length === 1 && result[0] === false);
    expect(native, `${kind === 'ref' ? 'ref-1' : 'ext-1'} on ${JSON.stringify(node)}`).toBe(passed);
  }
  return { decided, total: nodes.length };
}

describe('the native checks agree with fhirpath.js', () => {
  it('on the example Bundles and every profile breaker, deciding every node there', () => {
    let decided = 0;
    let total = 0;
    const bundles = [...exampleFiles.map((file) => planToBundle(readExample(file)))];
    for (const breaker of BREAKERS) {
      const bundle = structuredClone(planToBundle(readExample('adult-psychiatry-addiction.json')));
      breaker.apply(bundle);
      bundles.push(bundle);
    }
    for (const bundle of bundles) {
      const counts = compare(bundle);
      decided += counts.decided;
      total += counts.total;
    }
    expect(total).toBeGreaterThan(1_000);
    expect(decided).toBe(total);
  });

  it('on the official examples broken one way each', () => {
    const examplesDir = path.dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
    let total = 0;
    for (const row of MUTATION_CORPUS) {
      const resource = JSON.parse(readFileSync(path.join(examplesDir, row.example), 'utf8')) as unknown;
      row.mutate(resource);
      total += compare(resource).total;
    }
    expect(total).toBeGreaterThan(100);
  });

  it('on generated plans', () => {
    fc.assert(
      fc.property(mappablePlanArbitrary, (json) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
        compare(planToBundle(parsed.plan));
      }),
      { numRuns: 40 },
    );
  });
});
