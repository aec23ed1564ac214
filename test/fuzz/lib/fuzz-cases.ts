/**
 * Fuzz cases: one HTTP request each, as the bytes to put on a socket and how to deliver them.
 * Random cases come from fast-check (schema-valid, mutated, hostile paths, broken bodies);
 * slow cases (truncated bodies, trickled bytes, bodies of 10 MiB and more) are a fixed set per
 * endpoint, since each costs a timeout's worth of waiting or megabytes of traffic.
 */
import fc from 'fast-check';
import { hostileString, percentEncode, TRAVERSALS } from './hostile-strings.js';
import { endpointName, fillPath, type Endpoint, type EndpointParam } from './openapi-endpoints.js';
import { mutatedValue, validValue, type JsonSchema } from './schema-arbitrary.js';

/** How the bytes of a case go out. */
export type Delivery =
  /** Everything at once (then wait for the answer). */
  | { readonly kind: 'whole' }
  /** The body in `transfer-encoding: chunked` framing. */
  | { readonly kind: 'chunked' }
  /** `content-length` promises more than is sent; then the client half-closes or waits. */
  | { readonly kind: 'truncated'; readonly sentBytes: number; readonly halfClose: boolean }
  /** One byte every `intervalMs`: of the whole request, or of the body after whole headers. */
  | { readonly kind: 'trickle'; readonly intervalMs: number; readonly headersToo: boolean };

/** The body of a case; a large one is described (filler) rather than spelled out. */
export type CaseBody =
  | { readonly kind: 'none' }
  | { readonly kind: 'text'; readonly text: string }
  | {
      readonly kind: 'filler';
      readonly prefix: string;
      readonly bytes: number;
      readonly suffix: string;
    };

/** One request to send, self-contained so that a failing one can be printed and replayed. */
export interface FuzzCase {
  /** `METHOD /path/{template}` of the endpoint it targets. */
  readonly endpoint: string;
  /** Which generator made it (e.g. `valid`, `mutated-body`, `hostile-path`, `invalid-json`). */
  readonly label: string;
  readonly method: string;
  /** The request target as sent: path and query, already encoded. */
  readonly target: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: CaseBody;
  readonly delivery: Delivery;
}

/** Body bytes of a case. */
export function bodyBytes(body: CaseBody): Buffer {
  if (body.kind === 'none') return Buffer.alloc(0);
  if (body.kind === 'text') return Buffer.from(body.text, 'utf8');
  return Buffer.concat([
    Buffer.from(body.prefix),
    Buffer.alloc(body.bytes, 'a'),
    Buffer.from(body.suffix),
  ]);
}

/**
 * Query parameters that make a request wait on purpose (a registry blocking query) get short
 * values, so that a correct long poll is not taken for a hang.
 */
const WAIT_PARAMS: ReadonlySet<string> = new Set(['wait']);

/** A value as text for a URL or a header. */
function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? '';
}

function paramValue(param: EndpointParam, mode: 'valid' | 'mutated'): fc.Arbitrary<string> {
  if (WAIT_PARAMS.has(param.name))
    return fc.constantFrom('0', '50ms', '0.1', 'abc', '-1', '1e9', '');
  const schema: JsonSchema = param.schema;
  const value = mode === 'valid' ? validValue(schema) : mutatedValue(schema);
  return value.map(asText);
}

/** Encodings of a path value: percent-encoded, or with `/` and `.` left raw (traversal). */
function encodedPathValue(value: fc.Arbitrary<string>, wildcard: boolean): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: value.map((text) => percentEncode(text, wildcard ? '/' : '')) },
    { weight: 1, arbitrary: value.map((text) => percentEncode(text, '/.')) },
    { weight: 1, arbitrary: value.map((text) => percentEncode(percentEncode(text))) },
  );
}

function pathOf(endpoint: Endpoint, mode: 'valid' | 'mutated' | 'hostile'): fc.Arbitrary<string> {
  if (endpoint.pathParams.length === 0) return fc.constant(endpoint.path);
  const values = endpoint.pathParams.map((param) => {
    const raw =
      mode === 'hostile'
        ? fc.oneof(hostileString(), fc.constantFrom(...TRAVERSALS))
        : paramValue(param, mode).filter((text) => text.length > 0);
    return encodedPathValue(raw, param.name === '*').map((text) => [param.name, text] as const);
  });
  return fc.tuple(...values).map((pairs) => fillPath(endpoint.path, Object.fromEntries(pairs)));
}

function queryOf(endpoint: Endpoint, mode: 'valid' | 'mutated'): fc.Arbitrary<string> {
  if (endpoint.query.length === 0)
    return mode === 'valid' ? fc.constant('') : fc.constantFrom('', '?unknown=1', '?=&&=');
  const pairs = endpoint.query.map((param) => {
    const value = paramValue(param, mode).map((text) => `${param.name}=${percentEncode(text)}`);
    return param.required ? value : fc.option(value, { nil: undefined });
  });
  return fc.tuple(...pairs).map((parts) => {
    const present = parts.filter((part): part is string => part !== undefined);
    return present.length === 0 ? '' : `?${present.join('&')}`;
  });
}

function headersOf(
  endpoint: Endpoint,
  mode: 'valid' | 'mutated',
): fc.Arbitrary<[string, string][]> {
  if (endpoint.headers.length === 0) return fc.constant([]);
  const headers = endpoint.headers.map((param) =>
    fc.option(
      paramValue(param, mode).map(
        // Header values are Latin-1 without line breaks (a line break would end the header).
        (text) =>
          [param.name, text.replace(/[^\x20-\x7e]/g, '?').slice(0, 4096)] as [string, string],
      ),
      { nil: undefined },
    ),
  );
  return fc
    .tuple(...headers)
    .map((list) => list.filter((header): header is [string, string] => header !== undefined));
}

const JSON_TYPE = 'application/json';
const OCTET_TYPE = 'application/octet-stream';

/** Bodies that are not valid JSON, or JSON with a wrong `content-type`. */
export const BROKEN_JSON_BODIES: readonly {
  label: string;
  type: string | undefined;
  text: string;
}[] = [
  { label: 'invalid-json', type: JSON_TYPE, text: '{"a":' },
  { label: 'invalid-json', type: JSON_TYPE, text: "{'single': 'quotes'}" },
  { label: 'invalid-json', type: JSON_TYPE, text: '\u0000\u0001' },
  { label: 'empty-json', type: JSON_TYPE, text: '' },
  { label: 'json-scalar', type: JSON_TYPE, text: '"just a string"' },
  { label: 'json-null', type: JSON_TYPE, text: 'null' },
  { label: 'json-array', type: JSON_TYPE, text: '[]' },
  { label: 'proto-pollution', type: JSON_TYPE, text: '{"__proto__":{"polluted":true}}' },
  {
    label: 'proto-pollution',
    type: JSON_TYPE,
    text: '{"constructor":{"prototype":{"polluted":true}}}',
  },
  { label: 'deep-json', type: JSON_TYPE, text: `${'['.repeat(20_000)}${']'.repeat(20_000)}` },
  { label: 'deep-json', type: JSON_TYPE, text: `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}` },
  { label: 'json-charset', type: 'application/json; charset=utf-16', text: '{}' },
  { label: 'wrong-type', type: 'text/plain', text: '{}' },
  { label: 'wrong-type', type: 'application/x-www-form-urlencoded', text: 'a=1&b=2' },
  { label: 'wrong-type', type: 'multipart/form-data; boundary=x', text: '--x\r\n\r\n--x--' },
  { label: 'wrong-type', type: 'application/xml', text: '<a/>' },
  { label: 'wrong-type', type: 'image/png', text: '\u0089PNG' },
  { label: 'no-type', type: undefined, text: '{}' },
  { label: 'bad-type', type: ';;;', text: '{}' },
];

function jsonBodyCase(
  endpoint: Endpoint,
  schema: JsonSchema,
  mode: 'valid' | 'mutated',
): fc.Arbitrary<{ label: string; type: string | undefined; text: string }> {
  const value = mode === 'valid' ? validValue(schema) : mutatedValue(schema);
  const generated = value.map((body) => ({
    label: mode === 'valid' ? 'valid' : 'mutated-body',
    type: JSON_TYPE,
    text: JSON.stringify(body) ?? 'null',
  }));
  if (mode === 'valid') return generated;
  return fc.oneof({ weight: 3, arbitrary: generated }, fc.constantFrom(...BROKEN_JSON_BODIES));
}

function streamBodyCase(): fc.Arbitrary<{ label: string; type: string | undefined; text: string }> {
  return fc.oneof(
    fc
      .string({ unit: 'binary-ascii', maxLength: 2_000 })
      .map((text) => ({ label: 'bytes', type: OCTET_TYPE, text })),
    fc.constantFrom(
      { label: 'empty-bytes', type: OCTET_TYPE, text: '' },
      { label: 'wrong-type', type: JSON_TYPE, text: '{"not":"bytes"}' },
      { label: 'wrong-type', type: 'text/plain', text: 'text' },
      { label: 'no-type', type: undefined, text: 'bytes' },
    ),
  );
}

/** Random cases for one endpoint: mostly schema-valid or mutated, some hostile. */
export function randomCase(endpoint: Endpoint): fc.Arbitrary<FuzzCase> {
  const mode = fc.constantFrom<'valid' | 'mutated'>('valid', 'mutated', 'mutated');
  return mode.chain((chosen) => {
    const pathMode = fc.oneof(
      { weight: 3, arbitrary: fc.constant<'valid' | 'mutated' | 'hostile'>(chosen) },
      { weight: 1, arbitrary: fc.constant<'valid' | 'mutated' | 'hostile'>('hostile') },
    );
    const body = bodyArbitrary(endpoint, chosen);
    return fc
      .record({
        path: pathMode.chain((pm) => pathOf(endpoint, pm).map((path) => ({ path, pm }))),
        query: queryOf(endpoint, chosen),
        headers: headersOf(endpoint, chosen),
        body,
        chunked: fc.boolean(),
      })
      .map(({ path, query, headers, body: chosenBody, chunked }) => {
        const label =
          path.pm === 'hostile'
            ? 'hostile-path'
            : (chosenBody?.label ?? (chosen === 'valid' ? 'valid' : 'mutated'));
        const typeHeader: [string, string][] =
          chosenBody?.type === undefined ? [] : [['content-type', chosenBody.type]];
        return {
          endpoint: endpointName(endpoint),
          label,
          method: endpoint.method,
          target: `${path.path}${query}`,
          headers: [...headers, ...typeHeader],
          body:
            chosenBody === undefined ? { kind: 'none' } : { kind: 'text', text: chosenBody.text },
          delivery: chunked && chosenBody !== undefined ? { kind: 'chunked' } : { kind: 'whole' },
        } satisfies FuzzCase;
      });
  });
}

function bodyArbitrary(
  endpoint: Endpoint,
  mode: 'valid' | 'mutated',
): fc.Arbitrary<{ label: string; type: string | undefined; text: string } | undefined> {
  if (endpoint.jsonBody !== undefined) return jsonBodyCase(endpoint, endpoint.jsonBody, mode);
  if (endpoint.streamBody) return streamBodyCase();
  // A body where none is expected (e.g. GET with JSON), now and then.
  return fc.option(
    fc.constantFrom(...BROKEN_JSON_BODIES.slice(0, 3), {
      label: 'unexpected-body',
      type: JSON_TYPE,
      text: '{}',
    }),
    { nil: undefined, freq: 6 },
  );
}

/** Sizes of the slow cases. */
export interface SlowCaseSettings {
  /** Bytes of the huge body (the brief: 10 MB and more). */
  readonly hugeBytes: number;
  /** Interval between trickled bytes. */
  readonly trickleIntervalMs: number;
}

/**
 * The fixed slow cases of an endpoint that takes a body: a huge body, a body shorter than its
 * `content-length` (half-closed, and left open), a body trickled byte by byte. Every endpoint
 * gets a request whose headers trickle.
 */
export function slowCases(endpoint: Endpoint, settings: SlowCaseSettings): FuzzCase[] {
  const target = fillPath(
    endpoint.path,
    Object.fromEntries(endpoint.pathParams.map((p) => [p.name, 'x'])),
  );
  const base = { endpoint: endpointName(endpoint), method: endpoint.method, target };
  const trickleHeaders: FuzzCase = {
    ...base,
    label: 'trickle-headers',
    headers: [['x-slow', 'a'.repeat(64)]],
    body: { kind: 'none' },
    delivery: { kind: 'trickle', intervalMs: settings.trickleIntervalMs, headersToo: true },
  };
  if (endpoint.jsonBody === undefined && !endpoint.streamBody) return [trickleHeaders];
  const type = endpoint.jsonBody === undefined ? OCTET_TYPE : JSON_TYPE;
  const headers: [string, string][] = [['content-type', type]];
  const small: CaseBody = {
    kind: 'text',
    text: type === JSON_TYPE ? '{"a":"bcdefghij"}' : 'abcdefghijklmnop',
  };
  return [
    trickleHeaders,
    {
      ...base,
      label: 'huge-body',
      headers,
      body: {
        kind: 'filler',
        prefix: type === JSON_TYPE ? '{"a":"' : '',
        bytes: settings.hugeBytes,
        suffix: type === JSON_TYPE ? '"}' : '',
      },
      delivery: { kind: 'whole' },
    },
    {
      ...base,
      label: 'truncated-close',
      headers,
      body: small,
      delivery: { kind: 'truncated', sentBytes: 5, halfClose: true },
    },
    {
      ...base,
      label: 'truncated-open',
      headers,
      body: small,
      delivery: { kind: 'truncated', sentBytes: 5, halfClose: false },
    },
    {
      ...base,
      label: 'trickle-body',
      headers,
      body: { kind: 'filler', prefix: '', bytes: 10_000, suffix: '' },
      delivery: { kind: 'trickle', intervalMs: settings.trickleIntervalMs, headersToo: false },
    },
  ];
}
