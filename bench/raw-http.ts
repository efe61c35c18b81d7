/**
 * A lean HTTP/1.1 client for a load generator: keep-alive connections over `node:net`, one request in
 * flight on each (no pipelining), each request written as bytes (its head as one string, its body as
 * given), each answer read only as far as a load generator needs — its status, and where it ends
 * (`Content-Length`, or `Transfer-Encoding: chunked`). Nothing of the answer is decoded or kept.
 *
 * Why not undici's `Pool`, which bench/open-loop.ts used before: the load generator shares the two
 * cores with the server and PostgreSQL, so what it spends a request is taken from the server being
 * measured. bench:http measured undici's pool at ≈ 0.2 ms of the bench process's CPU a read at
 * 2,000/s (its request objects, header normalisation, a body stream per answer), against ≈ 0.1 ms for
 * autocannon's closed loop, whose client works as this one does (pre-built requests, a minimal parser).
 * docs/performance.md, "A leaner load generator", has the figures of both in the same rounds.
 */
import { connect, type Socket } from 'node:net';

/** One request: `path` is relative to the client's origin. */
export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The body as text (sent as UTF-8), or as the bytes to send. */
  readonly body?: string | Uint8Array;
}

/** How one request ended: its status, or the error that ended it (a refused or lost connection, a timeout, an answer this client cannot read). */
export type RawOutcome = { readonly statusCode: number } | { readonly error: Error };

const CRLF_CRLF = Buffer.from('\r\n\r\n');

/** Where the answer being read stands. */
type BodyState =
  | { readonly kind: 'length'; remaining: number }
  /** `Transfer-Encoding: chunked`: `pending` bytes of the current chunk's data (and its CRLF) still to come, or a size line to read next. */
  | { readonly kind: 'chunked'; pending: number; line: string; last: boolean };

/** The length of the head (up to and including its blank line) at the start of `bytes`, or -1 when it has not all come. */
function headLength(bytes: Buffer): number {
  const at = bytes.indexOf(CRLF_CRLF);
  return at < 0 ? -1 : at + 4;
}

/** The value of the header `name` (lower case) in `lower`, the head in lower case, or undefined when it has none. */
function headerValue(lower: string, name: string): string | undefined {
  const at = lower.indexOf(`\r\n${name}:`);
  if (at < 0) return undefined;
  const from = at + name.length + 3;
  const to = lower.indexOf('\r\n', from);
  return lower.slice(from, to < 0 ? lower.length : to).trim();
}

/**
 * The status and the body's framing of an answer's head (its bytes up to and including the blank
 * line, as Latin-1 text), or the reason it cannot be read. The head is lowered once and searched for
 * the three headers that matter, rather than split into lines: the server's answers carry some twenty.
 */
export function parseHead(head: string): { statusCode: number; body: BodyState | undefined; close: boolean } | Error {
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (status === null) return new Error(`not an HTTP/1.1 status line: ${JSON.stringify(head.slice(0, Math.max(0, head.indexOf('\r\n'))).slice(0, 80))}`);
  const statusCode = Number(status[1]);
  const lower = head.toLowerCase();
  const length = headerValue(lower, 'content-length');
  const chunked = headerValue(lower, 'transfer-encoding')?.split(',').some((coding) => coding.trim() === 'chunked') === true;
  const close = headerValue(lower, 'connection')?.split(',').some((option) => option.trim() === 'close') === true;
  // RFC 9112 §6.3: no body for 1xx, 204 and 304 (and a HEAD, which this client does not send).
  if (statusCode < 200 || statusCode === 204 || statusCode === 304) return { statusCode, body: undefined, close };
  if (chunked) return { statusCode, body: { kind: 'chunked', pending: 0, line: '', last: false }, close };
  const bytes = length === undefined || !/^\d+$/.test(length) ? Number.NaN : Number(length);
  if (!Number.isSafeInteger(bytes)) return new Error(`an answer ${String(statusCode)} without a Content-Length or chunked encoding, which this client does not read`);
  return { statusCode, body: bytes === 0 ? undefined : { kind: 'length', remaining: bytes }, close };
}

/**
 * Consumes `bytes` (from `start`) of a chunked body: the offset just after the body when it ended in
 * them, else -1 (all of them consumed). Chunk extensions are skipped; trailers are not expected (the
 * server sends none) and would be read as the end's blank line is missing: an error then shows.
 */
export function consumeChunked(state: Extract<BodyState, { kind: 'chunked' }>, bytes: Buffer, start: number): number | Error {
  let at = start;
  while (at < bytes.length) {
    if (state.pending > 0) {
      const take = Math.min(state.pending, bytes.length - at);
      state.pending -= take;
      at += take;
      if (state.pending === 0 && state.last) return at;
      continue;
    }
    const newline = bytes.indexOf(10, at);
    if (newline < 0) {
      state.line += bytes.toString('latin1', at);
      return -1;
    }
    const line = (state.line + bytes.toString('latin1', at, newline)).replace(/\r$/, '');
    state.line = '';
    at = newline + 1;
    const size = Number.parseInt(line.split(';')[0] ?? '', 16);
    if (!Number.isSafeInteger(size) || size < 0) return new Error(`a malformed chunk size line: ${JSON.stringify(line.slice(0, 40))}`);
    // The data and the CRLF after it; the last chunk (size 0) is followed by the blank line only.
    state.pending = size === 0 ? 2 : size + 2;
    state.last = size === 0;
  }
  return -1;
}

/** One keep-alive connection, one request at a time. */
class Connection {
  readonly #socket: Socket;
  #done: ((outcome: RawOutcome) => void) | undefined;
  /** The head's bytes so far, while it has not all come. */
  #head: Buffer | undefined;
  #statusCode = 0;
  #body: BodyState | undefined;
  #closeAfter = false;
  #open = true;
  readonly #onGone: (connection: Connection) => void;

  /** `onGone` is called when the connection may no longer be used (at least once). */
  constructor(host: string, port: number, timeoutMs: number, onGone: (connection: Connection) => void) {
    this.#onGone = onGone;
    this.#socket = connect({ host, port, noDelay: true });
    this.#socket.setTimeout(timeoutMs, () => { this.#fail(new Error(`no answer within ${String(timeoutMs)} ms`)); });
    this.#socket.on('data', (bytes: Buffer) => { this.#read(bytes); });
    this.#socket.on('error', (error) => { this.#fail(error); });
    this.#socket.on('close', () => {
      this.#open = false;
      this.#onGone(this);
      this.#finish({ error: new Error('the connection closed before the answer ended') });
    });
  }

  get busy(): boolean {
    return this.#done !== undefined;
  }

  get open(): boolean {
    return this.#open;
  }

  send(bytes: readonly (string | Uint8Array)[], done: (outcome: RawOutcome) => void): void {
    this.#done = done;
    this.#head = undefined;
    this.#body = undefined;
    this.#socket.cork();
    for (const part of bytes) this.#socket.write(part);
    this.#socket.uncork();
  }

  close(): void {
    this.#retire();
  }

  /** Closes the socket and marks the connection unusable at once, so that a request sent from an outcome's callback never takes it. */
  #retire(): void {
    this.#open = false;
    this.#onGone(this);
    this.#socket.destroy();
  }

  #fail(error: Error): void {
    this.#retire();
    this.#finish({ error });
  }

  #finish(outcome: RawOutcome): void {
    const done = this.#done;
    this.#done = undefined;
    done?.(outcome);
  }

  #read(bytes: Buffer): void {
    if (this.#done === undefined) {
      this.#fail(new Error('bytes came with no request in flight'));
      return;
    }
    let at = 0;
    if (this.#body === undefined) {
      const head = this.#head === undefined ? bytes : Buffer.concat([this.#head, bytes]);
      const length = headLength(head);
      if (length < 0) {
        this.#head = head;
        return;
      }
      this.#head = undefined;
      const parsed = parseHead(head.toString('latin1', 0, length));
      if (parsed instanceof Error) {
        this.#fail(parsed);
        return;
      }
      this.#statusCode = parsed.statusCode;
      this.#closeAfter = parsed.close;
      if (parsed.body === undefined) {
        this.#ended(head.length - length);
        return;
      }
      this.#body = parsed.body;
      bytes = head;
      at = length;
    }
    const body = this.#body;
    let end: number | Error;
    if (body.kind === 'length') {
      const take = Math.min(body.remaining, bytes.length - at);
      body.remaining -= take;
      end = body.remaining === 0 ? at + take : -1;
    } else end = consumeChunked(body, bytes, at);
    if (end instanceof Error) this.#fail(end);
    else if (end >= 0) this.#ended(bytes.length - end);
  }

  /** The answer ended with `extra` bytes after it, which a connection with one request in flight never has. */
  #ended(extra: number): void {
    this.#body = undefined;
    if (extra > 0) {
      this.#fail(new Error(`${String(extra)} bytes came after the answer's end`));
      return;
    }
    const statusCode = this.#statusCode;
    if (this.#closeAfter) this.#retire();
    this.#finish({ statusCode });
  }
}

/**
 * A pool of at most `connections` keep-alive connections to `origin` (`http://host:port`), each
 * opened when a request finds none free and fewer than that open. A request is sent on a free one; the
 * caller sends no more at once than there are connections (bench/open-loop.ts keeps a backlog).
 */
export class RawHttpPool {
  readonly #host: string;
  readonly #port: number;
  readonly #max: number;
  readonly #timeoutMs: number;
  readonly #idle: Connection[] = [];
  readonly #all = new Set<Connection>();
  readonly #hostHeader: string;

  constructor(origin: string, options: { readonly connections: number; readonly timeoutMs: number }) {
    const url = new URL(origin);
    if (url.protocol !== 'http:') throw new Error(`the raw client speaks plain HTTP only, not ${url.protocol}`);
    this.#host = url.hostname.replace(/^\[|\]$/g, '');
    this.#port = Number(url.port === '' ? 80 : url.port);
    this.#hostHeader = url.host;
    this.#max = options.connections;
    this.#timeoutMs = options.timeoutMs;
  }

  /** Sends `request` and calls `done` once with how it ended. Throws when every connection is busy. */
  request(request: RawRequest, done: (outcome: RawOutcome) => void): void {
    let connection = this.#idle.pop();
    while (connection !== undefined && !connection.open) connection = this.#idle.pop();
    if (connection === undefined) {
      if (this.#all.size >= this.#max) throw new Error(`all ${String(this.#max)} connections are busy`);
      connection = new Connection(this.#host, this.#port, this.#timeoutMs, (gone) => this.#all.delete(gone));
      this.#all.add(connection);
    }
    const body = typeof request.body === 'string' ? Buffer.from(request.body) : request.body;
    let head = `${request.method} ${request.path} HTTP/1.1\r\nHost: ${this.#hostHeader}\r\n`;
    for (const [name, value] of Object.entries(request.headers ?? {})) head += `${name}: ${value}\r\n`;
    if (body !== undefined) head += `Content-Length: ${String(body.length)}\r\n`;
    head += '\r\n';
    const taken = connection;
    taken.send(body === undefined ? [head] : [head, body], (outcome) => {
      if (taken.open) this.#idle.push(taken);
      done(outcome);
    });
  }

  /** Closes every connection. */
  close(): void {
    for (const connection of this.#all) connection.close();
    this.#all.clear();
    this.#idle.length = 0;
  }
}
