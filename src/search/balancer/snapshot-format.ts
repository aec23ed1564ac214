/**
 * The content of a balancer snapshot (distrisearch-balancer.md, "balancer_snapshots.py": the
 * whole state, the global index and the nodes' metadata). Node-major: each node carries its own
 * terms, which is both smaller than term-major and what restoring needs (a FULL report per node).
 *
 * Pure: the schema and its check; `snapshots.ts` compresses and writes it.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/** The `format` field of every snapshot. */
export const SNAPSHOT_FORMAT = 'tessera-balancer-snapshot';
/** The current version of the snapshot content. */
export const SNAPSHOT_VERSION = 1;

/** What a snapshot name may look like (also the HTTP schema's pattern). */
export const SNAPSHOT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$';

const NonNegativeInteger = Type.Integer({ minimum: 0 });

/** One node in a snapshot: its registration, its figures, its update sequence and its terms. */
export const SnapshotNodeSchema = Type.Object({
  node_id: NonNegativeInteger,
  /** null when the node sent index updates but never registered or heartbeated. */
  url: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([
    Type.Literal('active'),
    Type.Literal('inactive'),
    Type.Literal('unregistered'),
  ]),
  registered_at_ms: Type.Number(),
  last_heartbeat_ms: Type.Number(),
  doc_count: NonNegativeInteger,
  term_count: NonNegativeInteger,
  total_length: NonNegativeInteger,
  /** The last applied update's seq; null when no update was applied. */
  last_seq: Type.Union([NonNegativeInteger, Type.Null()]),
  /** Whether a FULL report underlies the node's terms (informative: restoring resets it). */
  full_report: Type.Boolean(),
  terms: Type.Record(Type.String(), NonNegativeInteger),
});

/** The whole snapshot. */
export const BalancerSnapshotSchema = Type.Object({
  format: Type.Literal(SNAPSHOT_FORMAT),
  version: Type.Literal(SNAPSHOT_VERSION),
  created_at_ms: Type.Number(),
  leader_id: Type.Union([NonNegativeInteger, Type.Null()]),
  nodes: Type.Array(SnapshotNodeSchema),
});

export type SnapshotNode = Static<typeof SnapshotNodeSchema>;
export type BalancerSnapshot = Static<typeof BalancerSnapshotSchema>;

const checker = TypeCompiler.Compile(BalancerSnapshotSchema);

/** Checks parsed JSON against the snapshot schema; answers the snapshot or what is wrong. */
export function checkSnapshot(
  value: unknown,
): { ok: true; snapshot: BalancerSnapshot } | { ok: false; reason: string } {
  if (checker.Check(value)) return { ok: true, snapshot: value };
  const first = checker.Errors(value).First();
  const where = first === undefined ? '' : ` at ${first.path || '/'}: ${first.message}`;
  return { ok: false, reason: `not a balancer snapshot${where}` };
}
