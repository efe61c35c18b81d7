/**
 * `childFor` (src/validation/type-model.ts) looks a JSON property up in a table of each node's JSON
 * names built once; before, it took the node's child of that name and, for a choice element, matched
 * the name's suffix against each of its types. This holds the table equal to that scan — the same
 * node and the same type, or nothing — for every node of every StructureDefinition with a snapshot in
 * the R4 package and of every shipped SIP profile, and for every name that could be asked: each
 * child's name, each choice name with every R4 type's suffix, the `_` names, near misses and
 * generated strings. And `Walker.typeModel(name)`, which the walk uses instead of `model(BASE + name)`,
 * is that same object for every name: each R4 type and resource, unknown and odd names, twice over.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import type { StructureDefinition } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { basePackageDirectory, DefinitionStore, defaultProfileDirectory } from '../../src/validation/definitions.js';
import { InvariantEngine } from '../../src/validation/invariants.js';
import { Terminology } from '../../src/validation/terminology.js';
import { Walker } from '../../src/validation/walker.js';
import { childFor, choiceSuffix, compileTypeModel, type ElementNode, type TypeChoice } from '../../src/validation/type-model.js';

/** The lookup as it was: the child of that name unless it is a choice, else the first choice child whose name and a type's suffix make the property. */
function scanned(node: ElementNode, property: string): { node: ElementNode; type: TypeChoice | undefined } | undefined {
  const direct = node.children.get(property);
  if (direct !== undefined && !direct.isChoice) return { node: direct, type: direct.types.length === 1 ? direct.types[0] : undefined };
  for (const [name, child] of node.children) {
    if (!child.isChoice || !property.startsWith(name)) continue;
    const suffix = property.slice(name.length);
    const type = child.types.find((candidate) => choiceSuffix(candidate.code) === suffix);
    if (type !== undefined) return { node: child, type };
  }
  return undefined;
}

function definitionsIn(directory: string, pattern: RegExp): StructureDefinition[] {
  return readdirSync(directory)
    .filter((file) => pattern.test(file))
    // Parsed JSON: a file of the package may hold another resource than its name says.
    .map((file) => JSON.parse(readFileSync(path.join(directory, file), 'utf8')) as { resourceType?: unknown } & StructureDefinition)
    .filter((definition) => (definition.resourceType as unknown) === 'StructureDefinition' && definition.snapshot !== undefined);
}

const definitions = [...definitionsIn(basePackageDirectory(), /^StructureDefinition-.*\.json$/), ...definitionsIn(defaultProfileDirectory(), /^StructureDefinition-.*\.json$/)];

/** Every node of a model: the elements and their slices. */
function nodesOf(root: ElementNode, out: ElementNode[] = []): ElementNode[] {
  out.push(root);
  for (const child of root.children.values()) nodesOf(child, out);
  for (const slice of root.slices) nodesOf(slice.node, out);
  return out;
}

const nodes = definitions.flatMap((definition) => {
  try {
    return nodesOf(compileTypeModel(definition).root);
  } catch {
    // A definition the validator cannot compile is never walked.
    return [];
  }
});
const typeCodes = [...new Set(nodes.flatMap((node) => node.types.map((type) => type.code)))];

const same = (node: ElementNode, property: string): void => {
  const expected = scanned(node, property);
  const found = childFor(node, property);
  expect(found?.node, `${node.path} ${property}`).toBe(expected?.node);
  expect(found?.type, `${node.path} ${property}`).toBe(expected?.type);
};

describe('childFor looks a JSON name up as the scan over the children did', () => {
  it('for every child name, every choice name with every type, the _ names and near misses, on every node of R4 and the SIP profiles', () => {
    expect(definitions.length).toBeGreaterThan(600);
    let choices = 0;
    for (const node of nodes) {
      for (const [name, child] of node.children) {
        same(node, name);
        same(node, `_${name}`);
        same(node, `${name}X`);
        same(node, name.slice(0, -1));
        if (!child.isChoice) continue;
        choices += 1;
        for (const code of typeCodes) {
          same(node, name + choiceSuffix(code));
          same(node, name + code);
        }
      }
      same(node, '');
      same(node, 'resourceType');
    }
    expect(choices).toBeGreaterThan(500);
  }, 120_000);

  it('for generated names on generated nodes of the lot', () => {
    fc.assert(
      fc.property(fc.nat(), fc.oneof(fc.string(), fc.constantFrom(...typeCodes).map((code) => `value${choiceSuffix(code)}`)), (which, property) => {
        same(nodes[which % nodes.length] as ElementNode, property);
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('Walker.typeModel is model(BASE + name)', () => {
  it('for every R4 type and resource name, unknown and odd ones, asked twice', () => {
    const store = new DefinitionStore(basePackageDirectory(), defaultProfileDirectory());
    const walker = new Walker(store, new Terminology(store), new InvariantEngine());
    const names = [...new Set([...typeCodes, ...definitions.map((definition) => definition.type)]), 'NoSuchType', '', 'CarePlan|4.0.1', 'carePlan', 'Resource', 'DomainResource'];
    expect(names.length).toBeGreaterThan(150);
    for (const round of [1, 2]) {
      for (const name of names) expect(walker.typeModel(name), `${name} (${String(round)})`).toBe(walker.model(`http://hl7.org/fhir/StructureDefinition/${name}`));
    }
    expect(walker.typeModel('CarePlan')?.type).toBe('CarePlan');
  }, 120_000);
});

describe('Walker.model keeps only what the store holds', () => {
  it('looks up profiles and types the data names but the store does not know without keeping them', () => {
    const store = new DefinitionStore(basePackageDirectory(), defaultProfileDirectory());
    const walker = new Walker(store, new Terminology(store), new InvariantEngine());
    expect(walker.model('http://hl7.org/fhir/StructureDefinition/CarePlan')?.type).toBe('CarePlan');
    const kept = walker.modelsKept;
    for (let index = 0; index < 2_000; index++) {
      expect(walker.model(`http://example.org/StructureDefinition/unknown-${String(index)}`)).toBeUndefined();
      expect(walker.typeModel(`NoSuchType${String(index)}`)).toBeUndefined();
    }
    expect(walker.modelsKept).toBe(kept);
    expect(walker.model('http://hl7.org/fhir/StructureDefinition/CarePlan|4.0.1')).toBe(walker.model('http://hl7.org/fhir/StructureDefinition/CarePlan'));
  });
});
