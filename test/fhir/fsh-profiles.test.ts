/**
 * The move of the SIP profiles from TypeScript objects to FHIR Shorthand lost nothing: the
 * artefacts SUSHI builds from profiles/input/fsh/ (shipped in profiles/) say what the artefacts
 * shipped before the move said, which test/fixtures/pre-fsh-profiles.json keeps (the files
 * `npm run profiles:build` wrote from src/fhir/profiles/ at the last commit before the move, each
 * snapshot cut down to the elements either build's differential names or that carry a SIP
 * invariant). Identity, every differential rule (looked up in the other build's snapshot) and
 * every invariant are compared; test/support/profile-facts.ts says how and what it normalises.
 *
 * A deliberate change to a profile shows here as a difference: this test guards the move, and a
 * later change of a rule is made in the FSH and the fixture together.
 */
import { readFileSync } from 'node:fs';
import type { CodeSystem, StructureDefinition, ValueSet } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { shippedFshArtefacts } from '../support/build-profiles.js';
import { artefactDifferences, structureDefinitionDifferences } from '../support/profile-facts.js';

type Artefact = StructureDefinition | ValueSet | CodeSystem;
const beforeTheMove = new Map(
  Object.entries(JSON.parse(readFileSync(new URL('../fixtures/pre-fsh-profiles.json', import.meta.url), 'utf8')) as Record<string, Artefact>),
);
const sushi = shippedFshArtefacts();

it('SUSHI builds exactly the StructureDefinitions, ValueSets and CodeSystems shipped before the move', () => {
  expect([...sushi.keys()].sort()).toEqual([...beforeTheMove.keys()].sort());
});

describe.each([...beforeTheMove.keys()])('%s', (file) => {
  it('says the same as before the move', () => {
    const built = sushi.get(file);
    const old = beforeTheMove.get(file);
    expect(built).toBeDefined();
    if (built === undefined || old === undefined) return;
    expect(artefactDifferences('before', old, 'SUSHI', built)).toEqual([]);
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
