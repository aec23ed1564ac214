/**
 * fast-check generators from the JSON schemas of the services' OpenAPI documents: values that
 * fit the schema (so requests reach the handlers, not just the validator) and mutations of them
 * (a wrong type, a missing required field, an unknown field, a value past a bound, a hostile
 * string), which the validator has to refuse with a 400.
 */
import fc from 'fast-check';
import { hostileString } from './hostile-strings.js';

/** The subset of JSON Schema the services' documents use. */
export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
  readonly nullable?: boolean;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
}

/** Generated strings and arrays stay short; bounds are probed by the mutations instead. */
const MAX_GENERATED_LENGTH = 24;
const MAX_GENERATED_ITEMS = 4;
const MAX_DEPTH = 6;

/** Any JSON value (the value of an unconstrained schema or of a mutation). */
export function anyJson(): fc.Arbitrary<unknown> {
  return fc.jsonValue({ maxDepth: 3 });
}

/** Values that satisfy `schema` (as far as its keywords go). */
export function validValue(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (depth > MAX_DEPTH) return fc.constant(null);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum !== undefined && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives !== undefined && alternatives.length > 0) {
    return fc.oneof(...alternatives.map((alternative) => validValue(alternative, depth + 1)));
  }
  if (schema.allOf !== undefined && schema.allOf[0] !== undefined)
    return validValue(schema.allOf[0], depth + 1);
  const value = valueOfType(schema, typeOf(schema), depth);
  return schema.nullable === true ? fc.option(value, { nil: null, freq: 8 }) : value;
}

function typeOf(schema: JsonSchema): string | undefined {
  if (Array.isArray(schema.type)) return schema.type[0] as string | undefined;
  if (typeof schema.type === 'string') return schema.type;
  if (schema.properties !== undefined) return 'object';
  if (schema.items !== undefined) return 'array';
  return undefined;
}

function valueOfType(
  schema: JsonSchema,
  type: string | undefined,
  depth: number,
): fc.Arbitrary<unknown> {
  switch (type) {
    case 'string':
      return validString(schema);
    case 'integer':
      return fc.integer(numberBounds(schema, true));
    case 'number':
      return fc.double({ ...numberBounds(schema, false), noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(validValue(schema.items ?? {}, depth + 1), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.max(
          schema.minItems ?? 0,
          Math.min(schema.maxItems ?? 9, MAX_GENERATED_ITEMS),
        ),
      });
    case 'object':
      return validObject(schema, depth);
    default:
      return anyJson();
  }
}

function validString(schema: JsonSchema): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.max(minLength, Math.min(schema.maxLength ?? 64, MAX_GENERATED_LENGTH));
  if (schema.pattern !== undefined) {
    const pattern = new RegExp(schema.pattern, 'u');
    const fits = (text: string): boolean =>
      text.length >= minLength && text.length <= (schema.maxLength ?? Infinity);
    try {
      return fc.stringMatching(pattern).filter(fits);
    } catch {
      // A pattern fast-check cannot generate from (e.g. a lookahead): filter plain strings.
      return fc.string({ minLength, maxLength }).filter((text) => fits(text) && pattern.test(text));
    }
  }
  return fc.string({ minLength, maxLength });
}

function numberBounds(schema: JsonSchema, integer: boolean): { min: number; max: number } {
  const step = integer ? 1 : Number.EPSILON;
  const low = schema.minimum ?? (schema.exclusiveMinimum ?? -1e6 - step) + step;
  const high = schema.maximum ?? (schema.exclusiveMaximum ?? 1e6 + step) - step;
  const min = integer ? Math.ceil(Math.max(low, -1e9)) : Math.max(low, -1e9);
  const max = integer ? Math.floor(Math.min(high, 1e9)) : Math.min(high, 1e9);
  return { min, max: Math.max(min, max) };
}

function validObject(schema: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, property] of Object.entries(properties))
    model[name] = validValue(property, depth + 1);
  const required = (schema.required ?? []).filter((name) => name in properties);
  const known = fc.record(model, { requiredKeys: required });
  const extra = schema.additionalProperties;
  if (Object.keys(properties).length > 0 || extra === false || extra === undefined) return known;
  // A free-form map (`additionalProperties: {schema}` or `true`): a few entries.
  const valueSchema = extra === true ? {} : extra;
  return fc.dictionary(
    fc.string({ minLength: 1, maxLength: 8 }),
    validValue(valueSchema, depth + 1),
    {
      maxKeys: 3,
    },
  );
}

/** Kinds of mutation, named in reproducers. */
export type MutationKind =
  'wrong-type' | 'drop-required' | 'unknown-field' | 'past-bound' | 'hostile-string' | 'null';

/** Values of the wrong JSON type for `schema`. */
export function wrongTypeValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  const type = typeOf(schema);
  const candidates: fc.Arbitrary<unknown>[] = [
    fc.string({ maxLength: 8 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.array(fc.integer(), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
  ];
  const typeNames = ['string', 'integer', 'number', 'boolean', 'array', 'object'];
  const wrong = candidates.filter((_candidate, index) => {
    const name = typeNames[index];
    if (type === 'number') return name !== 'number' && name !== 'integer';
    return name !== type;
  });
  return fc.oneof(...wrong);
}

/** A value that breaks one bound of `schema` (length, range, item count), if it has one. */
export function pastBoundValue(schema: JsonSchema): fc.Arbitrary<unknown> | undefined {
  const type = typeOf(schema);
  if (type === 'string' && schema.maxLength !== undefined && schema.maxLength < 100_000)
    return fc.constant('x'.repeat(schema.maxLength + 1));
  if (type === 'string' && schema.minLength !== undefined && schema.minLength > 0)
    return fc.constant('x'.repeat(schema.minLength - 1));
  if ((type === 'integer' || type === 'number') && schema.maximum !== undefined)
    return fc.constantFrom(schema.maximum + 1, 1e308, 2 ** 53 + 2);
  if ((type === 'integer' || type === 'number') && schema.minimum !== undefined)
    return fc.constantFrom(schema.minimum - 1, -1e308);
  if (type === 'integer') return fc.constantFrom(0.5, 1e300);
  if (type === 'array' && schema.minItems !== undefined && schema.minItems > 0)
    return fc.constant([]);
  return undefined;
}

/**
 * A mutation of a valid value: one spot of the value (found by walking the schema) gets a
 * wrong type, loses a required field, gains an unknown field, breaks a bound, or becomes a
 * hostile string or null.
 */
export function mutatedValue(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives !== undefined && alternatives[0] !== undefined)
    return fc.oneof(...alternatives.map((alternative) => mutatedValue(alternative, depth + 1)));
  const here: fc.Arbitrary<unknown>[] = [
    wrongTypeValue(schema),
    hostileString(),
    fc.constant(null),
  ];
  const bound = pastBoundValue(schema);
  if (bound !== undefined) here.push(bound);
  const type = typeOf(schema);
  if (depth < MAX_DEPTH && type === 'object' && schema.properties !== undefined) {
    return fc.oneof(
      { weight: 1, arbitrary: fc.oneof(...here) },
      { weight: 4, arbitrary: mutatedObject(schema, depth) },
    );
  }
  if (depth < MAX_DEPTH && type === 'array' && schema.items !== undefined) {
    const items = schema.items;
    return fc.oneof(
      { weight: 1, arbitrary: fc.oneof(...here) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(validValue(schema, depth), mutatedValue(items, depth + 1))
          .map(([valid, bad]) => [...(valid as unknown[]), bad]),
      },
    );
  }
  return fc.oneof(...here);
}

function mutatedObject(schema: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const names = Object.keys(properties);
  const base = validValue(schema, depth) as fc.Arbitrary<Record<string, unknown>>;
  const required = (schema.required ?? []).filter((name) => name in properties);
  const options: fc.Arbitrary<unknown>[] = [
    // An unknown field (refused where additionalProperties is false).
    fc
      .tuple(base, fc.string({ minLength: 1, maxLength: 12 }), anyJson())
      .map(([value, key, extra]) => (key in properties ? value : { ...value, [key]: extra })),
  ];
  if (names.length > 0) {
    options.push(
      fc
        .tuple(base, fc.constantFrom(...names))
        .chain(([value, name]) =>
          mutatedValue(properties[name] ?? {}, depth + 1).map((bad) => ({ ...value, [name]: bad })),
        ),
    );
  }
  if (required.length > 0) {
    options.push(
      fc.tuple(base, fc.constantFrom(...required)).map(([value, name]) => {
        const copy = { ...value };
        delete copy[name];
        return copy;
      }),
    );
  }
  return fc.oneof(...options);
}
