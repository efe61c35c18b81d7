/**
 * The connector of a FHIR R4 receiver (issue #14, "What to build" 1): the plan as the project's own
 * transaction Bundle (`planToBundle`) is posted to the server's base URL (FHIR R4
 * http.html#transaction), all or nothing.
 *
 * Nothing leaves that the judgement at the moment of sending refused: the message's `judgement` (the
 * consent decision's `judgeSend` of this plan at this instant), or the connector's own when the
 * message has none. The Bundle is written as of the version's recorded instant (`recordedAt`: its
 * `timestamp`, each Consent's status), so every attempt under one Idempotency-Key sends the same
 * Bundle; it is built from the version's kept resource texts when the message has them
 * (src/exchange/transaction-bundle.ts), which equals mapping the plan.
 *
 * The answer is judged, never thrown:
 * - 2xx with a `transaction-response` whose entries are all 2xx → delivered;
 * - no answer (timeout, reset, refused), 408, 429, 5xx → retry, with `Retry-After` when given;
 * - 409 and 412 (another writer got there first, or a conditional write found a changed state) → the
 *   receiver's CarePlan is read back by the plan's identifier: it is delivered when the receiver holds
 *   this version or a later one (the plan-version extension the mapping writes), else retry;
 * - a refusal for the size of the transaction (413, or an OperationOutcome saying so) → failed, naming
 *   the entry count and byte size. The adapter never falls back to a batch: a SIP plan must land whole
 *   or not at all (a batch would leave a receiver holding half a plan);
 * - any other 4xx → failed, with the OperationOutcome's diagnostics and expressions.
 */
import type { Bundle, CarePlan } from 'fhir/r4.js';
import type { AxiosInstance } from 'axios';
import { DEFAULT_MAPPING_OPTIONS, EXTENSION, IDENTIFIER_SYSTEM, type FhirMappingOptions } from '../../fhir/index.js';
import { judgeSend } from '../../sip/index.js';
import type { Connector, DeliveryOutcome, OutboundMessage } from '../delivery.js';
import type { FhirReceiver } from '../receivers.js';
import { transactionBundleBytes } from '../transaction-bundle.js';
import { createTokenSource, type TokenSource } from './auth.js';
import { answerDetail, clip, judgeFailure, receiverHttp, send, type Answer } from './http.js';

export const FHIR_JSON = 'application/fhir+json';

export interface ConnectorOptions {
  /** The clock for `Retry-After` dates and token expiry (tests give a fixed one). */
  readonly now?: () => Date;
  /** The HTTP client (default: one per connector, with keep-alive and the receiver's timeout). */
  readonly http?: AxiosInstance;
  /** The token source (default: from the receiver's auth). */
  readonly tokens?: TokenSource;
}

export interface FhirConnectorOptions extends ConnectorOptions {
  /** Options of the FHIR mapping (extra CarePlan categories). */
  readonly mappingOptions?: FhirMappingOptions;
}

/** The search a plan's CarePlan is found by on a receiver: its SIP plan identifier. */
export function carePlanSearch(base: string, planId: string): string {
  return `${base}/CarePlan?identifier=${encodeURIComponent(`${IDENTIFIER_SYSTEM.sipPlan}|${planId}`)}`;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** `2xx` for a Bundle entry's `response.status` ("201 Created"). */
const isSuccessStatus = (status: unknown): boolean => typeof status === 'string' && /^2\d\d(\s|$)/.test(status.trim());

/** Delivered when the answer is a transaction-response whose every entry succeeded; else why not. */
function judgeTransactionResponse(answer: Answer, url: string, expected: number): DeliveryOutcome {
  const json = parseJson(answer.body) as Partial<Bundle> | undefined;
  if (json?.resourceType !== 'Bundle' || json.type !== 'transaction-response') {
    return { kind: 'failed', status: answer.status, reason: clip(`${url} answered ${String(answer.status)} without a transaction-response Bundle (${answerDetail(answer)}): is the base URL the FHIR server's base?`) };
  }
  const entries = json.entry ?? [];
  if (entries.length !== expected) {
    return { kind: 'failed', status: answer.status, reason: `${url} answered a transaction-response with ${String(entries.length)} entries for the ${String(expected)} sent` };
  }
  const refused = entries.flatMap((entry, index) => (isSuccessStatus(entry.response?.status) ? [] : [`entry ${String(index)}: ${entry.response?.status ?? 'no status'}`]));
  if (refused.length > 0) return { kind: 'failed', status: answer.status, reason: clip(`${url} answered ${String(answer.status)} but not every entry succeeded: ${refused.join('; ')}`) };
  return { kind: 'delivered', status: answer.status, detail: `${String(entries.length)} entries` };
}

/** The highest plan version among the CarePlans of a searchset, or undefined when there is none. */
export function heldVersion(searchset: unknown, planId: string): number | undefined {
  const bundle = searchset as Partial<Bundle> | undefined;
  if (bundle?.resourceType !== 'Bundle') return undefined;
  let highest: number | undefined;
  for (const entry of bundle.entry ?? []) {
    const resource = entry.resource as CarePlan | undefined;
    if (resource?.resourceType !== 'CarePlan') continue;
    if (!(resource.identifier ?? []).some((identifier) => identifier.system === IDENTIFIER_SYSTEM.sipPlan && identifier.value === planId)) continue;
    const version = resource.extension?.find((extension) => extension.url === EXTENSION.planVersion)?.valueInteger;
    if (typeof version === 'number' && (highest === undefined || version > highest)) highest = version;
  }
  return highest;
}

/** A connector that posts the plan's transaction Bundle to a FHIR R4 server. */
export function createFhirConnector(receiver: FhirReceiver, options: FhirConnectorOptions = {}): Connector {
  // An HTTP client given by the caller is the caller's to close.
  const client = options.http === undefined ? receiverHttp(receiver.timeoutMs) : { http: options.http, close: () => undefined };
  const instance = client.http;
  const now = options.now ?? (() => new Date());
  const tokens = options.tokens ?? createTokenSource(receiver.auth, { now, timeoutMs: receiver.timeoutMs });
  const mappingOptions = options.mappingOptions ?? DEFAULT_MAPPING_OPTIONS;
  const url = receiver.base;

  /** After a 409 or 412: does the receiver already hold this version (or a later one)? */
  async function reread(message: OutboundMessage, conflict: Answer): Promise<DeliveryOutcome> {
    const what = `${url} answered ${String(conflict.status)} (${answerDetail(conflict)})`;
    const searchUrl = carePlanSearch(url, message.planId);
    const sent = await send(instance, tokens, { method: 'GET', url: searchUrl, headers: { Accept: FHIR_JSON } }, receiver.timeoutMs);
    if ('outcome' in sent) return { kind: 'retry', status: conflict.status, reason: clip(`${what}; reading its CarePlan back failed: ${sent.outcome.reason}`) };
    const { answer } = sent;
    if (answer.status < 200 || answer.status >= 300) {
      return { kind: 'retry', status: conflict.status, reason: clip(`${what}; reading its CarePlan back answered ${String(answer.status)}: ${answerDetail(answer)}`) };
    }
    const held = heldVersion(parseJson(answer.body), message.planId);
    if (held !== undefined && held >= message.version) {
      return { kind: 'delivered', status: conflict.status, detail: `the receiver already holds version ${String(held)} of the plan (answered ${String(conflict.status)} to version ${String(message.version)})` };
    }
    return { kind: 'retry', status: conflict.status, reason: clip(`${what}; it holds ${held === undefined ? 'no version' : `version ${String(held)}`} of the plan, not ${String(message.version)}`) };
  }

  return {
    async deliver(message: OutboundMessage): Promise<DeliveryOutcome> {
      // Every path out judges the plan at the moment it leaves (judgeSend; seed 001 §4.2), as the
      // mapping connector does through translateOutbound: a consent that lapsed since is refused here
      // too. The consent decision judged this plan at this instant already, and says what it found.
      const judgement = message.judgement ?? judgeSend(message.plan, message.at);
      const refused = judgement.filter((problem) => problem.severity === 'error');
      if (refused.length > 0) {
        return { kind: 'failed', reason: clip(`the plan may not be sent at ${message.at.toISOString()}: ${refused.map((problem) => `${problem.code} at ${problem.pointer === '' ? '/' : problem.pointer}: ${problem.message}`).join('; ')}`) };
      }
      // The Bundle's UTF-8 written from its parts, not a string axios would encode again.
      const bundle = transactionBundleBytes(message.plan, mappingOptions, message.recordedAt, message.resourceTexts);
      const body = bundle.bytes;
      const sent = await send(
        instance,
        tokens,
        { method: 'POST', url, body, headers: { 'Content-Type': `${FHIR_JSON}; charset=utf-8`, Accept: FHIR_JSON, 'Idempotency-Key': message.idempotencyKey } },
        receiver.timeoutMs,
      );
      if ('outcome' in sent) return sent.outcome;
      const { answer } = sent;
      if (answer.status >= 200 && answer.status < 300) return judgeTransactionResponse(answer, url, bundle.entries);
      if (answer.status === 409 || answer.status === 412) return reread(message, answer);
      const size = (): string => `a transaction of ${String(bundle.entries)} entries, ${String(body.length)} bytes`;
      return judgeFailure(answer, url, now(), size);
    },
    close(): Promise<void> {
      client.close();
      return Promise.resolve();
    },
  };
}
