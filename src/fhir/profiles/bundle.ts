/**
 * SIP Bundle: one SIP as a `transaction` (or `collection`) Bundle. Rules that need more than one
 * resource live here and join entries by `fullUrl` (e.g. a CarePlan's `careTeam.reference` matched
 * against `entry.fullUrl`), never with `resolve()`: Medplum's `resolve()` does not look inside
 * Bundles, and every validator loading `profiles/` must reach the same verdict.
 */
import type { StructureDefinition } from 'fhir/r4.js';
import { codeSystemUrl } from '../canonical.js';
import { ORGANIZATION_TYPE, PARTICIPANT_ROLE } from '../code-systems.js';
import type { Invariant } from './define.js';
import { element, profile } from './define.js';

const ORGANIZATION_TYPE_SYSTEM = codeSystemUrl(ORGANIZATION_TYPE.id);

/** The active SIP CarePlans of the Bundle (from the Bundle or, inside `where`, via `%resource`). */
const ACTIVE_PLANS = "entry.resource.ofType(CarePlan).where(status = 'active')";

/** fullUrls of the principals of one kind (`region` or `municipality`). */
const principals = (kind: string): string =>
  `%resource.entry.where(resource.ofType(Organization).type.coding.where(system = '${ORGANIZATION_TYPE_SYSTEM}' and code = '${kind}').exists()).fullUrl`;

/** The first performer of every activity of the active plans: the one responsible for it. */
const RESPONSIBLE = `%resource.entry.resource.ofType(CarePlan).where(status = 'active').activity.detail.select(performer.first().reference)`;

/**
 * Whether an activity of an active plan is the responsibility of a principal of one kind, one of
 * its units (`partOf`), or a PractitionerRole acting for either.
 *
 * FHIRPath has no variables, so a collection named inside `where` is worked out again for every
 * entry. Each join therefore narrows the entries first (by type, then to the responsible ones)
 * before it looks up the principals: written the direct way, fhirpath.js took seconds on a
 * 40-entry Bundle.
 */
const responsibleIn = (kind: string): string => {
  const units = `%resource.entry.where(resource.partOf.exists()).where(resource.partOf.reference in ${principals(kind)}).fullUrl`;
  return [
    `${RESPONSIBLE}.intersect(${principals(kind)}).exists()`,
    `%resource.entry.where(resource.partOf.exists()).where(fullUrl in ${RESPONSIBLE}).where(resource.partOf.reference in ${principals(kind)}).exists()`,
    `%resource.entry.where(resource is PractitionerRole).where(fullUrl in ${RESPONSIBLE}).where(resource.organization.reference in (${principals(kind)} | ${units})).exists()`,
  ].join(' or ');
};

const FIVE_ELEMENTS = 'Seed 001 §4.5 (Möte: "Av planen ska det framgå")';

export const BUNDLE_INVARIANTS: readonly Invariant[] = [
  {
    key: 'sip-bdl-1',
    severity: 'error',
    human: 'A SIP Bundle is a transaction or a collection',
    expression: "type = 'transaction' or type = 'collection'",
    source: 'DESIGN.md §4 (the whole exchange)',
  },
  {
    key: 'sip-bdl-2',
    severity: 'error',
    human: 'A SIP Bundle holds exactly one CarePlan, the plan',
    expression: 'entry.resource.ofType(CarePlan).count() = 1',
    source: 'DESIGN.md §4 (one SIP per Bundle)',
  },
  {
    key: 'sip-bdl-3',
    severity: 'error',
    human: 'An active SIP has interventions from both principals: one a region (or its unit or professional) is responsible for, and one a municipality is',
    expression: `${ACTIVE_PLANS}.exists() implies ((${responsibleIn('region')}) and (${responsibleIn('municipality')}))`,
    source: `${FIVE_ELEMENTS} item 2; seed 001 §3.3 (SIP needs both principals)`,
  },
  {
    key: 'sip-bdl-4',
    severity: 'error',
    human: 'An active SIP has a care team in the Bundle with exactly one coordinator',
    expression: `${ACTIVE_PLANS}.exists() implies entry.where(fullUrl in %resource.${ACTIVE_PLANS}.careTeam.reference).resource.ofType(CareTeam).where(participant.where(role.coding.where(system = '${codeSystemUrl(PARTICIPANT_ROLE.id)}' and code = 'coordinator').exists()).count() = 1).exists()`,
    source: 'Seed 001 §4.5 (part 1: "utse huvudansvarig"); seed 003 "Samordnare"',
  },
  {
    key: 'sip-bdl-5',
    severity: 'error',
    human: 'The overall responsible party (author) of an active SIP is one of the principals in the Bundle (a region or a municipality)',
    expression: `${ACTIVE_PLANS}.author.reference.all($this in (${principals('region')} | ${principals('municipality')}))`,
    source: `${FIVE_ELEMENTS} item 4`,
  },
];

export const SIP_BUNDLE: StructureDefinition = profile({
  id: 'sip-bundle',
  type: 'Bundle',
  title: 'SIP Bundle',
  description: 'One SIP as a transaction (or collection) Bundle, with the rules that need more than one of its resources.',
  invariants: BUNDLE_INVARIANTS,
  elements: [element('Bundle.entry', { min: 1 }), element('Bundle.entry.fullUrl', { min: 1, short: 'urn:uuid: of the entry; references join on it' })],
});
