/**
 * What the definition store remembers is bounded by the base package's files, however many unknown
 * code systems, value sets and profiles the data names (a server validates whatever it is sent, and
 * memory must stay bounded at any size). Before, every unknown canonical was remembered as a miss.
 */
import { describe, expect, it } from 'vitest';
import { basePackageDirectory, DefinitionStore, defaultProfileDirectory, LONGEST_REMEMBERED_MISS, RECENT_MISSES } from '../../src/validation/definitions.js';

describe('DefinitionStore remembers no unknown canonical', () => {
  it('answers 6,000 lookups of unknown canonicals without remembering more', () => {
    const store = new DefinitionStore(basePackageDirectory(), defaultProfileDirectory());
    expect(store.structureDefinition('http://hl7.org/fhir/StructureDefinition/CarePlan')?.type).toBe('CarePlan');
    expect(store.codeSystem('http://hl7.org/fhir/request-status')?.url).toBe('http://hl7.org/fhir/request-status');
    const before = store.remembered;
    expect(before).toBeGreaterThan(0);
    for (let index = 0; index < 2_000; index++) {
      // As coding-system.ts asks of a Coding's system, and the walker of a meta.profile.
      expect(store.valueSet(`urn:oid:1.2.752.${String(index)}`)).toBeUndefined();
      expect(store.codeSystem(`http://example.org/CodeSystem/unknown-${String(index)}`)).toBeUndefined();
      expect(store.structureDefinition(`http://example.org/StructureDefinition/unknown-${String(index)}`)).toBeUndefined();
    }
    expect(store.remembered).toBe(before);
    // The recent misses a lookup answers from are bounded too: at most RECENT_MISSES of each type.
    expect(store.recentMisses).toBeGreaterThan(0);
    expect(store.recentMisses).toBeLessThanOrEqual(3 * RECENT_MISSES);
  }, 60_000);

  it('answers a miss it remembers as before, and finds what it missed under another type', () => {
    const store = new DefinitionStore(basePackageDirectory(), defaultProfileDirectory());
    const request = 'http://hl7.org/fhir/request-status';
    // The CodeSystem's URL asked as a ValueSet (its file is read once and names another URL) and as a
    // StructureDefinition (no such file), each miss remembered among the recent ones …
    expect(store.valueSet(request)).toBeUndefined();
    expect(store.structureDefinition(request)).toBeUndefined();
    const misses = store.recentMisses;
    expect(store.valueSet(request)).toBeUndefined();
    expect(store.recentMisses).toBe(misses);
    // … which does not hide it as the CodeSystem it is, nor an own profile asked after misses of its type.
    expect(store.codeSystem(request)?.url).toBe(request);
    for (let index = 0; index < RECENT_MISSES + 1; index++) expect(store.structureDefinition(`http://example.org/StructureDefinition/miss-${String(index)}`)).toBeUndefined();
    expect(store.structureDefinition('http://sip-fhir-adapter.se/fhir/StructureDefinition/sip-careplan')?.type).toBe('CarePlan');
    expect(store.recentMisses).toBeLessThanOrEqual(3 * RECENT_MISSES);
  });

  it('does not remember a miss longer than LONGEST_REMEMBERED_MISS, so what it keeps is bounded in bytes too', () => {
    const store = new DefinitionStore(basePackageDirectory(), defaultProfileDirectory());
    const long = `http://example.org/CodeSystem/${'x'.repeat(LONGEST_REMEMBERED_MISS)}`;
    expect(store.valueSet(long)).toBeUndefined();
    expect(store.recentMisses).toBe(0);
    const short = `http://example.org/CodeSystem/${'x'.repeat(LONGEST_REMEMBERED_MISS - 40)}`;
    expect(store.valueSet(short)).toBeUndefined();
    expect(store.recentMisses).toBe(1);
  });

  it('reads a base file once for the canonicals that name it, however many of them the data names', () => {
    const store = new DefinitionStore(basePackageDirectory(), defaultProfileDirectory());
    // CodeSystem-request-status.json exists; canonicals of other bases with the same last segment do not match it.
    expect(store.codeSystem('http://example.org/request-status')).toBeUndefined();
    // The file read once: its definition kept under its own URL, and the file's URL noted.
    const once = store.remembered;
    expect(once).toBe(2);
    for (let index = 0; index < 2_000; index++) expect(store.codeSystem(`http://example-${String(index)}.org/request-status`)).toBeUndefined();
    // Before, each such canonical was remembered for good: 2,000 more.
    expect(store.remembered).toBe(once);
    expect(store.recentMisses).toBeLessThanOrEqual(RECENT_MISSES);
    // And the real one is found, from what the first read kept.
    expect(store.codeSystem('http://hl7.org/fhir/request-status')?.url).toBe('http://hl7.org/fhir/request-status');
    expect(store.remembered).toBe(once);
  });
});
