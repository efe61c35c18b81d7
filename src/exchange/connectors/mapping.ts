/**
 * The connector of a system with its own format (issue #14, "What to build" 1): the plan is written
 * in the format of its mapping (`translateOutbound`, judged at the moment of sending), then either
 * posted to the system's endpoint or dropped as a file in its folder.
 *
 * Posting is judged as for a FHIR receiver (http.ts), without the read-back a FHIR server allows:
 * 2xx delivered; no answer, 408, 429, 5xx retry (`Retry-After` honoured); 409 retry too — with an
 * `Idempotency-Key`, a 409 says a request with the same key is still being processed
 * (draft-ietf-httpapi-idempotency-key-header §2.6); a size refusal and any other 4xx failed.
 *
 * A folder drop writes `<plan>.v<version>.<receiver>.<json|xml>` through a temporary file in the same
 * folder that is flushed and then renamed over the name (rename is atomic within a file system,
 * POSIX rename(2)): a reader sees the whole file or none, and a retry replaces the same file rather
 * than adding one.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { AxiosInstance } from 'axios';
import type { Connector, DeliveryOutcome, OutboundMessage } from '../delivery.js';
import { formatIssue, isError, translateOutbound, type Mapping } from '../mapping/index.js';
import type { MappingReceiver } from '../receivers.js';
import { createTokenSource } from './auth.js';
import type { ConnectorOptions } from './fhir.js';
import { clip, judgeFailure, receiverHttp, send } from './http.js';

/** The media type a mapping's documents are sent as. */
export function mediaTypeOf(mapping: Mapping): string {
  return mapping.document.format === 'xml' ? 'application/xml' : 'application/json';
}

/** A name part safe in any file system, distinct for distinct ids (percent-encoding is one-to-one). */
const namePart = (value: string): string => encodeURIComponent(value).replaceAll('*', '%2A');

/** The file a plan version is dropped as for a receiver: the same for every attempt. */
export function dropFileName(message: Pick<OutboundMessage, 'planId' | 'version' | 'receiverId'>, mapping: Mapping): string {
  return `${namePart(message.planId)}.v${String(message.version)}.${namePart(message.receiverId)}.${mapping.document.format}`;
}

/** File system errors a later attempt cannot fix without an operator; others (full disk, I/O) may pass. */
const PERMANENT_FS_ERRORS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG']);

async function dropFile(folder: string, name: string, text: string): Promise<DeliveryOutcome> {
  const target = path.join(folder, name);
  const temporary = path.join(folder, `.${name}.${randomUUID()}.tmp`);
  try {
    await mkdir(folder, { recursive: true });
    const handle = await open(temporary, 'wx');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
    return { kind: 'delivered', detail: `written to ${target}` };
  } catch (error) {
    // The temporary file may not exist (or its folder may not): what matters is the first error.
    await rm(temporary, { force: true }).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
    const reason = `cannot write ${target}: ${code} (${error instanceof Error ? error.message : String(error)})`;
    return PERMANENT_FS_ERRORS.has(code) ? { kind: 'failed', reason } : { kind: 'retry', reason };
  }
}

/** A connector that translates the plan by `mapping` and posts it to, or drops it for, the receiver. */
export function createMappingConnector(receiver: MappingReceiver, mapping: Mapping, options: ConnectorOptions = {}): Connector {
  if (mapping.name !== receiver.mapping) throw new Error(`the receiver ${receiver.id} uses the mapping "${receiver.mapping}", not "${mapping.name}"`);
  const now = options.now ?? (() => new Date());
  const { endpoint, folder } = receiver;
  const own = endpoint !== undefined && options.http === undefined ? receiverHttp(receiver.timeoutMs) : undefined;
  const instance: AxiosInstance | undefined = options.http ?? own?.http;
  const tokens = options.tokens ?? createTokenSource(receiver.auth, { now, timeoutMs: receiver.timeoutMs });
  const mediaType = mediaTypeOf(mapping);

  return {
    async deliver(message: OutboundMessage): Promise<DeliveryOutcome> {
      const translated = translateOutbound(mapping, message.plan, { at: message.at, reportLoss: false });
      if (translated.text === undefined || translated.issues.some(isError)) {
        const errors = translated.issues.filter(isError);
        return { kind: 'failed', reason: clip(`the plan cannot be written in the format of "${mapping.name}": ${errors.map(formatIssue).join('; ')}`) };
      }
      const text = translated.text;
      if (folder !== undefined) return dropFile(folder, dropFileName(message, mapping), text);
      if (endpoint === undefined || instance === undefined) throw new Error(`the receiver ${receiver.id} has neither an endpoint nor a folder`);
      const sent = await send(
        instance,
        tokens,
        { method: 'POST', url: endpoint, body: text, headers: { 'Content-Type': `${mediaType}; charset=utf-8`, Accept: `${mediaType}, application/json;q=0.9, */*;q=0.1`, 'Idempotency-Key': message.idempotencyKey } },
        receiver.timeoutMs,
      );
      if ('outcome' in sent) return sent.outcome;
      const { answer } = sent;
      if (answer.status >= 200 && answer.status < 300) return { kind: 'delivered', status: answer.status };
      if (answer.status === 409) {
        return { kind: 'retry', status: 409, reason: `${endpoint} answered 409: a request with the same idempotency key is still being processed, or the state conflicts` };
      }
      return judgeFailure(answer, endpoint, now(), () => `a ${mapping.document.format.toUpperCase()} document of ${String(Buffer.byteLength(text))} bytes`);
    },
    close(): Promise<void> {
      own?.close();
      return Promise.resolve();
    },
  };
}
