/**
 * The MapReduce benchmark's English corpus, built reproducibly from text available offline:
 * the sentences of the Cranfield collection (`../shared/data/cranfield/docs.jsonl`: titles and
 * abstracts of 1,400 aeronautics papers) and of the licence texts in
 * `/usr/share/common-licenses` (Debian's GPL, Apache, Artistic, ... in mixed case). A seeded
 * PRNG (the core's `SeededRandom`) draws 1 to 4 sentences per line until the file holds exactly
 * `sizeBytes` bytes (the last line is cut to fit and ends with `\n`). The file is cached under
 * `bench/results/tmp/cache/`, named by seed, size and a hash of the sources, so a second run
 * reuses it and a change of the sources builds a new one.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { SeededRandom } from '../../src/core/random.js';
import { ROOT } from './child-service.js';
import { RESULTS_DIR } from './harness.js';

/** Where the corpus's text comes from (shown in the report). */
export const CORPUS_SOURCES = [
  '../shared/data/cranfield/docs.jsonl (title + text)',
  '/usr/share/common-licenses/*',
];

/** A built corpus. */
export interface Corpus {
  readonly path: string;
  readonly sizeBytes: number;
  readonly seed: number;
  readonly sentences: number;
  /** SHA-256 (first 12 hex digits) of the sentences the corpus draws from. */
  readonly sourcesHash: string;
  readonly cached: boolean;
}

/** The sentences of the offline sources, in a fixed order. */
export function corpusSentences(): string[] {
  const texts: string[] = [];
  const cranfield = join(ROOT, '..', 'shared', 'data', 'cranfield', 'docs.jsonl');
  if (existsSync(cranfield)) {
    for (const line of readFileSync(cranfield, 'utf8').split('\n')) {
      if (line === '') continue;
      const doc = JSON.parse(line) as { title?: string; text?: string };
      texts.push(`${doc.title ?? ''} ${doc.text ?? ''}`);
    }
  }
  const licenses = '/usr/share/common-licenses';
  if (existsSync(licenses)) {
    for (const name of readdirSync(licenses).sort()) {
      try {
        texts.push(readFileSync(join(licenses, name), 'utf8'));
      } catch {
        // A directory or an unreadable entry: skipped.
      }
    }
  }
  const sentences = texts
    .join('\n')
    .split(/(?<=[.!?;:])\s+|\n\s*\n/)
    .map((sentence) => sentence.replace(/\s+/g, ' ').trim())
    .filter((sentence) => /[A-Za-z]/.test(sentence) && sentence.length >= 8);
  if (sentences.length < 100) {
    throw new Error(`too little offline English text for the corpus: ${CORPUS_SOURCES.join(', ')}`);
  }
  return sentences;
}

/** Builds (or finds in the cache) the corpus of exactly `sizeBytes` bytes for `seed`. */
export function buildCorpus(sizeBytes: number, seed: number): Corpus {
  const sentences = corpusSentences();
  const sourcesHash = createHash('sha256').update(sentences.join('\n')).digest('hex').slice(0, 12);
  const dir = join(RESULTS_DIR, 'tmp', 'cache');
  const path = join(dir, `mapreduce-corpus-seed${seed}-${sizeBytes}B-${sourcesHash}.txt`);
  const corpus = { path, sizeBytes, seed, sentences: sentences.length, sourcesHash };
  if (existsSync(path)) return { ...corpus, cached: true };
  mkdirSync(dir, { recursive: true });
  const partial = `${path}.partial`;
  writeCorpus(partial, sentences, sizeBytes, seed);
  renameSync(partial, path);
  return { ...corpus, cached: false };
}

/** Lines of 1 to 4 sentences drawn by a seeded PRNG, cut to exactly `sizeBytes` bytes. */
function writeCorpus(path: string, sentences: readonly string[], sizeBytes: number, seed: number) {
  const random = new SeededRandom(seed);
  const encoded = sentences.map((sentence) => Buffer.from(sentence, 'utf8'));
  const space = Buffer.from(' ');
  const newline = Buffer.from('\n');
  const fd = openSync(path, 'w');
  try {
    let written = 0;
    let block: Buffer[] = [];
    let blockBytes = 0;
    const flush = (): void => {
      const data = Buffer.concat(block, blockBytes);
      writeSync(fd, data);
      written += data.length;
      block = [];
      blockBytes = 0;
    };
    const push = (piece: Buffer): void => {
      block.push(piece);
      blockBytes += piece.length;
    };
    while (written + blockBytes < sizeBytes) {
      const count = 1 + random.int(4);
      for (let i = 0; i < count; i += 1) {
        if (i > 0) push(space);
        push(encoded[random.int(encoded.length)]!);
      }
      push(newline);
      if (blockBytes >= 1 << 20) flush();
    }
    flush();
    // Cut the last line so that the file holds exactly `sizeBytes`, ending with a newline.
    ftruncateSync(fd, sizeBytes);
    writeSync(fd, newline, 0, 1, sizeBytes - 1);
  } finally {
    closeSync(fd);
  }
}
