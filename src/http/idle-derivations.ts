/**
 * What a write derives for its version's reads ({@link derivedVersion}: the FHIR view's texts, the
 * send basis, the judging summary), computed after the write is answered, in turns of the event loop
 * when no HTTP request is in flight, instead of before the version's statement
 * (`SIP_DERIVE_WHEN=idle`, the server's default).
 *
 * Why: the derivation is about a fifth of a `POST /fhir` transaction's CPU on the event loop, and its
 * 30 texts (≈ 54 kB) a good part of what the version's statement sends and PostgreSQL stores. Nothing
 * in the answer to the write needs it. Done before the statement, it lengthened every transaction and
 * delayed every request queued behind it; done here, it fills the loop's idle turns at a lower
 * priority than any request (docs/performance.md, "A version's derivation after the answer").
 *
 * Nothing depends on it being there. A version without derived data is what every read already
 * handles (a version written before migration 6, or under another deriver): the first read that needs
 * it derives it and keeps it (src/http/fhir-routes.ts `withDerived`), and the SIP API and the outbox
 * judge and map such a version in full. So:
 * - a version written while the server is never idle (a closed-loop burst) may be derived by its
 *   first read instead: at most {@link DEFAULT_MAX_PENDING} plans wait here, the oldest dropped first;
 * - a newer version of a plan replaces its older one here: reads ask for the current version;
 * - on close, what waits is dropped (the first reads derive it);
 * - `store.derive` keeps nothing where a read kept it first (`ON CONFLICT DO NOTHING`);
 * - a SIP read that finds its version not derived hands it here too (src/http/sip-routes.ts), so a
 *   version dropped in a busy spell is not judged in full at every read.
 *
 * A version routed to receivers (issue #14) is derived before its statement as before: the outbox
 * worker claims it within milliseconds and sends the kept texts.
 */
import type { Logger } from 'pino';
import type { SendBasis, SipPlan } from '../sip/index.js';
import type { PlanStore, VersionWriteOptions } from '../store/plan-store.js';
import { derivedVersion } from './derived-view.js';

/** How many plans' versions may wait for an idle turn. */
export const DEFAULT_MAX_PENDING = 256;

/** A version to derive: the plan as it was stored, and the send basis its rules found when it was checked. */
interface Pending {
  readonly plan: SipPlan;
  readonly basis?: SendBasis;
}

export interface IdleDerivationsOptions {
  readonly store: Pick<PlanStore, 'derive'>;
  readonly logger: Pick<Logger, 'warn'>;
  readonly maxPending?: number;
}

/** The derivations waiting for an idle turn, and the count of requests in flight that tells when one is. */
export class IdleDerivations {
  readonly #store: Pick<PlanStore, 'derive'>;
  readonly #logger: Pick<Logger, 'warn'>;
  readonly #maxPending: number;
  /** By plan id, oldest first: a newer version of a plan replaces its older one. */
  readonly #pending = new Map<string, Pending>();
  #inFlight = 0;
  #scheduled = false;
  #keeping: Promise<void> | undefined;
  #closed = false;
  #dropped = 0;
  #settled: (() => void)[] = [];

  constructor(options: IdleDerivationsOptions) {
    this.#store = options.store;
    this.#logger = options.logger;
    this.#maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    if (!Number.isInteger(this.#maxPending) || this.#maxPending < 1) throw new RangeError(`maxPending must be a whole number of 1 or more, not ${String(options.maxPending)}`);
  }

  /** How many versions wait to be derived. */
  get pending(): number {
    return this.#pending.size;
  }

  /** How many versions were dropped unwritten (the queue full, a newer version of the same plan does not count): their first reads derive them. */
  get dropped(): number {
    return this.#dropped;
  }

  /** An HTTP request came in: no derivation starts until every request in flight has ended. */
  requestStarted(): void {
    this.#inFlight += 1;
  }

  /** An HTTP request ended (its response finished or its connection closed). */
  requestEnded(): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    if (this.#inFlight === 0) this.#schedule();
  }

  /**
   * Derives `plan` (a stored version, as stored) in an idle turn, with the send basis found when it
   * was checked (found then when not given). A version older than the one of the plan that waits is
   * not taken.
   */
  later(plan: SipPlan, basis?: SendBasis): void {
    if (this.#closed) return;
    const waiting = this.#pending.get(plan.id);
    if (waiting !== undefined && waiting.plan.version > plan.version) return;
    if (!this.#pending.delete(plan.id) && this.#pending.size >= this.#maxPending) {
      const oldest = this.#pending.keys().next();
      if (oldest.done !== true) this.#pending.delete(oldest.value);
      this.#dropped += 1;
    }
    this.#pending.set(plan.id, { plan, basis });
    if (this.#inFlight === 0) this.#schedule();
  }

  /** Resolves once nothing waits and nothing is being kept (while no request comes in). */
  settled(): Promise<void> {
    if (this.#pending.size === 0 && this.#keeping === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#settled.push(resolve));
  }

  /** Stops: what waits is dropped (its first reads derive it), what is being kept is awaited. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#pending.clear();
    await this.#keeping;
    this.#notifySettled();
  }

  #schedule(): void {
    if (this.#scheduled || this.#keeping !== undefined || this.#closed) return;
    if (this.#pending.size === 0) {
      this.#notifySettled();
      return;
    }
    this.#scheduled = true;
    // setImmediate: after the poll phase, so a request whose bytes arrived meanwhile is counted first.
    setImmediate(this.#turn);
  }

  /** One version derived and kept, if no request is in flight; the next turn is scheduled when it is kept. */
  readonly #turn = (): void => {
    this.#scheduled = false;
    if (this.#inFlight > 0 || this.#closed) return;
    const next = this.#pending.entries().next();
    if (next.done === true) {
      this.#notifySettled();
      return;
    }
    const [planId, { plan, basis }] = next.value;
    this.#pending.delete(planId);
    this.#keeping = this.#keep(plan, basis).finally(() => {
      this.#keeping = undefined;
      if (this.#inFlight === 0) this.#schedule();
    });
  };

  async #keep(plan: SipPlan, basis: SendBasis | undefined): Promise<void> {
    try {
      await this.#store.derive(plan.id, plan.version, basis === undefined ? derivedVersion(plan) : derivedVersion(plan, undefined, basis));
    } catch (error) {
      // Not kept: the version's first read derives it, as one written before migration 6.
      this.#logger.warn({ err: error, planId: plan.id, version: plan.version }, 'could not keep what was derived from a plan version');
    }
  }

  #notifySettled(): void {
    if (this.#pending.size > 0 && !this.#closed) return;
    const waiting = this.#settled;
    this.#settled = [];
    for (const resolve of waiting) resolve();
  }
}

/** What a writer is given: the idle turns, when the server derives in them. */
interface Deriving {
  readonly derivations?: IdleDerivations;
}

/**
 * Whether a version is derived after its answer, in the server's idle turns, rather than before its
 * statement: when the server does that, unless the version is routed to receivers (`deliverTo`), whose
 * outbox worker claims it within milliseconds and sends the texts kept with it.
 */
export function derivesLater(writer: Deriving, deliverTo: readonly string[]): boolean {
  return writer.derivations !== undefined && deliverTo.length === 0;
}

/** After a version is stored: hands it to the idle turns when its write left its derivation to them ({@link derivesLater}). */
export function deriveIfLeft(writer: Deriving, plan: SipPlan, basis: SendBasis, write: VersionWriteOptions): void {
  if (write.derived === undefined) writer.derivations?.later(plan, basis);
}
