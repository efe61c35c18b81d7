/**
 * A short Swedish narrative for every resource the adapter writes but the CarePlan (narrative.ts):
 * receiving record systems show `text` for resources they do not model, so each one says in plain
 * words what it records (https://hl7.org/fhir/R4/narrative.html, dom-6).
 *
 * Each function is pure and gives one XHTML `div` in the XHTML namespace, with only basic elements
 * and every text escaped. For a person with protected identity no narrative holds an address, a phone
 * number or the text of a meeting place: people and organisations are named, never their contact
 * details, and a place is the neutral PROTECTED_LOCATION_TEXT.
 */
import type { Approval, Consent, Decision, Deviation, Goal, Intervention, Invitee, Meeting, OtherActor, OwnAccount, Principal, Professional, RelatedPerson, SipPlan, Unit } from '../../sip/index.js';
import { citeStatute, consentStateAt } from '../../sip/index.js';
import {
  APPROVAL_WITHDRAWAL_REASON,
  CONSENT_FORM,
  DEVIATION_CATEGORY,
  INFORMATION_CLASS,
  MEETING_KIND,
  ORGANIZATION_TYPE,
  PARTICIPANT_ROLE,
  RELATED_PERSON_ROLE,
  swedishDisplay,
} from '../code-systems.js';
import type { WriteContext } from './context.js';
import { INDIVIDUAL, displayOf } from './context.js';
import { escapeXml, narrativeDiv, paragraph, swedishDate, swedishDateTime, swedishTimeRange } from './narrative.js';

/** The resource's `text`: generated from the plan, never written by hand. */
export function generatedText(div: string): { status: 'generated'; div: string } {
  return { status: 'generated', div };
}

const PLAN = 'den samordnade individuella planen';

function personName(name: { given: string; family: string }): string {
  return `${name.given} ${name.family}`;
}

/** The name of the person or organisation `id` stands for; the individual by full name. */
function nameOf(plan: SipPlan, id: string): string {
  return id === INDIVIDUAL ? personName(plan.individual.name) : (displayOf(plan, id) ?? id);
}

/** `A`, `A och B`, `A, B och C`. */
function swedishList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} och ${items[items.length - 1] ?? ''}`;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function list(items: readonly string[]): string {
  return `<ul>${items.map((item) => `<li>${escapeXml(item)}</li>`).join('')}</ul>`;
}

function labelledList(label: string, items: readonly string[]): string {
  return `${paragraph(label)}${list(items)}`;
}

function heading(text: string): string {
  return `<h3>${escapeXml(text)}</h3>`;
}

/** A related person's role in words: `närstående (syster)`, `vårdnadshavare`, `god man`. */
function relatedRole(person: RelatedPerson): string {
  if (person.kind === 'relative') return `närstående (${person.relationship})`;
  return lowerFirst(swedishDisplay(RELATED_PERSON_ROLE, person.kind === 'representative' ? person.representativeKind : person.kind));
}

function professionalLine(plan: SipPlan, professional: Professional): string {
  const title = professional.title === undefined ? '' : `, ${professional.title}`;
  return `${personName(professional.name)}${title}, ${nameOf(plan, professional.organization)}`;
}

/**
 * The Patient, Organization and Practitioner are shared master data (DESIGN.md §6): their narratives
 * say who they are, never anything of this plan, since another plan or the person's own record system
 * may own the same resource.
 */
export function patientNarrative({ plan, protectedIdentity }: WriteContext): string {
  return narrativeDiv([
    paragraph(`${personName(plan.individual.name)}.`),
    protectedIdentity ? paragraph('Skyddade personuppgifter: adress, telefon och var personen bor eller vistas lämnas inte ut.') : undefined,
  ]);
}

const PRINCIPAL_ROLE: Readonly<Record<Principal['kind'], string>> = {
  region: 'huvudman för hälso- och sjukvård (region)',
  municipality: 'huvudman för socialtjänst (kommun)',
};

export function principalNarrative(principal: Principal): string {
  return narrativeDiv([paragraph(`${principal.name} – ${PRINCIPAL_ROLE[principal.kind]}.`)]);
}

export function unitNarrative(principal: Principal, unit: Unit): string {
  return narrativeDiv([paragraph(`${unit.name} – verksamhet hos huvudmannen ${principal.name}.`)]);
}

export function otherActorNarrative(actor: OtherActor): string {
  return narrativeDiv([paragraph(`${actor.name} – berörd aktör: ${swedishDisplay(ORGANIZATION_TYPE, actor.kind)}.`)]);
}

export function healthcareServiceNarrative(name: string): string {
  return narrativeDiv([paragraph(`${name} – kallas som organisation till möten om ${PLAN}.`)]);
}

export function practitionerNarrative(professional: Professional): string {
  return narrativeDiv([paragraph(`${personName(professional.name)}.`)]);
}

export function practitionerRoleNarrative(plan: SipPlan, professional: Professional): string {
  const coordinator = plan.coordinator === professional.id ? ' Huvudansvarig/samordnare för planen.' : '';
  const title = professional.title === undefined ? '' : `, ${professional.title}`;
  return narrativeDiv([paragraph(`${personName(professional.name)}${title} – företräder ${nameOf(plan, professional.organization)} i planen.${coordinator}`)]);
}

export function relatedPersonNarrative(plan: SipPlan, person: RelatedPerson): string {
  const preposition = person.kind === 'relative' ? 'till' : 'för';
  return narrativeDiv([paragraph(`${personName(person.name)} – ${relatedRole(person)} ${preposition} ${personName(plan.individual.name)}.`)]);
}

export function careTeamNarrative(plan: SipPlan): string {
  const role = (code: string) => lowerFirst(swedishDisplay(PARTICIPANT_ROLE, code));
  const members = [
    `${personName(plan.individual.name)} – ${role('individual')}`,
    ...plan.principals.map((principal) => `${principal.name} – ${role('principal')}`),
    ...plan.otherActors.map((actor) => `${actor.name} – ${role('otherActor')}`),
    ...plan.professionals.map(
      (professional) => `${professionalLine(plan, professional)} – ${[role('professional'), ...(plan.coordinator === professional.id ? [role('coordinator')] : [])].join(', ')}`,
    ),
    ...plan.relatedPersons.map((person) => `${personName(person.name)} – ${relatedRole(person)}`),
  ];
  return narrativeDiv([
    paragraph(`Deltagare i ${PLAN} för ${personName(plan.individual.name)}.${plan.closure === undefined ? '' : ' Planen är avslutad.'}`),
    list(members),
    plan.overallResponsiblePrincipal === undefined ? undefined : paragraph(`Övergripande ansvar: ${nameOf(plan, plan.overallResponsiblePrincipal)}.`),
  ]);
}

const GOAL_STATUS: Readonly<Record<Goal['status'], string>> = {
  active: 'Målet är aktivt.',
  achieved: 'Målet är uppnått.',
  notAchieved: 'Målet uppnåddes inte.',
  cancelled: 'Målet är avbrutet.',
};

export function goalNarrative(plan: SipPlan, goal: Goal): string {
  const replacedBy = plan.goals.filter((candidate) => candidate.replaces === goal.id).map((successor) => successor.description);
  return narrativeDiv([
    paragraph(`Mål: ${goal.description}`),
    paragraph(
      [GOAL_STATUS[goal.status], `Uttryckt av ${nameOf(plan, goal.expressedBy)}.`, ...(goal.targetDate === undefined ? [] : [`Måldatum: ${swedishDate(goal.targetDate)}.`])].join(' '),
    ),
    ...replacedBy.map((description) => paragraph(`Ersatt av målet: ${description}`)),
  ]);
}

const CONSENT_STATE_TEXT: Readonly<Record<ReturnType<typeof consentStateAt>, string>> = {
  inForce: 'Samtycket gäller när planen skickas.',
  notYetValid: 'Samtycket gäller ännu inte när planen skickas.',
  expired: 'Samtycket har gått ut och gäller inte längre.',
  withdrawn: 'Samtycket är återkallat och gäller inte längre.',
};

export function consentNarrative(context: WriteContext, consent: Consent): string {
  const { plan } = context;
  const { withdrawal, childView } = consent;
  const givers = swedishList(consent.givers.map((giver) => nameOf(plan, giver)));
  const excludedInformation = consent.excludedInformation.map(
    (excluded) => `${swedishDisplay(INFORMATION_CLASS, excluded.class)}${excluded.description === undefined ? '' : ` – ${excluded.description}`}`,
  );
  const documented = [
    consent.documentedBy === undefined ? '' : ` av ${nameOf(plan, consent.documentedBy)}`,
    consent.documentedIn === undefined ? '' : ` i ${consent.documentedIn}`,
  ].join('');
  return narrativeDiv([
    paragraph(`Samtycke till ${PLAN}, lämnat ${lowerFirst(swedishDisplay(CONSENT_FORM, consent.form))} av ${givers} den ${swedishDate(consent.givenAt)}.`),
    consent.planId === plan.id ? undefined : paragraph(`Samtycket avser en annan plan (${consent.planId}).`),
    paragraph(`Gäller från ${swedishDate(consent.givenAt)} till och med ${swedishDate(consent.validUntil)}.`),
    consent.coveredActors.length === 0
      ? paragraph('Samtycket anger ingen som information får lämnas till.')
      : labelledList('Information får lämnas till:', consent.coveredActors.map((actor) => nameOf(plan, actor))),
    excludedInformation.length === 0 ? undefined : labelledList('Undantagen information:', excludedInformation),
    consent.excludedParties.length === 0 ? undefined : labelledList('Information får inte lämnas till:', consent.excludedParties.map((party) => nameOf(plan, party))),
    childView?.view === undefined ? undefined : paragraph(`Barnets egen syn: ${childView.view}`),
    childView?.notAskedReason === undefined ? undefined : paragraph(`Barnet tillfrågades inte: ${childView.notAskedReason}`),
    documented === '' ? undefined : paragraph(`Dokumenterat${documented}.`),
    withdrawal === undefined
      ? undefined
      : paragraph(
          [
            `Återkallat den ${swedishDateTime(withdrawal.withdrawnAt)} av ${nameOf(plan, withdrawal.withdrawnBy)}.`,
            ...(withdrawal.recordedBy === undefined ? [] : [`Registrerat av ${nameOf(plan, withdrawal.recordedBy)}.`]),
            ...(withdrawal.note === undefined ? [] : [withdrawal.note]),
          ].join(' '),
        ),
    paragraph(CONSENT_STATE_TEXT[consentStateAt(consent, context.at)]),
  ]);
}

const MEETING_STATUS: Readonly<Record<Meeting['status'], string>> = {
  planned: 'Mötet är planerat.',
  summoned: 'Kallelsen är skickad.',
  held: 'Mötet är genomfört.',
  cancelled: 'Mötet är inställt.',
};

const RESPONSE: Readonly<Record<Invitee['response'], string>> = {
  accepted: 'kommer',
  declined: 'kommer inte',
  tentative: 'kanske',
  noResponse: 'har inte svarat',
};

const MEETING_ROLE_TEXT = [
  ['meetingLeader', 'Mötesledare'],
  ['secretary', 'Sekreterare'],
  ['contactPersonAfterMeeting', 'Kontaktperson efter mötet'],
] as const;

function inviteeLine(plan: SipPlan, invitee: Invitee): string {
  const substitute = invitee.substitute === undefined ? '' : `; ersätts av ${nameOf(plan, invitee.substitute)}`;
  return `${nameOf(plan, invitee.party)}${invitee.required ? '' : ' (behöver inte delta)'} – ${RESPONSE[invitee.response]}${substitute}`;
}

/**
 * The meeting and its summons in plain words: what, when, where, who summons, who is invited and how
 * they answered, interpreter and other needs. `place` is the place as the Location names it, so the
 * neutral text for a person with protected identity; the convener's phone and e-mail are then left
 * out too.
 */
export function appointmentNarrative(context: WriteContext, meeting: Meeting, place: string | undefined): string {
  const { plan, protectedIdentity } = context;
  const { summons } = meeting;
  const kind = swedishDisplay(MEETING_KIND, meeting.kind);
  const roles = MEETING_ROLE_TEXT.flatMap(([role, label]) => {
    const party = meeting[role];
    return party === undefined ? [] : [`${label}: ${nameOf(plan, party)}.`];
  });
  if (summons === undefined) {
    return narrativeDiv([
      heading(kind),
      paragraph(`Gäller ${personName(plan.individual.name)}. ${MEETING_STATUS[meeting.status]} Ingen kallelse är skickad ännu.`),
      roles.length === 0 ? undefined : paragraph(roles.join(' ')),
    ]);
  }
  const where = [
    ...(place === undefined ? [] : [place]),
    ...(summons.digitalMeetingUrl === undefined ? [] : [`digitalt möte (${summons.digitalMeetingUrl})`]),
  ];
  const contact = summons.contact;
  const contactDetails = contact === undefined || protectedIdentity ? [] : [contact.phone, contact.email].filter((detail) => detail !== undefined);
  return narrativeDiv([
    heading(`Kallelse till ${lowerFirst(kind)}`),
    paragraph(`Gäller ${personName(plan.individual.name)}. ${MEETING_STATUS[meeting.status]}`),
    paragraph(`När: ${swedishTimeRange(summons.start, summons.end)}.`),
    paragraph(where.length === 0 ? 'Var: meddelas av den som kallar.' : `Var: ${where.join('; ')}.`),
    paragraph(`Kallas av ${nameOf(plan, summons.sentBy)} den ${swedishDate(summons.sentAt)}.`),
    contact === undefined ? undefined : paragraph(`Kontaktperson: ${[contact.name, ...contactDetails].join(', ')}.`),
    paragraph(`Dagordning: ${summons.agenda}`),
    summons.invitees.length === 0 ? undefined : labelledList('Kallade:', summons.invitees.map((invitee) => inviteeLine(plan, invitee))),
    roles.length === 0 ? undefined : paragraph(roles.join(' ')),
    summons.interpreter === undefined ? undefined : paragraph(`Tolk behövs: ${summons.interpreter.language}.`),
    summons.otherNeeds === undefined ? undefined : paragraph(`Andra behov: ${summons.otherNeeds}`),
  ]);
}

/** The meeting place: the Location's own name, which is already the neutral text under protected identity. */
export function locationNarrative(meeting: Meeting, name: string): string {
  const day = meeting.summons === undefined ? '' : ` den ${swedishDate(meeting.summons.start)}`;
  return narrativeDiv([paragraph(`Plats för ${lowerFirst(swedishDisplay(MEETING_KIND, meeting.kind))}${day}: ${name}.`)]);
}

export interface OwnAccountItem {
  readonly text: string;
  readonly answer: string;
}

/** The person's own account: the request form's questions as headings, the person's words below. */
export function ownAccountNarrative(plan: SipPlan, account: OwnAccount, formTitle: string, items: readonly OwnAccountItem[]): string {
  const submitted = account.submittedAt === undefined ? '' : `, lämnad den ${swedishDate(account.submittedAt)}`;
  return narrativeDiv([
    heading(formTitle),
    paragraph(`Egen beskrivning av ${personName(plan.individual.name)}${submitted}.`),
    ...items.map(({ text, answer }) => `<h4>${escapeXml(text)}</h4>${paragraph(answer)}`),
  ]);
}

const DEVIATION_STATUS_TEXT: Readonly<Record<Deviation['status'], string>> = {
  open: 'öppen',
  underInvestigation: 'under utredning',
  closed: 'avslutad',
};

export function deviationNarrative(plan: SipPlan, deviation: Deviation): string {
  const interim = [
    ...(deviation.interimResponsibility === undefined ? [] : [`Tillfällig ansvarsfördelning: ${deviation.interimResponsibility}`]),
    ...(deviation.interimResponsiblePrincipal === undefined ? [] : [`Tillfälligt ansvarig huvudman: ${nameOf(plan, deviation.interimResponsiblePrincipal)}.`]),
  ];
  return narrativeDiv([
    paragraph(`Avvikelse: ${swedishDisplay(DEVIATION_CATEGORY, deviation.category)}.`),
    paragraph(deviation.description),
    paragraph(`Gäller ${nameOf(plan, deviation.concerns)}. Rapporterad den ${swedishDate(deviation.reportedAt)} av ${nameOf(plan, deviation.reportedBy)}. Status: ${DEVIATION_STATUS_TEXT[deviation.status]}.`),
    interim.length === 0 ? undefined : paragraph(interim.join(' ')),
  ]);
}

/** The principal's approval of the current version: asked for, and given by whom if it is in force. */
export function approvalTaskNarrative(plan: SipPlan, principal: Principal, inForce: Approval | undefined): string {
  const version = String(plan.version);
  const status =
    inForce === undefined
      ? 'Status: inte godkänd.'
      : `Status: godkänd av ${nameOf(plan, inForce.approvedBy)} den ${swedishDate(inForce.approvedAt)}${
          inForce.version === plan.version ? '' : ` (version ${String(inForce.version)}; delen är oförändrad sedan dess)`
        }.`;
  return narrativeDiv([paragraph(`Huvudmannen ${principal.name} ska godkänna sin del av ${PLAN}, version ${version}.`), paragraph(status)]);
}

/** One approval given: who, which version, for which principal, and its withdrawal if so. */
export function approvalProvenanceNarrative(plan: SipPlan, approval: Approval): string {
  const { withdrawn } = approval;
  return narrativeDiv([
    paragraph(
      `${nameOf(plan, approval.approvedBy)} godkände version ${String(approval.version)} av ${PLAN} för ${nameOf(plan, approval.principal)} den ${swedishDateTime(approval.approvedAt)}.`,
    ),
    withdrawn === undefined
      ? undefined
      : paragraph(`Godkännandet återkallades den ${swedishDateTime(withdrawn.at)}: ${lowerFirst(swedishDisplay(APPROVAL_WITHDRAWAL_REASON, withdrawn.reason))}.`),
  ]);
}

/** A municipal decision: what it concerns, granted or refused under which provision, when and by whom, and its scope. */
export function decisionNarrative(plan: SipPlan, intervention: Intervention, decision: Decision): string {
  const outcome = decision.outcome === 'granted' ? 'Beviljat (bifall)' : 'Avslag';
  const decided = `Beslutat den ${swedishDateTime(decision.decidedAt)}${decision.decidedBy === undefined ? '' : ` av ${nameOf(plan, decision.decidedBy)}`}.`;
  const scope = decision.scope;
  const scopeText = [
    ...(scope?.text === undefined ? [] : [scope.text]),
    ...(scope?.hours === undefined ? [] : [`${String(scope.hours)} timmar per ${scope.per === 'week' ? 'vecka' : 'månad'}`]),
  ];
  const validity = [
    decision.validFrom === undefined ? '' : `från ${swedishDate(decision.validFrom)}`,
    decision.validTo === undefined ? '' : `till ${swedishDate(decision.validTo)}`,
  ].filter((part) => part !== '');
  return narrativeDiv([
    paragraph(`Beslut om ${lowerFirst(decision.concerns.text)}, för insatsen: ${intervention.description}`),
    paragraph(`${outcome} enligt ${citeStatute(decision.statute)}. ${decided}${decision.status === 'overturned' ? ' Beslutet är upphävt.' : ''}`),
    decision.reasoning === undefined ? undefined : paragraph(`Motivering: ${decision.reasoning}`),
    scopeText.length === 0 ? undefined : paragraph(`Omfattning: ${scopeText.join(', ')}.`),
    validity.length === 0 ? undefined : paragraph(`Gäller ${validity.join(' ')}.`),
    decision.provider === undefined ? undefined : paragraph(`Utförare: ${nameOf(plan, decision.provider)}.`),
  ]);
}
