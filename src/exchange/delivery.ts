/**
 * The contract between the parts of the exchange (issue #14, DESIGN.md §5): routing decides which
 * receivers a plan version is for, consent decides at the moment of sending what (if anything) one
 * receiver may get, a connector puts it on the wire, and the outbox keeps the state in between.
 * Each part is built and tested on its own against these types.
 */
import type { InformationClass, Problem, SipPlan } from '../sip/index.js';

/** What one attempt to deliver one plan version to one receiver carries. */
export interface OutboundMessage {
  readonly planId: string;
  readonly version: number;
  readonly receiverId: string;
  /**
   * The same for every attempt of this (plan, version, receiver) — sent as the `Idempotency-Key`
   * header, so a receiver can tell a retry from a new message.
   */
  readonly idempotencyKey: string;
  /** The plan as this receiver may see it at the moment of sending: consent applied, excluded information and the person’s descriptions of it removed. */
  readonly plan: SipPlan;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** When the attempt starts (the consent was judged at this instant). */
  readonly at: Date;
  /**
   * When the version was recorded: what the message says is as of this instant (a FHIR Bundle's
   * `timestamp`, each Consent's status), the same for every attempt, so every request under one
   * idempotency key means the same. Whether it may be sent is judged at {@link at}, never here.
   */
  readonly recordedAt: Date;
  /**
   * `judgeSend(plan, at)` as the consent decision found it for this very plan at this very instant
   * ({@link SendDecision}), so a connector need not judge the plan again: it must send nothing when
   * it holds an error. Absent, the connector judges the plan itself.
   */
  readonly judgement?: readonly Problem[];
  /**
   * The JSON texts of the version's FHIR resources kept when it was written (migration 6,
   * src/http/derived-view.ts), when the store has them under the running deriver and {@link plan}
   * is the version as recorded, or that version with no more than the consents' exclusion
   * descriptions taken out ({@link SendDecision} `keptTextsHold`). A connector may build its message from them
   * instead of mapping the plan again; they never include a resource whose mapping reads the instant.
   */
  readonly resourceTexts?: readonly ResourceText[];
}

/**
 * One resource of a version's FHIR view as kept when the version was written (src/store/plan-store.ts
 * `DerivedText`): its JSON text with references relative (`Type/id`), split where the version's
 * `"versionId":…,"lastUpdated":…` go at the end of its `meta`.
 */
export interface ResourceText {
  readonly resourceType: string;
  readonly id: string;
  readonly head: string;
  readonly tail: string;
}

/** How one attempt ended, as the connector judged the receiver's answer. */
export type DeliveryOutcome =
  /** The receiver accepted it (2xx, or it already had this version). */
  | { readonly kind: 'delivered'; readonly status?: number; readonly detail?: string }
  /** Worth trying again later: a timeout, a reset connection, 5xx, 429 (with its `Retry-After`). */
  | { readonly kind: 'retry'; readonly reason: string; readonly status?: number; readonly retryAfterMs?: number }
  /** Trying again cannot help (a 4xx that is not a conflict, a transaction too large): a dead letter at once. */
  | { readonly kind: 'failed'; readonly reason: string; readonly status?: number };

/** Puts a message on the wire to one receiver. Never throws for what the receiver answered; a bug may throw. */
export interface Connector {
  deliver(message: OutboundMessage): Promise<DeliveryOutcome>;
  close?(): Promise<void>;
}

/** Why nothing is sent to a receiver at the moment of sending. */
export type WithholdReason =
  /** No consent of this plan is in force (none given, expired, withdrawn). */
  | 'noConsentInForce'
  /** The receiver's organisation is not among the actors a consent in force covers. */
  | 'notCovered'
  /** The person excluded the receiver's organisation (or an organisation above it). */
  | 'excluded'
  /** The receiver's organisation is not a party of the plan at all. */
  | 'notAParty'
  /** The plan may not be sent now for another rule of the SIP model (judgeSend found an error). */
  | 'planRefused';

/** What consent allows one receiver at one instant. */
export type SendDecision =
  | {
      readonly send: true;
      /** The plan with what this receiver may not see removed, and no consent’s exclusion description. */
      readonly plan: SipPlan;
      /** The consent in force that covers the receiver. */
      readonly consentId: string;
      /** The information classes the person excluded, whose content was removed. */
      readonly removed: readonly InformationClass[];
      /** `judgeSend(plan, at)` of the plan above, at the instant decided for (what a connector checks before sending). */
      readonly judgement?: readonly Problem[];
      /**
       * True when {@link plan} is the plan decided on, or differs from it only in the consents'
       * exclusion descriptions (`withoutExclusionDescriptions`): no goal, intervention or deviation was
       * removed. Only a Consent's mapping reads those descriptions, and a Consent is never written
       * from a kept text (its mapping reads the instant), so the texts kept with the version still
       * hold for every other resource of the plan sent (test/exchange/transaction-bundle.test.ts).
       */
      readonly keptTextsHold?: boolean;
    }
  | { readonly send: false; readonly reason: WithholdReason; readonly detail: string };
