/**
 * The driver of hypercube routing (`POST /route`): at each hop, the pure `routeStep` decides
 * (deliver, forward to a neighbour, or drop), and this class does the I/O. A route is one chain
 * of HTTP calls: each hop forwards the message to the next hop's `POST /route` and relays the
 * answer back, so the destination's answer reaches the source along the reversed path.
 *
 * A refused send (the next hop is down but the registry does not know yet) marks the next hop
 * dead in this hop's view and asks `routeStep` again (docs/search-overlay.md, "Driving the
 * routing"); a dead end backtracks to the previous hop, which tries another way. Every forward
 * enters an id the message has never visited, so no route loops, and `hop_limit` bounds it.
 */
import { TesseraError, BadRequestError, errorCatalog, type ErrorCode } from '../../core/errors.js';
import { HttpStatusError, PeerUnavailableError } from '../../core/errors-http-client.js';
import type { HttpClient } from '../../core/http-client.js';
import {
  routeStep,
  viewFromLiveIds,
  withoutId,
  type RouteMessage,
  type RouteView,
} from '../hypercube/index.js';
import type { ClusterView } from './cluster-view.js';

/** What the destination answered, relayed back to the source. */
export interface RouteOutcome {
  readonly delivered: true;
  readonly dest_id: number;
  /** Hops the message took (forwards and backtracks). */
  readonly hops: number;
  /** The route from the source to the destination. */
  readonly path: number[];
  /** The destination's answer to the payload. */
  readonly result: unknown;
}

/** A message dropped on the way (unreachable destination, hop limit, ...). */
export class RouteDroppedError extends TesseraError {
  constructor(
    readonly reason: string,
    detail: string,
    hops: number,
    /** Whether this node's view holds the destination as live (default: yes). */
    destinationLive = true,
  ) {
    // The hop limit is the sender's budget: running out of it is not a failed peer (502) but
    // a request that cannot be done as asked (422). A destination no node knows as live is
    // not there (404); one that is live but cannot be reached is the overlay failing (502).
    const code: ErrorCode =
      reason === 'invalid-destination' || reason === 'invalid-message'
        ? 'BAD_REQUEST'
        : reason === 'hop-limit'
          ? 'UNPROCESSABLE'
          : destinationLive
            ? 'BAD_GATEWAY'
            : 'NOT_FOUND';
    super(code, `route dropped (${reason}): ${detail}`, { extensions: { reason, hops } });
  }
}

export interface RouterOptions {
  readonly self: number;
  readonly dimensions: number;
  readonly view: ClusterView;
  readonly http: HttpClient;
  /** Timeout of one forward (the whole rest of the route must fit in it). */
  readonly timeoutMs: number;
  /** Handles a payload delivered to this node. */
  readonly deliver: (payload: unknown) => Promise<unknown>;
}

/** Routes messages from and through this node. */
export class Router {
  constructor(private readonly options: RouterOptions) {}

  /** Handles a route message held by this node: deliver it here, or pass it on. */
  async route(msg: RouteMessage): Promise<RouteOutcome> {
    const { self, dimensions, view } = this.options;
    let routeView: RouteView = viewFromLiveIds(self, dimensions, new Set(view.liveIds()));
    // Each refused send removes one neighbour, so d + 1 decisions are always enough.
    for (let attempt = 0; attempt <= dimensions; attempt += 1) {
      const decision = routeStep(msg, self, routeView);
      if (decision.action === 'deliver') {
        const result = await this.options.deliver(decision.msg.payload);
        return {
          delivered: true,
          dest_id: self,
          hops: decision.msg.hops,
          path: [...decision.msg.path],
          result,
        };
      }
      if (decision.action === 'drop') {
        throw new RouteDroppedError(
          decision.reason,
          decision.detail,
          decision.msg.hops,
          view.liveIds().includes(decision.msg.dest_id),
        );
      }
      const url = view.urlOf(decision.next);
      if (url !== undefined) {
        try {
          return await this.options.http.postJson<RouteOutcome>(`${url}/route`, decision.msg, {
            timeoutMs: this.options.timeoutMs,
            maxRetries: 0,
          });
        } catch (error) {
          if (error instanceof HttpStatusError) throw relayed(error);
          if (!(error instanceof PeerUnavailableError)) throw error;
          view.suspect(decision.next);
        }
      }
      routeView = withoutId(routeView, decision.next);
    }
    throw new RouteDroppedError(
      'unreachable',
      `every next hop from ${self} refused`,
      msg.hops ?? 0,
    );
  }
}

/** A downstream hop's error answer, passed back up the chain with its status and body. */
function relayed(error: HttpStatusError): TesseraError {
  const problem = error.problem ?? {};
  const code = typeof problem['code'] === 'string' ? problem['code'] : undefined;
  const known =
    code !== undefined && Object.hasOwn(errorCatalog, code) ? (code as ErrorCode) : undefined;
  const detail = typeof problem.detail === 'string' ? problem.detail : error.message;
  const { type: _t, title: _ti, status: _s, detail: _d, code: _c, ...extensions } = problem;
  if (known !== undefined) return new TesseraError(known, detail, { extensions });
  if (error.status >= 400 && error.status < 500) return new BadRequestError(detail, extensions);
  return new TesseraError('BAD_GATEWAY', detail, { extensions });
}
