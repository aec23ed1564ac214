// Rule (issue 4, "Ranking" and "Tests"): every node scores with global statistics (N, average
// length and df(t) summed over the nodes), so the distributed ranking is exactly the ranking one
// node holding every document would give: splitting a corpus over 2-4 nodes and merging each
// node's top k gives the same top 10, in the same order, with the same scores, for every query.
// The corpus is generated here with a Zipf-like vocabulary (no external data).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SeededRandom } from '../../../src/core/random.js';
import {
  InvertedIndex,
  localShard,
  searchIndex,
  searchShards,
  type QueryOptions,
  type StoredDocument,
} from '../../../src/search/index/index.js';

const STOP_WORDS = ['the', 'of', 'and', 'a', 'in', 'de', 'la', 'el'];

/** A vocabulary of made-up words, most frequent first. */
function makeVocabulary(random: SeededRandom, size: number): string[] {
  const letters = 'abcdefghijklmnopqrstuvwxyzáéñ';
  const words = new Set<string>(STOP_WORDS);
  while (words.size < size) {
    const length = 3 + random.int(7);
    words.add(Array.from({ length }, () => letters[random.int(letters.length)]).join(''));
  }
  return [...words];
}

/** Draws ranks with P(rank r) proportional to 1 / (r + 1) (Zipf, s = 1). */
function zipfSampler(random: SeededRandom, vocabulary: readonly string[]): () => string {
  const cumulative: number[] = [];
  let total = 0;
  vocabulary.forEach((_, r) => cumulative.push((total += 1 / (r + 1))));
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

interface Corpus {
  docs: StoredDocument[];
  queries: string[];
}

function makeCorpus(seed: number, docCount: number, queryCount: number): Corpus {
  const random = new SeededRandom(seed);
  const draw = zipfSampler(random, makeVocabulary(random, 400));
  const words = (n: number): string => Array.from({ length: n }, draw).join(' ');
  const docs = Array.from({ length: docCount }, (_, i) => ({
    // Duplicate contents make exact score ties, which the doc_id order must break.
    doc_id: `doc-${(i * 7919) % docCount}`,
    content: i % 10 === 9 ? `${words(5)}` : words(5 + random.int(60)),
    metadata: random.int(4) === 0 ? { lang: 'es' } : {},
  }));
  docs.push(
    { doc_id: 'twin-a', content: 'twin twin identical', metadata: {} },
    { doc_id: 'twin-b', content: 'twin twin identical', metadata: {} },
  );
  const queries = Array.from({ length: queryCount }, () => words(1 + random.int(6)));
  queries.push('twin identical');
  return { docs, queries };
}

function split(docs: readonly StoredDocument[], shardCount: number, seed: number): InvertedIndex[] {
  const random = new SeededRandom(seed);
  const shards = Array.from({ length: shardCount }, () => new InvertedIndex());
  for (const doc of docs) shards[random.int(shardCount)]?.add(doc);
  return shards;
}

const OPTION_SETS: QueryOptions[] = [
  { proximity: false, feedback: false },
  { feedback: false },
  {},
  { scoring: 'tfidf', feedback: false },
  { feedback: { fbDocs: 3, fbTerms: 5 } },
];

describe('distributed ranking equals single-node ranking', () => {
  test('2-4 nodes, merged top 10 = one index top 10, for hundreds of queries', async () => {
    let queriesChecked = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 2, max: 4 }),
        async (seed, shardCount) => {
          const { docs, queries } = makeCorpus(seed, 120, 20);
          const single = new InvertedIndex();
          for (const doc of docs) single.add(doc);
          const shards = split(docs, shardCount, seed ^ 0x5bd1e995).map(localShard);
          for (const options of OPTION_SETS) {
            for (const text of queries) {
              const expected = searchIndex(single, text, 10, options);
              assert.deepEqual(
                await searchShards(shards, text, 10, options),
                expected,
                `seed=${seed} query=${JSON.stringify(text)}`,
              );
              assert.deepEqual(
                await searchShards([localShard(single)], text, 10, options),
                expected,
              );
              queriesChecked += 1;
            }
          }
        },
      ),
      { numRuns: 12 },
    );
    assert.ok(queriesChecked >= 12 * OPTION_SETS.length * 21);
  });

  test('ties are broken by doc_id on every node alike', async () => {
    const { docs } = makeCorpus(7, 30, 0);
    const shards = split(docs, 3, 11).map(localShard);
    const hits = await searchShards(shards, 'twin identical', 10);
    assert.deepEqual(
      hits.slice(0, 2).map((hit) => hit.doc_id),
      ['twin-a', 'twin-b'],
    );
    assert.equal(hits[0]?.score, hits[1]?.score);
  });
});
