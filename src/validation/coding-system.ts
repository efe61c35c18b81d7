/**
 * Coding.system "identifies the code system" (https://hl7.org/fhir/R4/datatypes.html#Coding) and is
 * an absolute URI (https://hl7.org/fhir/R4/terminologies.html#4.1: "a URI that identifies the code
 * system"; https://hl7.org/fhir/R4/references.html#canonical for canonical URLs). The HL7 Java
 * validator reports a relative system (TERMINOLOGY_TX_SYSTEM_RELATIVE) and a ValueSet's canonical
 * URL used as a system (TERMINOLOGY_TX_SYSTEM_VALUESET): a value set is not a code system.
 */
import type { DefinitionStore } from './definitions.js';
import type { Findings } from './issues.js';
import type { Json } from './walker.js';

export const CODING_SYSTEM_RELATIVE = 'coding-system-relative';
export const CODING_SYSTEM_VALUESET = 'coding-system-valueset';

const SOURCE = 'http://hl7.org/fhir/StructureDefinition/Coding';
/** RFC 3986 §3.1: an absolute URI starts with a scheme and a colon. */
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:/;

export function checkCodingSystem(coding: Json, expression: string, findings: Findings, store: DefinitionStore): void {
  const system = coding.system;
  if (typeof system !== 'string' || system === '') return;
  if (!ABSOLUTE.test(system)) {
    findings.add({ severity: 'error', code: 'value', rule: CODING_SYSTEM_RELATIVE, source: SOURCE, expression: `${expression}.system`, message: `Coding.system must be an absolute URI, not the relative reference "${system}"` });
    return;
  }
  const isValueSet = system.startsWith('http://hl7.org/fhir/ValueSet/') || (store.valueSet(system) !== undefined && store.codeSystem(system) === undefined);
  if (isValueSet) {
    findings.add({ severity: 'error', code: 'value', rule: CODING_SYSTEM_VALUESET, source: SOURCE, expression: `${expression}.system`, message: `Coding.system ${system} is the URL of a ValueSet, not of a code system` });
  }
}
