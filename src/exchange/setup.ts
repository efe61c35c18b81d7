/**
 * The exchange as the server runs it (issue #14): the receivers file (`SIP_RECEIVERS`) read and
 * checked, a connector per receiver, routing of each new version to the receivers that are parties
 * of the plan, and consent judged by `decideSend` at the moment of each attempt.
 */
import { createConnector, loadReceiverMappings } from './connectors/index.js';
import { decideSend } from './consent-at-send.js';
import type { Connector, SendDecision } from './delivery.js';
import { loadReceivers, receiverSummary, type Receiver } from './receivers.js';
import { receiversFor } from './routing.js';
import type { SendBasis, SipPlan } from '../sip/index.js';

/** What the server needs to route versions and run the outbox worker (src/http/server.ts `ExchangeOptions`). */
export interface Exchange {
  readonly receivers: readonly Receiver[];
  readonly connectorFor: (receiverId: string) => Connector | undefined;
  /** `decideSend` for a configured receiver; `basis` is the version's send basis when the store kept one. */
  readonly decide: (plan: SipPlan, receiverId: string, at: Date, basis?: SendBasis) => SendDecision;
  readonly route: (plan: SipPlan, writtenBy: string) => readonly string[];
  /** One line per receiver for the start-up banner; no secrets. */
  readonly summary: readonly string[];
  /** Closes the connectors' keep-alive connections. */
  close(): Promise<void>;
}

/** The exchange for these receivers, with a connector each. */
export async function exchangeFor(receivers: readonly Receiver[], options: { readonly mappingsDir?: string } = {}): Promise<Exchange> {
  const mappings = await loadReceiverMappings(receivers, options.mappingsDir);
  const byId = new Map(receivers.map((receiver) => [receiver.id, receiver]));
  const connectors = new Map(receivers.map((receiver) => [receiver.id, createConnector(receiver, { mappings })]));
  return {
    receivers,
    connectorFor: (receiverId) => connectors.get(receiverId),
    decide: (plan, receiverId, at, basis) => {
      const receiver = byId.get(receiverId);
      // The worker asks only for configured receivers; one removed since its delivery was queued is not a party to anything.
      if (receiver === undefined) return { send: false, reason: 'notAParty', detail: `receiver "${receiverId}" is not configured` };
      return decideSend(plan, receiver, at, basis === undefined ? {} : { basis });
    },
    route: (plan, writtenBy) => receiversFor(plan, receivers, writtenBy).map((receiver) => receiver.id),
    summary: receivers.map((receiver) => {
      const summary = receiverSummary(receiver);
      return `${summary.id} (${summary.organization}): ${summary.kind === 'fhir' ? 'FHIR R4' : `mapping ${summary.mapping ?? ''}`} → ${summary.target}, auth ${summary.auth}`;
    }),
    async close() {
      await Promise.all([...connectors.values()].map((connector) => (connector.close === undefined ? Promise.resolve() : connector.close())));
    },
  };
}

/** The exchange of the receivers file; a bad file is a ReceiversConfigError naming every problem by its JSON pointer. */
export async function loadExchange(file: string, options: { readonly mappingsDir?: string } = {}): Promise<Exchange> {
  return exchangeFor(await loadReceivers(file, options), options);
}
