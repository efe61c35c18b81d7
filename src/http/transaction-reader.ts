/**
 * The CPU-heavy half of `POST /fhir`: a transaction Bundle validated against the SIP profiles and
 * read into the SIP model with its rules applied ({@link readTransaction}), either on the event loop
 * or in a pool of worker threads ({@link transactionReaderPool}, `SIP_VALIDATION_WORKERS`), so that
 * the profile validation of one transaction need not hold up every other request of the server.
 * Both give the same answer for the same Bundle: the pool runs this module's function in the worker.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Bundle, OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';
import { PROFILE, readCheckedPlan } from '../fhir/index.js';
import { parsedClone, type SipPlan } from '../sip/index.js';
import { createValidator, hasErrors, type Validator } from '../validation/index.js';
import { withBundleReferences } from './fhir-transaction.js';

/** A transaction's plan with the warnings of the profiles, the reader and the rules; or why it is refused (422). */
export type TransactionRead = { readonly ok: true; readonly plan: SipPlan; readonly warnings: OperationOutcomeIssue[] } | { readonly ok: false; readonly outcome: OperationOutcome };

/** The issues worth telling a writer whose write went through: not the reader's "all entries were mapped". */
export function reportable(issues: readonly OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  return issues.filter((issue) => issue.severity !== 'error' && issue.severity !== 'fatal' && issue.code !== 'informational');
}

/**
 * The plan of a transaction: the Bundle, its references within it written as the fullUrls they
 * resolve to ({@link withBundleReferences}), validated once against the SIP Bundle profile and the
 * profiles its entries claim, then read and checked against the rules with its consent judged at its
 * timestamp (`readCheckedPlan`). Any error refuses it with every issue (FHIRPath locations, rule codes).
 */
export function readTransaction(sent: unknown, validator: Validator): TransactionRead {
  const bundle = withBundleReferences(sent as Bundle);
  const validation = validator.validate(bundle, { profiles: [PROFILE.bundle] });
  if (hasErrors(validation)) return { ok: false, outcome: validation };
  const read = readCheckedPlan(bundle);
  if (!read.ok) return { ok: false, outcome: { resourceType: 'OperationOutcome', issue: [...read.outcome.issue, ...reportable(validation.issue)] } };
  return { ok: true, plan: read.plan, warnings: [...reportable(validation.issue), ...reportable(read.outcome.issue)] };
}

export interface TransactionReader {
  /**
   * {@link readTransaction} of the parsed body. `text`, when given, is the JSON text `sent` was parsed
   * from (`JSON.parse(text)` gives `sent`): a pool sends it to the worker as it is, instead of writing
   * the Bundle out again on the event loop.
   */
  read(sent: unknown, text?: string): Promise<TransactionRead>;
  /** True when {@link read} makes use of the text (a pool of workers): the body's text is then kept for it (src/http/body-text.ts). */
  readonly takesText?: boolean;
  /** Ends the workers, if any. */
  close(): Promise<void>;
}

/** {@link readTransaction} on the event loop. */
export function transactionReaderInThread(validator: Validator = createValidator()): TransactionReader {
  return {
    read: (sent) => Promise.resolve(readTransaction(sent, validator)),
    close: () => Promise.resolve(),
  };
}

/** What the main thread sends a worker: the body as JSON text (cheaper to copy than the parsed object graph), as the request brought it. */
export interface ReadRequest {
  readonly id: number;
  readonly text: string;
}

/**
 * What a worker answers. `parsedPlan`: the plan read is one the SIP model's schema returned in the
 * worker, so the main thread takes its clone as parsed (`parsedClone`) and the store does not parse
 * it again on the event loop.
 */
export type ReadReply = { readonly id: number; readonly result: TransactionRead; readonly parsedPlan?: true } | { readonly id: number; readonly error: string };

interface Pending {
  resolve(result: TransactionRead): void;
  reject(error: Error): void;
}

/**
 * A worker running src/http/transaction-worker: the built `.js` next to this module, or, when the
 * server runs from source (`.ts`, through tsx), that file loaded through tsx's loader, registered in
 * the worker itself (node 20 does not carry `--import tsx` into a worker's module loading).
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./transaction-worker.js', import.meta.url));
  const source = new URL('./transaction-worker.ts', import.meta.url).href;
  // tsx as this module finds it, not as the worker's working directory would.
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(boot, { eval: true });
}

/**
 * A pool of `size` worker threads, each with its own validator, taking transactions in turn: each
 * goes to the worker with the fewest in hand. A worker that dies is replaced, and the reads it held
 * fail (the route answers 500 for them, as for any unexpected error).
 */
export function transactionReaderPool(size: number = Math.max(1, availableParallelism() - 1)): TransactionReader {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`a pool needs at least one worker, not ${String(size)}`);
  let nextId = 0;
  let closing = false;
  const slots: { worker: Worker; pending: Map<number, Pending> }[] = [];
  const launch = (slot: number): void => {
    const worker = startWorker();
    const pending = new Map<number, Pending>();
    worker.on('message', (reply: ReadReply) => {
      const waiting = pending.get(reply.id);
      pending.delete(reply.id);
      if (pending.size === 0) worker.unref();
      if ('error' in reply) waiting?.reject(new Error(`validation worker: ${reply.error}`));
      else {
        if (reply.parsedPlan === true && reply.result.ok) parsedClone(reply.result.plan);
        waiting?.resolve(reply.result);
      }
    });
    worker.on('error', (error) => {
      for (const waiting of pending.values()) waiting.reject(error);
      pending.clear();
    });
    worker.on('exit', () => {
      for (const waiting of pending.values()) waiting.reject(new Error('validation worker exited'));
      pending.clear();
      if (!closing) launch(slot);
    });
    // A worker keeps the process alive only while it holds work.
    worker.unref();
    slots[slot] = { worker, pending };
  };
  for (let slot = 0; slot < size; slot++) launch(slot);
  return {
    takesText: true,
    read: (sent, text) =>
      new Promise<TransactionRead>((resolve, reject) => {
        const slot = slots.reduce((least, candidate) => (candidate.pending.size < least.pending.size ? candidate : least));
        const id = nextId++;
        if (slot.pending.size === 0) slot.worker.ref();
        slot.pending.set(id, { resolve, reject });
        const request: ReadRequest = { id, text: text ?? JSON.stringify(sent) };
        slot.worker.postMessage(request);
      }),
    close: async () => {
      closing = true;
      await Promise.all(slots.map(({ worker }) => worker.terminate()));
    },
  };
}
