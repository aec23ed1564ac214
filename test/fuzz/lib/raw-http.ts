/**
 * Sends a fuzz case over a raw TCP socket (no HTTP client in between to fix up what the case
 * breaks on purpose) and reads the answer with a small HTTP/1.1 response parser. Every
 * exchange has a deadline: a server that neither answers nor closes by then is hung.
 */
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { bodyBytes, type FuzzCase } from './fuzz-cases.js';

/** A parsed HTTP response (the body possibly cut at the read cap). */
export interface RawResponse {
  readonly status: number;
  /** Lowercased header names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** How an exchange ended. */
export type Outcome =
  | { readonly kind: 'response'; readonly response: RawResponse; readonly ms: number }
  /** The server closed the connection (or reset it) before a whole status line and headers. */
  | { readonly kind: 'closed'; readonly ms: number; readonly error?: string }
  /** Neither an answer nor a close before the deadline. */
  | { readonly kind: 'timeout'; readonly ms: number };

/** Bodies are read up to this size; the rest is not needed to judge an answer. */
const BODY_CAP_BYTES = 256 * 1024;
const WRITE_PIECE_BYTES = 64 * 1024;

/** The request line and headers of a case, with `content-length` unless chunked. */
export function requestHead(fuzzCase: FuzzCase, host: string, bodyLength: number): string {
  const lines = [`${fuzzCase.method} ${fuzzCase.target} HTTP/1.1`, `host: ${host}`];
  for (const [name, value] of fuzzCase.headers) lines.push(`${name}: ${value}`);
  const delivery = fuzzCase.delivery;
  if (delivery.kind === 'chunked') lines.push('transfer-encoding: chunked');
  else if (bodyLength > 0 || fuzzCase.body.kind !== 'none')
    lines.push(`content-length: ${bodyLength}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** The bytes of the body as delivered (chunked framing when the case says so). */
function wireBody(fuzzCase: FuzzCase): Buffer {
  const body = bodyBytes(fuzzCase.body);
  if (fuzzCase.delivery.kind !== 'chunked') return body;
  const pieces: Buffer[] = [];
  for (let at = 0; at < body.length; at += 1000) {
    const piece = body.subarray(at, at + 1000);
    pieces.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(pieces);
}

/** Sends one case to `baseUrl` and reports how the server answered, within `deadlineMs`. */
export async function exchange(
  baseUrl: string,
  fuzzCase: FuzzCase,
  deadlineMs: number,
): Promise<Outcome> {
  const url = new URL(baseUrl);
  const startedAt = Date.now();
  const body = wireBody(fuzzCase);
  const head = Buffer.from(
    requestHead(fuzzCase, url.host, bodyBytes(fuzzCase.body).length),
    'latin1',
  );
  const socket = connect({ host: url.hostname, port: Number(url.port), allowHalfOpen: true });
  const reader = new ResponseReader(socket);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), deadlineMs);
  });
  const writing = writeCase(socket, fuzzCase, head, body, reader).catch(() => undefined);
  try {
    const result = await Promise.race([reader.done, deadline]);
    const ms = Date.now() - startedAt;
    if (result === 'timeout') return { kind: 'timeout', ms };
    if (result.response !== undefined) return { kind: 'response', response: result.response, ms };
    return { kind: 'closed', ms, ...(result.error === undefined ? {} : { error: result.error }) };
  } finally {
    clearTimeout(timer);
    socket.destroy();
    await writing;
  }
}

async function writeCase(
  socket: Socket,
  fuzzCase: FuzzCase,
  head: Buffer,
  body: Buffer,
  reader: ResponseReader,
): Promise<void> {
  await onceConnected(socket);
  const delivery = fuzzCase.delivery;
  if (delivery.kind === 'trickle') {
    const bytes = delivery.headersToo ? Buffer.concat([head, body]) : body;
    if (!delivery.headersToo) await write(socket, head);
    for (const byte of bytes) {
      if (reader.finished || socket.destroyed) return;
      await write(socket, Buffer.of(byte));
      await sleep(delivery.intervalMs);
    }
    return;
  }
  const sent = delivery.kind === 'truncated' ? body.subarray(0, delivery.sentBytes) : body;
  // The head goes out with the first piece of the body, as an ordinary client sends a small
  // request: on a loaded machine a pause between two writes can outlast the services' short
  // request timeout of the fuzz cluster, and the server then rightly cuts the request.
  const first = sent.subarray(0, WRITE_PIECE_BYTES);
  await write(socket, Buffer.concat([head, first]));
  for (let at = first.length; at < sent.length; at += WRITE_PIECE_BYTES) {
    if (reader.finished || socket.destroyed) return;
    await write(socket, sent.subarray(at, at + WRITE_PIECE_BYTES));
  }
  // Like an ordinary client, keep the connection open for the answer (a half-close reads as
  // an abort to Node's server); the truncated cases half-close on purpose.
  if (delivery.kind === 'truncated' && delivery.halfClose) socket.end();
}

function onceConnected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
}

function write(socket: Socket, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(bytes, (error) => (error ? reject(error) : resolve()));
  });
}

/** Reads one HTTP/1.1 response from a socket: status, headers and (capped) body. */
class ResponseReader {
  readonly done: Promise<{ response?: RawResponse; error?: string }>;
  finished = false;
  private buffer: Buffer = Buffer.alloc(0);
  private head: { status: number; headers: Record<string, string>; bodyStart: number } | undefined;
  private resolve!: (value: { response?: RawResponse; error?: string }) => void;

  constructor(socket: Socket) {
    this.done = new Promise((resolve) => {
      this.resolve = resolve;
    });
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('end', () => this.finish());
    socket.on('close', () => this.finish());
    socket.on('error', (error: NodeJS.ErrnoException) => this.finish(error.code ?? error.message));
  }

  private onData(data: Buffer): void {
    if (this.finished) return;
    this.buffer = Buffer.concat([this.buffer, data]);
    if (this.head === undefined) this.head = parseHead(this.buffer);
    if (this.head !== undefined && this.bodyComplete(this.head)) this.finish();
  }

  private bodyComplete(head: {
    status: number;
    headers: Record<string, string>;
    bodyStart: number;
  }): boolean {
    const received = this.buffer.length - head.bodyStart;
    if (head.status === 204 || head.status === 304 || head.status < 200) return true;
    if ((head.headers['content-type'] ?? '').startsWith('text/event-stream')) return true;
    if (received >= BODY_CAP_BYTES) return true;
    const length = head.headers['content-length'];
    if (length !== undefined) return received >= Number(length);
    if (/chunked/i.test(head.headers['transfer-encoding'] ?? ''))
      return (
        this.buffer.subarray(head.bodyStart).includes('\r\n0\r\n\r\n') ||
        this.buffer.subarray(head.bodyStart).indexOf('0\r\n\r\n') === 0
      );
    return false;
  }

  private finish(error?: string): void {
    if (this.finished) return;
    this.finished = true;
    const head = this.head ?? parseHead(this.buffer);
    if (head === undefined) {
      this.resolve(error === undefined ? {} : { error });
      return;
    }
    let body: Buffer = this.buffer.subarray(head.bodyStart);
    if (/chunked/i.test(head.headers['transfer-encoding'] ?? '')) body = dechunk(body);
    // Bytes past the length belong to whatever the server sent next, not to this answer.
    const length = Number(head.headers['content-length']);
    if (Number.isSafeInteger(length)) body = body.subarray(0, length);
    this.resolve({ response: { status: head.status, headers: head.headers, body } });
  }
}

function parseHead(
  buffer: Buffer,
): { status: number; headers: Record<string, string>; bodyStart: number } | undefined {
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!match) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { status: Number(match[1]), headers, bodyStart: end + 4 };
}

/** Decodes a chunked body, as much of it as arrived. */
export function dechunk(bytes: Buffer): Buffer {
  const pieces: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    pieces.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(pieces);
}
