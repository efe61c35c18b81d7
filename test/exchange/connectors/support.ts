/** Plans, messages and receivers the connector tests share. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { OutboundMessage } from '../../../src/exchange/delivery.js';
import type { FhirReceiver, MappingReceiver, ReceiverAuth } from '../../../src/exchange/receivers.js';
import { parsePlan, type SipPlan } from '../../../src/sip/index.js';

export const MAPPINGS_DIR = fileURLToPath(new URL('../../../mappings/', import.meta.url));

export function examplePlan(name: string): SipPlan {
  const parsed = parsePlan(JSON.parse(readFileSync(fileURLToPath(new URL(`../../../examples/${name}.json`, import.meta.url)), 'utf8')));
  if (!parsed.ok) throw new Error(`examples/${name}.json does not parse`);
  return parsed.plan;
}

/** An attempt to deliver `plan` at the instant its version was recorded (its consent in force then). */
export function messageOf(plan: SipPlan, receiverId: string, change: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    planId: plan.id,
    version: plan.version,
    receiverId,
    idempotencyKey: `${plan.id}/v${String(plan.version)}/${receiverId}`,
    plan,
    attempt: 1,
    at: new Date(plan.updatedAt),
    recordedAt: new Date(plan.updatedAt),
    ...change,
  };
}

export function fhirReceiver(base: string, auth: ReceiverAuth = { type: 'none' }, timeoutMs = 2_000): FhirReceiver {
  return { id: 'region-fhir', organization: 'SE2321000040-1000', kind: 'fhir', base, timeoutMs, auth };
}

export function mappingReceiver(mapping: string, where: { endpoint: string } | { folder: string }, auth: ReceiverAuth = { type: 'none' }, timeoutMs = 2_000): MappingReceiver {
  return { id: 'kommun', organization: '212000-0449', kind: 'mapping', mapping, timeoutMs, auth, ...where };
}
