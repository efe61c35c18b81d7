/**
 * What the outbox worker hands a connector for one attempt (src/exchange/outbox-worker.ts), with the
 * outbox played by a one-delivery queue: consent is decided on the current version at the attempt's
 * instant, with each version's kept send basis; the message carries that decision's judgement of the
 * plan it sends, the version's recorded instant, and the version's kept resource texts only when
 * consent removed nothing from it.
 */
import { describe, expect, it } from 'vitest';
import { OutboxWorker, type AttemptResult, type ClaimedAttempt, type ClaimedVersion, type OutboundMessage, type SendDecision } from '../../src/exchange/index.js';
import { sendBasisOf, type SendBasis, type SipPlan } from '../../src/sip/index.js';
import { readExample } from '../support/examples.js';

const PLAN = readExample('adult-psychiatry-addiction.json');
const AT = new Date('2026-04-15T07:00:00Z');
const TEXTS = [{ resourceType: 'CarePlan', id: 'cp', head: '{"resourceType":"CarePlan","id":"cp","meta":{', tail: '}}' }];

function version(plan: SipPlan, recordedAt: string, derived = true): ClaimedVersion {
  return { plan, version: plan.version, recordedAt, ...(derived ? { derived: { basis: JSON.stringify(sendBasisOf(plan)), texts: TEXTS } } : {}) };
}

/** Runs one attempt of `claimed` and returns what the connector was given and what decide was asked. */
async function attemptOnce(claimed: ClaimedAttempt, decide: (plan: SipPlan, basis: SendBasis | undefined) => SendDecision) {
  const messages: OutboundMessage[] = [];
  const asked: { plan: SipPlan; basis: SendBasis | undefined }[] = [];
  const results: AttemptResult[] = [];
  let done = false;
  const worker = new OutboxWorker({
    outbox: {
      async deliverNext(_at, attempt) {
        if (done) return false;
        done = true;
        results.push(await attempt(claimed));
        return true;
      },
    },
    audit: () => Promise.resolve(),
    receivers: [{ id: 'fk', organization: '202100-5521' }],
    connectorFor: () => ({
      deliver: (message) => {
        messages.push(message);
        return Promise.resolve({ kind: 'delivered', status: 200 });
      },
    }),
    decide: (plan, _receiverId, _at, basis) => {
      asked.push({ plan, basis });
      return decide(plan, basis);
    },
    clock: () => AT,
  });
  await worker.runUntilIdle();
  return { messages, asked, results };
}

const delivery = { id: '1', planId: PLAN.id, version: PLAN.version, receiverId: 'fk', attempts: 2 };
const judgement = [{ severity: 'warning' as const, code: 'some.warning', pointer: '', message: 'a warning' }];

describe('the message of an attempt', () => {
  it('carries the decision’s judgement, the recorded instant and the kept texts; consent decided once with the kept basis', async () => {
    const stored = version(PLAN, '2026-03-12T10:00:00.000Z');
    const { messages, asked } = await attemptOnce({ delivery, stored, current: stored }, (plan) => ({ send: true, plan, consentId: 'c1', removed: [], judgement }));
    expect(asked).toEqual([{ plan: PLAN, basis: sendBasisOf(PLAN) }]);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ plan: PLAN, at: AT, attempt: 3, recordedAt: new Date('2026-03-12T10:00:00.000Z'), judgement, resourceTexts: TEXTS });
  });

  it('carries no kept texts when consent removed information (the texts hold what was removed)', async () => {
    const stored = version(PLAN, '2026-03-12T10:00:00.000Z');
    // A plan other than the version as recorded, as withoutInformation returns when it removes something.
    const reduced: SipPlan = { ...PLAN, goals: PLAN.goals.slice(1) };
    const { messages } = await attemptOnce({ delivery, stored, current: stored }, () => ({ send: true, plan: reduced, consentId: 'c1', removed: ['familySituation'], judgement }));
    expect(messages[0]?.plan).toBe(reduced);
    expect(messages[0]?.resourceTexts).toBeUndefined();
    expect(messages[0]?.judgement).toBe(judgement);
  });

  it('carries the kept texts when consent took out only the exclusion descriptions (keptTextsHold), and not when it says they do not hold', async () => {
    const stored = version(PLAN, '2026-03-12T10:00:00.000Z');
    // What withoutExclusionDescriptions returns: another object, equal but for the consents.
    const described: SipPlan = { ...PLAN, consents: PLAN.consents.map((consent) => ({ ...consent, excludedInformation: consent.excludedInformation.map((excluded) => ({ class: excluded.class })) })) };
    const holding = await attemptOnce({ delivery, stored, current: stored }, () => ({ send: true, plan: described, consentId: 'c1', removed: ['familySituation'], judgement, keptTextsHold: true }));
    expect(holding.messages[0]?.plan).toBe(described);
    expect(holding.messages[0]?.resourceTexts).toBe(TEXTS);
    const notHolding = await attemptOnce({ delivery, stored, current: stored }, () => ({ send: true, plan: described, consentId: 'c1', removed: ['familySituation'], judgement, keptTextsHold: false }));
    expect(notHolding.messages[0]?.resourceTexts).toBeUndefined();
  });

  it('decides on the current version first, then on the one to deliver, each with its own basis; nothing kept, nothing passed', async () => {
    const current = version({ ...PLAN, version: PLAN.version + 1 }, '2026-03-20T10:00:00.000Z', false);
    const stored = version(PLAN, '2026-03-12T10:00:00.000Z');
    const { messages, asked } = await attemptOnce({ delivery, stored, current }, (plan) => ({ send: true, plan, consentId: 'c1', removed: [] }));
    expect(asked.map(({ plan, basis }) => [plan.version, basis === undefined])).toEqual([
      [PLAN.version + 1, true],
      [PLAN.version, false],
    ]);
    expect(messages[0]).toMatchObject({ version: PLAN.version, recordedAt: new Date('2026-03-12T10:00:00.000Z'), resourceTexts: TEXTS });
    expect(messages[0]?.judgement).toBeUndefined();
  });

  it('sends nothing when the current version is withheld', async () => {
    const current = version({ ...PLAN, version: PLAN.version + 1 }, '2026-03-20T10:00:00.000Z');
    const stored = version(PLAN, '2026-03-12T10:00:00.000Z');
    const { messages, asked, results } = await attemptOnce({ delivery, stored, current }, () => ({ send: false, reason: 'noConsentInForce', detail: 'withdrawn' }));
    expect(asked).toHaveLength(1);
    expect(messages).toEqual([]);
    expect(results).toEqual([{ kind: 'withheld', reason: 'noConsentInForce: withdrawn' }]);
  });
});
