/**
 * What the HTTP connectors share: one request with the receiver's auth (a 401 drops the token and
 * tries once more with a new one), and the judgement of an answer that is not a success into a
 * `DeliveryOutcome` (delivery.ts): what may succeed later is `retry`, what cannot is `failed`.
 */
import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance, type RawAxiosResponseHeaders, type AxiosResponseHeaders } from 'axios';
import type { DeliveryOutcome } from '../delivery.js';
import { TokenError, type TokenSource } from './auth.js';

/** The largest answer read from a receiver (an OperationOutcome or transaction-response). */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;
/** The longest reason kept in an outcome (it ends up in the outbox and the audit log). */
const MAX_REASON_CHARS = 2_000;

export interface Answer {
  readonly status: number;
  readonly headers: RawAxiosResponseHeaders | AxiosResponseHeaders;
  readonly body: string;
}

/** What a send that got no usable answer comes to (never delivered). */
export type Unsent = Exclude<DeliveryOutcome, { kind: 'delivered' }>;

export type Sent = { readonly answer: Answer } | { readonly outcome: Unsent };

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  /** A text is sent as its UTF-8; bytes as they are. */
  readonly body?: string | Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

/** An axios instance for one receiver: keep-alive sockets, the receiver's timeout, every status answered. */
export function receiverHttp(timeoutMs: number): { http: AxiosInstance; close(): void } {
  const httpAgent = new http.Agent({ keepAlive: true });
  const httpsAgent = new https.Agent({ keepAlive: true });
  const instance = axios.create({
    timeout: timeoutMs,
    httpAgent,
    httpsAgent,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    maxRedirects: 0,
    maxContentLength: MAX_ANSWER_BYTES,
    maxBodyLength: Infinity,
  });
  return {
    http: instance,
    close: () => {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

export function clip(text: string, max = MAX_REASON_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Why a request got no answer at all: a timeout, a reset or refused connection, a name not found. */
function transportReason(error: unknown, url: string, timeoutMs: number): string {
  if (axios.isAxiosError(error)) {
    if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT') return `no answer from ${url} within ${String(timeoutMs)} ms (timeout)`;
    const cause: unknown = error.cause;
    const causeCode = cause instanceof Error ? (cause as NodeJS.ErrnoException).code : undefined;
    return `no answer from ${url}: ${causeCode ?? error.code ?? 'error'}${error.message === '' ? '' : ` (${clip(error.message, 200)})`}`;
  }
  return `no answer from ${url}: ${clip(error instanceof Error ? error.message : String(error), 200)}`;
}

function tokenOutcome(error: TokenError): Unsent {
  const reason = `no access token: ${error.message}`;
  return error.retryable ? { kind: 'retry', reason } : { kind: 'failed', reason };
}

/**
 * Sends one request with the receiver's `Authorization`. A 401 drops the kept token and the request
 * goes once more with a fresh one; a second 401 is the answer. No answer at all (a timeout, a reset)
 * is a `retry` outcome; a token that cannot be had is `retry` or `failed` as the token server says.
 */
export async function send(instance: AxiosInstance, tokens: TokenSource, request: HttpRequest, timeoutMs: number): Promise<Sent> {
  for (let attempt = 1; ; attempt += 1) {
    let authorization: string | undefined;
    try {
      authorization = await tokens.authorization();
    } catch (error) {
      if (error instanceof TokenError) return { outcome: tokenOutcome(error) };
      throw error;
    }
    let answer: Answer;
    try {
      const response = await instance.request<string>({
        method: request.method,
        url: request.url,
        data: request.body,
        headers: { ...request.headers, ...(authorization === undefined ? {} : { Authorization: authorization }) },
      });
      answer = { status: response.status, headers: response.headers, body: typeof response.data === 'string' ? response.data : '' };
    } catch (error) {
      return { outcome: { kind: 'retry', reason: transportReason(error, request.url, timeoutMs) } };
    }
    if (answer.status === 401 && attempt === 1 && tokens.invalidate()) continue;
    return { answer };
  }
}

/**
 * `Retry-After` (RFC 9110 §10.2.3) as milliseconds from `now`: delta-seconds or an HTTP-date; a
 * date in the past is 0; anything else is undefined.
 */
export function parseRetryAfter(value: unknown, now: Date): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[A-Za-z]/.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now.getTime());
}

/** An issue of an OperationOutcome, as far as the connectors read it. */
interface OutcomeIssue {
  readonly severity?: string;
  readonly code?: string;
  readonly diagnostics?: string;
  readonly details?: { readonly text?: string };
  readonly expression?: readonly string[];
}

/** The issues of an answer that is an OperationOutcome (as JSON), or undefined. */
export function outcomeIssues(body: string): OutcomeIssue[] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (json === null || typeof json !== 'object' || (json as { resourceType?: unknown }).resourceType !== 'OperationOutcome') return undefined;
  const issues = (json as { issue?: unknown }).issue;
  return Array.isArray(issues) ? issues.filter((issue): issue is OutcomeIssue => issue !== null && typeof issue === 'object') : [];
}

/** `error invalid: CarePlan.subject is required (at CarePlan.subject)`, one per issue. */
export function describeIssues(issues: readonly OutcomeIssue[]): string {
  return issues
    .map((issue) => {
      const text = issue.diagnostics ?? issue.details?.text ?? '';
      const expressions = Array.isArray(issue.expression) ? issue.expression.filter((e) => typeof e === 'string') : [];
      return `${issue.severity ?? 'error'} ${issue.code ?? 'unknown'}${text === '' ? '' : `: ${text}`}${expressions.length === 0 ? '' : ` (at ${expressions.join(', ')})`}`;
    })
    .join('; ');
}

/** What an answer says, for a reason: its OperationOutcome, else the start of its text. */
export function answerDetail(answer: Answer): string {
  const issues = outcomeIssues(answer.body);
  if (issues !== undefined) return issues.length === 0 ? 'an OperationOutcome without issues' : describeIssues(issues);
  const text = answer.body.trim().replace(/\s+/g, ' ');
  return text === '' ? 'no body' : clip(text, 300);
}

/**
 * Whether the receiver refuses a request for its size: 413 (RFC 9110 §15.5.14), or an
 * OperationOutcome saying so — issue code `too-costly` or `too-long`, or words like Medplum's
 * "Transaction requires strict isolation but has too many entries", or "… entries: maximum is 100".
 */
export function refusesSize(answer: Answer): boolean {
  if (answer.status === 413) return true;
  if (answer.status < 400) return false;
  const issues = outcomeIssues(answer.body);
  if (issues === undefined) return false;
  return issues.some((issue) => {
    if (issue.code === 'too-costly' || issue.code === 'too-long') return true;
    const text = `${issue.diagnostics ?? ''} ${issue.details?.text ?? ''}`;
    return /too (many|large|big|costly|long)|(exceeds?|over) the (max|limit)|maximum (is|allowed|number of|bundle size|transaction size)|strict isolation/i.test(text);
  });
}

/** The judgement every HTTP receiver shares for an answer that is not a success (and not a conflict). */
export function judgeFailure(answer: Answer, url: string, now: Date, sizeOf: () => string): DeliveryOutcome {
  const { status } = answer;
  const detail = answerDetail(answer);
  if (refusesSize(answer)) {
    return {
      kind: 'failed',
      status,
      reason: clip(`${url} refuses a request of this size (${sizeOf()}): ${String(status)} ${detail}; it is not split or sent otherwise — raise the receiver's limit or deliver a smaller plan`),
    };
  }
  if (status === 429 || status === 408 || status >= 500) {
    const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], now);
    return { kind: 'retry', status, reason: clip(`${url} answered ${String(status)}: ${detail}`), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }
  if (status >= 300 && status < 400) {
    const location: unknown = answer.headers.location;
    return { kind: 'failed', status, reason: clip(`${url} answered ${String(status)} (a redirect${typeof location === 'string' ? ` to ${location}` : ''}, not followed): configure the final URL`) };
  }
  return { kind: 'failed', status, reason: clip(`${url} refused the delivery with ${String(status)}: ${detail}`) };
}
