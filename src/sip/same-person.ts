/**
 * Whether two plans are about the same person, as far as their identifiers tell: the question an
 * incoming plan under an id the adapter already holds must answer before it becomes the next version
 * of that plan. A plan id is a case number in the system that made it, and two systems, or one
 * system over the years, may give the same number to plans of two persons.
 */
import { birthDateOf } from './rules/index.js';
import type { SipPlan } from './model/index.js';
import { compareDates } from './dates.js';

/**
 * True when the individuals' identifiers are the same, or when a person identified by a
 * samordningsnummer or reservnummer is now identified by a personnummer with the same birth date
 * (the person was registered: Skatteverket, "Samordningsnummer"; seed 003). Any other change of
 * identifier is another person.
 */
export function samePerson(current: SipPlan, incoming: SipPlan): boolean {
  const before = current.individual.identifier;
  const after = incoming.individual.identifier;
  if (before.system === after.system && before.value === after.value) return true;
  if (before.system === 'personnummer' || after.system !== 'personnummer') return false;
  const born = birthDateOf(current);
  const bornAfter = birthDateOf(incoming);
  return born !== undefined && bornAfter !== undefined && compareDates(born, bornAfter) === 0;
}
