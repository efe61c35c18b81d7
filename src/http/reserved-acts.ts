/**
 * Acts on a plan that belong to its principals, not to every party admitted to it (DESIGN §7: an
 * organisation "sees and changes" a plan where it is a principal or a consented participant — but
 * some changes are one party's own act, and another party recording them would speak for it):
 *
 * - **Approving a principal's part** is that principal's act: "Each principal approves its own part"
 *   (GLOSSARY, godkänd / delvis godkänd); in the seed, primary care's doctor approves primary care's
 *   part and the municipality's documenter the municipality's (seed 000: "… till läkaren som då
 *   godkänner primärvårdens del", "… godkänner den som dokumenterat kommunens del"). An approval for
 *   principal P is recorded by P or a unit of P. A principal the adapter can match no caller to (one
 *   recorded by name alone, with no HSA-id or organisationsnummer of its own or its units', see
 *   `isMatchable`) has no caller of its own: its approval is recorded by the plan's other principal,
 *   naming the professional who approved.
 * - **Recording a consent** is the principals': they hold the dialogue with the person about what is
 *   shared and with whom (seed 001 §4.2, "Dialog förs med den enskilde om vilken typ av uppgifter …
 *   och till vem"). A consent decides who else reads the plan and what they read, so an other actor
 *   recording one could widen its own reading; it may not, nor replace the consents in a whole-plan
 *   write. A **withdrawal** is not reserved: the person "har när som helst rätt att dra tillbaka sitt
 *   samtycke" (seed 001 §4.2), to whoever they tell, and a withdrawal only narrows.
 * - **Closing the plan** is the principals': the coordinator appointed among them ends the process and
 *   tells everyone (seed 001 §4.7, "Utsedd ansvarig för SIP-processen ansvarar även för att informera
 *   alla om att SIP-processen är avslutad").
 * - **An invitee's answer to a summons** is the invitee's, or is recorded by the principals, who sent
 *   the summons: "De kallade/inbjudna ska meddela vem som kommer delta på SIP-mötet. Vid förhinder ska
 *   en ersättare utses" (seed 001 §4.4); the summoned party "kontaktar den som skickat kallelsen …
 *   och meddelar därefter vem … som kommer att delta" (seed 001 §3.5). An other actor records its own
 *   answer and its professionals', not another invitee's — neither on the answer route nor in a
 *   whole-plan write.
 * - **Initiating the plan** is the principals': the professional "inom kommun eller hälso- och
 *   sjukvård" who finds the need initiates it, while "andra aktörer kan också föreslå att SIP
 *   upprättas" (seed 001 §4.1) — an other actor proposes, and does not record a new plan.
 *
 * A caller judged without an organisation (authentication disabled) names no party, and no act is
 * refused to it.
 */
import canonicalize from 'canonicalize';
import type { Invitee, SipPlan } from '../sip/index.js';
import { isMatchable, type AccessRole } from './auth/access.js';
import { narrowedPlan, readsNarrowed } from './narrowing.js';
import { HttpError } from './problem.js';

/** A caller admitted to a plan: as whom, and the principals whose acts it may record (none named: authentication is off). */
export interface Admission {
  readonly allowed: true;
  readonly role?: AccessRole;
  readonly principals?: readonly string[];
  /** The party of the plan the caller was admitted as (src/http/auth/access.ts), when it names one. */
  readonly partyId?: string;
}

export type ReservedAct =
  | { readonly kind: 'approve'; readonly principal: string }
  | { readonly kind: 'recordConsent' }
  | { readonly kind: 'close' }
  | { readonly kind: 'replaceConsents' }
  | { readonly kind: 'create' }
  | { readonly kind: 'answer'; readonly party: string };

const WHAT: Readonly<Record<ReservedAct['kind'], string>> = {
  approve: 'approve',
  recordConsent: 'record a consent in',
  close: 'close',
  replaceConsents: 'change the consents of',
  create: 'record',
  answer: 'record this answer to a summons in',
};

/**
 * Whether `party` (an invitee's) is the caller's own: the party it was admitted as, or a professional
 * acting for that party.
 */
function isOwnParty(plan: SipPlan, partyId: string | undefined, party: string): boolean {
  if (partyId === undefined) return false;
  return party === partyId || plan.professionals.some((professional) => professional.id === party && professional.organization === partyId);
}

/**
 * Why the admitted caller may not do `act` on `plan` (a sentence for the 403), or undefined when it
 * may.
 */
export function reservedActRefusal(plan: SipPlan, admission: Admission, act: ReservedAct): string | undefined {
  const { principals } = admission;
  if (principals === undefined) return undefined;
  if (act.kind === 'answer') {
    if (principals.length > 0 || isOwnParty(plan, admission.partyId, act.party)) return undefined;
    return `an other actor records its own answer and its professionals', not that of invitee "${act.party}"; a principal, who sent the summons, records the others'`;
  }
  if (act.kind !== 'approve') {
    if (principals.length > 0) return undefined;
    return act.kind === 'recordConsent' || act.kind === 'replaceConsents'
      ? 'only a principal of the plan or a unit of one may; an other actor may record a withdrawal'
      : 'only a principal of the plan or a unit of one may; an other actor may not';
  }
  if (principals.includes(act.principal)) return undefined;
  const approved = plan.principals.find((principal) => principal.id === act.principal);
  // An unknown principal is the transition's own refusal (422), named there.
  if (approved === undefined) return undefined;
  if (!isMatchable(approved) && principals.length > 0) return undefined;
  return `the part of principal "${act.principal}" is approved by that principal or a unit of it, not by another party of plan "${plan.id}"`;
}

/** {@link reservedActRefusal} as the 403 that refuses the act; nothing is recorded. */
export function assertMayAct(plan: SipPlan, admission: Admission, act: ReservedAct, organization: string): void {
  const refusal = reservedActRefusal(plan, admission, act);
  if (refusal !== undefined) throw new HttpError(403, 'Forbidden', `Organisation ${organization} may not ${WHAT[act.kind]} plan "${plan.id}": ${refusal}. Nothing was recorded`);
}

/**
 * The 403 that refuses a new plan to an other actor: it proposes a plan and does not initiate one.
 * The approvals a new plan carries are recorded as they come (a region's EHR sends the plan with the
 * municipality's approval when the adapter first meets it): they are facts of the plan, each naming
 * the professional who approved, not acts of the caller; a plan the adapter holds is approved only
 * through the approval route, and a whole-plan write never changes its approvals (`revisePlan`).
 */
export function assertMayCreate(plan: SipPlan, admission: Admission, organization: string): void {
  assertMayAct(plan, admission, { kind: 'create' }, organization);
}

/**
 * The 403 that refuses the admitted caller a write of the whole plan over `current` at `at`, if any —
 * the one check of every path that replaces a plan whole (`PUT /sip/plans/{id}`, `POST /fhir` and
 * `POST /exchange/inbound/{mapping}` over a plan the adapter holds):
 *
 * - a party that reads the plan narrowed (src/http/narrowing.ts) would write it without what it was
 *   not shown, and recorded, that would be lost;
 * - an other actor may not change the consents ({@link sameConsents}), which decide who else reads
 *   the plan and what.
 */
export function assertMayReplaceWhole(current: SipPlan, incoming: SipPlan, admission: Admission, organization: string, at: Date): void {
  if (readsNarrowed(admission.role) && narrowedPlan(current, at) !== current) {
    throw new HttpError(
      403,
      'Forbidden',
      `Organisation ${organization} reads plan "${current.id}" without what the person’s consent excludes, so it may not replace the plan whole; a principal of the plan records the change. Nothing was recorded`,
    );
  }
  if (!sameConsents(current, incoming)) assertMayAct(current, admission, { kind: 'replaceConsents' }, organization);
  for (const party of changedAnswers(current, incoming)) assertMayAct(current, admission, { kind: 'answer', party }, organization);
}

/** An invitee's answer (response, when, substitute) as one comparable text; an invitee not in `plan` has not answered. */
function answerText(invitee: Invitee | undefined): string {
  if (invitee === undefined) return canonicalize({ response: 'noResponse' }) ?? '';
  const { response, respondedAt, substitute } = invitee;
  return canonicalize({ response, respondedAt, substitute }) ?? '';
}

/**
 * The invitees whose answer `incoming` records differently from `current`, by meeting and party: an
 * answer changed, or one given for an invitee `current` does not have.
 */
export function changedAnswers(current: SipPlan, incoming: SipPlan): string[] {
  const before = new Map<string, Invitee>();
  for (const meeting of current.meetings) for (const invitee of meeting.summons?.invitees ?? []) before.set(`${meeting.id}\u0000${invitee.party}`, invitee);
  const changed = new Set<string>();
  for (const meeting of incoming.meetings) {
    for (const invitee of meeting.summons?.invitees ?? []) {
      if (answerText(invitee) !== answerText(before.get(`${meeting.id}\u0000${invitee.party}`))) changed.add(invitee.party);
    }
  }
  return [...changed];
}

/**
 * Whether a whole-plan write leaves the consents as they are: the same consents in the same order,
 * compared as RFC 8785 canonical JSON (member order does not matter; FHIR carries a consent whole,
 * so one read from a Bundle compares equal to the one it was written from).
 */
export function sameConsents(current: SipPlan, incoming: SipPlan): boolean {
  return canonicalize(current.consents) === canonicalize(incoming.consents);
}
