/**
 * Exchange with external systems: declarative mappings of their formats (mappings/), and the
 * delivery of plan versions to receivers (delivery.ts holds the contract between its parts).
 */
export * from './mapping/index.js';
export type { Connector, DeliveryOutcome, OutboundMessage, SendDecision, WithholdReason } from './delivery.js';
export * from './outbox-worker.js';
