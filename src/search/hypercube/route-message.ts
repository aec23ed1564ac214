/**
 * The route message of the seed's data model ("Mensaje de Ruteo":
 * `{type: 'route', dest_id, hop_limit, payload}`), with the fields our routing adds so that it
 * never loops and can back out of dead ends. A message with only the seed's fields is valid: the
 * node holding it is taken as its source.
 */

/** The seed's default hop limit. */
export const DEFAULT_HOP_LIMIT = 32;

/** A route message as it travels on the wire. Field names are the seed's (snake_case). */
export interface RouteMessage<P = unknown> {
  readonly type: 'route';
  /** The destination id. */
  readonly dest_id: number;
  /** Hops this message may still take; each forward (or backtrack) spends one. */
  readonly hop_limit: number;
  /** What the destination receives. */
  readonly payload: P;
  /** The id that first sent the message; defaults to the first holder. */
  readonly source_id?: number;
  /** The current route from the source to the holder, holder last (a stack: backtracking pops it). */
  readonly path?: readonly number[];
  /** Every id the message has entered, so that it never enters one twice (no loops). */
  readonly visited?: readonly number[];
  /** Hops taken so far, forwards and backtracks. */
  readonly hops?: number;
}

/** A route message with every routing field filled in, as `routeStep` returns it. */
export type RoutedMessage<P = unknown> = Required<RouteMessage<P>>;

/** Options of `createRouteMessage`. */
export interface CreateRouteOptions {
  /** Defaults to DEFAULT_HOP_LIMIT (32). */
  readonly hopLimit?: number;
}

/** A fresh route message from `sourceId` to `destId`, held by its source. */
export function createRouteMessage<P>(
  sourceId: number,
  destId: number,
  payload: P,
  options: CreateRouteOptions = {},
): RoutedMessage<P> {
  return {
    type: 'route',
    dest_id: destId,
    hop_limit: options.hopLimit ?? DEFAULT_HOP_LIMIT,
    payload,
    source_id: sourceId,
    path: [sourceId],
    visited: [sourceId],
    hops: 0,
  };
}
