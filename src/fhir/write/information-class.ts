/**
 * An item's information classes (goals, interventions, deviations; src/sip/model/plan.ts) as the
 * `information-class` extension, one per class, with a Coding of the project's
 * sip-information-class CodeSystem: the tag travels with the item, so a plan read back from FHIR
 * still says which items a consent's exclusion removes (seed 001 §4.2).
 */
import type { Extension } from 'fhir/r4.js';
import type { InformationClass } from '../../sip/index.js';
import { EXTENSION } from '../canonical.js';
import { INFORMATION_CLASS, ownCoding } from '../code-systems.js';

export function informationClassExtensions(classes: readonly InformationClass[]): Extension[] {
  return classes.map((informationClass) => ({ url: EXTENSION.informationClass, valueCoding: ownCoding(INFORMATION_CLASS, informationClass) }));
}
