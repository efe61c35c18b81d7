/**
 * FHIR → SIP: reads a Bundle (transaction, collection, searchset, document or batch) back into one
 * SIP plan. The Bundle need not come from this adapter: references may be `urn:uuid`, relative or
 * absolute, and what the SIP model has no place for is reported, never dropped silently.
 */
import type { Bundle, CarePlan, CareTeam, FhirResource, Goal, OperationOutcome, OperationOutcomeIssue, Patient } from 'fhir/r4.js';
import type { SipPlan, SipPlanInput } from '../../sip/index.js';
import { safeParsePlan, zodIssuesToProblems } from '../../sip/index.js';
import { EXTENSION, IDENTIFIER_SYSTEM, codeSystemUrl } from '../canonical.js';
import { PARTICIPANT_ROLE, SIP_CATEGORY } from '../code-systems.js';
import { translateToOwn } from '../concept-maps.js';
import type { IndexedEntry } from './bundle-index.js';
import { BundleIndex } from './bundle-index.js';
import { readApproval, readClosure, readConsent, readDeviation, readDischarge, readGoal, readIntervention, readMeeting, readOwnAccount } from './read-activities.js';
import { LOCAL_ID, ReadContext, extensionOf, extensionsOf, hasCode, partOf } from './read-context.js';
import { partyOf, readCareTeamParties, readParties } from './read-parties.js';

export type FhirReadResult =
  | { readonly ok: true; readonly plan: SipPlan; readonly outcome: OperationOutcome }
  | { readonly ok: false; readonly outcome: OperationOutcome };

const BUNDLE_TYPES = new Set(['transaction', 'collection', 'searchset', 'document', 'batch']);

/** Elements each resource type is read from; any other element with a value is reported as not mapped. */
const MAPPED: Readonly<Partial<Record<FhirResource['resourceType'], readonly string[]>>> = {
  Patient: ['identifier', 'name', 'telecom', 'address', 'birthDate', 'communication', 'active', 'gender'],
  Organization: ['identifier', 'name', 'type', 'telecom', 'address', 'partOf', 'active'],
  HealthcareService: ['identifier', 'providedBy', 'name', 'active'],
  Practitioner: ['identifier', 'name', 'address', 'active'],
  PractitionerRole: ['identifier', 'practitioner', 'organization', 'code', 'telecom', 'active'],
  RelatedPerson: ['identifier', 'patient', 'relationship', 'name', 'telecom', 'address', 'active'],
  CareTeam: ['identifier', 'status', 'name', 'subject', 'participant', 'managingOrganization'],
  CarePlan: ['identifier', 'status', 'intent', 'category', 'title', 'subject', 'period', 'created', 'author', 'careTeam', 'supportingInfo', 'goal', 'activity', 'note'],
  Goal: ['identifier', 'lifecycleStatus', 'achievementStatus', 'description', 'subject', 'target', 'expressedBy'],
  Consent: ['identifier', 'status', 'scope', 'category', 'patient', 'policyRule', 'dateTime', 'performer', 'organization', 'verification', 'provision'],
  Appointment: ['identifier', 'status', 'serviceType', 'appointmentType', 'description', 'start', 'end', 'created', 'comment', 'supportingInformation', 'participant'],
  Location: ['identifier', 'status', 'name', 'mode'],
  QuestionnaireResponse: ['identifier', 'questionnaire', 'status', 'subject', 'authored', 'author', 'source', 'item'],
  DetectedIssue: ['identifier', 'status', 'code', 'patient', 'identifiedDateTime', 'author', 'implicated', 'detail', 'mitigation'],
  ServiceRequest: ['identifier', 'basedOn', 'status', 'intent', 'category', 'doNotPerform', 'code', 'orderDetail', 'quantityRatio', 'subject', 'occurrencePeriod', 'authoredOn', 'requester', 'performer', 'reasonCode'],
  Task: ['identifier', 'status', 'businessStatus', 'intent', 'code', 'description', 'focus', 'for', 'authoredOn', 'owner', 'input', 'relevantHistory'],
  Provenance: ['target', 'recorded', 'activity', 'agent'],
};

const KNOWN_EXTENSIONS = new Set<string>([...Object.values(EXTENSION)]);

/** Per type in {@link MAPPED}: the elements not reported as unmapped — those read, and what every resource has. Made once, not for every entry. */
const NOT_REPORTED: ReadonlyMap<string, ReadonlySet<string>> = new Map(Object.entries(MAPPED).map(([type, mapped]) => [type, new Set(['resourceType', 'id', 'meta', 'text', 'extension', ...mapped])]));

function reportUnmapped(context: ReadContext, entry: IndexedEntry): void {
  const ignored = NOT_REPORTED.get(entry.resource.resourceType);
  if (ignored === undefined) {
    context.issue('information', 'not-supported', entry.path, `A ${entry.resource.resourceType} is not part of a SIP; it is not mapped`);
    return;
  }
  for (const [element, value] of Object.entries(entry.resource)) {
    if (ignored.has(element) || value === undefined) continue;
    context.issue('warning', 'not-supported', `${entry.path}.${element}`, `${entry.resource.resourceType}.${element} has no place in the SIP model; it is not mapped`);
  }
  for (const extension of (entry.resource as { extension?: { url: string }[] }).extension ?? []) {
    if (!KNOWN_EXTENSIONS.has(extension.url)) {
      context.issue('warning', 'not-supported', `${entry.path}.extension('${extension.url}')`, `The extension ${extension.url} is not known to the SIP mapping; it is not mapped`);
    }
  }
}

function outcome(issues: readonly OperationOutcomeIssue[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.length === 0 ? [{ severity: 'information', code: 'informational', diagnostics: 'All entries were mapped' }] : [...issues],
  };
}

function failure(expression: string, diagnostics: string, code: OperationOutcomeIssue['code'] = 'structure'): FhirReadResult {
  return { ok: false, outcome: outcome([{ severity: 'error', code, diagnostics, expression: [expression] }]) };
}

/** Checks the outer shape of the parsed JSON: the one place `unknown` becomes FHIR types. */
function indexBundle(input: unknown): BundleIndex | FhirReadResult {
  if (typeof input !== 'object' || input === null || (input as { resourceType?: unknown }).resourceType !== 'Bundle') {
    return failure('Bundle', 'The input is not a FHIR Bundle (resourceType must be "Bundle")');
  }
  const bundle = input as Bundle;
  const type: unknown = (input as { type?: unknown }).type;
  if (typeof type !== 'string' || !BUNDLE_TYPES.has(type)) {
    return failure('Bundle.type', `A Bundle of type "${String(type)}" cannot hold a plan; expected transaction, collection, searchset, document or batch`, 'not-supported');
  }
  if (!Array.isArray(bundle.entry)) return failure('Bundle.entry', 'The Bundle has no entries');
  const entries: IndexedEntry[] = [];
  for (const [index, entry] of bundle.entry.entries()) {
    const resource = (entry as { resource?: unknown } | null)?.resource as FhirResource | undefined;
    if (typeof resource !== 'object' || typeof (resource as { resourceType?: unknown }).resourceType !== 'string') {
      return failure(`Bundle.entry[${String(index)}]`, 'The entry holds no resource with a resourceType');
    }
    // A searchset's OperationOutcome entries describe the search, not the plan.
    if (bundle.type === 'searchset' && entry.search?.mode === 'outcome') continue;
    entries.push({ index, fullUrl: entry.fullUrl, resource, path: `Bundle.entry[${String(index)}].resource` });
  }
  return new BundleIndex(entries);
}

function findPlan(context: ReadContext): (IndexedEntry & { resource: CarePlan }) | FhirReadResult {
  const carePlans = context.index.ofType('CarePlan');
  const sip = carePlans.filter((entry) => hasCode(entry.resource.category, codeSystemUrl(SIP_CATEGORY.id), 'sip-plan'));
  const candidates = sip.length > 0 ? sip : carePlans;
  if (candidates.length !== 1) {
    return failure('Bundle.entry.resource.ofType(CarePlan)', candidates.length === 0 ? 'The Bundle holds no CarePlan' : `The Bundle holds ${String(candidates.length)} SIP CarePlans; send one plan per Bundle`, candidates.length === 0 ? 'required' : 'business-rule');
  }
  return candidates[0] as IndexedEntry & { resource: CarePlan };
}

/**
 * Reads one SIP plan from a Bundle given as parsed JSON. Never throws: a Bundle whose resources do not
 * have FHIR's shape (validated structurally only from issue #4 on) is reported as an error issue.
 */
export function bundleToPlan(input: unknown): FhirReadResult {
  try {
    return readBundle(input);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return failure('Bundle', `The Bundle is not well-formed FHIR R4: an element has the wrong type (${error.message})`);
  }
}

function readBundle(input: unknown): FhirReadResult {
  const index = indexBundle(input);
  if (!(index instanceof BundleIndex)) return index;
  const context = new ReadContext(index);
  const planEntry = findPlan(context);
  if ('ok' in planEntry) return planEntry;
  const carePlan = planEntry.resource;
  const patient = index.resolve(carePlan.subject, planEntry);
  if (patient?.resource.resourceType !== 'Patient') {
    return failure(`${planEntry.path}.subject`, 'The CarePlan\'s subject is not a Patient in the Bundle', 'required');
  }
  context.patient = patient;
  const belongs = (reference: Parameters<BundleIndex['resolve']>[0], from: IndexedEntry) => index.resolve(reference, from) === planEntry;

  const planId =
    carePlan.identifier?.find((identifier) => identifier.system === IDENTIFIER_SYSTEM.sipPlan)?.value ??
    (carePlan.id !== undefined && LOCAL_ID.test(carePlan.id) ? carePlan.id : context.localIdOf(planEntry));
  const careTeams = (carePlan.careTeam ?? [])
    .map((reference) => index.resolve(reference, planEntry))
    .filter((entry): entry is IndexedEntry & { resource: CareTeam } => entry?.resource.resourceType === 'CareTeam');
  readCareTeamParties(context, careTeams, planId);
  const parties = readParties(context, patient as IndexedEntry & { resource: Patient });
  // Give every plan-owned resource its local id before references between them are read.
  const goals = (carePlan.goal ?? [])
    .map((goal) => index.resolve(goal, planEntry))
    .filter((entry): entry is IndexedEntry & { resource: Goal } => entry?.resource.resourceType === 'Goal');
  const supporting = (carePlan.supportingInfo ?? []).map((reference) => index.resolve(reference, planEntry));
  /** In the plan's order: as the CarePlan lists them in supportingInfo, then the others in Bundle order. */
  const inPlanOrder = <T extends IndexedEntry>(entries: readonly T[], then: (a: T, b: T) => number = () => 0): T[] => {
    const position = (entry: T): number => {
      const at = supporting.indexOf(entry);
      return at < 0 ? Number.MAX_SAFE_INTEGER : at;
    };
    return entries
      .map((entry, i) => ({ entry, i }))
      .sort((a, b) => position(a.entry) - position(b.entry) || then(a.entry, b.entry) || a.i - b.i)
      .map(({ entry }) => entry);
  };
  const meetings = inPlanOrder(
    index
      .ofType('Appointment')
      .filter(
        (entry) =>
          (entry.resource.supportingInformation ?? []).some((reference) => belongs(reference, entry)) ||
          entry.resource.participant.some((participant) => index.resolve(participant.actor, entry) === patient),
      ),
  );
  const consents = inPlanOrder(index.ofType('Consent').filter((entry) => index.resolve(entry.resource.patient, entry) === patient));
  const deviations = inPlanOrder(index.ofType('DetectedIssue').filter((entry) => supporting.includes(entry)));
  const ownAccount = index.ofType('QuestionnaireResponse').find((entry) => supporting.includes(entry));
  // A Provenance has no identifier in R4, so one a server returns may not be found from supportingInfo:
  // approvals are then in the order they were given.
  const approvals = inPlanOrder(
    index.ofType('Provenance').filter((entry) => entry.resource.target.some((reference) => belongs(reference, entry))),
    (a, b) => Date.parse(a.resource.recorded) - Date.parse(b.resource.recorded),
  );
  for (const entry of [...goals, ...meetings, ...consents, ...deviations]) context.localIdOf(entry);

  const coordinatorParticipant = careTeams
    .flatMap((entry) => (entry.resource.participant ?? []).map((participant) => ({ entry, participant })))
    .find(({ participant }) => (participant.role ?? []).some((role) => translateToOwn(PARTICIPANT_ROLE, role.coding) === 'coordinator'));
  const version = extensionOf(carePlan, EXTENSION.planVersion)?.valueInteger ?? (Number.parseInt(carePlan.meta?.versionId ?? '', 10) || 1);
  const updatedAt = extensionOf(carePlan, EXTENSION.planRecorded)?.valueDateTime ?? carePlan.meta?.lastUpdated;
  if (updatedAt === undefined) context.issue('error', 'required', `${planEntry.path}.meta.lastUpdated`, 'The CarePlan does not say when this version was recorded');
  const initiatedBy = extensionOf(carePlan, EXTENSION.initiatedBy)?.valueReference;
  if (initiatedBy === undefined) context.issue('information', 'incomplete', `${planEntry.path}.extension`, 'The CarePlan does not say who initiated the SIP; read as the individual');
  const initiatedAt = (carePlan.period?.start ?? carePlan.created)?.slice(0, 10);
  if (initiatedAt === undefined) context.issue('error', 'required', `${planEntry.path}.period.start`, 'The CarePlan has no start (period.start)');
  const where = (name: string) => `${planEntry.path}.extension('${name}')`;

  const plan: SipPlanInput = {
    id: planId,
    version,
    updatedAt: updatedAt ?? '?',
    initiatedAt: initiatedAt ?? '?',
    initiatedBy: (initiatedBy === undefined ? undefined : partyOf(context, initiatedBy, planEntry, where(EXTENSION.initiatedBy))) ?? 'individual',
    ...(() => {
      const discharge = readDischarge(context, planEntry);
      return discharge === undefined ? {} : { discharge };
    })(),
    individual: parties.individual,
    relatedPersons: parties.relatedPersons,
    ...(ownAccount === undefined ? {} : { ownAccount: readOwnAccount(context, ownAccount) }),
    principals: parties.principals,
    otherActors: parties.otherActors,
    professionals: parties.professionals,
    ...(coordinatorParticipant === undefined
      ? {}
      : { coordinator: partyOf(context, coordinatorParticipant.participant.member, coordinatorParticipant.entry, `${coordinatorParticipant.entry.path}.participant`) ?? '?' }),
    consents: consents.map((entry) => readConsent(context, entry, planId)),
    meetings: meetings.map((entry) => readMeeting(context, entry)),
    goals: goals.map((entry) => readGoal(context, entry, goals)),
    interventions: (carePlan.activity ?? []).flatMap((activity, i) => readIntervention(context, planEntry, activity, i) ?? []),
    noActionsByOthers: extensionOf(carePlan, EXTENSION.noActionsByOthers)?.valueBoolean ?? false,
    ...(carePlan.author === undefined ? {} : { overallResponsiblePrincipal: partyOf(context, carePlan.author, planEntry, `${planEntry.path}.author`) ?? '?' }),
    followUps: extensionsOf(carePlan, EXTENSION.followUp).map((followUp) => {
      const heldAt = index.resolve(partOf(followUp, 'heldAt')?.valueReference, planEntry);
      const heldAtId = heldAt === undefined ? undefined : context.knownLocalId(heldAt);
      return { date: partOf(followUp, 'date')?.valueDate ?? '?', ...(heldAtId === undefined ? {} : { heldAt: heldAtId }) };
    }),
    approvals: approvals.flatMap((entry) => readApproval(context, entry, version) ?? []),
    ...(() => {
      const closure = readClosure(context, planEntry);
      return closure === undefined ? {} : { closure };
    })(),
    deviations: deviations.map((entry) => readDeviation(context, entry)),
    ...(carePlan.note === undefined ? {} : { notes: carePlan.note.map((note) => note.text).join('\n\n') }),
  };
  // Organisations known only from references to them (their resources were not in the Bundle).
  plan.otherActors = [...parties.otherActors, ...context.keptOrganizations().map(({ id, name }) => ({ id, kind: 'other' as const, name }))];
  for (const entry of index.entries) reportUnmapped(context, entry);
  // A decision no intervention links to has nowhere to go in the SIP.
  const linkedDecisions = new Set((carePlan.activity ?? []).map((activity) => index.resolve(extensionOf(activity.detail, EXTENSION.decision)?.valueReference, planEntry)));
  for (const entry of index.ofType('ServiceRequest')) {
    if (!linkedDecisions.has(entry)) context.issue('warning', 'not-supported', entry.path, 'The ServiceRequest is not the decision of any intervention of the plan (no activity links to it); it is not mapped');
  }

  const parsed = safeParsePlan(plan);
  if (!parsed.success) {
    for (const problem of zodIssuesToProblems(parsed.error.issues)) {
      context.issue('error', 'invalid', 'Bundle', `The plan read from the Bundle is not a valid SIP at ${problem.pointer}: ${problem.message}`);
    }
  }
  const issues = context.issues;
  if (!parsed.success || issues.some((issue) => issue.severity === 'error' || issue.severity === 'fatal')) return { ok: false, outcome: outcome(issues) };
  return { ok: true, plan: parsed.data, outcome: outcome(issues) };
}
