/**
 * The search commands: `tessera search-node` (the service) and `tessera search index PATH...` /
 * `tessera search query "..."` (a client of any search node, found through the registry).
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';
import cliProgress from 'cli-progress';
import { Option, type Command } from 'commander';
import { HttpStatusError } from '../core/errors-http-client.js';
import { createLogger } from '../core/logger.js';
import { logEffectiveConfig, stopOnSignals } from '../core/service.js';
import {
  SearchClient,
  searchNodeConfigSchema,
  startSearchNode,
  type SearchDocument,
  type SearchResponse,
} from '../search/index.js';
import { addSchemaOptions, resolveFromCommand } from './options.js';
import { registryUrlOption } from './output.js';

/** `tessera search-node`: runs one DistriSearch node. */
export function addSearchNodeCommand(program: Command): void {
  const command = program
    .command('search-node')
    .description(
      'Run a search node: documents, distributed search, hypercube routing, Bully leader, data balancer (port 9301).',
    );
  addSchemaOptions(command, searchNodeConfigSchema);
  command.action(async () => {
    const resolved = resolveFromCommand(command, searchNodeConfigSchema);
    const logger = createLogger({ name: 'search-node', level: resolved.values.logLevel });
    logEffectiveConfig(logger, resolved);
    const handle = await startSearchNode(resolved.values, { logger });
    stopOnSignals(handle, logger);
  });
}

/** One input of `search index`: a plain file (one document) or a JSON lines file. */
export type IndexInput =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'jsonl'; readonly path: string };

const JSONL_EXTENSIONS = new Set(['.jsonl', '.ndjson']);

/** Expands the PATH arguments: files as given, directories recursively (hidden entries skipped). */
export async function collectInputs(
  paths: readonly string[],
  forceJsonl = false,
): Promise<IndexInput[]> {
  const inputs: IndexInput[] = [];
  const visit = async (path: string, explicit: boolean): Promise<void> => {
    const info = await stat(path);
    if (info.isDirectory()) {
      const entries = (await readdir(path)).sort();
      for (const entry of entries)
        if (!entry.startsWith('.')) await visit(join(path, entry), false);
      return;
    }
    if (!info.isFile()) return;
    const jsonl = JSONL_EXTENSIONS.has(extname(path).toLowerCase()) || (forceJsonl && explicit);
    inputs.push({ kind: jsonl ? 'jsonl' : 'file', path });
  };
  for (const path of paths) await visit(path, true);
  return inputs;
}

/** A document from one line of a JSON lines file; throws with the file and line on bad input. */
export function parseJsonLine(line: string, where: string): SearchDocument {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new Error(`${where}: not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${where}: expected an object {doc_id, content, metadata}`);
  const record = value as Record<string, unknown>;
  const { doc_id: docId, content, metadata } = record;
  if (typeof docId !== 'string' || docId === '')
    throw new Error(`${where}: doc_id must be a non-empty string`);
  if (typeof content !== 'string') throw new Error(`${where}: content must be a string`);
  if (
    metadata !== undefined &&
    (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
  )
    throw new Error(`${where}: metadata must be an object`);
  return {
    doc_id: docId,
    content,
    metadata: (metadata as Record<string, unknown> | undefined) ?? {},
  };
}

/** The document id of a file: its path relative to the working directory, with `/`. */
export function fileDocId(path: string, cwd = process.cwd()): string {
  const absolute = resolve(cwd, path);
  const rel = relative(cwd, absolute);
  const id = rel === '' || rel.startsWith('..') || isAbsolute(rel) ? absolute : rel;
  return id.split(sep).join('/');
}

async function* jsonlDocuments(path: string): AsyncGenerator<SearchDocument> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let number = 0;
  for await (const line of lines) {
    number += 1;
    if (line.trim() !== '') yield parseJsonLine(line, `${path}:${number}`);
  }
}

async function countLines(path: string): Promise<number> {
  let count = 0;
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) if (line.trim() !== '') count += 1;
  return count;
}

/** Documents of the inputs, in order; binary files (a NUL byte early on) are skipped. */
async function* documentsOf(
  inputs: readonly IndexInput[],
  lang: string | undefined,
  onSkip: (path: string) => void,
): AsyncGenerator<SearchDocument> {
  for (const input of inputs) {
    if (input.kind === 'jsonl') {
      yield* jsonlDocuments(input.path);
      continue;
    }
    const bytes = await readFile(input.path);
    if (bytes.subarray(0, 8192).includes(0)) {
      onSkip(input.path);
      continue;
    }
    const info = await stat(input.path);
    yield {
      doc_id: fileDocId(input.path),
      content: bytes.toString('utf8'),
      metadata: {
        path: input.path,
        name: basename(input.path),
        size: info.size,
        modified: info.mtime.toISOString(),
        ...(lang === undefined ? {} : { lang }),
      },
    };
  }
}

interface IndexOptions {
  registry: string;
  node?: string;
  batchSize: string;
  lang?: string;
  jsonl?: boolean;
  json?: boolean;
}

interface QueryOptions {
  registry: string;
  node?: string;
  k: string;
  offset: string;
  lang?: string;
  scoring?: 'bm25' | 'tfidf';
  feedback: boolean;
  proximity: boolean;
  json?: boolean;
}

function positiveInt(raw: string, name: string, command: Command): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    command.error(`tessera: ${name} must be a positive integer`);
  return value;
}

async function runIndex(paths: string[], options: IndexOptions, command: Command): Promise<void> {
  const batchSize = positiveInt(options.batchSize, '--batch-size', command);
  const inputs = await collectInputs(paths, options.jsonl === true);
  let total = 0;
  for (const input of inputs) total += input.kind === 'jsonl' ? await countLines(input.path) : 1;
  const client = new SearchClient({
    registryUrl: options.registry,
    ...(options.node === undefined ? {} : { nodeUrl: options.node }),
  });
  const bar = new cliProgress.SingleBar(
    {
      format: 'indexing [{bar}] {percentage}% | {value}/{total} documents | {rate} docs/s',
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let done = 0;
  const skipped: string[] = [];
  const update = (): void =>
    bar.update(done, { rate: Math.round((done / Math.max(1, Date.now() - started)) * 1000) });
  bar.start(total, 0, { rate: 0 });
  try {
    let batch: SearchDocument[] = [];
    const send = async (): Promise<void> => {
      if (batch.length === 0) return;
      await client.index(batch);
      done += batch.length;
      batch = [];
      update();
    };
    for await (const doc of documentsOf(inputs, options.lang, (path) => {
      skipped.push(path);
      done += 1;
      update();
    })) {
      batch.push(doc);
      if (batch.length >= batchSize) await send();
    }
    await send();
  } finally {
    bar.stop();
    await client.close();
  }
  const seconds = (Date.now() - started) / 1000;
  const indexed = done - skipped.length;
  const summary = {
    indexed,
    skipped: skipped.length,
    seconds,
    docs_per_second: Math.round(indexed / Math.max(seconds, 1e-3)),
  };
  if (options.json === true) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else
    process.stdout.write(
      `indexed ${indexed} documents in ${seconds.toFixed(1)} s (${summary.docs_per_second} docs/s)` +
        `${skipped.length > 0 ? `; skipped ${skipped.length} binary files` : ''}\n`,
    );
}

/** Renders a snippet's `<mark>` highlights for a terminal (bold) or plain text (**word**). */
export function renderSnippet(snippet: string, tty: boolean): string {
  const [open, close] = tty ? ['\u001b[1m', '\u001b[22m'] : ['**', '**'];
  return snippet
    .replaceAll('<mark>', open)
    .replaceAll('</mark>', close)
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&amp;', '&');
}

function printResults(answer: SearchResponse): void {
  const tty = process.stdout.isTTY === true;
  answer.results.forEach((result, i) => {
    process.stdout.write(
      `${String(i + 1).padStart(3)}. ${result.score.toFixed(4)}  ${result.doc_id}  (node ${result.node_id})\n`,
    );
    if (result.snippet !== '') process.stdout.write(`     ${renderSnippet(result.snippet, tty)}\n`);
  });
  if (answer.results.length === 0) process.stdout.write('no results\n');
  process.stdout.write(
    `${answer.total} results in ${answer.took_ms.toFixed(1)} ms from nodes [${answer.nodes_queried.join(', ')}]` +
      `${answer.partial ? ' (partial: some documents may be missing)' : ''}\n`,
  );
}

async function runQuery(text: string, options: QueryOptions, command: Command): Promise<void> {
  const client = shortCallClient(options);
  try {
    const answer = await client.search(text, {
      k: positiveInt(options.k, '-k', command),
      offset: Number(options.offset),
      ...(options.lang === undefined ? {} : { lang: options.lang }),
      ...(options.scoring === undefined ? {} : { scoring: options.scoring }),
      ...(options.feedback ? {} : { feedback: false }),
      ...(options.proximity ? {} : { proximity: false }),
    });
    if (options.json === true) process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    else printResults(answer);
  } finally {
    await client.close();
  }
}

/** `tessera search index PATH...` and `tessera search query "..."`. */
export function addSearchCommand(program: Command): void {
  const search = program
    .command('search')
    .description('Index documents into, and query, the search cluster.');
  const nodeOption = (): Option =>
    new Option('--node <url>', 'a search node to use (default: any, found through the registry)');
  const index = search
    .command('index')
    .description(
      'Index files, directories (recursively) or JSON lines of {doc_id, content, metadata}.',
    )
    .argument('<paths...>', 'files, directories, or .jsonl/.ndjson files')
    .addOption(registryUrlOption())
    .addOption(nodeOption())
    .option('--batch-size <n>', 'documents per request', '500')
    .option('--lang <lang>', 'language of plain files (en, es); JSON lines carry metadata.lang')
    .option('--jsonl', 'read the given files as JSON lines whatever their extension')
    .option('--json', 'print the summary as JSON');
  index.action(async (paths: string[], options: IndexOptions) => runIndex(paths, options, index));
  const query = search
    .command('query')
    .description('Search the cluster; prints the top results with highlighted snippets.')
    .argument('<text>', 'the query')
    .addOption(registryUrlOption())
    .addOption(nodeOption())
    .option('-k, --k <n>', 'results wanted', '10')
    .option('--offset <n>', 'skip this many results', '0')
    .option('--lang <lang>', 'query language (en, es)')
    .addOption(new Option('--scoring <name>', 'ranking function').choices(['bm25', 'tfidf']))
    .option('--no-feedback', 'no RM3 query expansion')
    .option('--no-proximity', 'no term-proximity scoring')
    .option('--json', 'print the answer as JSON');
  query.action(async (text: string, options: QueryOptions) => runQuery(text, options, query));
  const remove = search
    .command('delete')
    .description('Delete documents from every search node holding them.')
    .argument(
      '<doc_ids...>',
      'ids of the documents (for a DFS file indexed with --index: its path)',
    )
    .addOption(registryUrlOption())
    .addOption(nodeOption());
  remove.action(async (docIds: string[], options: { registry: string; node?: string }) =>
    runDelete(docIds, options),
  );
  const forget = search
    .command('forget')
    .description(
      'Tell every search node to stop counting departed nodes: accept that documents only they held are lost, so answers stop saying partial.',
    )
    .argument('<node_ids...>', 'hypercube ids of the departed nodes')
    .addOption(registryUrlOption())
    .addOption(nodeOption());
  forget.action(async (ids: string[], options: { registry: string; node?: string }) =>
    runForget(
      ids.map((id) => nonNegativeInt(id, 'a node id', forget)),
      options,
    ),
  );
}

function nonNegativeInt(raw: string, name: string, command: Command): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value)) {
    command.error(`tessera: ${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Forgets departed nodes on every search node; a node that fails makes the exit code 1. */
async function runForget(
  nodeIds: readonly number[],
  options: { registry: string; node?: string },
): Promise<void> {
  const client = shortCallClient(options);
  try {
    const outcomes = await client.forgetDepartures(nodeIds);
    if (outcomes.length === 0) {
      process.stderr.write('tessera search forget: the registry lists no search node\n');
      process.exitCode = 1;
    }
    for (const outcome of outcomes) {
      if ('error' in outcome) {
        process.stderr.write(`tessera search forget: ${outcome.url}: ${outcome.error}\n`);
        process.exitCode = 1;
        continue;
      }
      const {
        forgotten,
        departed_uncovered: left,
        documents_may_be_missing: missing,
      } = outcome.reply;
      process.stdout.write(
        `${outcome.url}: forgot ${forgotten.length > 0 ? forgotten.join(', ') : 'nothing'}; ` +
          `still departed: ${left.length > 0 ? left.join(', ') : 'none'}` +
          `${missing ? ' (answers stay partial)' : ''}\n`,
      );
    }
  } finally {
    await client.close();
  }
}

/** A client for the short calls (query, delete, forget): 30 s per request. */
function shortCallClient(options: { registry: string; node?: string }): SearchClient {
  return new SearchClient({
    registryUrl: options.registry,
    timeoutMs: 30_000,
    ...(options.node === undefined ? {} : { nodeUrl: options.node }),
  });
}

/** Deletes each document; a missing one is reported, and makes the exit code 1. */
async function runDelete(
  docIds: readonly string[],
  options: { registry: string; node?: string },
): Promise<void> {
  const client = shortCallClient(options);
  try {
    for (const docId of docIds) {
      try {
        await client.delete(docId);
        process.stdout.write(`deleted ${docId}\n`);
      } catch (error) {
        const missing = error instanceof HttpStatusError && error.status === 404;
        process.stderr.write(
          `tessera search delete: ${missing ? `no document ${docId}` : (error as Error).message}\n`,
        );
        process.exitCode = 1;
      }
    }
  } finally {
    await client.close();
  }
}
