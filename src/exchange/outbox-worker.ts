/**
 * The delivery worker of the outbox (issue #14 point 2, DESIGN.md §5): takes due deliveries from the
 * outbox (src/store/outbox.ts), judges consent at the moment of each attempt, hands the message to
 * the receiver's connector, and records how it ended — in the outbox and in the audit log
 * (Patientdatalagen: who was given what about whom, and who was refused, with the reason).
 *
 * **Consent is judged when sending, on the plan as it is now.** Each attempt reads the plan's current
 * version and asks `decide` about it first: a consent withdrawn, expired, or a receiver excluded in a
 * later version stops every queued earlier version too (the row ends `withheld`, final). Then the
 * version being delivered is judged itself, and what `decide` returns for it — the plan with the
 * excluded information removed — is what goes on the wire.
 *
 * **Retries.** A `retry` outcome waits an exponential backoff with full jitter — a uniformly random
 * delay in [0, min(cap, base·2^(attempt−1))) — and never less than the receiver's `Retry-After`.
 * After `maxAttempts` attempts, or at once on `failed`, the row is a dead letter with the reason.
 *
 * **Order, and what a dead letter means for later versions.** Version n+1 is never sent to a receiver
 * before n has ended. A dead n *holds n+1 back* until an operator retries n: were n+1 to go ahead,
 * the retry of n would then deliver an older version after a newer one — the reordering the outbox
 * exists to prevent — and a receiver that keeps every version (a FHIR server's history, a municipal
 * case log) would miss one silently. That n+1 holds the whole plan would make skipping n tolerable for
 * a receiver that keeps only the latest, but the adapter cannot know which kind it talks to, and a
 * dead letter is the signal an operator acts on anyway (`GET /exchange/deliveries?state=dead`).
 * A withheld n does not hold n+1 back: consent is judged again for n+1 when its turn comes.
 * An operator who knows n can never be delivered may instead skip it (`POST
 * /exchange/deliveries/{id}/skip`, with a reason; src/store/outbox.ts `skip`): a skipped n has ended,
 * so n+1 goes — the operator's explicit, audited choice that this receiver may miss n.
 *
 * **Why not graphile-worker** (read in graphile-worker 0.17.3's source): its `get_job`
 * (dist/sql/getJobs.js) takes jobs `order by priority asc, run_at asc`, and a failed job has its
 * `run_at` pushed to `now() + exp(attempts)` seconds and its named queue unlocked (dist/sql/failJobs.js),
 * so a later job of the same queue runs while the earlier one waits to retry — version n+1 would
 * overtake n. The backoff is fixed (no jitter, no `Retry-After`). And a job whose worker was killed
 * stays locked until `locked_at < now() - interval '4 hours'` (sql/000016.sql, 000018.sql), where
 * the brief asks for a killed instance's claim to be released at once. The outbox table is the queue
 * instead, claimed with `FOR UPDATE SKIP LOCKED` in a transaction held for the attempt (outbox.ts).
 */
import type { Logger } from 'pino';
import type { SendBasis, SipPlan } from '../sip/index.js';
import type { Connector, DeliveryOutcome, OutboundMessage, ResourceText, SendDecision } from './delivery.js';

/**
 * A stored version as the worker needs it. `derived` is what was kept when it was written (migration
 * 6) under the deriver the worker asked for ({@link OutboxWorkerOptions.deriver}), when there is some.
 */
export interface ClaimedVersion {
  readonly plan: SipPlan;
  readonly version: number;
  /** When the version was recorded (ISO 8601). */
  readonly recordedAt: string;
  /** `basis`: the JSON text of the version's `SendBasis`, opaque to the store. */
  readonly derived?: { readonly basis: string; readonly texts: readonly ResourceText[] };
}

/** A delivery claimed for one attempt, as the worker needs it (src/store/outbox.ts `ClaimedDelivery`). */
export interface ClaimedAttempt {
  readonly delivery: { readonly id: string; readonly planId: string; readonly version: number; readonly receiverId: string; readonly attempts: number };
  /** The version to deliver. */
  readonly stored: ClaimedVersion;
  /** The plan's current version, whose consent is judged at the moment of sending. */
  readonly current: ClaimedVersion;
}

/**
 * How an attempt ended (src/store/outbox.ts `Settlement`); `audit`, the attempt's audit entry, only to
 * a queue that {@link OutboxQueue.recordsAudit records it}.
 */
export type AttemptResult = (
  | { readonly kind: 'delivered'; readonly status?: number; readonly detail?: string }
  | { readonly kind: 'withheld'; readonly reason: string }
  | { readonly kind: 'retry'; readonly reason: string; readonly status?: number; readonly notBefore: Date }
  | { readonly kind: 'dead'; readonly reason: string; readonly status?: number }
) & { readonly audit?: DeliveryAuditEntry };

/** An attempt's result with its audit entry, before the worker decides who writes the entry. */
type AuditedResult = AttemptResult & { readonly audit: DeliveryAuditEntry };

/**
 * The outbox as the worker uses it: claim one due delivery, run the attempt while holding the claim,
 * record its result. `SqlOutboxStore` (src/store/outbox.ts) is one; the types are repeated here so the
 * exchange does not import the store (DESIGN.md §2), and the HTTP layer hands the one to the other.
 */
export interface OutboxQueue {
  /** `deriver`: bring the versions' derived data kept under this name (src/http/derived-view.ts `currentDeriver`). */
  deliverNext(at: Date, attempt: (claimed: ClaimedAttempt) => Promise<AttemptResult>, options?: { readonly deriver?: string }): Promise<boolean>;
  /**
   * Claims up to `limit` due deliveries in one go, runs `attempt` on each at once and records their
   * results together (src/store/outbox.ts `deliverBatch`); resolves how many it claimed. A queue that
   * has it is claimed from in batches by {@link OutboxWorker.start}: a claim's round trips, its
   * transaction and its settlement statement shared by several deliveries.
   */
  deliverBatch?(
    at: Date,
    limit: number,
    attempt: (claimed: ClaimedAttempt) => Promise<AttemptResult>,
    options?: { readonly deriver?: string; readonly onClaimed?: (count: number) => void },
  ): Promise<number>;
  /**
   * True when the queue writes a result's `audit` entry with the result, in the transaction that
   * records it (the SQL outbox: one statement for both). The worker then hands the entry over with the
   * result instead of writing it through {@link OutboxWorkerOptions.audit} first — a round trip and a
   * commit fewer per attempt, and no attempt recorded without its entry.
   */
  readonly recordsAudit?: boolean;
  /**
   * Calls `wake` when deliveries are queued or put back by any instance (PostgreSQL: LISTEN/NOTIFY);
   * resolves to what stops it, or undefined where the queue cannot tell (PGlite). The worker polls
   * every {@link OutboxWorkerOptions.pollIntervalMs} all the same: for retries that come due, and in
   * case a notification is missed (a listener's connection lost). A wake while no slot sleeps is kept
   * for the next slot that would ({@link OutboxWorker.wake}).
   */
  onQueued?(wake: () => void): Promise<(() => Promise<void>) | undefined>;
}

/** What the worker appends to the audit log (src/store/plan-store.ts `AuditEntry`). */
export interface DeliveryAuditEntry {
  readonly at: string;
  readonly organization: string;
  readonly agent?: string;
  readonly planId?: string;
  readonly personIdentifier?: string;
  readonly action: 'execute';
  readonly what: string;
  readonly outcome: 'success' | 'refused' | 'failed';
  readonly detail?: string;
}

/** A receiver as the worker needs it: its id and the organisation (HSA-id) the data goes to. */
export interface OutboxReceiver {
  readonly id: string;
  readonly organization: string;
}

export interface OutboxWorkerOptions {
  readonly outbox: OutboxQueue;
  readonly audit: (entry: DeliveryAuditEntry) => Promise<void>;
  readonly receivers: readonly OutboxReceiver[];
  /** The connector of a receiver; undefined for one not configured (the delivery becomes a dead letter). */
  readonly connectorFor: (receiverId: string) => Connector | undefined;
  /**
   * What consent allows the receiver at this instant (src/exchange consent at send time); `basis` is
   * the version's send basis when the store kept one (the same judgement, fewer rules run).
   */
  readonly decide: (plan: SipPlan, receiverId: string, at: Date, basis?: SendBasis) => SendDecision;
  /**
   * The name the server keeps derived data under (src/http/derived-view.ts `currentDeriver`): the
   * outbox brings each version's send basis and resource texts kept under it. Without it, every
   * attempt judges and maps the plan from scratch.
   */
  readonly deriver?: string;
  readonly clock?: () => Date;
  /** A number in [0, 1) for the jitter; Math.random unless a test fixes it. */
  readonly random?: () => number;
  /** The first retry's backoff ceiling (default 1 s); doubled each attempt. */
  readonly baseDelayMs?: number;
  /** The most any backoff may be (default 5 min); `Retry-After` may ask for more and is honoured. */
  readonly maxDelayMs?: number;
  /** Attempts before a delivery that keeps failing is a dead letter (default 12). */
  readonly maxAttempts?: number;
  /**
   * Attempts running at once in this process (default 4). On PostgreSQL each claim holds a pool
   * connection for its attempts (at most this many claims at once, each of up to {@link batchLimit}
   * deliveries): keep it below the pool's size (10, sql-client.ts).
   */
  readonly concurrency?: number;
  /** How often an idle worker looks for due deliveries written by another instance, or come due (default 500 ms). */
  readonly pollIntervalMs?: number;
  readonly logger?: Logger;
}

/** What the audit log names the worker as. */
export const OUTBOX_AGENT = 'sip-fhir-adapter/outbox';

/** The idempotency key of every attempt of one delivery (OutboundMessage.idempotencyKey). */
export function idempotencyKey(planId: string, version: number, receiverId: string): string {
  return `${planId}/${String(version)}/${receiverId}`;
}

/**
 * The wait before attempt `attempt + 1` after attempt `attempt` failed: full jitter
 * (random · min(cap, base·2^(attempt−1))), and never less than the receiver's `Retry-After`.
 */
export function backoffMs(attempt: number, options: { baseDelayMs: number; maxDelayMs: number; random: () => number; retryAfterMs?: number }): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.floor(options.random() * ceiling);
  return Math.max(jittered, options.retryAfterMs ?? 0);
}

/** The send basis kept with a version, parsed; undefined (judge in full) when it is not one. */
function basisOf(derived: ClaimedVersion['derived']): SendBasis | undefined {
  if (derived === undefined) return undefined;
  // The parsed-JSON boundary: the text the writer made under the deriver the worker asked for.
  const parsed = JSON.parse(derived.basis) as Partial<SendBasis> | null;
  return parsed !== null && Array.isArray(parsed.rules) ? (parsed as SendBasis) : undefined;
}

/**
 * The most deliveries one claim takes for a worker with `concurrency` attempts at once, from a queue
 * that claims in batches: half of them (rounded up), so that while one batch is claimed or recorded,
 * another's attempts are in flight — one claim of all would leave nothing in flight between batches,
 * and a claim per attempt pays a claim, a transaction and a settlement statement per delivery.
 */
export function batchLimit(concurrency: number): number {
  return Math.ceil(concurrency / 2);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function withStatus(text: string, status: number | undefined): string {
  return status === undefined ? text : `${text} (HTTP ${String(status)})`;
}

export class OutboxWorker {
  private readonly clock: () => Date;
  private readonly random: () => number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxAttempts: number;
  private readonly concurrency: number;
  private readonly pollIntervalMs: number;
  private readonly receivers: ReadonlyMap<string, OutboxReceiver>;
  private readonly claimOptions: { readonly deriver?: string };
  private running = false;
  private slots: Promise<void>[] = [];
  /** Batched claims: attempts not yet taken by a running batch, the batches running, and who waits for one to end. */
  private free = 0;
  private readonly batches = new Set<Promise<void>>();
  private freed: (() => void) | undefined;
  private paused = false;
  private wakers = new Set<() => void>();
  /**
   * A wake that came while no slot slept: the next sleep returns at once instead. A notification sent
   * while every slot was between a claim that found nothing and its sleep (the version committed after
   * the claim's snapshot) would otherwise be lost until the next poll.
   */
  private wakeKept = false;
  private unlisten: Promise<(() => Promise<void>) | undefined> = Promise.resolve(undefined);

  constructor(private readonly options: OutboxWorkerOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.baseDelayMs = options.baseDelayMs ?? 1_000;
    this.maxDelayMs = options.maxDelayMs ?? 300_000;
    this.maxAttempts = options.maxAttempts ?? 12;
    this.concurrency = options.concurrency ?? 4;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    for (const [name, value] of Object.entries({ baseDelayMs: this.baseDelayMs, maxDelayMs: this.maxDelayMs, pollIntervalMs: this.pollIntervalMs })) {
      if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be 0 or more milliseconds, not ${String(value)}`);
    }
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) throw new RangeError(`maxAttempts must be a whole number ≥ 1, not ${String(this.maxAttempts)}`);
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new RangeError(`concurrency must be a whole number ≥ 1, not ${String(this.concurrency)}`);
    this.receivers = new Map(options.receivers.map((receiver) => [receiver.id, receiver]));
    this.claimOptions = options.deriver === undefined ? {} : { deriver: options.deriver };
  }

  /** Starts delivering in the background until {@link stop}. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.wakeKept = false;
    this.free = this.concurrency;
    this.slots = this.options.outbox.deliverBatch === undefined ? Array.from({ length: this.concurrency }, () => this.loop()) : [this.claimLoop()];
    this.unlisten = (this.options.outbox.onQueued?.(() => {
      this.wake();
    }) ?? Promise.resolve(undefined)).catch((error: unknown) => {
      this.options.logger?.warn({ err: error }, 'outbox: cannot listen for queued deliveries; polling only');
      return undefined;
    });
  }

  /** Resolves once the worker listens for queued deliveries (or knows it cannot, and only polls). */
  async listening(): Promise<void> {
    await this.unlisten;
  }

  /** Stops taking deliveries and waits for the attempts under way to end and be recorded. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await (await this.unlisten)?.();
    this.unlisten = Promise.resolve(undefined);
    await Promise.all(this.slots);
    await Promise.all(this.batches);
    this.slots = [];
  }

  /**
   * Looks for due deliveries now rather than at the next poll (after a version was written here, or
   * when another instance's notification arrives): wakes the slots that sleep, or, when none does,
   * keeps the wake for the next slot that would ({@link sleep}).
   */
  wake(): void {
    if (this.wakers.size === 0) {
      this.wakeKept = true;
      return;
    }
    for (const waker of this.wakers) waker();
    this.wakers.clear();
  }

  /**
   * Delivers what is due now, one at a time, until nothing is (tests with a fixed clock); returns how
   * many attempts were made. Not to be mixed with {@link start}.
   */
  async runUntilIdle(): Promise<number> {
    let attempts = 0;
    while (await this.options.outbox.deliverNext(this.clock(), (claimed) => this.attempt(claimed), this.claimOptions)) attempts++;
    return attempts;
  }

  /** One slot of a queue without batches: one delivery at a time, until stopped. */
  private async loop(): Promise<void> {
    while (this.running) {
      let found = false;
      try {
        found = await this.options.outbox.deliverNext(this.clock(), (claimed) => this.attempt(claimed), this.claimOptions);
      } catch (error) {
        // The database is away, or the audit log refused an entry: nothing was recorded, the
        // delivery stays pending and is tried again after a pause.
        this.options.logger?.error({ err: error }, 'outbox: an attempt could not be recorded; retrying after a pause');
      }
      if (!found) await this.sleep(this.pollIntervalMs);
    }
  }

  /**
   * Claims in batches while attempts are free (at most `concurrency` in flight): each claim asks for
   * up to {@link batchLimit} of the free ones and gives back at once those it did not fill, so a
   * backlog that trickles in (one queued delivery at a time) still fills every attempt, as one slot
   * per attempt did. A batch's attempts are taken back when it is recorded. Sleeps when a claim finds
   * nothing, or after an error, until woken or the poll interval has passed.
   */
  private async claimLoop(): Promise<void> {
    const most = batchLimit(this.concurrency);
    while (this.running) {
      if (this.paused) {
        this.paused = false;
        await this.sleep(this.pollIntervalMs);
        continue;
      }
      if (this.free === 0) {
        await new Promise<void>((resolve) => {
          this.freed = resolve;
        });
        continue;
      }
      const limit = Math.min(this.free, most);
      this.free -= limit;
      const claimed = await this.claimBatch(limit);
      if (claimed === 0) await this.sleep(this.pollIntervalMs);
    }
  }

  /** Starts one batch of up to `limit`; resolves how many it claimed (0 also when it failed before claiming). */
  private claimBatch(limit: number): Promise<number> {
    const deliverBatch = this.options.outbox.deliverBatch?.bind(this.options.outbox);
    if (deliverBatch === undefined) throw new Error('claimBatch needs a queue with deliverBatch');
    let held = limit;
    return new Promise<number>((resolve) => {
      const onClaimed = (count: number): void => {
        this.release(held - count);
        held = count;
        resolve(count);
      };
      const batch = deliverBatch(this.clock(), limit, (claimed) => this.attempt(claimed), { ...this.claimOptions, onClaimed })
        .then(
          () => undefined,
          (error: unknown) => {
            // The database is away, or the audit log refused an entry: what was not recorded stays
            // pending and is tried again after a pause.
            this.options.logger?.error({ err: error }, 'outbox: an attempt could not be recorded; retrying after a pause');
            this.paused = true;
          },
        )
        .finally(() => {
          this.release(held);
          held = 0;
          this.batches.delete(batch);
          resolve(0);
        });
      this.batches.add(batch);
    });
  }

  private release(count: number): void {
    if (count <= 0) return;
    this.free += count;
    const freed = this.freed;
    this.freed = undefined;
    freed?.();
  }

  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    if (this.wakeKept) {
      this.wakeKept = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  /** One attempt, its audit entry written here or handed to the queue with the result. */
  private async attempt(claimed: ClaimedAttempt): Promise<AttemptResult> {
    const result = await this.judgeAndSend(claimed);
    if (this.options.outbox.recordsAudit === true) return result;
    const { audit, ...settlement } = result;
    await this.options.audit(audit);
    return settlement;
  }

  /** One attempt: consent, connector, and the audit entry saying how it ended. */
  private async judgeAndSend(claimed: ClaimedAttempt): Promise<AuditedResult> {
    const { delivery, stored, current } = claimed;
    const at = this.clock();
    const attempt = delivery.attempts + 1;
    const receiver = this.receivers.get(delivery.receiverId);
    const connector = receiver === undefined ? undefined : this.options.connectorFor(receiver.id);
    const audit = (outcome: DeliveryAuditEntry['outcome'], detail: string): DeliveryAuditEntry => ({
        at: at.toISOString(),
        organization: receiver?.organization ?? delivery.receiverId,
        agent: OUTBOX_AGENT,
        planId: delivery.planId,
        personIdentifier: stored.plan.individual.identifier.value,
        action: 'execute',
        what: `deliver plan ${delivery.planId} version ${String(delivery.version)} to receiver ${delivery.receiverId} (delivery ${delivery.id}, attempt ${String(attempt)})`,
        outcome,
        detail,
    });
    if (receiver === undefined || connector === undefined) {
      const reason = `receiver "${delivery.receiverId}" is not configured (anymore); nothing was sent`;
      return { kind: 'dead', reason, audit: audit('failed', `dead letter: ${reason}`) };
    }
    let decision: SendDecision;
    try {
      // The current version is judged first; when it is the one to deliver, that one judgement serves both.
      const decide = (version: ClaimedVersion): SendDecision => this.options.decide(version.plan, receiver.id, at, basisOf(version.derived));
      const now = decide(current);
      decision = !now.send || current.version === stored.version ? now : decide(stored);
    } catch (error) {
      return this.failedAttempt(attempt, `the consent check failed: ${errorText(error)}`, undefined, undefined, audit);
    }
    if (!decision.send) {
      const reason = `${decision.reason}: ${decision.detail}`;
      return { kind: 'withheld', reason, audit: audit('refused', `withheld: ${reason}`) };
    }
    const message: OutboundMessage = {
      planId: delivery.planId,
      version: delivery.version,
      receiverId: receiver.id,
      idempotencyKey: idempotencyKey(delivery.planId, delivery.version, receiver.id),
      plan: decision.plan,
      attempt,
      at,
      recordedAt: new Date(stored.recordedAt),
      ...(decision.judgement === undefined ? {} : { judgement: decision.judgement }),
      // The texts are of the version as recorded: only when consent removed nothing from it but the
      // consents' exclusion descriptions, which no kept text holds (SendDecision.keptTextsHold).
      ...(stored.derived === undefined || (decision.plan !== stored.plan && decision.keptTextsHold !== true) ? {} : { resourceTexts: stored.derived.texts }),
    };
    let outcome: DeliveryOutcome;
    try {
      outcome = await connector.deliver(message);
    } catch (error) {
      outcome = { kind: 'retry', reason: `the connector failed: ${errorText(error)}` };
    }
    const consent = `consent ${decision.consentId}${decision.removed.length === 0 ? '' : `, removed: ${decision.removed.join(', ')}`}`;
    switch (outcome.kind) {
      case 'delivered':
        return {
          kind: 'delivered',
          ...(outcome.status === undefined ? {} : { status: outcome.status }),
          ...(outcome.detail === undefined ? {} : { detail: outcome.detail }),
          audit: audit('success', `${withStatus('delivered', outcome.status)}; ${consent}`),
        };
      case 'failed': {
        const reason = withStatus(`refused by the receiver: ${outcome.reason}`, outcome.status);
        return { kind: 'dead', reason, ...(outcome.status === undefined ? {} : { status: outcome.status }), audit: audit('failed', `dead letter: ${reason}; ${consent}`) };
      }
      case 'retry':
        return this.failedAttempt(attempt, outcome.reason, outcome.status, outcome.retryAfterMs, (result, detail) => audit(result, `${detail}; ${consent}`));
    }
  }

  private failedAttempt(
    attempt: number,
    reason: string,
    status: number | undefined,
    retryAfterMs: number | undefined,
    audit: (outcome: DeliveryAuditEntry['outcome'], detail: string) => DeliveryAuditEntry,
  ): AuditedResult {
    const said = withStatus(reason, status);
    if (attempt >= this.maxAttempts) {
      const dead = `gave up after ${String(attempt)} attempts; the last: ${said}`;
      return { kind: 'dead', reason: dead, ...(status === undefined ? {} : { status }), audit: audit('failed', `dead letter: ${dead}`) };
    }
    const wait = backoffMs(attempt, { baseDelayMs: this.baseDelayMs, maxDelayMs: this.maxDelayMs, random: this.random, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
    const notBefore = new Date(this.clock().getTime() + wait);
    return {
      kind: 'retry',
      reason: said,
      notBefore,
      ...(status === undefined ? {} : { status }),
      audit: audit('failed', `attempt ${String(attempt)} failed: ${said}; next attempt not before ${notBefore.toISOString()}`),
    };
  }
}
