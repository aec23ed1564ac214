/**
 * Generated documents for the bulk-indexing rate: a seeded Zipf-like vocabulary of pronounceable
 * pseudo-words (rank r drawn with probability proportional to 1 / r), document lengths spread
 * around Cranfield's (~90-180 words), so a rate over tens of thousands of documents is stable
 * and comparable between runs.
 */
import { SeededRandom } from '../../src/core/random.js';
import type { BenchDocument } from './search-cluster.js';

const ONSETS = ['b', 'c', 'd', 'f', 'g', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'tr', 'st', 'pl'];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ai', 'ou'];
const CODAS = ['', '', 'n', 'r', 's', 'l', 'x'];

/** Settings of a generated collection. */
export interface SyntheticSettings {
  readonly docs: number;
  readonly vocabulary: number;
  readonly seed: number;
  readonly minWords: number;
  readonly maxWords: number;
}

/** The defaults: 20,000 documents over 30,000 distinct words. */
export const DEFAULT_SYNTHETIC: SyntheticSettings = {
  docs: 20_000,
  vocabulary: 30_000,
  seed: 20_240_601,
  minWords: 60,
  maxWords: 200,
};

function pseudoWord(random: SeededRandom): string {
  const syllables = 1 + random.int(4);
  let word = '';
  for (let i = 0; i < syllables; i += 1) {
    word += `${ONSETS[random.int(ONSETS.length)]}${VOWELS[random.int(VOWELS.length)]}`;
  }
  return `${word}${CODAS[random.int(CODAS.length)]}`;
}

/** Distinct pseudo-words, most frequent first. */
function vocabularyOf(size: number, random: SeededRandom): string[] {
  const words = new Set<string>();
  while (words.size < size) words.add(pseudoWord(random));
  return [...words];
}

/** Cumulative Zipf(1) weights of ranks 1..size, normalized to end at 1. */
function zipfCdf(size: number): Float64Array {
  const cdf = new Float64Array(size);
  let sum = 0;
  for (let rank = 1; rank <= size; rank += 1) {
    sum += 1 / rank;
    cdf[rank - 1] = sum;
  }
  for (let i = 0; i < size; i += 1) cdf[i] = (cdf[i] ?? 0) / sum;
  return cdf;
}

function sampleRank(cdf: Float64Array, u: number): number {
  let low = 0;
  let high = cdf.length - 1;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((cdf[mid] ?? 1) < u) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Generates the documents (ids `syn-0`, `syn-1`, ...); same settings, same documents. */
export function syntheticDocuments(
  settings: SyntheticSettings = DEFAULT_SYNTHETIC,
): BenchDocument[] {
  const random = new SeededRandom(settings.seed);
  const words = vocabularyOf(settings.vocabulary, random);
  const cdf = zipfCdf(words.length);
  const docs: BenchDocument[] = [];
  for (let i = 0; i < settings.docs; i += 1) {
    const length = settings.minWords + random.int(settings.maxWords - settings.minWords + 1);
    const tokens: string[] = [];
    for (let w = 0; w < length; w += 1) tokens.push(words[sampleRank(cdf, random.next())] ?? '');
    const title = tokens.slice(0, 6).join(' ');
    docs.push({
      doc_id: `syn-${i}`,
      content: `${title}\n${tokens.join(' ')}`,
      metadata: { title },
    });
  }
  return docs;
}
