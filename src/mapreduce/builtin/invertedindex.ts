/**
 * Inverted index, with the search cluster's analyzer (Snowball stemming, stop words), so its
 * terms are the terms `GET /search` looks up. Input records are documents:
 * - a JSON line `{"doc_id": "...", "content": "..."}` (what `POST /docs` of the search cluster
 *   takes), or
 * - a `doc_id<TAB>content` line, or
 * - any other line: a line of the document named by the input file's path.
 *
 * Output (`args.format`):
 * - `postings` (default): `term<TAB>{"df":N,"postings":[{"doc_id":"...","tf":N},...]}`, postings
 *   sorted by doc_id;
 * - `documents`: one JSON line `{"doc_id":"...","content":"..."}` per document (its lines joined
 *   with `\n`), ready for the search cluster's bulk `POST /docs` (`tessera search index`).
 */
import { analyzeTerms } from '../../search/index.js';
import { compareKeys } from '../worker/spill.js';
import type { Emit, JobArgs, JobFunctions } from './types.js';

type Language = Parameters<typeof analyzeTerms>[1];

/** A record as a document: its id and text. */
export function parseDocument(path: string, line: string): { docId: string; content: string } {
  if (line.startsWith('{')) {
    try {
      const parsed = JSON.parse(line) as { doc_id?: unknown; content?: unknown };
      if (typeof parsed.doc_id === 'string' && typeof parsed.content === 'string') {
        return { docId: parsed.doc_id, content: parsed.content };
      }
    } catch {
      // Not JSON after all: a plain line.
    }
  }
  const tab = line.indexOf('\t');
  if (tab > 0) return { docId: line.slice(0, tab), content: line.slice(tab + 1) };
  return { docId: path, content: line };
}

/** Adds up `doc_id<TAB>tf` values per document. */
function mergePostings(values: readonly string[]): Map<string, number> {
  const byDoc = new Map<string, number>();
  for (const value of values) {
    const tab = value.lastIndexOf('\t');
    const docId = value.slice(0, tab);
    byDoc.set(docId, (byDoc.get(docId) ?? 0) + Number(value.slice(tab + 1)));
  }
  return byDoc;
}

function postingsJobs(language: Language): JobFunctions {
  return {
    mapBatch(path, lines, emit) {
      const counts = new Map<string, number>();
      for (const line of lines) {
        const { docId, content } = parseDocument(path, line);
        for (const term of analyzeTerms(content, language)) {
          const key = `${term}\u0000${docId}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      }
      for (const [key, tf] of counts) {
        const cut = key.indexOf('\u0000');
        emit(key.slice(0, cut), `${key.slice(cut + 1)}\t${tf}`);
      }
    },
    combine(term, values, emit: Emit) {
      for (const [docId, tf] of mergePostings(values)) emit(term, `${docId}\t${tf}`);
    },
    reduce(term, values, emit: Emit) {
      const postings = [...mergePostings(values)]
        .sort(([a], [b]) => compareKeys(a, b))
        .map(([doc_id, tf]) => ({ doc_id, tf }));
      emit(term, JSON.stringify({ df: postings.length, postings }));
    },
  };
}

function documentJobs(): JobFunctions {
  return {
    map(path, line, emit) {
      const { docId, content } = parseDocument(path, line);
      emit(docId, content);
    },
    reduce(docId, contents, emit: Emit) {
      emit(JSON.stringify({ doc_id: docId, content: contents.join('\n') }));
    },
  };
}

/** The inverted-index job. */
export function invertedindex(args: JobArgs): JobFunctions {
  if (args['format'] === 'documents') return documentJobs();
  const language = (typeof args['lang'] === 'string' ? args['lang'] : undefined) as Language;
  return postingsJobs(language);
}
