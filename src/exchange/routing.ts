/**
 * Routing (issue #14, DESIGN.md §5): which configured receivers a new plan version is for.
 *
 * A receiver is for the plan when its organisation is a party of it — a principal, a unit of one,
 * or an other actor — matched by HSA-id or organisationsnummer as the plan records them, the way
 * the auth module matches a caller's organisation (src/http/auth/access.ts; a professional's HSA-id
 * is a person's and is never matched). The organisation that wrote the version gets nothing back.
 *
 * Routing does not judge consent: that is done at the moment of sending
 * (src/exchange/consent-at-send.ts), when a consent may have expired or been withdrawn since the
 * version was recorded. A receiver the person excluded is therefore routed, and its message is
 * withheld at sending with its reason in the audit log — so the log shows every party the version
 * concerned and why each got what it got.
 */
import { organisationsnummerOf, organisationsnummerSchema, type SipPlan } from '../sip/index.js';

/** What routing and consent need of a receiver; a connector's `Receiver` fits it. */
export interface ReceiverParty {
  readonly id: string;
  /** The receiving organisation: an HSA-id or an organisationsnummer. */
  readonly organization: string;
}

/** The role a party of the plan plays, as the auth module names it. */
export type PartyRole = 'principal' | 'unit' | 'otherActor';

/** A party of the plan an organisation is. */
export interface PlanParty {
  readonly id: string;
  readonly role: PartyRole;
}

/**
 * An organisation identifier in the form the plan records it: an organisationsnummer as
 * `NNNNNN-NNNN` (the plan's schema normalises it so), an HSA-id as written.
 */
export function normalizeOrganization(organization: string): string {
  const trimmed = organization.trim();
  if (trimmed.startsWith('SE')) return trimmed;
  const parsed = organisationsnummerSchema.safeParse(trimmed);
  return parsed.success ? parsed.data : trimmed;
}

/**
 * Every party of the plan with this organisation identifier (HSA-id or organisationsnummer), in
 * plan order: principals with their units, then other actors. Units have no organisationsnummer of
 * their own in the model, so a unit is matched by its HSA-id only.
 */
export function partiesOf(plan: SipPlan, organization: string): PlanParty[] {
  const id = normalizeOrganization(organization);
  const matches = (org: { readonly hsaId?: string | undefined; readonly organisationsnummer?: string | undefined }): boolean =>
    org.hsaId === id || org.organisationsnummer === id;
  const parties: PlanParty[] = [];
  for (const principal of plan.principals) {
    if (matches(principal)) parties.push({ id: principal.id, role: 'principal' });
    for (const unit of principal.units) if (unit.hsaId === id) parties.push({ id: unit.id, role: 'unit' });
  }
  for (const actor of plan.otherActors) if (matches(actor)) parties.push({ id: actor.id, role: 'otherActor' });
  return parties;
}

/**
 * The parties of the plan the writer of a version acts for, as the auth module let it write
 * (src/http/auth/access.ts `partiesWith`): those with its identifier; when none has it, the
 * principals and other actors recorded by the organisationsnummer its HSA-id is issued under — a
 * municipality recorded by organisationsnummer alone posts its export with an HSA-id under it, and
 * must not get its own version back. A professional's HSA-id is a person's and acts for nobody here.
 */
function writerPartiesOf(plan: SipPlan, writtenBy: string): PlanParty[] {
  const exact = partiesOf(plan, writtenBy);
  if (exact.length > 0) return exact;
  const id = normalizeOrganization(writtenBy);
  if (plan.professionals.some((professional) => professional.hsaId === id)) return [];
  const legalEntity = organisationsnummerOf(id);
  return legalEntity === undefined ? [] : partiesOf(plan, legalEntity).filter((party) => party.role !== 'unit');
}

/**
 * The receivers a plan version is routed to: those whose organisation is a party of the plan, in
 * the order given, except the organisation that wrote the version (`writtenBy`, an HSA-id or
 * organisationsnummer; undefined when no organisation of the plan wrote it, e.g. an operator). The
 * writer is recognised by the same identifier, or by being the same party of the plan under its
 * other identifier (a principal that wrote with its HSA-id and receives under its
 * organisationsnummer). Consent is not judged here (see the module's note).
 */
export function receiversFor<R extends ReceiverParty>(plan: SipPlan, receivers: readonly R[], writtenBy: string | undefined): R[] {
  const writer = writtenBy === undefined ? undefined : normalizeOrganization(writtenBy);
  const writerParties = new Set(writtenBy === undefined ? [] : writerPartiesOf(plan, writtenBy).map((party) => party.id));
  return receivers.filter((receiver) => {
    if (normalizeOrganization(receiver.organization) === writer) return false;
    const parties = partiesOf(plan, receiver.organization);
    return parties.length > 0 && !parties.some((party) => writerParties.has(party.id));
  });
}
