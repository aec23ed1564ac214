/**
 * JSON schemas (TypeBox) of the search node's HTTP API: the public endpoints of the seed
 * (`POST /doc`, `GET /search`, `POST /route`, `GET /status`) plus `POST /docs`, `GET|DELETE
 * /doc/{doc_id}`, `POST /join`, `POST /election` and the node-to-node `/internal/*` calls.
 * Bodies are strict: unknown fields and wrong types answer 400 problem+json.
 */
import { Type, type Static } from '@sinclair/typebox';

/** Most documents one `POST /docs` (or one internal batch) may carry. */
export const MAX_BATCH_DOCS = 10_000;
/** Longest document content, in UTF-16 code units (4 Mi). */
export const MAX_CONTENT_LENGTH = 4 * 1024 * 1024;
/** Longest document id. */
export const MAX_DOC_ID_LENGTH = 512;
/** Most terms a node-to-node statistics or search request carries. */
export const MAX_QUERY_TERMS = 1024;
/** Most term vectors one local search returns with its hits. */
export const MAX_INLINE_VECTORS = 100;
/** Largest `k + offset` of a search. */
export const MAX_SEARCH_DEPTH = 10_000;
/** Largest node id of any cube (30 bits). */
const MAX_NODE_ID = 2 ** 30 - 1;

export const Problem = Type.Object(
  { type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.String() },
  { additionalProperties: true },
);

export const NodeIdSchema = Type.Integer({ minimum: 0, maximum: MAX_NODE_ID });
export const DocIdSchema = Type.String({
  minLength: 1,
  maxLength: MAX_DOC_ID_LENGTH,
  // Not `.` or `..`: URLs normalize them away, so a peer could never be asked for them.
  pattern: '^(?!\\.\\.?$)[^\\u0000-\\u001f\\u007f]+$',
  description: 'Document id: 1-512 characters, no control characters, not `.` or `..`.',
});
const Metadata = Type.Record(Type.String({ maxLength: 256 }), Type.Unknown(), {
  description: 'Free-form; `lang` (en, es, ...) selects the analyzer.',
});
const TermSchema = Type.String({ minLength: 1, maxLength: 1024 });
const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const BaseUrl = Type.String({ minLength: 8, maxLength: 2048, pattern: '^https?://[^\\s]+$' });
const LiveIds = Type.Array(NodeIdSchema, {
  maxItems: 1 << 16,
  description:
    'The live node ids the coordinator uses for this query (primaries are computed over them).',
});

/** A document as clients send it (the seed's data model). */
export const DocumentBody = Type.Object(
  {
    doc_id: DocIdSchema,
    content: Type.String({ maxLength: MAX_CONTENT_LENGTH }),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
export type DocumentBodyType = Static<typeof DocumentBody>;

export const DocsBody = Type.Object(
  { documents: Type.Array(DocumentBody, { minItems: 1, maxItems: MAX_BATCH_DOCS }) },
  { additionalProperties: false },
);

export const DocIdParams = Type.Object({ doc_id: DocIdSchema });

export const WriteReply = Type.Object({
  status: Type.Literal('ok'),
  indexed: Type.Integer({ description: 'Documents stored on at least one node.' }),
  replicated: Type.Integer({ description: 'Documents stored on all of their k owners now.' }),
  nodes: Type.Record(Type.String(), Type.Integer(), {
    description: 'node id -> documents it stored',
  }),
});

export const DocReply = Type.Object({
  status: Type.Literal('ok'),
  doc_id: Type.String(),
  nodes: Type.Array(Type.Integer(), { description: 'The nodes that stored the document.' }),
});

export const StoredDocReply = Type.Object({
  doc_id: Type.String(),
  content: Type.String(),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  node_id: Type.Integer({ description: 'The node that answered.' }),
});

export const DeleteReply = Type.Object({
  status: Type.Literal('deleted'),
  doc_id: Type.String(),
  nodes: Type.Array(Type.Integer(), { description: 'The nodes that held and deleted it.' }),
});

export const SearchQuery = Type.Object(
  {
    q: Type.String({ minLength: 1, maxLength: 4096, description: 'The query text.' }),
    k: Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'Results wanted.' }),
    offset: Type.Integer({ minimum: 0, maximum: MAX_SEARCH_DEPTH - 1000, default: 0 }),
    lang: Type.Optional(
      Type.String({ maxLength: 32, description: 'Query language (default en).' }),
    ),
    scoring: Type.Optional(Type.Union([Type.Literal('bm25'), Type.Literal('tfidf')])),
    proximity: Type.Optional(Type.Boolean({ description: 'BM25TP proximity (default true).' })),
    feedback: Type.Optional(Type.Boolean({ description: 'RM3 feedback (default true).' })),
    snippets: Type.Optional(Type.Boolean({ description: 'Highlighted snippets (default true).' })),
  },
  { additionalProperties: false },
);
export type SearchQueryType = Static<typeof SearchQuery>;

const SearchResult = Type.Object({
  doc_id: Type.String(),
  score: Type.Number(),
  node_id: Type.Integer(),
  snippet: Type.String(),
  metadata: Type.Record(Type.String(), Type.Unknown()),
});

export const SearchReply = Type.Object({
  query: Type.String(),
  total: Type.Integer({ description: 'Number of results in this answer.' }),
  took_ms: Type.Number(),
  nodes_queried: Type.Array(Type.Integer(), { description: 'Nodes that answered this query.' }),
  partial: Type.Boolean({ description: 'True when documents may be missing (holders down).' }),
  results: Type.Array(SearchResult),
});

export const StatusReply = Type.Object({
  node_id: Type.Integer(),
  binary_id: Type.String(),
  url: Type.String(),
  dimensions: Type.Integer(),
  replicas: Type.Integer(),
  neighbors: Type.Array(
    Type.Object({
      node_id: Type.Integer(),
      binary_id: Type.String(),
      alive: Type.Boolean(),
      url: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  live_nodes: Type.Array(Type.Integer()),
  leader_id: Type.Union([Type.Integer(), Type.Null()]),
  leader_url: Type.Union([Type.String(), Type.Null()]),
  is_leader: Type.Boolean(),
  election_role: Type.String(),
  elections_started: Type.Integer(),
  doc_count: Type.Integer(),
  term_count: Type.Integer(),
  total_length: Type.Integer(),
  primary_doc_count: Type.Integer({
    description: 'Documents this node counts (it is their primary).',
  }),
  repair: Type.Object({
    runs: Type.Integer(),
    copied: Type.Integer(),
    strays_removed: Type.Integer(),
    last_error: Type.Union([Type.String(), Type.Null()]),
  }),
  departed_uncovered: Type.Array(Type.Integer(), {
    description:
      'Peers that left the live set before a repair run covered them; k or more make searches partial.',
  }),
  documents_may_be_missing: Type.Boolean({
    description: 'Whether k or more peers left at once: searches answer partial: true.',
  }),
});

export type StatusReplyType = Static<typeof StatusReply>;

export const RouteReply = Type.Object({
  delivered: Type.Literal(true),
  dest_id: Type.Integer(),
  hops: Type.Integer(),
  path: Type.Array(Type.Integer()),
  result: Type.Unknown({ description: 'The destination’s answer to the payload.' }),
});

export const JoinBody = Type.Object({ url: BaseUrl }, { additionalProperties: false });

export const ForgetDeparturesBody = Type.Object(
  {
    node_ids: Type.Array(Type.Integer({ minimum: 0, maximum: 1_048_575 }), {
      minItems: 1,
      maxItems: 1024,
      description: 'Departed peers whose documents the operator accepts as lost.',
    }),
  },
  { additionalProperties: false },
);
export const ForgetDeparturesReply = Type.Object({
  forgotten: Type.Array(Type.Integer()),
  departed_uncovered: Type.Array(Type.Integer()),
  documents_may_be_missing: Type.Boolean(),
});
export const JoinReply = Type.Object({ node_id: Type.Integer(), binary_id: Type.String() });

export const ElectionBody = Type.Object(
  {
    type: Type.Union([
      Type.Literal('ELECTION'),
      Type.Literal('OK'),
      Type.Literal('COORDINATOR'),
      Type.Literal('HEARTBEAT'),
      Type.Literal('HEARTBEAT_ACK'),
    ]),
    from: NodeIdSchema,
    to: NodeIdSchema,
    url: Type.Optional(BaseUrl),
  },
  { additionalProperties: false },
);
export type ElectionBodyType = Static<typeof ElectionBody>;

/** The route message of the seed's data model, with the routing fields we add (all optional). */
export const RouteBody = Type.Object(
  {
    type: Type.Literal('route'),
    dest_id: Type.Integer({ minimum: 0, maximum: MAX_NODE_ID }),
    hop_limit: Type.Integer({ minimum: 0, maximum: 1024 }),
    payload: Type.Unknown(),
    source_id: Type.Optional(NodeIdSchema),
    path: Type.Optional(Type.Array(NodeIdSchema, { maxItems: 1100 })),
    visited: Type.Optional(Type.Array(NodeIdSchema, { maxItems: 1100 })),
    hops: Type.Optional(Type.Integer({ minimum: 0, maximum: 1100 })),
  },
  { additionalProperties: false },
);
export type RouteBodyType = Static<typeof RouteBody>;

// ---- node-to-node calls (/internal/*, also carried as route payloads) ----

export const StatsBody = Type.Object(
  { terms: Type.Array(TermSchema, { maxItems: MAX_QUERY_TERMS }), live: LiveIds },
  { additionalProperties: false },
);
export type StatsBodyType = Static<typeof StatsBody>;

/** Collection statistics on the wire. */
export const WireStats = Type.Object(
  {
    doc_count: Count,
    total_length: Count,
    df: Type.Record(Type.String(), Count),
  },
  { additionalProperties: false },
);
export type WireStatsType = Static<typeof WireStats>;

export const SearchBody = Type.Object(
  {
    query: Type.Array(
      Type.Object(
        { term: TermSchema, weight: Type.Number({ minimum: 0 }) },
        { additionalProperties: false },
      ),
      { maxItems: MAX_QUERY_TERMS },
    ),
    stats: WireStats,
    k: Type.Integer({ minimum: 0, maximum: MAX_SEARCH_DEPTH }),
    options: Type.Object(
      {
        scoring: Type.Optional(Type.Union([Type.Literal('bm25'), Type.Literal('tfidf')])),
        k1: Type.Optional(Type.Number({ minimum: 0 })),
        b: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
        proximity: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
    live: LiveIds,
    vectors: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_INLINE_VECTORS,
        description: 'Also return the term vectors of this many of the best hits (RM3).',
      }),
    ),
    details: Type.Optional(
      Type.Object(
        {
          terms: Type.Array(TermSchema, { maxItems: MAX_QUERY_TERMS }),
          snippets: Type.Boolean(),
          hits: Type.Integer({ minimum: 0, maximum: MAX_SEARCH_DEPTH }),
        },
        {
          additionalProperties: false,
          description:
            'Also return the metadata (and snippets highlighting terms) of this many of the best hits.',
        },
      ),
    ),
  },
  { additionalProperties: false },
);
export type SearchBodyType = Static<typeof SearchBody>;

/** A node's hit. */
export const WireHit = Type.Object({ doc_id: Type.String(), score: Type.Number() });
export type WireHitType = Static<typeof WireHit>;

const TermVectors = Type.Record(Type.String(), Type.Record(Type.String(), Type.Integer()));
const Details = Type.Record(
  Type.String(),
  Type.Object({
    metadata: Type.Record(Type.String(), Type.Unknown()),
    snippet: Type.Optional(Type.String()),
  }),
);

export const SearchLocalReply = Type.Object({
  hits: Type.Array(WireHit),
  version: Type.String({ description: 'The index version that scored: incarnation:LSN.' }),
  stats: WireStats,
  vectors: Type.Optional(TermVectors),
  details: Type.Optional(Details),
});

export const DocIdsBody = Type.Object(
  { doc_ids: Type.Array(DocIdSchema, { maxItems: MAX_BATCH_DOCS }) },
  { additionalProperties: false },
);

export const DetailsBody = Type.Object(
  {
    doc_ids: Type.Array(DocIdSchema, { maxItems: MAX_SEARCH_DEPTH }),
    terms: Type.Array(TermSchema, { maxItems: MAX_QUERY_TERMS }),
    snippets: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type DetailsBodyType = Static<typeof DetailsBody>;

export const DetailsReply = Type.Object({ details: Details });

export const TermVectorsReply = Type.Object({ vectors: TermVectors });

export const HaveReply = Type.Object({ missing: Type.Array(Type.String()) });

export const InternalDocsReply = Type.Object({ indexed: Type.Integer() });
