/**
 * How a failure is printed: the reason, the seed to rerun the property, and the shrunk request
 * as raw HTTP (a `printf ... | nc` line for requests small enough to paste).
 */
import { bodyBytes, type FuzzCase } from './fuzz-cases.js';
import type { FuzzFailure } from './fuzz-service.js';
import { requestHead } from './raw-http.js';

const PASTE_LIMIT_BYTES = 4096;

/** The request as the bytes sent, escaped for `printf`; a large body is described instead. */
export function rawRequestText(fuzzCase: FuzzCase, host: string): string {
  const body = bodyBytes(fuzzCase.body);
  const head = requestHead(fuzzCase, host, body.length);
  if (fuzzCase.body.kind === 'filler' || body.length > PASTE_LIMIT_BYTES)
    return `${escapeBytes(Buffer.from(head, 'latin1'))}<${body.length} body bytes>`;
  return escapeBytes(Buffer.concat([Buffer.from(head, 'latin1'), body]));
}

function escapeBytes(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes) {
    if (byte === 0x0d) out += '\\r';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x27) out += '\\047';
    else if (byte === 0x25) out += '%%';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** A failure as lines for the fuzzer's output. */
export function formatFailure(failure: FuzzFailure, baseUrl: string, runs: number): string {
  const url = new URL(baseUrl);
  const { fuzzCase } = failure;
  const lines = [
    `FAIL ${failure.service} ${failure.endpoint} [${fuzzCase.label}, ${fuzzCase.delivery.kind}]: ${failure.reason}`,
    `  rerun:   npm run fuzz -- --service=${failure.service} --seed=${failure.seed} --runs=${runs}` +
      (failure.path === undefined ? '' : `  (fast-check path ${failure.path})`),
    `  request: ${fuzzCase.method} ${fuzzCase.target.slice(0, 300)}`,
  ];
  if (fuzzCase.delivery.kind === 'whole' || fuzzCase.delivery.kind === 'chunked') {
    lines.push(
      `  replay:  printf '${rawRequestText(fuzzCase, url.host)}' | nc ${url.hostname} ${url.port}`,
    );
  } else {
    lines.push(`  case:    ${JSON.stringify({ ...fuzzCase, body: summarizeBody(fuzzCase) })}`);
  }
  return lines.join('\n');
}

function summarizeBody(fuzzCase: FuzzCase): unknown {
  const { body } = fuzzCase;
  return body.kind === 'filler' ? { ...body, note: `${body.bytes} bytes of 'a'` } : body;
}
