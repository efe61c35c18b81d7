/**
 * fast-check generators of valid SIP plans. A plan is built from a handful of drawn choices (child or
 * adult, identifier kind, how many units and other actors, consent dates and form, who has approved …)
 * so that every generated plan meets every rule by construction; the properties then break it.
 *
 * Some plans are made at discharge from inpatient care (seed 001 §3.3.2). A discharge into öppen
 * tvångsvård under LPT or LRV draws the warning `plan.compulsory-care-discharge` (§3.6.1), so
 * {@link validPlanArbitrary} never has one, while {@link mappablePlanArbitrary} (for the FHIR round
 * trip) sometimes does.
 */
import fc from 'fast-check';
import { parseIdentityNumber } from '../../src/sip/index.js';
import type { PlanJson } from './mutations.js';

const INFORMATION_CLASSES = [
  'mentalHealth',
  'substanceUse',
  'sexualAndReproductiveHealth',
  'geneticInformation',
  'financialSituation',
  'criminalRecord',
  'familySituation',
  'other',
];

function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function addDays(iso: string, days: number): string {
  return isoDate(new Date(Date.parse(`${iso}T00:00:00Z`) + days * 86_400_000));
}

/** A valid twelve-digit identity number for the birth date, with the day + 60 for a samordningsnummer. */
function identityNumber(birth: string, serial: number, coordination: boolean): string {
  const [year = '', month = '', day = ''] = birth.split('-');
  const dd = coordination ? String(Number(day) + 60) : day;
  const stem = `${year}${month}${dd}-${String(serial).padStart(3, '0')}`;
  for (let check = 0; check < 10; check++) {
    if (parseIdentityNumber(`${stem}${check}`).ok) return `${stem}${check}`;
  }
  throw new Error(`no check digit for ${stem}`);
}

const OTHER_ACTOR_KINDS = ['socialInsuranceAgency', 'publicEmploymentService', 'dentalCare', 'association', 'police'] as const;
const FIRST_NAMES = ['Alva', 'Ahmed', 'Birgitta', 'Elias', 'Fatima', 'Gustav', 'Hanna', 'Ismail', 'Karin', 'Leo'];
const LAST_NAMES = ['Andersson', 'Berg', 'Hassan', 'Johansson', 'Lind', 'Mohammed', 'Nilsson', 'Åberg'];

export interface DischargeShape {
  from: 'somaticInpatientCare' | 'psychiatricInpatientCare';
  /** Days from the consent to the discharge; no date when undefined. */
  afterDays: number | undefined;
  compulsoryCare: 'LPT' | 'LRV' | undefined;
}

/** A municipal decision on the municipality's intervention (GLOSSARY.md, "Municipal decisions"). */
export interface DecisionShape {
  outcome: 'granted' | 'refused';
  overturned: boolean;
  law: 'sol' | 'lss';
  coded: boolean;
  reasoning: boolean;
  hours: number | undefined;
  per: 'week' | 'month';
  scopeText: boolean;
  validityDays: number | undefined;
  /** Days before the consent was given that the decision was made. */
  daysBefore: number;
}

export interface PlanShape {
  child: boolean;
  guardianCount: 1 | 2;
  identifier: 'personnummer' | 'samordningsnummer' | 'reservnummer';
  birthOffsetDays: number;
  serial: number;
  canConsent: boolean;
  givenAt: string;
  validityDays: number;
  form: 'written' | 'oral' | 'other';
  regionUnits: number;
  municipalityUnits: number;
  otherActors: number;
  school: boolean;
  goals: number;
  extraInterventions: number[];
  individualActs: boolean;
  sentAfterDays: number;
  updatedAfterDays: number;
  meetingHeld: boolean;
  responses: ('accepted' | 'tentative' | 'noResponse' | 'declined')[];
  approvals: 0 | 1 | 2;
  overallRegion: boolean;
  name: [number, number];
  discharge: DischargeShape | undefined;
  decision: DecisionShape | undefined;
  /**
   * Information classes (issue #14) given to the goals and then the interventions in turn, cycling;
   * none when empty. A class is tagged, not excluded: the consent excludes none of them, so every
   * rule is still met.
   */
  informationClasses: string[][];
}

export const planShapeArbitrary: fc.Arbitrary<PlanShape> = fc.record({
  child: fc.boolean(),
  guardianCount: fc.constantFrom(1 as const, 2 as const),
  identifier: fc.constantFrom('personnummer' as const, 'samordningsnummer' as const, 'reservnummer' as const),
  birthOffsetDays: fc.integer({ min: 0, max: 364 }),
  serial: fc.integer({ min: 1, max: 999 }),
  canConsent: fc.boolean(),
  givenAt: fc.date({ min: new Date('2025-01-01T00:00:00Z'), max: new Date('2026-12-31T00:00:00Z'), noInvalidDate: true }).map(isoDate),
  validityDays: fc.integer({ min: 30, max: 364 }),
  form: fc.constantFrom('written' as const, 'oral' as const, 'other' as const),
  regionUnits: fc.integer({ min: 1, max: 3 }),
  municipalityUnits: fc.integer({ min: 1, max: 3 }),
  otherActors: fc.integer({ min: 0, max: 3 }),
  school: fc.boolean(),
  goals: fc.integer({ min: 1, max: 4 }),
  extraInterventions: fc.array(fc.nat(), { maxLength: 4 }),
  individualActs: fc.boolean(),
  sentAfterDays: fc.integer({ min: 0, max: 14 }),
  updatedAfterDays: fc.integer({ min: 0, max: 14 }),
  meetingHeld: fc.boolean(),
  responses: fc.array(fc.constantFrom('accepted' as const, 'tentative' as const, 'noResponse' as const, 'declined' as const), {
    minLength: 12,
    maxLength: 12,
  }),
  approvals: fc.constantFrom(0 as const, 1 as const, 2 as const),
  overallRegion: fc.boolean(),
  name: fc.tuple(fc.nat({ max: FIRST_NAMES.length - 1 }), fc.nat({ max: LAST_NAMES.length - 1 })),
  discharge: fc.option(
    fc.oneof(
      fc.record({
        from: fc.constant('somaticInpatientCare' as const),
        afterDays: fc.option(fc.integer({ min: 0, max: 14 }), { nil: undefined }),
        compulsoryCare: fc.constant(undefined),
      }),
      fc.record({
        from: fc.constant('psychiatricInpatientCare' as const),
        afterDays: fc.option(fc.integer({ min: 0, max: 14 }), { nil: undefined }),
        compulsoryCare: fc.option(fc.constantFrom('LPT' as const, 'LRV' as const), { nil: undefined }),
      }),
    ),
    { nil: undefined },
  ),
  decision: fc.option(
    fc.record({
      outcome: fc.constantFrom('granted' as const, 'refused' as const),
      overturned: fc.boolean(),
      law: fc.constantFrom('sol' as const, 'lss' as const),
      coded: fc.boolean(),
      reasoning: fc.boolean(),
      hours: fc.option(fc.integer({ min: 1, max: 200 }), { nil: undefined }),
      per: fc.constantFrom('week' as const, 'month' as const),
      scopeText: fc.boolean(),
      validityDays: fc.option(fc.integer({ min: 1, max: 365 }), { nil: undefined }),
      daysBefore: fc.integer({ min: 0, max: 400 }),
    }),
    { nil: undefined },
  ),
  informationClasses: fc.array(fc.subarray(INFORMATION_CLASSES, { maxLength: 2 }), { maxLength: 3 }),
});

/**
 * The decision a shape describes, made `daysBefore` days before `givenAt` at 10:00 (never after the
 * version is recorded at noon on a later or the same day), citing the social services act in force
 * that day, so it raises no rule.
 */
function buildDecision(shape: DecisionShape, givenAt: string, provider: string | undefined, decidedBy: string): PlanJson {
  const day = addDays(givenAt, -shape.daysBefore);
  const statute =
    shape.law === 'lss' ? { act: '1993:387', section: 9, point: 4 } : day < '2025-07-01' ? { act: '2001:453', chapter: 4, section: 1 } : { act: '2025:400', chapter: 11, section: 1 };
  const scope = {
    ...(shape.scopeText ? { text: 'varje vardag' } : {}),
    ...(shape.hours === undefined ? {} : { hours: shape.hours, per: shape.per }),
  };
  return {
    concerns: shape.coded ? { system: 'https://kommun.example.se/insatskod', code: shape.law === 'lss' ? 'KP' : 'HTJ', text: 'Beslutad insats' } : { text: 'Beslutad insats' },
    statute,
    outcome: shape.outcome,
    ...(shape.reasoning ? { reasoning: 'Behovet kan inte tillgodoses på annat sätt.' } : {}),
    decidedAt: `${day}T10:00:00+01:00`,
    decidedBy,
    ...(Object.keys(scope).length === 0 ? {} : { scope }),
    ...(shape.validityDays === undefined ? {} : { validFrom: day, validTo: addDays(day, shape.validityDays) }),
    ...(provider === undefined ? {} : { provider }),
    status: shape.overturned ? 'overturned' : 'inForce',
  };
}

/** Builds the valid plan a shape describes. */
export function buildPlan(shape: PlanShape): PlanJson {
  const planId = `sip-gen-${String(shape.serial)}`;
  const childAge = shape.child ? 15 : 40;
  const birth = addDays(`${String(Number(shape.givenAt.slice(0, 4)) - childAge - 1)}-01-01`, shape.birthOffsetDays);
  const identifier =
    shape.identifier === 'reservnummer'
      ? { system: 'reservnummer', value: `RN-${String(shape.serial)}`, issuer: 'urn:oid:1.2.752.99999.1' }
      : { system: shape.identifier, value: identityNumber(birth, shape.serial, shape.identifier === 'samordningsnummer') };

  const regionUnits = Array.from({ length: shape.regionUnits }, (_, i) => ({ id: `r-unit-${String(i)}`, name: `Regionens enhet ${String(i + 1)}` }));
  const municipalityUnits = Array.from({ length: shape.municipalityUnits }, (_, i) => ({ id: `m-unit-${String(i)}`, name: `Kommunens enhet ${String(i + 1)}` }));
  const otherActors = [
    ...Array.from({ length: shape.otherActors }, (_, i) => ({
      id: `actor-${String(i)}`,
      kind: OTHER_ACTOR_KINDS[i % OTHER_ACTOR_KINDS.length],
      name: `Aktör ${String(i + 1)}`,
    })),
    ...(shape.school ? [{ id: 'school', kind: 'school', name: 'Skolan' }] : []),
  ];
  const organizations = [...regionUnits, ...municipalityUnits, ...otherActors].map((organization) => organization.id);
  const professionals = organizations.map((organization, i) => ({
    id: `prof-${organization}`,
    name: { given: FIRST_NAMES[i % FIRST_NAMES.length], family: LAST_NAMES[(i + 3) % LAST_NAMES.length] },
    organization,
  }));

  const guardians = shape.child
    ? Array.from({ length: shape.guardianCount }, (_, i) => ({ id: `guardian-${String(i)}`, kind: 'guardian', name: { given: FIRST_NAMES[i] ?? 'Anna', family: 'Förälder' } }))
    : [];
  const trustee = !shape.child && !shape.canConsent ? [{ id: 'god-man', kind: 'representative', representativeKind: 'trustee', name: { given: 'Gun', family: 'Godman' } }] : [];
  const givers = shape.child ? guardians.map((guardian) => guardian.id) : shape.canConsent ? ['individual'] : ['god-man'];

  const validUntil = addDays(shape.givenAt, shape.validityDays);
  const sentDay = addDays(shape.givenAt, Math.min(shape.sentAfterDays, shape.validityDays));
  const updatedDay = addDays(sentDay, Math.min(shape.updatedAfterDays, Math.max(0, shape.validityDays - shape.sentAfterDays)));
  const meetingDay = addDays(sentDay, 7);
  // A meeting is held only in a version recorded after it started (meeting.held-before-start).
  const held = shape.meetingHeld && updatedDay > meetingDay;
  const coordinator = `prof-${regionUnits[0]?.id ?? ''}`;

  const untaggedGoals = Array.from({ length: shape.goals }, (_, i) => ({ id: `goal-${String(i)}`, description: `Mitt mål nummer ${String(i + 1)}.` }));
  const untaggedInterventions = [
    { id: 'int-region', description: 'Regionens insats.', responsible: regionUnits[0]?.id, goals: ['goal-0'], status: 'ongoing' },
    { id: 'int-municipality', description: 'Kommunens insats.', responsible: municipalityUnits[0]?.id, goals: ['goal-0'], status: 'planned' },
    ...shape.extraInterventions.map((pick, i) => ({
      id: `int-extra-${String(i)}`,
      description: `Ytterligare insats ${String(i + 1)}.`,
      responsible: organizations[pick % organizations.length],
      status: 'planned',
    })),
    // A refusal in force leaves its intervention cancelled (decision.refused-backs-intervention).
    ...(shape.decision === undefined
      ? []
      : [
          {
            id: 'int-decided',
            description: 'Kommunens beslutade insats.',
            responsible: municipalityUnits[0]?.id,
            status: shape.decision.outcome === 'refused' && !shape.decision.overturned ? 'cancelled' : 'ongoing',
            decision: buildDecision(shape.decision, shape.givenAt, municipalityUnits[0]?.id, `prof-${municipalityUnits[0]?.id ?? ''}`),
          },
        ]),
    ...(shape.individualActs ? [{ id: 'int-own', description: 'Det jag själv gör.', responsible: 'individual', status: 'ongoing' }] : []),
  ];
  // Information classes, in turn over the goals and then the interventions.
  let tagged = 0;
  const tag = <T extends object>(item: T): T => {
    const classes = shape.informationClasses.length === 0 ? [] : (shape.informationClasses[tagged++ % shape.informationClasses.length] ?? []);
    return classes.length === 0 ? item : { ...item, informationClasses: classes };
  };
  const goals = untaggedGoals.map(tag);
  const interventions = untaggedInterventions.map(tag);
  const byOthers = interventions.some((intervention) => intervention.responsible === 'individual' || intervention.responsible?.startsWith('actor') || intervention.responsible === 'school');

  const invitees = [
    { party: 'individual', response: 'accepted' },
    ...professionals.map((professional, i) => {
      const response = shape.responses[i % shape.responses.length] ?? 'accepted';
      return response === 'declined' ? { party: professional.id, response, substitute: coordinator } : { party: professional.id, response };
    }),
  ];
  const principals = [
    { id: 'region', kind: 'region', name: 'Region Test', countyCode: '20', units: regionUnits },
    { id: 'kommun', kind: 'municipality', name: 'Testkommun', municipalityCode: '2080', units: municipalityUnits },
  ];
  const approvals = principals.slice(0, shape.approvals).map((principal) => ({
    principal: principal.id,
    version: 1,
    approvedAt: `${updatedDay}T12:00:00+01:00`,
    approvedBy: `prof-${principal.units[0]?.id ?? ''}`,
  }));

  const discharge =
    shape.discharge === undefined
      ? undefined
      : {
          from: shape.discharge.from,
          ...(shape.discharge.afterDays === undefined ? {} : { dischargedAt: addDays(shape.givenAt, shape.discharge.afterDays) }),
          ...(shape.discharge.compulsoryCare === undefined ? {} : { compulsoryCare: shape.discharge.compulsoryCare }),
        };

  return {
    id: planId,
    version: 1,
    updatedAt: `${updatedDay}T12:00:00+01:00`,
    initiatedAt: shape.givenAt,
    initiatedBy: coordinator,
    ...(discharge === undefined ? {} : { discharge }),
    individual: {
      identifier,
      name: { given: FIRST_NAMES[shape.name[0]], family: LAST_NAMES[shape.name[1]] },
      ...(shape.identifier === 'reservnummer' ? { birthDate: birth } : {}),
      canConsent: shape.child || shape.canConsent,
    },
    relatedPersons: [...guardians, ...trustee],
    principals,
    otherActors,
    professionals,
    coordinator,
    consents: [
      {
        id: 'consent-1',
        planId,
        givers,
        form: shape.form,
        ...(shape.form === 'written' ? {} : { documentedBy: coordinator }),
        givenAt: shape.givenAt,
        validUntil,
        coveredActors: ['region', 'kommun', ...otherActors.map((actor) => actor.id)],
        ...(shape.child ? { childView: { view: 'Jag vill att de vuxna pratar med varandra.' } } : {}),
      },
    ],
    meetings: [
      {
        id: 'meeting-1',
        kind: 'first',
        status: held ? 'held' : 'summoned',
        summons: {
          sentAt: `${sentDay}T10:00:00+01:00`,
          sentBy: coordinator,
          start: `${meetingDay}T13:00:00+01:00`,
          end: `${meetingDay}T14:30:00+01:00`,
          location: 'Mötesrummet',
          agenda: 'Mål, insatser och ansvar.',
          invitees,
          contact: { name: 'Samordnaren', phone: '010-123 45 67' },
        },
        ...(held ? { meetingLeader: coordinator, secretary: coordinator, contactPersonAfterMeeting: coordinator } : {}),
      },
    ],
    goals,
    interventions,
    noActionsByOthers: !byOthers,
    overallResponsiblePrincipal: shape.overallRegion ? 'region' : 'kommun',
    followUps: [{ date: addDays(updatedDay, 90) }],
    approvals,
  };
}

/** Plans that meet every rule with no warning: a discharge, when there is one, is not into compulsory care. */
export const validPlanArbitrary: fc.Arbitrary<PlanJson> = planShapeArbitrary.map((shape) =>
  buildPlan(shape.discharge === undefined ? shape : { ...shape, discharge: { ...shape.discharge, compulsoryCare: undefined } }),
);

/**
 * Plans with no error that `to-fhir` maps: like {@link validPlanArbitrary}, but a discharge may be
 * into öppen tvångsvård under LPT or LRV, which only the warning plan.compulsory-care-discharge flags.
 */
export const mappablePlanArbitrary: fc.Arbitrary<PlanJson> = planShapeArbitrary.map(buildPlan);

/**
 * JSON values whose strings and keys are the targets of a reference rewrite and their look-alikes
 * (escapes, quotes, a key ending in `reference`, a lone surrogate): what could make a match of a
 * `"reference"` in JSON text, or hide one. For the rewrites' differential tests.
 */
export function referenceLookAlikeJson(targets: Iterable<string>): fc.Arbitrary<unknown> {
  const text = fc.oneof(fc.constantFrom(...targets, 'Patient/p1', '"reference":"urn:uuid:0b0e7f4e-1"', 'x\\', '\\"reference\\":\\"', '\ud800'), fc.string());
  const key = fc.oneof(fc.constantFrom('reference', 'x"reference', 'reference"', 'references', 'display', ',"reference'), fc.string({ maxLength: 4 }));
  return fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, text, fc.integer(), fc.constant(null), tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 4 }),
    object: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  })).value;
}
