/**
 * Endpoint discovery: every route a service declares in its own `/openapi.json`, so the fuzzer
 * covers each new route without a hand-kept list. A route without a JSON request body that
 * takes PUT or POST is treated as a streaming route (raw bytes, e.g. a datanode chunk PUT).
 */
import type { JsonSchema } from './schema-arbitrary.js';

/** One parameter of a route (path, query or header). */
export interface EndpointParam {
  readonly name: string;
  readonly required: boolean;
  readonly schema: JsonSchema;
}

/** One method and path of a service, with what it takes. */
export interface Endpoint {
  readonly method: string;
  /** OpenAPI path template, e.g. `/servers/{server_id}`; `{*}` is a wildcard tail. */
  readonly path: string;
  readonly pathParams: readonly EndpointParam[];
  readonly query: readonly EndpointParam[];
  readonly headers: readonly EndpointParam[];
  /** The JSON body schema, when the route takes a JSON body. */
  readonly jsonBody: JsonSchema | undefined;
  /** PUT/POST without a JSON body: takes raw bytes (application/octet-stream). */
  readonly streamBody: boolean;
}

/** The parts of an OpenAPI 3 document this module reads. */
interface OpenApiDocument {
  readonly paths?: Record<string, Record<string, OpenApiOperation | undefined>>;
}
interface OpenApiOperation {
  readonly parameters?: readonly {
    readonly in: string;
    readonly name: string;
    readonly required?: boolean;
    readonly schema?: JsonSchema;
  }[];
  readonly requestBody?: { readonly content?: Record<string, { readonly schema?: JsonSchema }> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** Every endpoint of an OpenAPI document, sorted by path then method. */
export function endpointsOf(document: unknown): Endpoint[] {
  const paths = (document as OpenApiDocument).paths ?? {};
  const endpoints: Endpoint[] = [];
  for (const [path, operations] of Object.entries(paths)) {
    for (const method of METHODS) {
      const operation = operations[method];
      if (operation === undefined) continue;
      endpoints.push(endpointOf(method.toUpperCase(), path, operation));
    }
  }
  return endpoints.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

function endpointOf(method: string, path: string, operation: OpenApiOperation): Endpoint {
  const params = (where: string): EndpointParam[] =>
    (operation.parameters ?? [])
      .filter((parameter) => parameter.in === where)
      .map((parameter) => ({
        name: parameter.name,
        required: parameter.required ?? where === 'path',
        schema: parameter.schema ?? {},
      }));
  const jsonBody = operation.requestBody?.content?.['application/json']?.schema;
  return {
    method,
    path,
    pathParams: params('path'),
    query: params('query'),
    headers: params('header'),
    jsonBody,
    streamBody: jsonBody === undefined && (method === 'PUT' || method === 'POST'),
  };
}

/** `GET /servers/{server_id}`: how an endpoint is named in tables and reproducers. */
export function endpointName(endpoint: Pick<Endpoint, 'method' | 'path'>): string {
  return `${endpoint.method} ${endpoint.path}`;
}

/**
 * The request path of an endpoint with its parameters filled in. Values are already encoded
 * (the caller decides how: percent-encoded, or raw `../` to probe traversal).
 */
export function fillPath(path: string, encodedValues: Readonly<Record<string, string>>): string {
  return path.replace(/\{([^}]+)\}/g, (_match, name: string) => encodedValues[name] ?? '');
}
