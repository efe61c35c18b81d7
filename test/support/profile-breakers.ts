/**
 * Broken variants of a `to-fhir` Bundle, one per SIP invariant: each edit breaks exactly the rule
 * named by `key`, so tests can check that both FHIRPath engines, and Medplum with the profiles,
 * reject it for that reason.
 */
import type { Appointment, Bundle, CarePlan, CareTeam, Consent, FhirResource, Task } from 'fhir/r4.js';
import { EXTENSION, codeSystemUrl } from '../../src/fhir/index.js';
import { shippedStructureDefinitions } from './build-profiles.js';

export interface Breaker {
  readonly key: string;
  /** The resource type the broken rule is checked on (`Bundle` for the Bundle's rules). */
  readonly on: FhirResource['resourceType'];
  readonly what: string;
  /** Edits the Bundle (a copy) in place. */
  readonly apply: (bundle: Bundle) => void;
}

/** The severity of a sip-* invariant as its profile declares it; a warning breaker sets off a warning, not an error. */
export function invariantSeverity(key: string): 'error' | 'warning' {
  const constraint = shippedStructureDefinitions().flatMap((definition) => definition.differential?.element ?? [])
    .flatMap((element) => element.constraint ?? [])
    .find((candidate) => candidate.key === key);
  if (constraint?.severity === undefined) throw new Error(`no invariant ${key}`);
  return constraint.severity;
}

function all<T extends FhirResource>(bundle: Bundle, type: T['resourceType']): T[] {
  return (bundle.entry ?? []).map((entry) => entry.resource).filter((resource): resource is T => resource?.resourceType === type);
}

function first<T extends FhirResource>(bundle: Bundle, type: T['resourceType']): T {
  const [resource] = all<T>(bundle, type);
  if (resource === undefined) throw new Error(`no ${type} in the Bundle`);
  return resource;
}

const carePlan = (bundle: Bundle): CarePlan => first<CarePlan>(bundle, 'CarePlan');
const consent = (bundle: Bundle): Consent => first<Consent>(bundle, 'Consent');
const appointment = (bundle: Bundle): Appointment => first<Appointment>(bundle, 'Appointment');
const task = (bundle: Bundle): Task => first<Task>(bundle, 'Task');

function principalUrl(bundle: Bundle, kind: 'region' | 'municipality'): string {
  const entry = (bundle.entry ?? []).find(
    (candidate) =>
      candidate.resource?.resourceType === 'Organization' &&
      candidate.resource.type?.some((type) => type.coding?.some((coding) => coding.system === codeSystemUrl('sip-organization-type') && coding.code === kind)),
  );
  if (entry?.fullUrl === undefined) throw new Error(`no ${kind} in the Bundle`);
  return entry.fullUrl;
}

/** The calendar day after `yyyy-mm-dd`. */
function dayAfter(date: string): string {
  return new Date(Date.parse(`${date.slice(0, 10)}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** A consent's root provision, which the consent rules of the Bundle look at. */
function rootProvision(bundle: Bundle): NonNullable<Consent['provision']> {
  const root = consent(bundle).provision;
  if (root === undefined) throw new Error('no root provision');
  return root;
}

/** A booked meeting with nothing else changed. */
function booked(bundle: Bundle): Appointment {
  const meeting = appointment(bundle);
  meeting.status = 'booked';
  return meeting;
}

export const BREAKERS: readonly Breaker[] = [
  { key: 'sip-cpl-1', on: 'CarePlan', what: 'no SIP category', apply: (b) => { carePlan(b).category = [{ text: 'plan' }]; } },
  { key: 'sip-cpl-2', on: 'CarePlan', what: 'active without author', apply: (b) => { delete carePlan(b).author; } },
  { key: 'sip-cpl-3', on: 'CarePlan', what: 'active without goals', apply: (b) => { delete carePlan(b).goal; } },
  {
    key: 'sip-cpl-4',
    on: 'CarePlan',
    what: 'active without follow-up',
    apply: (b) => { const plan = carePlan(b); plan.extension = plan.extension?.filter((extension) => extension.url !== EXTENSION.followUp); },
  },
  { key: 'sip-cpl-5', on: 'CarePlan', what: 'active without care team', apply: (b) => { delete carePlan(b).careTeam; } },
  { key: 'sip-cpl-6', on: 'CarePlan', what: 'active without interventions', apply: (b) => { delete carePlan(b).activity; } },
  {
    key: 'sip-cpl-7',
    on: 'CarePlan',
    what: 'discharge into öppen psykiatrisk tvångsvård (LPT), a warning',
    apply: (b) => {
      const plan = carePlan(b);
      plan.extension = [
        ...(plan.extension ?? []),
        {
          url: EXTENSION.discharge,
          extension: [
            { url: 'from', valueCoding: { system: codeSystemUrl('sip-inpatient-care'), code: 'psychiatricInpatientCare' } },
            { url: 'compulsoryCare', valueCoding: { system: codeSystemUrl('sip-compulsory-care'), code: 'LPT' } },
          ],
        },
      ];
    },
  },
  {
    key: 'sip-ctm-1',
    on: 'CareTeam',
    what: 'two coordinators',
    apply: (b) => {
      const team = first<CareTeam>(b, 'CareTeam');
      for (const participant of team.participant ?? []) participant.role = [{ coding: [{ system: codeSystemUrl('sip-participant-role'), code: 'coordinator' }] }];
    },
  },
  { key: 'sip-con-1', on: 'Consent', what: 'no patient', apply: (b) => { delete (consent(b) as Partial<Consent>).patient; } },
  { key: 'sip-con-2', on: 'Consent', what: 'root provision denies', apply: (b) => { const root = consent(b).provision; if (root) root.type = 'deny'; } },
  {
    key: 'sip-con-3',
    on: 'Consent',
    what: 'period of a year and a day',
    apply: (b) => {
      const period = consent(b).provision?.period;
      if (period?.start === undefined) throw new Error('no consent period');
      period.end = `${String(Number(period.start.slice(0, 4)) + 1)}${period.start.slice(4, 10)}`.replace(/(\d\d)$/, (day) => String(Number(day) + 1).padStart(2, '0'));
    },
  },
  {
    key: 'sip-con-4',
    on: 'Consent',
    what: 'an exclusion that permits',
    apply: (b) => { const root = consent(b).provision; if (root) root.provision = [{ type: 'permit' }]; },
  },
  { key: 'sip-con-5', on: 'Consent', what: 'nobody agreed', apply: (b) => { delete consent(b).performer; } },
  { key: 'sip-con-6', on: 'Consent', what: 'general consent (no SIP named)', apply: (b) => { const root = consent(b).provision; if (root) delete root.data; } },
  {
    key: 'sip-con-7',
    on: 'Consent',
    what: 'oral consent without verification',
    apply: (b) => {
      const given = consent(b);
      for (const part of given.extension?.find((extension) => extension.url === EXTENSION.consentRecording)?.extension ?? []) {
        if (part.url === 'form') part.valueCoding = { system: codeSystemUrl('sip-consent-form'), code: 'oral' };
      }
      delete given.verification;
    },
  },
  { key: 'sip-con-8', on: 'Consent', what: 'no SIP consent category', apply: (b) => { consent(b).category = [{ text: 'consent' }]; } },
  { key: 'sip-app-1', on: 'Appointment', what: 'booked without agenda', apply: (b) => { delete booked(b).description; } },
  {
    key: 'sip-app-2',
    on: 'Appointment',
    what: 'booked without place or link',
    apply: (b) => {
      const meeting = booked(b);
      meeting.participant = meeting.participant.filter((participant) => participant.actor?.type !== 'Location');
      meeting.extension = meeting.extension?.filter((extension) => extension.url !== EXTENSION.virtualService);
    },
  },
  {
    key: 'sip-tsk-1',
    on: 'Task',
    what: 'approval of no particular version',
    apply: (b) => { const approval = task(b); approval.extension = approval.extension?.filter((extension) => extension.url !== EXTENSION.planVersion); },
  },
  { key: 'sip-tsk-2', on: 'Task', what: 'approval owned by nobody', apply: (b) => { delete task(b).owner; } },
  { key: 'sip-dec-1', on: 'ServiceRequest', what: 'a decision without the SIP category', apply: (b) => { delete first<FhirResource & { resourceType: 'ServiceRequest' }>(b, 'ServiceRequest').category; } },
  { key: 'sip-dec-2', on: 'ServiceRequest', what: 'a decision without its decision time', apply: (b) => { delete first<FhirResource & { resourceType: 'ServiceRequest' }>(b, 'ServiceRequest').authoredOn; } },
  { key: 'sip-dec-3', on: 'ServiceRequest', what: 'a decision on hold', apply: (b) => { first<FhirResource & { resourceType: 'ServiceRequest' }>(b, 'ServiceRequest').status = 'on-hold'; } },
  { key: 'sip-gol-1', on: 'Goal', what: 'goal as a code only', apply: (b) => { first<FhirResource & { resourceType: 'Goal' }>(b, 'Goal').description = { coding: [{ code: 'x' }] }; } },
  { key: 'sip-pat-1', on: 'Patient', what: 'an unidentified person', apply: (b) => { delete first<FhirResource & { resourceType: 'Patient' }>(b, 'Patient').identifier; } },
  {
    key: 'sip-pat-2',
    on: 'Patient',
    what: 'protected identity with an address',
    apply: (b) => {
      const patient = first<FhirResource & { resourceType: 'Patient' }>(b, 'Patient');
      patient.meta = { ...patient.meta, security: [{ system: 'http://hl7.se/fhir/ig/base/CodeSystem/SecurityLabel', code: 'skyddadFolkbokforing' }] };
      patient.address = [{ city: 'Falun' }];
    },
  },
  { key: 'sip-bdl-1', on: 'Bundle', what: 'a batch', apply: (b) => { b.type = 'batch'; } },
  { key: 'sip-bdl-2', on: 'Bundle', what: 'no CarePlan', apply: (b) => { b.entry = b.entry?.filter((entry) => entry.resource?.resourceType !== 'CarePlan'); } },
  {
    key: 'sip-bdl-3',
    on: 'Bundle',
    what: 'every intervention the region’s',
    apply: (b) => {
      const region = principalUrl(b, 'region');
      for (const activity of carePlan(b).activity ?? []) {
        const [, ...others] = activity.detail?.performer ?? [];
        if (activity.detail) activity.detail.performer = [{ reference: region, type: 'Organization' }, ...others];
      }
    },
  },
  {
    key: 'sip-bdl-4',
    on: 'Bundle',
    what: 'no coordinator',
    apply: (b) => {
      for (const participant of first<CareTeam>(b, 'CareTeam').participant ?? []) {
        participant.role = participant.role?.filter((role) => !role.coding?.some((coding) => coding.code === 'coordinator'));
      }
    },
  },
  {
    key: 'sip-bdl-5',
    on: 'Bundle',
    what: 'the person as overall responsible',
    apply: (b) => { const plan = carePlan(b); plan.author = { reference: plan.subject.reference ?? '' }; },
  },
  { key: 'sip-bdl-6', on: 'Bundle', what: 'no consent', apply: (b) => { b.entry = b.entry?.filter((entry) => entry.resource?.resourceType !== 'Consent'); } },
  {
    key: 'sip-bdl-7',
    on: 'Bundle',
    what: 'sent the day after the consent expired',
    apply: (b) => {
      const end = rootProvision(b).period?.end;
      if (end === undefined) throw new Error('no consent period');
      b.timestamp = `${dayAfter(end)}T09:00:00+01:00`;
    },
  },
  { key: 'sip-bdl-7', on: 'Bundle', what: 'an inactive consent', apply: (b) => { consent(b).status = 'inactive'; } },
  {
    key: 'sip-bdl-8',
    on: 'Bundle',
    what: 'a consent covering only the region',
    apply: (b) => {
      const root = rootProvision(b);
      const municipality = principalUrl(b, 'municipality');
      root.actor = root.actor?.filter((actor) => actor.reference.reference !== municipality);
    },
  },
  {
    key: 'sip-bdl-8',
    on: 'Bundle',
    what: 'a consent excluding the municipality',
    apply: (b) => {
      const root = rootProvision(b);
      const recipient = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] };
      root.provision = [...(root.provision ?? []), { type: 'deny', actor: [{ role: recipient, reference: { reference: principalUrl(b, 'municipality') } }] }];
    },
  },
];
