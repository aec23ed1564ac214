/**
 * JSON schemas (TypeBox) of the balancer's HTTP API (docs/search-balancer.md, "HTTP API").
 * Bodies are strict (unknown fields are a 400); replies are declared so the OpenAPI document
 * and the serializer agree with the code.
 */
import { Type, type Static } from '@sinclair/typebox';
import { SNAPSHOT_NAME_PATTERN } from './snapshot-format.js';

/** Longest term accepted (in UTF-16 code units); nodes should leave longer tokens out. */
export const MAX_TERM_LENGTH = 1024;
/** Most terms one `GET /locate` may ask for. */
export const MAX_LOCATE_TERMS = 1024;
/** Largest node id (hypercube ids have at most 30 bits). */
const MAX_NODE_ID = 2 ** 30 - 1;

const NodeId = Type.Integer({ minimum: 0, maximum: MAX_NODE_ID, description: 'Hypercube id.' });
const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Term = Type.String({ minLength: 1, maxLength: MAX_TERM_LENGTH });
const Url = Type.String({
  minLength: 8,
  maxLength: 2048,
  pattern: '^https?://[^\\s]+$',
  description: 'Base URL of the node, e.g. http://127.0.0.1:9301',
});
const TermDfs = Type.Record(Type.String(), Count, {
  propertyNames: { minLength: 1, maxLength: MAX_TERM_LENGTH },
  description: 'term -> the node’s df of it (absolute, not a delta)',
});

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    leader_id: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    leader_url: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  },
  { additionalProperties: true },
);

export const LocateQuery = Type.Object(
  {
    q: Type.Optional(
      Type.String({ minLength: 1, maxLength: MAX_TERM_LENGTH, description: 'One term' }),
    ),
    terms: Type.Optional(
      Type.String({ minLength: 1, maxLength: 65_536, description: 'Comma-separated terms' }),
    ),
  },
  { additionalProperties: false },
);

const LocatedNodeSchema = Type.Object({
  node_id: Type.Integer(),
  url: Type.String(),
  df: Type.Integer(),
});

export const LocateReply = Type.Object({
  terms: Type.Record(Type.String(), Type.Array(LocatedNodeSchema)),
  nodes: Type.Array(Type.Integer(), { description: 'Union of the nodes holding any term (OR)' }),
});

export const UpdateIndexBody = Type.Object(
  {
    node_id: NodeId,
    seq: Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description:
        'Grows with every update of the node; a seq not above the last applied is a replay',
    }),
    terms_added: Type.Optional(
      Type.Union([TermDfs, Type.Array(Term, { description: 'The seed’s form: df 1 each' })]),
    ),
    terms_removed: Type.Optional(Type.Array(Term)),
    full: Type.Optional(Type.Boolean({ description: 'terms_added is the node’s whole term set' })),
    timestamp: Type.Optional(Type.Number()),
    url: Type.Optional(Url),
  },
  { additionalProperties: false },
);
export type UpdateIndexBodyType = Static<typeof UpdateIndexBody>;

export const UpdateIndexReply = Type.Object({
  status: Type.Literal('ok'),
  applied: Type.Boolean(),
  full_required: Type.Boolean({ description: 'Send a FULL report: this leader has none from you' }),
});

export const HeartbeatBody = Type.Object(
  {
    node_id: NodeId,
    url: Url,
    doc_count: Count,
    term_count: Count,
    total_length: Count,
  },
  { additionalProperties: false },
);

export const HeartbeatReply = Type.Object({
  status: Type.Literal('ok'),
  full_required: Type.Boolean(),
});

const NullableInteger = Type.Union([Type.Integer(), Type.Null()]);

const NodeStatsSchema = Type.Object({
  node_id: Type.Integer(),
  url: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  last_heartbeat_ms: Type.Union([Type.Number(), Type.Null()]),
  doc_count: Type.Integer(),
  term_count: Type.Integer(),
  total_length: Type.Integer(),
  indexed_terms: Type.Integer(),
  last_seq: NullableInteger,
  full_report: Type.Boolean(),
});

export const StatsReply = Type.Object({
  node_id: NullableInteger,
  total_nodes: Type.Integer(),
  active_nodes: Type.Integer(),
  total_terms: Type.Integer(),
  doc_count: Type.Integer(),
  total_length: Type.Integer(),
  avg_doc_length: Type.Number(),
  global_index: Type.Object({ terms: Type.Integer(), nodes: Type.Integer() }),
  node_registry: Type.Object({
    total_nodes: Type.Integer(),
    active_nodes: Type.Integer(),
    total_documents: Type.Integer(),
    total_terms: Type.Integer(),
  }),
  cache: Type.Object({
    size: Type.Integer(),
    capacity: Type.Integer(),
    hits: Type.Integer(),
    misses: Type.Integer(),
    hit_rate: Type.Number(),
  }),
  updates: Type.Object({ applied: Type.Integer(), ignored: Type.Integer() }),
  nodes: Type.Array(NodeStatsSchema),
});

export const SnapshotSaveBody = Type.Object(
  { name: Type.Optional(Type.String({ pattern: SNAPSHOT_NAME_PATTERN })) },
  { additionalProperties: false },
);

const SnapshotInfoSchema = Type.Object({
  name: Type.String(),
  created_at: Type.String(),
  created_at_ms: Type.Number(),
  bytes: Type.Integer(),
});

export const SnapshotSaveReply = SnapshotInfoSchema;
export const SnapshotListReply = Type.Object({ snapshots: Type.Array(SnapshotInfoSchema) });
