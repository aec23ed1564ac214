/**
 * A generated corpus for the search node tests: made-up words with a Zipf-like frequency
 * (P(rank r) proportional to 1 / (r + 1)), documents of varied length, and queries of 1-4 words
 * drawn the same way. Seeded, so every run sees the same data; no external data.
 */
import { SeededRandom } from '../../../src/core/random.js';
import { InvertedIndex, type StoredDocument } from '../../../src/search/index/index.js';

const STOP_WORDS = ['the', 'of', 'and', 'a', 'in', 'to', 'is'];

function makeVocabulary(random: SeededRandom, size: number): string[] {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const words = new Set<string>(STOP_WORDS);
  while (words.size < size) {
    const length = 3 + random.int(7);
    words.add(Array.from({ length }, () => letters[random.int(letters.length)]).join(''));
  }
  return [...words];
}

function zipfSampler(random: SeededRandom, vocabulary: readonly string[]): () => string {
  const cumulative: number[] = [];
  let total = 0;
  vocabulary.forEach((_, rank) => cumulative.push((total += 1 / (rank + 1))));
  return () => {
    const x = random.next() * total;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((cumulative[mid] as number) < x) low = mid + 1;
      else high = mid;
    }
    return vocabulary[low] as string;
  };
}

export interface Corpus {
  readonly docs: StoredDocument[];
  readonly queries: string[];
}

/**
 * `docCount` documents and `queryCount` queries. With `marker`, every document also contains
 * that word (so one query can list the whole collection).
 */
export function makeCorpus(
  seed: number,
  docCount: number,
  queryCount: number,
  options: { vocabulary?: number; marker?: string } = {},
): Corpus {
  const random = new SeededRandom(seed);
  const draw = zipfSampler(random, makeVocabulary(random, options.vocabulary ?? 600));
  const words = (n: number): string => Array.from({ length: n }, draw).join(' ');
  const docs = Array.from({ length: docCount }, (_, i) => ({
    doc_id: `doc-${String(i).padStart(5, '0')}`,
    // Every 50th document repeats an earlier one's text: exact score ties, broken by doc_id.
    content: i % 50 === 49 ? '' : `${options.marker ?? ''} ${words(8 + random.int(60))}`,
    metadata: { n: i },
  }));
  docs.forEach((doc, i) => {
    if (i % 50 === 49) doc.content = docs[i - 1]?.content ?? '';
  });
  const queries = Array.from({ length: queryCount }, () => words(1 + random.int(4)));
  return { docs, queries };
}

/** One index holding every document: the single-node reference. */
export function referenceIndex(docs: readonly StoredDocument[]): InvertedIndex {
  const index = new InvertedIndex();
  for (const doc of docs) index.add(doc);
  return index;
}
