/**
 * The FSH sources in profiles/input/fsh/, built by SUSHI, say what the TypeScript profile objects
 * say: the same artefacts, the same identity, the same rules and invariants.
 */
import type { FhirResource, StructureDefinition } from 'fhir/r4.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { generatedArtefacts } from '../support/build-profiles.js';
import { artefactDifferences, structureDefinitionDifferences } from '../support/profile-facts.js';
import { runSushi } from '../support/sushi.js';

const typescript = new Map([...generatedArtefacts()].filter(([file]) => /^(StructureDefinition|ValueSet|CodeSystem)-/.test(file)));
let sushi = new Map<string, FhirResource>();

beforeAll(() => {
  sushi = new Map([...runSushi().resources].map(([file, text]) => [file, JSON.parse(text) as FhirResource]));
}, 300_000);

it('SUSHI builds exactly the StructureDefinitions, ValueSets and CodeSystems the TypeScript sources did', () => {
  expect([...sushi.keys()].sort()).toEqual([...typescript.keys()].sort());
});

describe.each([...typescript.keys()])('%s', (file) => {
  it('says the same in FSH as in TypeScript', () => {
    const built = sushi.get(file);
    expect(built).toBeDefined();
    const old = typescript.get(file);
    if (built === undefined || old === undefined) return;
    expect(artefactDifferences('TypeScript', old, 'SUSHI', built)).toEqual([]);
  });
});

describe('the comparison', () => {
  const pick = (file: string): StructureDefinition => {
    const found = sushi.get(file);
    if (found?.resourceType !== 'StructureDefinition') throw new Error(file);
    return structuredClone(found);
  };
  const breakOne = (file: string, change: (definition: StructureDefinition) => void): string[] => {
    const broken = pick(file);
    change(broken);
    return structureDefinitionDifferences('built', pick(file), 'broken', broken);
  };
  const element = (definition: StructureDefinition, id: string, where: 'differential' | 'snapshot' = 'snapshot') => {
    const found = definition[where]?.element.find((candidate) => candidate.id === id);
    if (found === undefined) throw new Error(id);
    return found;
  };

  it('sees a changed invariant expression, severity or human text', () => {
    for (const change of [
      (constraint: { expression?: string }) => (constraint.expression = 'true'),
      (constraint: { severity: string }) => (constraint.severity = 'warning'),
      (constraint: { human: string }) => (constraint.human = 'x'),
    ]) {
      const found = breakOne('StructureDefinition-sip-careplan.json', (definition) => {
        for (const where of ['differential', 'snapshot'] as const) {
          const constraint = element(definition, 'CarePlan', where).constraint?.find((candidate) => candidate.key === 'sip-cpl-3');
          if (constraint !== undefined) change(constraint);
        }
      });
      expect(found.join('\n')).toContain('sip-cpl-3');
    }
  });

  it('sees a lost invariant, cardinality, binding strength, fixed value and extension slice', () => {
    expect(breakOne('StructureDefinition-sip-goal.json', (definition) => {
      for (const where of ['differential', 'snapshot'] as const) element(definition, 'Goal', where).constraint = element(definition, 'Goal', where).constraint?.filter((constraint) => constraint.key !== 'sip-gol-1');
    })).not.toEqual([]);
    expect(breakOne('StructureDefinition-sip-careplan.json', (definition) => (element(definition, 'CarePlan.category').min = 0))).toEqual([
      'CarePlan.category.min: built 1, broken 0',
    ]);
    expect(breakOne('StructureDefinition-sip-careteam.json', (definition) => {
      const binding = element(definition, 'CareTeam.participant.role').binding;
      if (binding !== undefined) binding.strength = 'preferred';
    })).not.toEqual([]);
    expect(breakOne('StructureDefinition-sip-careplan.json', (definition) => (element(definition, 'CarePlan.intent').fixedCode = 'order'))).not.toEqual([]);
    expect(breakOne('StructureDefinition-sip-goal.json', (definition) => {
      for (const where of ['differential', 'snapshot'] as const) {
        const list = definition[where]?.element;
        if (list !== undefined) definition[where] = { element: list.filter((candidate) => !(candidate.id ?? '').startsWith('Goal.extension:goalSetAt')) };
      }
    }).join('\n')).toContain('Goal.extension:goalSetAt');
  });

  it('sees a changed canonical URL or base', () => {
    expect(breakOne('StructureDefinition-sip-bundle.json', (definition) => (definition.url = `${definition.url}x`))).toHaveLength(1);
    expect(breakOne('StructureDefinition-sip-bundle.json', (definition) => (definition.baseDefinition = 'http://hl7.org/fhir/StructureDefinition/Resource'))).toHaveLength(1);
  });
});
