/**
 * SIP Bundle: one SIP as a `transaction` (or `collection`) Bundle. Rules that need more than one
 * resource live here and join entries by `fullUrl` (e.g. a CarePlan's `careTeam.reference` matched
 * against `entry.fullUrl`), never with `resolve()`: Medplum's `resolve()` does not look inside
 * Bundles, and every validator loading `profiles/` must reach the same verdict.
 *
 * The consent rules (sip-bdl-6..8) are judged at `Bundle.timestamp`, when the Bundle is sent, not
 * when the plan version was recorded: nothing of a SIP leaves without a consent in force at that
 * moment. The writer states the timestamp with the Europe/Stockholm offset, so its first ten
 * characters are the Stockholm date the consent's calendar dates are compared with.
 */
import type { StructureDefinition } from 'fhir/r4.js';
import { IDENTIFIER_SYSTEM, codeSystemUrl } from '../canonical.js';
import { ORGANIZATION_TYPE, PARTICIPANT_ROLE } from '../code-systems.js';
import type { Invariant } from './define.js';
import { dayNumber, element, profile } from './define.js';

const ORGANIZATION_TYPE_SYSTEM = codeSystemUrl(ORGANIZATION_TYPE.id);

/** The active SIP CarePlans of the Bundle (from the Bundle or, inside `where`, via `%resource`). */
const ACTIVE_PLANS = "entry.resource.ofType(CarePlan).where(status = 'active')";

/** fullUrls of the principals of one kind (`region` or `municipality`). */
const principals = (kind: string): string =>
  `%resource.entry.where(resource.ofType(Organization).type.coding.where(system = '${ORGANIZATION_TYPE_SYSTEM}' and code = '${kind}').exists()).fullUrl`;

/** The first performer of every activity of the active plans: the one responsible for it. */
const RESPONSIBLE = `%resource.entry.resource.ofType(CarePlan).where(status = 'active').activity.detail.select(performer.first().reference)`;

/**
 * Whether one of `references` is a principal of one kind, one of its units (`partOf`), or a
 * PractitionerRole acting for either. `cheaper`, when given, is a cheaper superset of `references`
 * that narrows the entries before `references` itself is worked out for each of them.
 *
 * FHIRPath has no variables, so a collection named inside `where` is worked out again for every
 * entry. Each join therefore narrows the entries first (by type, then to the referenced ones)
 * before it looks up the principals: written the direct way, fhirpath.js took seconds on a
 * 40-entry Bundle.
 */
const actingFor = (kind: string, references: string, cheaper?: string): string => {
  const units = `%resource.entry.where(resource.partOf.exists()).where(resource.partOf.reference in ${principals(kind)}).fullUrl`;
  const referenced = `${cheaper === undefined ? '' : `where(fullUrl in ${cheaper}).`}where(fullUrl in ${references})`;
  return [
    `${references}.intersect(${principals(kind)}).exists()`,
    `%resource.entry.where(resource.partOf.exists()).${referenced}.where(resource.partOf.reference in ${principals(kind)}).exists()`,
    `%resource.entry.where(resource is PractitionerRole).${referenced}.where(resource.organization.reference in (${principals(kind)} | ${units})).exists()`,
  ].join(' or ');
};

/** Whether an activity of an active plan is the responsibility of a principal of one kind (or its unit or professional). */
const responsibleIn = (kind: string): string => actingFor(kind, RESPONSIBLE);

const SIP_PLAN_SYSTEM = IDENTIFIER_SYSTEM.sipPlan;

/**
 * The Consents for the Bundle's plan: their root provision's `data` (meaning `related`) names the
 * CarePlan by its `fullUrl`, or by its `sip-plan` identifier (as a consent read from a server may).
 */
const PLAN_CONSENTS =
  `%resource.entry.resource.ofType(Consent).where(provision.data.where(meaning = 'related').reference.where(` +
  `reference in %resource.entry.where(resource is CarePlan).fullUrl or ` +
  `identifier.where(system = '${SIP_PLAN_SYSTEM}' and value in %resource.entry.resource.ofType(CarePlan).identifier.where(system = '${SIP_PLAN_SYSTEM}').value).exists()` +
  `).exists())`;

/** The day the Bundle is sent: the first ten characters of its timestamp, the writer's Stockholm date. */
const SENT_ON = dayNumber('%resource.timestamp');

/**
 * The consents for the plan in force when the Bundle is sent: active, and the timestamp's day within
 * the root provision's period, both ends inclusive (seed 001 §4.2 dates are calendar dates).
 */
const IN_FORCE = `${PLAN_CONSENTS}.where(status = 'active' and ${dayNumber('provision.period.start')} <= ${SENT_ON} and ${SENT_ON} <= ${dayNumber('provision.period.end')})`;

/**
 * Whether the consents in force cover the principal of one kind (it, its unit or a professional
 * acting for either is an actor of a root provision) and none excludes the principal itself (a
 * nested `deny` provision naming it). Units and roles are first narrowed to the actors of any
 * Consent, so the consents in force are worked out only for the few entries left (half the time
 * in fhirpath.js).
 */
const consentCovers = (kind: string): string =>
  `(${actingFor(kind, `${IN_FORCE}.provision.actor.reference.reference`, '%resource.entry.resource.ofType(Consent).provision.actor.reference.reference')})` +
  ` and ${IN_FORCE}.provision.provision.where(type = 'deny').actor.reference.reference.intersect(${principals(kind)}).empty()`;

const FIVE_ELEMENTS = 'Seed 001 §4.5 (Möte: "Av planen ska det framgå")';
const CONSENT_RULES = 'Seed 001 §4.2 (Samtycke)';

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
  {
    key: 'sip-bdl-6',
    severity: 'error',
    human: "A SIP Bundle holds the person's consent to its plan: a Consent whose root provision names the CarePlan (data with meaning related)",
    expression: `entry.resource.ofType(CarePlan).exists() implies ${PLAN_CONSENTS}.exists()`,
    source: `${CONSENT_RULES}: "huvudregeln att den enskilde ska ge sitt samtycke", "kan aldrig vara generellt formulerat"; seed 001 §3.6.2 (no SIP without consent)`,
  },
  {
    key: 'sip-bdl-7',
    severity: 'error',
    human: "A consent to the plan is in force when the Bundle is sent: status active, and the Bundle's timestamp within the consent's period (root provision.period, dates inclusive)",
    expression: `${PLAN_CONSENTS}.exists() implies ${IN_FORCE}.exists()`,
    source: `${CONSENT_RULES}: "gäller i max ett år", "rätt att dra tillbaka sitt samtycke"`,
  },
  {
    key: 'sip-bdl-8',
    severity: 'error',
    human:
      'The consent in force covers both principals: its root provision names the region and the municipality (or a unit or professional of each) as actors, and no exclusion (deny provision) names either principal',
    expression: `${IN_FORCE}.exists() implies ((${consentCovers('region')}) and (${consentCovers('municipality')}))`,
    source: `Seed 001 §3.6.2 (no SIP when the person consents only to one side's interventions); ${CONSENT_RULES}: "informationsöverföring mellan huvudmännen", "personer/enheter som den enskilde inte samtycker till"`,
  },
];

export const SIP_BUNDLE: StructureDefinition = profile({
  id: 'sip-bundle',
  type: 'Bundle',
  title: 'SIP Bundle',
  description:
    "One SIP as a transaction (or collection) Bundle, stamped with when it is sent, with the rules that need more than one of its resources: among them, the person's consent to the plan in force at that moment.",
  invariants: BUNDLE_INVARIANTS,
  elements: [
    element('Bundle.timestamp', { min: 1, short: "When the Bundle is sent, with the Europe/Stockholm offset; the plan's consent must be in force then" }),
    element('Bundle.entry', { min: 1 }),
    element('Bundle.entry.fullUrl', { min: 1, short: 'urn:uuid: of the entry; references join on it' }),
  ],
});
