/**
 * The oracle of the fuzzer (DESIGN.md rule 6): an answer below 500 (or a problem+json 502/504
 * when the request itself names an unreachable peer URL); a 4xx answer is
 * `application/problem+json` with `type`, `title`, `status` and `detail`; no hang. A slow or
 * truncated request may instead be cut off by the server (that is the timeout working); a
 * well-formed request left without any answer is a failure.
 */
import type { FuzzCase } from './fuzz-cases.js';
import type { Outcome } from './raw-http.js';

/** What the tables count: the class of the status, or how the exchange ended without one. */
export type OutcomeClass = '2xx' | '3xx' | '4xx' | '5xx' | 'cut' | 'hang';

export type Verdict =
  | { readonly ok: true; readonly outcomeClass: OutcomeClass }
  | { readonly ok: false; readonly outcomeClass: OutcomeClass; readonly reason: string };

/** Whether the server may end this case by closing the connection without an answer. */
export function mayBeCutOff(fuzzCase: FuzzCase): boolean {
  const { delivery } = fuzzCase;
  if (delivery.kind === 'trickle' || delivery.kind === 'truncated') return true;
  // A body larger than any limit may be refused by closing the connection (docs/fuzzing.md).
  return fuzzCase.body.kind === 'filler';
}

/** Judges one exchange. */
export function judge(fuzzCase: FuzzCase, outcome: Outcome): Verdict {
  if (outcome.kind === 'timeout')
    return {
      ok: false,
      outcomeClass: 'hang',
      reason: `no answer and no close within ${outcome.ms} ms`,
    };
  if (outcome.kind === 'closed') {
    if (mayBeCutOff(fuzzCase)) return { ok: true, outcomeClass: 'cut' };
    return {
      ok: false,
      outcomeClass: 'cut',
      reason: `connection closed without an answer${outcome.error === undefined ? '' : ` (${outcome.error})`}`,
    };
  }
  const { status, headers, body } = outcome.response;
  const outcomeClass = statusClass(status);
  if (status >= 500 && !(isGatewayStatus(status) && namesPeer(fuzzCase)))
    return { ok: false, outcomeClass, reason: `answered ${status}: ${preview(body)}` };
  if (status >= 400) {
    const problem = problemError(status, headers['content-type'], body);
    if (problem !== undefined) return { ok: false, outcomeClass, reason: problem };
  }
  return { ok: true, outcomeClass };
}

function isGatewayStatus(status: number): boolean {
  return status === 502 || status === 504;
}

/**
 * Whether the request names a peer by URL (a datanode's replication source, a search node to
 * join): when that peer cannot be reached, 502 or 504 is the right answer, not a bug.
 */
export function namesPeer(fuzzCase: FuzzCase): boolean {
  if (fuzzCase.target.includes('%3A%2F%2F') || fuzzCase.target.includes('://')) return true;
  return fuzzCase.body.kind === 'text' && fuzzCase.body.text.includes('://');
}

function statusClass(status: number): OutcomeClass {
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  if (status >= 300) return '3xx';
  return '2xx';
}

/** Why a 4xx answer is not a proper problem+json document, or undefined when it is. */
export function problemError(
  status: number,
  contentType: string | undefined,
  body: Buffer,
): string | undefined {
  if (!(contentType ?? '').toLowerCase().startsWith('application/problem+json'))
    return `${status} with content-type ${contentType ?? '(none)'}, not application/problem+json: ${preview(body)}`;
  let problem: unknown;
  try {
    problem = JSON.parse(body.toString('utf8'));
  } catch {
    return `${status} problem+json body is not JSON: ${preview(body)}`;
  }
  const fields = problem as Record<string, unknown>;
  const missing = ['type', 'title', 'detail'].filter((name) => typeof fields[name] !== 'string');
  if (missing.length > 0 || fields['status'] !== status)
    return `${status} problem+json lacks ${[...missing, fields['status'] === status ? [] : 'status'].join(', ')}: ${preview(body)}`;
  return undefined;
}

function preview(body: Buffer): string {
  const text = body.subarray(0, 300).toString('utf8');
  return JSON.stringify(text);
}
