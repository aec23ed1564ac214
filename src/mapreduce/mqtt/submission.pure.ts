/**
 * Job submission over MQTT (docs/mqtt.md, "Submitting jobs"): the payload on `<prefix>/jobs/submit`
 * is the job spec as a JSON object, optionally carrying `reply_to` (a topic), `correlation_id`
 * (a string or number) and `token` (the submitter's API token, needed when the master runs with
 * --auth), all removed before the spec reaches `submitJob`. MQTT v5 clients may use
 * the Response Topic and Correlation Data properties instead; the Response Topic wins over
 * `reply_to`. The answer is `{id}` or `{error: {status, title, detail, code}}`, plus the
 * `correlation_id` when one was given; v5 Correlation Data is echoed as a property.
 */
import { TesseraError, errorCatalog, type ErrorCode } from '../../core/errors.js';
import { replyTopicProblem, type JobTopics } from './topics.pure.js';

/** Where and how to answer a submission. */
export interface ReplyRoute {
  readonly topic: string;
  /** MQTT v5 Correlation Data from the request, echoed as a property. */
  readonly correlationData?: Buffer;
  /** `correlation_id` from the payload, echoed in the answer's body. */
  readonly correlationId?: string | number;
}

/** The error part of an answer (problem+json's fields). */
export interface SubmitProblem {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly code: string;
}

/** A parsed submission: a spec to submit, or a problem to answer; `reply` absent = no answer. */
export type ParsedSubmission =
  | {
      readonly ok: true;
      readonly spec: Record<string, unknown>;
      readonly reply?: ReplyRoute;
      /** The submitter's API token (`token` in the payload), for a master with --auth. */
      readonly token?: string;
    }
  | { readonly ok: false; readonly problem: SubmitProblem; readonly reply?: ReplyRoute };

/** The MQTT v5 properties a submission may carry. */
export interface SubmitProperties {
  readonly responseTopic?: string | undefined;
  readonly correlationData?: Buffer | undefined;
}

/** A problem for a cataloged code. */
export function problem(code: ErrorCode, detail: string): SubmitProblem {
  const spec = errorCatalog[code];
  return { status: spec.status, title: spec.title, detail, code };
}

/** The problem for an error thrown by `submitJob`: cataloged errors keep theirs, others are 500. */
export function problemOf(error: unknown): SubmitProblem {
  if (error instanceof TesseraError) {
    return { status: error.status, title: error.title, detail: error.message, code: error.code };
  }
  return problem('INTERNAL', 'the master could not accept the job; see its log');
}

/** Parses one message received on the submit topic. */
export function parseSubmission(
  payload: Buffer,
  properties: SubmitProperties | undefined,
  topics: JobTopics,
  maxPayloadBytes: number,
): ParsedSubmission {
  const v5 = v5Route(properties);
  if (payload.length > maxPayloadBytes) {
    return rejected('PAYLOAD_TOO_LARGE', `a submission is at most ${maxPayloadBytes} bytes`, v5);
  }
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch (error) {
    return rejected('MALFORMED_BODY', `the payload is not JSON: ${String(error)}`, v5);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return rejected('BAD_REQUEST', 'a submission is a JSON object: the job spec', v5);
  }
  const {
    reply_to: replyTo,
    correlation_id: correlationId,
    token,
    ...spec
  } = body as Record<string, unknown>;
  const route = chooseRoute(v5, replyTo, correlationId);
  const routeProblem = route === undefined ? undefined : replyTopicProblem(route.topic, topics);
  if (routeProblem !== undefined) return rejected('BAD_REQUEST', routeProblem, undefined);
  if (replyTo !== undefined && typeof replyTo !== 'string') {
    return rejected('BAD_REQUEST', 'reply_to must be a topic name (a string)', route);
  }
  if (!isCorrelationId(correlationId) && correlationId !== undefined) {
    return rejected('BAD_REQUEST', 'correlation_id must be a string or a number', route);
  }
  if (token !== undefined && typeof token !== 'string') {
    return rejected('BAD_REQUEST', 'token must be a string (an API token)', route);
  }
  return {
    ok: true,
    spec,
    ...(route === undefined ? {} : { reply: route }),
    ...(token === undefined ? {} : { token }),
  };
}

/** The answer's body for a submitted job. */
export function acceptedBody(id: string, route: ReplyRoute): string {
  return JSON.stringify(withCorrelation({ id }, route));
}

/** The answer's body for a refused submission. */
export function refusedBody(failure: SubmitProblem, route: ReplyRoute): string {
  return JSON.stringify(withCorrelation({ error: failure }, route));
}

function withCorrelation(body: Record<string, unknown>, route: ReplyRoute): object {
  return route.correlationId === undefined
    ? body
    : { ...body, correlation_id: route.correlationId };
}

function rejected(
  code: ErrorCode,
  detail: string,
  reply: ReplyRoute | undefined,
): ParsedSubmission {
  const failure = problem(code, detail);
  return reply === undefined
    ? { ok: false, problem: failure }
    : { ok: false, problem: failure, reply };
}

function v5Route(properties: SubmitProperties | undefined): ReplyRoute | undefined {
  const topic = properties?.responseTopic;
  if (topic === undefined || topic === '') return undefined;
  const correlationData = properties?.correlationData;
  return correlationData === undefined ? { topic } : { topic, correlationData };
}

/** The v5 Response Topic wins; else `reply_to` if it is a string; the payload's id is echoed. */
function chooseRoute(
  v5: ReplyRoute | undefined,
  replyTo: unknown,
  correlationId: unknown,
): ReplyRoute | undefined {
  const base = v5 ?? (typeof replyTo === 'string' ? { topic: replyTo } : undefined);
  if (base === undefined) return undefined;
  return isCorrelationId(correlationId) ? { ...base, correlationId } : base;
}

function isCorrelationId(value: unknown): value is string | number {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}
