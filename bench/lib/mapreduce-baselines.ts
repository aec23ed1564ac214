/**
 * The word-count baselines of the MapReduce benchmark, on the local corpus file:
 *
 * - Node, single-threaded: the file streamed in 1 MiB pieces, decoded as UTF-8, words taken by
 *   the builtin's own rule (`/[A-Za-z]+/g`, lower-cased) and counted in one `Map` — what one
 *   would write in Node, tokenizing exactly as `src/mapreduce/builtin/wordcount.ts` does.
 * - `LC_ALL=C tr -cs A-Za-z '\n' | tr A-Z a-z | sort | uniq -c`: bytes outside `A-Za-z` are
 *   separators, which is the same rule (a UTF-8 multi-byte character has no byte in `A-Za-z`),
 *   so its counts must equal the others' exactly (its one empty line, when the file starts
 *   with a separator, is dropped).
 */
import { spawn } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** Seconds taken and the counts found. */
export interface WordCountRun {
  readonly seconds: number;
  readonly counts: Map<string, number>;
}

const WORD = /[A-Za-z]+/g;

/** The single-threaded Node word count of a local file. */
export async function nodeWordCount(path: string): Promise<WordCountRun> {
  const started = performance.now();
  const counts = new Map<string, number>();
  const decoder = new StringDecoder('utf8');
  let carry = '';
  const countText = (text: string): void => {
    for (const match of text.matchAll(WORD)) {
      const word = match[0].toLowerCase();
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  };
  for await (const piece of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const text = carry + decoder.write(piece as Buffer);
    // A word may continue in the next piece: keep the trailing letters for it.
    let cut = text.length;
    while (cut > 0 && isLetter(text.charCodeAt(cut - 1))) cut -= 1;
    countText(text.slice(0, cut));
    carry = text.slice(cut);
  }
  countText(carry + decoder.end());
  return { seconds: (performance.now() - started) / 1000, counts };
}

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** `LC_ALL=C tr -cs A-Za-z '\n' < FILE | tr A-Z a-z | sort | uniq -c > OUT`, timed. */
export async function shellWordCount(path: string, outPath: string): Promise<WordCountRun> {
  const script = `tr -cs A-Za-z '\\n' < "$1" | tr A-Z a-z | sort | uniq -c > "$2"`;
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script, 'sh', path, outPath], {
      env: { ...process.env, LC_ALL: 'C' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`tr | sort | uniq exited ${code}: ${stderr}`)),
    );
  });
  const seconds = (performance.now() - started) / 1000;
  const counts = new Map<string, number>();
  for (const line of readFileSync(outPath, 'latin1').split('\n')) {
    const match = /^\s*(\d+) (.*)$/.exec(line);
    if (match?.[2]) counts.set(match[2], Number(match[1]));
  }
  return { seconds, counts };
}

/** The first difference between two word counts, or `undefined` if they are equal. */
export function countsDifference(
  expected: ReadonlyMap<string, number>,
  actual: ReadonlyMap<string, number>,
): string | undefined {
  if (expected.size !== actual.size) return `${actual.size} words, expected ${expected.size}`;
  for (const [word, count] of expected) {
    const found = actual.get(word);
    if (found !== count) return `"${word}": ${found ?? 'missing'}, expected ${count}`;
  }
  return undefined;
}

/** Total of the counts (words in the text). */
export function totalWords(counts: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const count of counts.values()) total += count;
  return total;
}
