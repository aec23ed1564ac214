/** Ranked search results, shared by the Search page and the Files page's content search. */
import type { ReactNode } from 'react';
import type { SearchView, WireSearchResult } from '../../api-types.js';
import { Highlighted } from './highlight.js';
import { href } from './router.js';

/**
 * The DFS path a result stands for: `tessera fs put --index` indexes a file under its path,
 * with metadata `{path}`. Null for documents that are not DFS files.
 */
export function dfsPathOf(result: WireSearchResult): string | null {
  const path = result.metadata['path'];
  if (typeof path === 'string' && path.startsWith('/')) return path;
  return result.doc_id.startsWith('/') ? result.doc_id : null;
}

/** How many results, how long, which nodes answered, whether something may be missing. */
export function SearchSummaryLine(props: { answer: SearchView; shown?: number }): ReactNode {
  const { answer } = props;
  const skipped = answer.answered_by.skipped;
  return (
    <div className="search-summary" data-testid="search-summary">
      <span data-testid="search-total">
        {props.shown ?? answer.total} {(props.shown ?? answer.total) === 1 ? 'result' : 'results'}
      </span>
      <span>in {answer.took_ms.toFixed(1)} ms</span>
      <span data-testid="search-nodes">
        nodes answered: {answer.nodes_queried.length > 0 ? answer.nodes_queried.join(', ') : 'none'}
      </span>
      <span className="muted">
        coordinated by <span className="mono">{answer.answered_by.server_id}</span>
      </span>
      {answer.partial ? (
        <span className="badge badge-inactive" data-testid="search-partial">
          partial: some documents may be missing
        </span>
      ) : (
        <span className="badge badge-active">complete</span>
      )}
      {skipped.length > 0 ? (
        <span className="warn" title={skipped.map((s) => `${s.server_id}: ${s.error}`).join('\n')}>
          failed over from {skipped.map((s) => s.server_id).join(', ')}
        </span>
      ) : null}
    </div>
  );
}

/** The results in rank order; DFS files link to their details. */
export function ResultList(props: {
  results: readonly WireSearchResult[];
  offset?: number;
  showNode?: boolean;
}): ReactNode {
  if (props.results.length === 0) return <p className="muted">Nothing matches.</p>;
  return (
    <ol className="results" start={(props.offset ?? 0) + 1}>
      {props.results.map((result) => {
        const path = dfsPathOf(result);
        return (
          <li key={result.doc_id} data-testid="search-result" data-doc-id={result.doc_id}>
            <div className="result-head">
              {path ? (
                <a className="mono" href={href('/files/detail', { path })}>
                  {path}
                </a>
              ) : (
                <span className="mono result-id">{result.doc_id}</span>
              )}
              <span className="muted" data-testid="result-score">
                score {result.score.toFixed(3)}
              </span>
              {props.showNode === false ? null : (
                <span className="muted">node {result.node_id}</span>
              )}
            </div>
            <p className="snippet" data-testid="result-snippet">
              <Highlighted snippet={result.snippet} />
            </p>
          </li>
        );
      })}
    </ol>
  );
}
