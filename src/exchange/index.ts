/**
 * Exchange with external systems: declarative mappings of their formats (mappings/), and the
 * delivery of plan versions to receivers (delivery.ts holds the contract between its parts).
 */
export * from './mapping/index.js';
export type { Connector, DeliveryOutcome, OutboundMessage, ResourceText, SendDecision, WithholdReason } from './delivery.js';
export { transactionBundleText, type TransactionBundleText } from './transaction-bundle.js';
export { partiesOf, receiversFor, normalizeOrganization, type PartyRole, type PlanParty, type ReceiverParty } from './routing.js';
export { decideSend, excludedClassesAt } from './consent-at-send.js';
export * from './receivers.js';
export * from './connectors/index.js';
export * from './outbox-worker.js';
export { exchangeFor, loadExchange, type Exchange } from './setup.js';
