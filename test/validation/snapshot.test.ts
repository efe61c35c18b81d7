/** The snapshot generator applies a differential to the R4 base and refuses what it cannot place. */
import type { ElementDefinition, StructureDefinition } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { coreDefinition } from '../support/build-profiles.js';
import { SnapshotError, generateSnapshot } from '../../src/validation/snapshot.js';

function differential(type: string, elements: ElementDefinition[]): StructureDefinition {
  return {
    resourceType: 'StructureDefinition',
    url: `http://example.org/StructureDefinition/test-${type}`,
    name: `Test${type}`,
    status: 'draft',
    kind: type === 'Extension' ? 'complex-type' : 'resource',
    abstract: false,
    type,
    baseDefinition: `http://hl7.org/fhir/StructureDefinition/${type}`,
    derivation: 'constraint',
    differential: { element: elements },
  };
}

const snapshotOf = (sd: StructureDefinition): ElementDefinition[] => generateSnapshot(sd, coreDefinition).snapshot?.element ?? [];
const byId = (elements: ElementDefinition[], id: string): ElementDefinition | undefined => elements.find((element) => element.id === id);

describe('generateSnapshot', () => {
  it('copies the base snapshot, with ids and base, when the differential is only the root', () => {
    const base = coreDefinition('http://hl7.org/fhir/StructureDefinition/CarePlan')?.snapshot?.element ?? [];
    const elements = snapshotOf(differential('CarePlan', [{ id: 'CarePlan', path: 'CarePlan' }]));
    expect(elements.map((element) => element.id)).toEqual(base.map((element) => element.id));
    expect(byId(elements, 'CarePlan.author')?.base).toEqual({ path: 'CarePlan.author', min: 0, max: '1' });
  });

  it('shows a differential min 1, a short text and a binding in the snapshot', () => {
    const elements = snapshotOf(
      differential('CarePlan', [
        { id: 'CarePlan.author', path: 'CarePlan.author', min: 1, short: 'The principal' },
        { id: 'CarePlan.activity.detail.statusReason', path: 'CarePlan.activity.detail.statusReason', binding: { strength: 'extensible', valueSet: 'http://example.org/vs' } },
      ]),
    );
    expect(byId(elements, 'CarePlan.author')).toMatchObject({ min: 1, short: 'The principal', base: { min: 0 } });
    expect(byId(elements, 'CarePlan.activity.detail.statusReason')?.binding?.valueSet).toBe('http://example.org/vs');
  });

  it('appends constraints to the base ones', () => {
    const constraint = { key: 'sip-x-1', severity: 'error' as const, human: 'x', expression: 'true' };
    const root = byId(snapshotOf(differential('Consent', [{ id: 'Consent', path: 'Consent', constraint: [constraint] }])), 'Consent');
    const keys = root?.constraint?.map((item) => item.key) ?? [];
    expect(keys).toContain('ppc-1');
    expect(keys.at(-1)).toBe('sip-x-1');
  });

  it('inserts a slice after the sliced element and unfolds Identifier children for it', () => {
    const elements = snapshotOf(
      differential('Patient', [
        { id: 'Patient.identifier', path: 'Patient.identifier', slicing: { discriminator: [{ type: 'value', path: 'system' }], rules: 'open' } },
        { id: 'Patient.identifier:personnummer', path: 'Patient.identifier', sliceName: 'personnummer', max: '1' },
        { id: 'Patient.identifier:personnummer.system', path: 'Patient.identifier.system', min: 1, fixedUri: 'http://electronichealth.se/identifier/personnummer' },
      ]),
    );
    const ids = elements.map((element) => element.id ?? '');
    const sliced = ids.indexOf('Patient.identifier');
    expect(ids[sliced + 1]).toBe('Patient.identifier:personnummer');
    const system = byId(elements, 'Patient.identifier:personnummer.system');
    expect(system).toMatchObject({ path: 'Patient.identifier.system', min: 1, fixedUri: 'http://electronichealth.se/identifier/personnummer', base: { path: 'Identifier.system' } });
    expect(ids.indexOf('Patient.identifier:personnummer.system')).toBeLessThan(ids.indexOf('Patient.active'));
    expect(byId(elements, 'Patient.identifier:personnummer')?.slicing).toBeUndefined();
  });

  it('narrows the value[x] of an Extension and closes Extension.extension', () => {
    const elements = snapshotOf(
      differential('Extension', [
        { id: 'Extension.extension', path: 'Extension.extension', max: '0' },
        { id: 'Extension.url', path: 'Extension.url', fixedUri: 'http://example.org/ext' },
        { id: 'Extension.value[x]', path: 'Extension.value[x]', min: 1, type: [{ code: 'integer' }] },
      ]),
    );
    expect(byId(elements, 'Extension.value[x]')?.type).toEqual([{ code: 'integer' }]);
    expect(byId(elements, 'Extension.extension')?.max).toBe('0');
    expect(byId(elements, 'Extension.url')?.fixedUri).toBe('http://example.org/ext');
  });

  it('is an error naming an unknown path', () => {
    expect(() => snapshotOf(differential('CarePlan', [{ id: 'CarePlan.responsible', path: 'CarePlan.responsible', min: 1 }]))).toThrow(/CarePlan\.responsible/);
  });

  it('is an error to widen a cardinality or to add a type the base does not allow', () => {
    expect(() => snapshotOf(differential('CarePlan', [{ id: 'CarePlan.author', path: 'CarePlan.author', max: '*' }]))).toThrow(SnapshotError);
    expect(() => snapshotOf(differential('CarePlan', [{ id: 'CarePlan.intent', path: 'CarePlan.intent', type: [{ code: 'string' }] }]))).toThrow(/type string/);
  });

  it('is an error when the base is missing', () => {
    const sd = { ...differential('CarePlan', []), baseDefinition: 'http://example.org/StructureDefinition/nothing' };
    expect(() => generateSnapshot(sd, coreDefinition)).toThrow(/nothing/);
  });
});
