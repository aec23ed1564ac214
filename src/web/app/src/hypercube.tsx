/**
 * The search cluster's hypercube as SVG: every slot by its binary id (or only the known nodes
 * of a large cube), edges between neighbours, live nodes green, dead ones red and dashed,
 * empty slots hollow, and the leader ringed and starred. Positions come from the server
 * (src/web/hypercube-view.pure.ts); this scales them into the box.
 */
import type { ReactNode } from 'react';
import type { CubeVertex, CubeView } from '../../api-types.js';

const RADIUS = 17;
const PADDING = 30;
/** Pixels per unit of the server's layout. */
const SCALE = 170;

export function CubeDrawing(props: { cube: CubeView }): ReactNode {
  const { cube } = props;
  if (cube.vertices.length === 0) return <p className="muted">No search node is known.</p>;
  const xs = cube.vertices.map((vertex) => vertex.x);
  const ys = cube.vertices.map((vertex) => vertex.y);
  const minX = Math.min(...xs);
  const minY = Math.min(...ys);
  const width = (Math.max(...xs) - minX) * SCALE + 2 * PADDING;
  const height = (Math.max(...ys) - minY) * SCALE + 2 * PADDING;
  const at = (vertex: CubeVertex): { cx: number; cy: number } => ({
    cx: (vertex.x - minX) * SCALE + PADDING,
    cy: (vertex.y - minY) * SCALE + PADDING,
  });
  const byId = new Map(cube.vertices.map((vertex) => [vertex.node_id, vertex]));
  const live = cube.vertices.filter((vertex) => vertex.state === 'live').length;
  const dead = cube.vertices.filter((vertex) => vertex.state === 'dead').length;
  return (
    <figure className="cube" data-testid="hypercube">
      <svg
        viewBox={`0 0 ${width.toFixed(0)} ${height.toFixed(0)}`}
        role="img"
        aria-label={`${cube.dimensions}-dimensional hypercube: ${live} live, ${dead} dead nodes`}
      >
        {cube.edges.map((edge) => {
          const from = byId.get(edge.from);
          const to = byId.get(edge.to);
          if (!from || !to) return null;
          const a = at(from);
          const b = at(to);
          return (
            <line
              key={`${edge.from}-${edge.to}`}
              x1={a.cx}
              y1={a.cy}
              x2={b.cx}
              y2={b.cy}
              className={`cube-edge cube-edge-${edge.state}`}
              data-testid="cube-edge"
              data-state={edge.state}
            />
          );
        })}
        {cube.vertices.map((vertex) => (
          <Vertex key={vertex.node_id} vertex={vertex} {...at(vertex)} />
        ))}
      </svg>
      <figcaption className="cube-legend">
        <span className="legend live">● live</span>
        <span className="legend dead">● dead</span>
        {cube.sparse ? null : <span className="legend empty">○ empty slot</span>}
        <span className="legend leader">★ leader</span>
        <span className="muted">
          {cube.dimensions} bits, edges join ids one bit apart
          {cube.sparse ? '; only known nodes are drawn' : ''}
        </span>
      </figcaption>
    </figure>
  );
}

function Vertex(props: { vertex: CubeVertex; cx: number; cy: number }): ReactNode {
  const { vertex, cx, cy } = props;
  const title = `node ${vertex.node_id} (${vertex.binary_id}): ${vertex.state}${
    vertex.leader ? ', leader' : ''
  }${vertex.url ? ` at ${vertex.url}` : ''}`;
  return (
    <g
      className={`cube-node cube-node-${vertex.state}${vertex.leader ? ' cube-leader' : ''}`}
      data-testid="cube-node"
      data-node-id={vertex.node_id}
      data-state={vertex.state}
      data-leader={vertex.leader ? 'true' : 'false'}
    >
      <title>{title}</title>
      {vertex.leader ? (
        <circle cx={cx} cy={cy} r={RADIUS + 5} className="cube-leader-ring" />
      ) : null}
      <circle cx={cx} cy={cy} r={RADIUS} />
      <text x={cx} y={cy + 3.5} textAnchor="middle" className="cube-label">
        {vertex.binary_id}
      </text>
      {vertex.leader ? (
        <text x={cx} y={cy - RADIUS - 8} textAnchor="middle" className="cube-star">
          ★
        </text>
      ) : null}
    </g>
  );
}
