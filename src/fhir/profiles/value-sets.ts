/**
 * One ValueSet per project CodeSystem, with all its codes, so elements can be bound to them
 * (https://hl7.org/fhir/R4/terminologies.html#binding). The ValueSet has the CodeSystem's id.
 */
import type { ValueSet } from 'fhir/r4.js';
import { ARTEFACT_VERSION, codeSystemUrl, valueSetUrl } from '../canonical.js';
import type { CodeSystemDefinition } from '../code-systems.js';
import { CODE_SYSTEMS } from '../code-systems.js';
import { PUBLISHER, computableName } from './define.js';

export function valueSetFor(codeSystem: CodeSystemDefinition): ValueSet {
  return {
    resourceType: 'ValueSet',
    id: codeSystem.id,
    url: valueSetUrl(codeSystem.id),
    version: ARTEFACT_VERSION,
    name: computableName(codeSystem.id),
    title: codeSystem.title,
    status: 'draft',
    experimental: false,
    publisher: PUBLISHER,
    description: `All codes of the CodeSystem ${codeSystemUrl(codeSystem.id)}. ${codeSystem.description}`,
    compose: { include: [{ system: codeSystemUrl(codeSystem.id), version: ARTEFACT_VERSION }] },
  };
}

export const VALUE_SETS: readonly ValueSet[] = CODE_SYSTEMS.map(valueSetFor);
