/**
 * The Files page's "find files by content": the query goes to the search cluster, and the
 * results that are DFS files (indexed by `tessera fs put --index` under their path, with
 * metadata `{path}`) are listed with a link to each file and the matching snippet.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import type { SearchView } from '../../../api-types.js';
import { useFetch } from '../api.js';
import { ErrorNote, Loading, Panel } from '../components.js';
import { dfsPathOf, ResultList, SearchSummaryLine } from '../search-results.js';

export function ContentSearchPanel(): ReactNode {
  const [text, setText] = useState('');
  const [query, setQuery] = useState<string | null>(null);
  const url = query ? `/api/search?${new URLSearchParams({ q: query, k: '50' }).toString()}` : null;
  const answer = useFetch<SearchView>(url);
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const next = text.trim();
    if (!next) return;
    if (next === query) answer.refresh();
    else setQuery(next);
  };
  const files = answer.data?.results.filter((result) => dfsPathOf(result) !== null) ?? [];
  const others = (answer.data?.results.length ?? 0) - files.length;
  return (
    <Panel title="Find files by content" wide testId="content-search">
      <form className="search-form" onSubmit={submit} role="search">
        <input
          type="search"
          value={text}
          onChange={(event) => setText(event.target.value)}
          placeholder="Words inside the files (files stored with tessera fs put --index)"
          aria-label="Find files by content"
          data-testid="content-query"
        />
        <button type="submit" className="primary" data-testid="content-search-button">
          Find
        </button>
      </form>
      {url === null ? null : answer.loading || answer.answeredUrl !== url ? (
        <Loading what="matching files" />
      ) : answer.error ? (
        <ErrorNote title="Search not available" message={answer.error} />
      ) : answer.data ? (
        <div data-testid="content-results">
          <SearchSummaryLine answer={answer.data} shown={files.length} />
          {files.length === 0 ? (
            <p className="muted">
              No DFS file matches. Files are found by content once stored with{' '}
              <span className="mono">tessera fs put --index</span>.
            </p>
          ) : (
            <ResultList results={files} showNode={false} />
          )}
          {others > 0 ? (
            <p className="muted small">
              {others} other matching {others === 1 ? 'document is' : 'documents are'} not a DFS
              file; see the{' '}
              <a href={`#/search?q=${encodeURIComponent(query ?? '')}`}>Search page</a>.
            </p>
          ) : null}
        </div>
      ) : null}
    </Panel>
  );
}
