/** Rules that keep a plan's internal references sound and its individual's identity consistent. */
import { formatDate, parseDate } from '../dates.js';
import { parseIdentityNumber } from '../identifiers.js';
import type { SipPlan } from '../model/index.js';
import type { EntityKind } from '../plan-index.js';
import { toPointer } from '../problem.js';
import { defineRule } from './rule.js';

/** The id by which a plan names its individual (the person the plan is about). */
const INDIVIDUAL_ID = 'individual';

const ORGANIZATIONS: readonly EntityKind[] = ['principal', 'unit', 'otherActor'];
const PARTIES: readonly EntityKind[] = [...ORGANIZATIONS, 'professional', 'relatedPerson'];

interface ReferenceSite {
  readonly path: readonly PropertyKey[];
  readonly value: string | undefined;
  readonly kinds: readonly EntityKind[];
  /** Whether the literal `individual` (the person the plan is about) is allowed here. */
  readonly individual: boolean;
}

/** Every place in a plan that refers to another entity by id, with the kinds it may refer to. */
function* referenceSites(plan: SipPlan): Generator<ReferenceSite> {
  const site = (path: readonly PropertyKey[], value: string | undefined, kinds: readonly EntityKind[], individual = false): ReferenceSite => ({
    path,
    value,
    kinds,
    individual,
  });
  yield site(['initiatedBy'], plan.initiatedBy, PARTIES, true);
  yield site(['coordinator'], plan.coordinator, ['professional']);
  yield site(['overallResponsiblePrincipal'], plan.overallResponsiblePrincipal, ['principal']);
  for (const [i, professional] of plan.professionals.entries()) {
    yield site(['professionals', i, 'organization'], professional.organization, ORGANIZATIONS);
  }
  for (const [i, consent] of plan.consents.entries()) {
    for (const [j, giver] of consent.givers.entries()) yield site(['consents', i, 'givers', j], giver, ['relatedPerson'], true);
    yield site(['consents', i, 'documentedBy'], consent.documentedBy, ['professional']);
    for (const [j, actor] of consent.coveredActors.entries()) {
      yield site(['consents', i, 'coveredActors', j], actor, [...ORGANIZATIONS, 'professional']);
    }
    for (const [j, party] of consent.excludedParties.entries()) yield site(['consents', i, 'excludedParties', j], party, PARTIES);
    if (consent.withdrawal) {
      yield site(['consents', i, 'withdrawal', 'withdrawnBy'], consent.withdrawal.withdrawnBy, ['relatedPerson'], true);
      yield site(['consents', i, 'withdrawal', 'recordedBy'], consent.withdrawal.recordedBy, ['professional']);
    }
  }
  for (const [i, meeting] of plan.meetings.entries()) {
    yield site(['meetings', i, 'meetingLeader'], meeting.meetingLeader, ['professional']);
    yield site(['meetings', i, 'secretary'], meeting.secretary, ['professional']);
    yield site(['meetings', i, 'contactPersonAfterMeeting'], meeting.contactPersonAfterMeeting, ['professional']);
    if (!meeting.summons) continue;
    yield site(['meetings', i, 'summons', 'sentBy'], meeting.summons.sentBy, ['professional']);
    for (const [j, invitee] of meeting.summons.invitees.entries()) {
      yield site(['meetings', i, 'summons', 'invitees', j, 'party'], invitee.party, PARTIES, true);
      yield site(['meetings', i, 'summons', 'invitees', j, 'substitute'], invitee.substitute, ['professional']);
    }
  }
  for (const [i, goal] of plan.goals.entries()) {
    yield site(['goals', i, 'expressedBy'], goal.expressedBy, ['relatedPerson', 'professional'], true);
    yield site(['goals', i, 'setAt'], goal.setAt, ['meeting']);
    yield site(['goals', i, 'replaces'], goal.replaces, ['goal']);
  }
  for (const [i, intervention] of plan.interventions.entries()) {
    yield site(['interventions', i, 'responsible'], intervention.responsible, [...ORGANIZATIONS, 'relatedPerson'], true);
    yield site(['interventions', i, 'performer'], intervention.performer, ['professional', 'relatedPerson']);
    for (const [j, goal] of intervention.goals.entries()) yield site(['interventions', i, 'goals', j], goal, ['goal']);
    yield site(['interventions', i, 'pendingDecision', 'reportBackTo'], intervention.pendingDecision?.reportBackTo, ['professional', ...ORGANIZATIONS]);
    yield site(['interventions', i, 'decision', 'decidedBy'], intervention.decision?.decidedBy, ['professional']);
    yield site(['interventions', i, 'decision', 'provider'], intervention.decision?.provider, ORGANIZATIONS);
  }
  for (const [i, followUp] of plan.followUps.entries()) yield site(['followUps', i, 'heldAt'], followUp.heldAt, ['meeting']);
  for (const [i, approval] of plan.approvals.entries()) {
    yield site(['approvals', i, 'principal'], approval.principal, ['principal']);
    yield site(['approvals', i, 'approvedBy'], approval.approvedBy, ['professional']);
  }
  if (plan.closure) {
    yield site(['closure', 'closedBy'], plan.closure.closedBy, ['professional']);
    for (const [j, party] of plan.closure.informed.entries()) yield site(['closure', 'informed', j], party, PARTIES, true);
  }
  for (const [i, deviation] of plan.deviations.entries()) {
    yield site(['deviations', i, 'reportedBy'], deviation.reportedBy, ['professional', 'principal', 'unit']);
    yield site(['deviations', i, 'concerns'], deviation.concerns, [...ORGANIZATIONS, 'professional']);
    yield site(['deviations', i, 'interimResponsiblePrincipal'], deviation.interimResponsiblePrincipal, ['principal']);
  }
}

const KIND_NAMES: Readonly<Record<EntityKind, string>> = {
  principal: 'a principal',
  unit: 'a unit',
  otherActor: 'an other actor',
  professional: 'a professional',
  relatedPerson: 'a related person',
  consent: 'a consent',
  meeting: 'a meeting',
  goal: 'a goal',
  intervention: 'an intervention',
  deviation: 'a deviation',
};

function expected(site: ReferenceSite): string {
  const names = [...(site.individual ? ['"individual"'] : []), ...site.kinds.map((kind) => KIND_NAMES[kind])];
  return names.length === 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names.at(-1) ?? ''}`;
}

export const duplicateId = defineRule({
  code: 'plan.duplicate-id',
  kind: 'integrity',
  title: 'Every id in a plan is unique, so that a reference names exactly one thing.',
  source: { document: 'design', section: '§3 (references between the parts of a plan)' },
  *check({ index }) {
    for (const [id, pointers] of index.duplicates) {
      for (const pointer of pointers.slice(1)) {
        yield { pointer: `${pointer}/id`, message: `Id "${id}" is already used at ${pointers[0] ?? ''}` };
      }
    }
  },
});

export const reservedId = defineRule({
  code: 'plan.reserved-id',
  kind: 'integrity',
  title: 'No part of a plan takes the id "individual": it is how references name the person the plan is about.',
  source: { document: 'design', section: '§3 (references between the parts of a plan)' },
  *check({ index }) {
    const pointers = index.duplicates.get(INDIVIDUAL_ID) ?? [index.entities.get(INDIVIDUAL_ID)?.pointer].filter((pointer) => pointer !== undefined);
    for (const pointer of pointers) {
      yield { pointer: `${pointer}/id`, message: `Id "${INDIVIDUAL_ID}" is reserved for the person the plan is about; a reference to it would never reach this entity` };
    }
  },
});

export const unresolvedReference = defineRule({
  code: 'plan.unresolved-reference',
  kind: 'integrity',
  title: 'Every reference names an entity of the plan, of a kind that fits where it stands.',
  source: { document: 'design', section: '§3 (references between the parts of a plan)' },
  *check({ plan, index }) {
    for (const site of referenceSites(plan)) {
      if (site.value === undefined || (site.individual && site.value === 'individual')) continue;
      const entity = index.entities.get(site.value);
      if (entity === undefined) {
        yield { pointer: toPointer(site.path), message: `"${site.value}" names nothing in this plan; expected ${expected(site)}` };
      } else if (!site.kinds.includes(entity.kind)) {
        yield {
          pointer: toPointer(site.path),
          message: `"${site.value}" is ${KIND_NAMES[entity.kind]} (${entity.pointer}); expected ${expected(site)}`,
        };
      }
    }
  },
});

export const birthDateMismatch = defineRule({
  code: 'individual.birth-date-mismatch',
  kind: 'integrity',
  title: "A birth date written beside a personnummer or samordningsnummer agrees with the number.",
  source: { document: 'design', section: '§3 (the individual: personnummer or samordningsnummer)' },
  *check({ plan }) {
    const { identifier, birthDate } = plan.individual;
    if (birthDate === undefined || identifier.system === 'reservnummer') return;
    const parsed = parseIdentityNumber(identifier.value);
    if (parsed.ok && formatDate(parsed.birthDate) !== formatDate(parseDate(birthDate))) {
      yield {
        pointer: '/individual/birthDate',
        message: `Birth date ${birthDate} disagrees with the ${identifier.system}, which gives ${formatDate(parsed.birthDate)}`,
      };
    }
  },
});

export const protectedIdentityContact = defineRule({
  code: 'individual.protected-identity-contact',
  kind: 'integrity',
  title: 'A person with protected identity (skyddad identitet) has no address or phone number in the plan, which travels between principals.',
  source: { document: 'design', section: '§3 (the individual: protected identity, never export address or phone)' },
  *check({ plan }) {
    const { protectedIdentity, contact } = plan.individual;
    if (protectedIdentity === 'none' || contact === undefined) return;
    for (const field of ['address', 'phone'] as const) {
      if (contact[field] !== undefined) {
        yield {
          pointer: `/individual/contact/${field}`,
          message: `The person has protected identity (${protectedIdentity}); their ${field} must not be part of the plan`,
        };
      }
    }
  },
});

export const birthDateUnknown = defineRule({
  code: 'individual.birth-date-unknown',
  kind: 'integrity',
  title: "With a reservnummer, the plan states the person's birth date, so that the rules for children can be applied.",
  source: { document: 'seed-001', section: '§4.2 Samtycke (children and custodial guardians)' },
  *check({ birthDate }) {
    if (birthDate === undefined) {
      yield {
        pointer: '/individual',
        message: 'A reservnummer carries no birth date; add individual.birthDate so it is known whether the person is a child',
      };
    }
  },
});
