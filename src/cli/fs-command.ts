import { open as openLocal, readFile, rename, rm, stat as statLocal } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ConfigError, parseBytes } from '../core/config.js';
import { HttpStatusError, PeerUnavailableError } from '../core/errors-http-client.js';
import { HttpClient } from '../core/http-client.js';
import { DfsClient, type FileMetadata, type FileSummary } from '../dfs/index.js';
import { DiscoveryClient } from '../registry/index.js';
import { printTable, registryUrlOption } from './output.js';
import { formatBytes, startProgress, wantsProgressBar, type TransferProgress } from './progress.js';

/** Options every `tessera fs` command takes. */
interface FsOptions {
  readonly registry: string;
  readonly meta?: string;
  readonly json?: boolean;
}

/** What a failure is about, so its message can name the paths and the next step. */
export interface FailureContext {
  readonly command: 'put' | 'get' | 'ls' | 'stat' | 'rm' | 'mv' | 'index' | 'acl';
  readonly registryUrl: string;
  /** The master's URL, once known. */
  readonly metaUrl?: string;
  /** The DFS path the command works on (for `mv`, the source). */
  readonly path?: string;
  /** The destination of `mv`. */
  readonly to?: string;
}

/** A failure whose message is already what the user should read. */
export class FsCliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'FsCliError';
  }
}

/**
 * The exit code of `tessera fs put --index` (and `tessera fs index`) when the file is binary:
 * it is stored (put), but not indexed, as the user asked.
 */
export const NOT_INDEXED_EXIT_CODE = 2;

/** The registry role of search nodes (as src/search registers them). */
const SEARCH_NODE_ROLE = 'search-node';
/** Bytes read to tell a binary file (a NUL byte among them) from text, as `search index` does. */
const BINARY_SNIFF_BYTES = 8192;
/** Largest file indexed: 4 MiB of UTF-8 never exceeds the 4 Mi characters a document may hold. */
export const MAX_INDEXED_BYTES = 4 * 1024 * 1024;

/**
 * `tessera fs`: the DFS from the command line (put, get, ls, stat, rm, mv), each with
 * `--registry URL`, `--meta URL` and `--json`. Results go to stdout, progress and errors to
 * stderr; an expected failure is one line on stderr and exit code 1.
 */
export function addFsCommand(program: Command): void {
  const fs = program
    .command('fs')
    .description('Use the distributed file system: put, get, ls, stat, rm, mv, index.');
  addPutCommand(fs);
  addGetCommand(fs);
  addLsCommand(fs);
  addStatCommand(fs);
  addRmCommand(fs);
  addMvCommand(fs);
  addAclCommand(fs);
  addIndexCommand(fs);
}

/** Adds `--registry`, `--meta` and `--json`. */
function withClientOptions(command: Command): Command {
  return command
    .addOption(registryUrlOption())
    .addOption(
      new Option('--meta <url>', 'metadata master URL (default: found in the registry)')
        .env('TESSERA_META_URL')
        .argParser(parseUrlArg),
    )
    .option('--json', 'print JSON');
}

function addPutCommand(fs: Command): void {
  withClientOptions(
    fs
      .command('put <local> <remote>')
      .description('Upload a local file (REMOTE ending in / keeps the local name).')
      .option('--replication <n>', 'copies of each chunk (default: the master’s, 3)', parseCount)
      .option(
        '--chunk-size <size>',
        'chunk size, e.g. 8MiB (default: the master’s, 64MiB)',
        parseSize,
      )
      .option('--overwrite', 'replace REMOTE if it exists')
      .option(
        '--index',
        'also index a text file for search, as a document whose id is its DFS path',
      )
      .option('--lang <lang>', 'language of the text for --index (en, es; default en)')
      .option(
        '--mode <octal>',
        'ACL permission bits with --auth, e.g. 640 (default 644)',
        parseMode,
      )
      .option('--group <name>', 'ACL group with --auth (default: your first group)'),
  ).action(
    async (
      local: string,
      remote: string,
      options: FsOptions & {
        replication?: number;
        chunkSize?: number;
        overwrite?: boolean;
        index?: boolean;
        lang?: string;
        mode?: number;
        group?: string;
      },
    ) => {
      const path = remotePathFor(remote, basename(local));
      await runFs(options, { command: 'put', path }, async (client) => {
        await checkLang(options.lang, options.index);
        const size = await localFileSize(local);
        const text = options.index ? await sniffLocal(local, size) : undefined;
        const progress = startProgress({
          verb: 'uploaded',
          totalBytes: size,
          interactive: wantsProgressBar(options.json),
        });
        const metadata = await tracked(progress, () =>
          client.putFile(local, path, {
            ...(options.replication === undefined ? {} : { replication: options.replication }),
            ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
            ...(options.overwrite ? { overwrite: true } : {}),
            ...(options.mode === undefined ? {} : { mode: options.mode }),
            ...(options.group === undefined ? {} : { group: options.group }),
            onProgress: (bytes) => progress.add(bytes),
          }),
        );
        const indexed =
          text === undefined
            ? undefined
            : await indexAfterPut(options, metadata.path, metadata.size, text, () =>
                readFile(local, 'utf8'),
              );
        if (options.json)
          return printJson(indexed === undefined ? metadata : { ...metadata, indexed });
        const chunks = `${metadata.chunks.length} chunk${metadata.chunks.length === 1 ? '' : 's'}`;
        process.stdout.write(
          `put ${local} -> ${metadata.path}: ${formatBytes(metadata.size)}, ${chunks} of ${formatBytes(metadata.chunk_size)}, replicas ${replicationOf(metadata)}${indexed === true ? '; indexed for search' : ''}\n`,
        );
      });
    },
  );
}

/** What a file is, for indexing: text within the size limit, binary, or too large. */
type TextCheck = 'text' | 'binary' | 'too-large';

function checkText(head: Buffer, size: number): TextCheck {
  if (head.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return 'binary';
  return size > MAX_INDEXED_BYTES ? 'too-large' : 'text';
}

/** Reads the first bytes of a local file and checks it (before anything is uploaded). */
async function sniffLocal(path: string, size: number): Promise<TextCheck> {
  const handle = await openLocal(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(size, BINARY_SNIFF_BYTES));
    await handle.read(head, 0, head.length, 0);
    return checkText(head, size);
  } finally {
    await handle.close();
  }
}

/**
 * The `--index` step of a put, once the file is stored: a binary file is not indexed (exit
 * code 2: the user asked for something that cannot be done), a file over 4 MiB is not indexed
 * (a warning: the upload is what mattered), and a search cluster that cannot be reached costs a
 * warning that says how to index the file later; the put itself has succeeded in every case.
 * Answers whether the file was indexed.
 */
async function indexAfterPut(
  options: FsOptions & { lang?: string },
  path: string,
  size: number,
  check: TextCheck,
  read: () => Promise<string>,
): Promise<boolean> {
  const stored = `tessera fs put: stored ${path}, but`;
  if (check === 'binary') {
    process.stderr.write(
      `${stored} did not index it: it is binary (a NUL byte in its first 8 KiB); only text files are indexed for search\n`,
    );
    process.exitCode = NOT_INDEXED_EXIT_CODE;
    return false;
  }
  if (check === 'too-large') {
    process.stderr.write(
      `${stored} did not index it: ${formatBytes(size)} is over the ${formatBytes(MAX_INDEXED_BYTES)} a search document may hold\n`,
    );
    return false;
  }
  try {
    await indexDocument(options, path, size, await read());
    return true;
  } catch (error) {
    process.stderr.write(
      `${stored} could not index it for search (${messageOf(error)}); start the search nodes (\`tessera up\`, or \`tessera search-node\`), then run \`tessera fs index ${path}\`\n`,
    );
    return false;
  }
}

/** Indexes `content` as the search document of DFS file `path` (doc_id = the path). */
async function indexDocument(
  options: FsOptions & { lang?: string },
  path: string,
  size: number,
  content: string,
): Promise<void> {
  const { SearchClient } = await import('../search/index.js');
  const search = new SearchClient({ registryUrl: options.registry, timeoutMs: 30_000 });
  try {
    const metadata = { path, size, source: 'dfs', ...(options.lang ? { lang: options.lang } : {}) };
    await search.index([{ doc_id: path, content, metadata }]);
  } finally {
    await search.close();
  }
}

/**
 * After `rm`: deletes the file's search document, if the cluster has search nodes and holds
 * one. A search cluster that does not answer costs a warning, never the rm. Answers whether a
 * document was deleted.
 */
async function unindexAfterRm(
  options: FsOptions,
  http: HttpClient,
  path: string,
): Promise<boolean> {
  const discovery = new DiscoveryClient({ registryUrl: options.registry, http });
  const searchNodes = await discovery.servers(SEARCH_NODE_ROLE).catch(() => []);
  if (searchNodes.length === 0) return false;
  const { SearchClient } = await import('../search/index.js');
  const search = new SearchClient({ registryUrl: options.registry, timeoutMs: 10_000 });
  try {
    if ((await search.get(path)) === undefined) return false;
    await search.delete(path);
    return true;
  } catch (error) {
    process.stderr.write(
      `tessera fs rm: deleted ${path}, but could not check or remove its search document (${messageOf(error)}); once the search nodes are up, run \`tessera search delete ${path}\`\n`,
    );
    return false;
  } finally {
    await search.close();
  }
}

function addIndexCommand(fs: Command): void {
  withClientOptions(
    fs
      .command('index <path>')
      .description('Index a text file already in the DFS for search (doc_id = its DFS path).')
      .option('--lang <lang>', 'language of the text (en, es; default en)'),
  ).action(async (remote: string, options: FsOptions & { lang?: string }) => {
    const path = absolute(remote);
    await runFs(options, { command: 'index', path }, async (client) => {
      await checkLang(options.lang, true);
      const metadata = await client.stat(path);
      const pieces: Buffer[] = [];
      for await (const piece of client.getStream(path)) {
        pieces.push(piece as Buffer);
        if (metadata.size > MAX_INDEXED_BYTES) break;
      }
      const bytes = Buffer.concat(pieces);
      const check = checkText(bytes, metadata.size);
      if (check !== 'text') {
        const why =
          check === 'binary'
            ? 'it is binary (a NUL byte in its first 8 KiB)'
            : `${formatBytes(metadata.size)} is over the ${formatBytes(MAX_INDEXED_BYTES)} a search document may hold`;
        throw new FsCliError(`${path} is not indexed: ${why}`, NOT_INDEXED_EXIT_CODE);
      }
      try {
        await indexDocument(options, path, metadata.size, bytes.toString('utf8'));
      } catch (error) {
        throw new FsCliError(
          `cannot index ${path} for search (${messageOf(error)}); start the search nodes (\`tessera up\`, or \`tessera search-node\`) and try again`,
        );
      }
      if (options.json) return printJson({ status: 'indexed', path, size: metadata.size });
      process.stdout.write(`indexed ${path} for search (${formatBytes(metadata.size)})\n`);
    });
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Checks `--lang` against the analyzer's languages (before anything is uploaded); loads the
 * search module only when a language is given.
 */
async function checkLang(lang: string | undefined, index: boolean | undefined): Promise<void> {
  if (lang === undefined) return;
  if (!index) throw new FsCliError('--lang names the language of --index; add --index');
  const { parseLanguage } = await import('../search/index.js');
  if (parseLanguage(lang) === undefined)
    throw new FsCliError(`unknown language ${JSON.stringify(lang)} for --lang; use en or es`);
}

function addGetCommand(fs: Command): void {
  withClientOptions(
    fs
      .command('get <remote> <local>')
      .description('Download a file, every chunk verified (LOCAL `-` writes to stdout).'),
  ).action(async (remote: string, local: string, options: FsOptions) => {
    const path = absolute(remote);
    await runFs(options, { command: 'get', path }, async (client) => {
      const metadata = await client.stat(path);
      const toStdout = local === '-';
      const progress = startProgress({
        verb: 'downloaded',
        totalBytes: metadata.size,
        interactive: !toStdout && wantsProgressBar(options.json),
      });
      if (toStdout) {
        await tracked(progress, () => streamToStdout(client, path, progress));
        return;
      }
      const target = await localTargetFor(local, basename(path));
      await tracked(progress, () => downloadAtomically(client, path, target, progress));
      if (options.json) return printJson(metadata);
      process.stdout.write(
        `get ${metadata.path} -> ${target}: ${formatBytes(metadata.size)}, ${metadata.chunks.length} chunks, SHA-256 verified\n`,
      );
    });
  });
}

/** Downloads to `TARGET.tessera-part`, then renames: an interrupted download never looks complete. */
async function downloadAtomically(
  client: DfsClient,
  path: string,
  target: string,
  progress: TransferProgress,
): Promise<void> {
  const partial = `${target}.tessera-part`;
  try {
    await client.getFile(path, partial, { onProgress: (bytes) => progress.add(bytes) });
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/** Writes a file's verified bytes to stdout, waiting for drain; a closed pipe just ends it. */
async function streamToStdout(
  client: DfsClient,
  path: string,
  progress: TransferProgress,
): Promise<void> {
  const stdout = process.stdout;
  let closed = false;
  const onError = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE') closed = true;
  };
  stdout.on('error', onError);
  try {
    for await (const piece of client.getStream(path)) {
      if (closed) break;
      const buffer = piece as Buffer;
      progress.add(buffer.length);
      if (!stdout.write(buffer)) await drainOrClose(stdout);
    }
  } finally {
    stdout.off('error', onError);
  }
}

/** Waits until `stream` drains or closes, leaving no listener behind. */
function drainOrClose(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}

function addLsCommand(fs: Command): void {
  withClientOptions(
    fs
      .command('ls [prefix]')
      .description(
        'List files under PREFIX (every file without one); a trailing / or --dir lists one directory.',
      )
      .option('--dir', 'list PREFIX as one directory: its subdirectories, then its files')
      .option('--limit <n>', 'list at most N files', parseCount, 1000),
  ).action(
    async (prefix: string | undefined, options: FsOptions & { dir?: boolean; limit: number }) => {
      const asDirectory = options.dir === true || (prefix?.endsWith('/') ?? false);
      const query = asDirectory
        ? { dir: absolute(prefix ?? '/') }
        : { prefix: absolute(prefix ?? '/') };
      await runFs(options, { command: 'ls', path: query.dir ?? query.prefix }, async (client) => {
        const listing = await listAll(client, query, options.limit);
        if (options.json) return printJson(listing);
        printListing(listing.directories, listing.files);
        if (listing.next_after !== null)
          process.stderr.write(`more than ${options.limit} files; pass --limit N to list more\n`);
      });
    },
  );
}

/** Pages through a listing (pages of up to 1,000) until `limit` files or the end. */
async function listAll(
  client: DfsClient,
  query: { prefix?: string; dir?: string },
  limit: number,
): Promise<{ files: FileSummary[]; directories: string[]; next_after: string | null }> {
  const files: FileSummary[] = [];
  let directories: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await client.list({
      ...query,
      limit: Math.min(1000, limit - files.length),
      ...(after ? { after } : {}),
    });
    files.push(...page.files);
    directories = page.directories;
    if (page.next_after === null || files.length >= limit || page.files.length === 0)
      return { files, directories, next_after: page.next_after };
    after = page.next_after;
  }
}

function printListing(directories: readonly string[], files: readonly FileSummary[]): void {
  const rows = [
    ...directories.map((directory) => ({ path: `${directory}/` })),
    ...files.map((file) => ({
      path: file.path,
      size: formatBytes(file.size),
      chunks: String(file.chunk_count),
      replication: `${file.min_live_replicas}/${file.replication_factor}${file.under_replicated ? ' !' : ''}`,
      modified: shortTime(file.modified_at),
    })),
  ];
  printTable(rows, ['path', 'size', 'chunks', 'replication', 'modified']);
  if (files.some((file) => file.under_replicated))
    process.stdout.write(
      '! under-replicated: fewer live copies than the factor; the master is restoring them (see tessera fs stat PATH)\n',
    );
}

function addStatCommand(fs: Command): void {
  withClientOptions(
    fs
      .command('stat <path>')
      .description('Show a file and each chunk with its replicas and their state.'),
  ).action(async (remote: string, options: FsOptions) => {
    const path = absolute(remote);
    await runFs(options, { command: 'stat', path }, async (client) => {
      const metadata = await client.stat(path);
      if (options.json) return printJson(metadata);
      printStat(metadata);
    });
  });
}

function printStat(metadata: FileMetadata): void {
  const fields: [string, string][] = [
    ['path', metadata.path],
    ['size', `${formatBytes(metadata.size)} (${metadata.size} bytes)`],
    ['chunks', `${metadata.chunks.length} of ${formatBytes(metadata.chunk_size)}`],
    ['replication', `${replicationOf(metadata)} live (factor ${metadata.replication_factor})`],
    ['created', shortTime(metadata.created_at)],
    ['modified', shortTime(metadata.modified_at)],
    ['file id', metadata.file_id],
  ];
  for (const [name, value] of fields) process.stdout.write(`${name.padEnd(12)} ${value}\n`);
  process.stdout.write('\n');
  const rows = metadata.chunks.flatMap((chunk): Record<string, string>[] => {
    const head: Record<string, string> = {
      chunk: String(chunk.seq_index),
      id: chunk.chunk_id,
      size: formatBytes(chunk.size),
      sha256: `${chunk.checksum.slice(0, 12)}…`,
    };
    if (chunk.replicas.length === 0) return [{ ...head, node: '(no replica)' }];
    // A chunk's columns are shown once, on its first replica's row.
    return chunk.replicas.map((replica, index) => ({
      ...(index === 0 ? head : {}),
      node: replica.node_id,
      url: replica.url,
      state: replica.state,
    }));
  });
  printTable(rows, ['chunk', 'id', 'size', 'sha256', 'node', 'url', 'state']);
}

function addRmCommand(fs: Command): void {
  withClientOptions(
    fs
      .command('rm <path>')
      .description('Delete a file (its chunks are then collected on the datanodes).'),
  ).action(async (remote: string, options: FsOptions) => {
    const path = absolute(remote);
    await runFs(options, { command: 'rm', path }, async (client, http) => {
      await client.delete(path);
      const unindexed = await unindexAfterRm(options, http, path);
      if (options.json) return printJson({ status: 'deleted', path, unindexed });
      process.stdout.write(`deleted ${path}${unindexed ? ' and its search document' : ''}\n`);
    });
  });
}

function addMvCommand(fs: Command): void {
  withClientOptions(
    fs
      .command('mv <from> <to>')
      .description('Rename a file (TO ending in / keeps the name).')
      .option('--overwrite', 'replace TO if it exists'),
  ).action(async (from: string, to: string, options: FsOptions & { overwrite?: boolean }) => {
    const path = absolute(from);
    const target = remotePathFor(to, basename(path));
    await runFs(options, { command: 'mv', path, to: target }, async (client) => {
      const metadata = await client.rename(path, target, options.overwrite === true);
      if (options.json) return printJson(metadata);
      process.stdout.write(`renamed ${path} -> ${metadata.path}\n`);
    });
  });
}

function addAclCommand(fs: Command): void {
  withClientOptions(
    fs
      .command('acl <path>')
      .description(
        'Show or change a file’s ACL with --auth: owner, group and permission bits (owner or admin).',
      )
      .option('--mode <octal>', 'new permission bits, e.g. 640', parseMode)
      .option('--group <name>', 'new group ("" for none)')
      .option('--owner <user>', 'new owner (admins only)'),
  ).action(
    async (
      remote: string,
      options: FsOptions & { mode?: number; group?: string; owner?: string },
    ) => {
      const path = absolute(remote);
      await runFs(options, { command: 'acl', path }, async (client) => {
        const change = {
          ...(options.mode === undefined ? {} : { mode: options.mode }),
          ...(options.group === undefined ? {} : { group: options.group || null }),
          ...(options.owner === undefined ? {} : { owner: options.owner }),
        };
        const acl =
          Object.keys(change).length > 0
            ? (await client.setAcl(path, change)).acl
            : (await client.stat(path)).acl;
        if (acl === undefined)
          throw new FsCliError(`${path} has no ACL: the master does not run with --auth`);
        if (options.json) return printJson({ path, acl });
        process.stdout.write(
          `${path}  ${acl.permissions}  owner ${acl.owner}  group ${acl.group ?? '-'}\n`,
        );
      });
    },
  );
}

/**
 * Runs one command against the DFS: finds the master, runs `body`, and turns any failure
 * into one line on stderr and exit code 1 (`TESSERA_DEBUG=1` adds the stack).
 */
async function runFs(
  options: FsOptions,
  context: Omit<FailureContext, 'registryUrl'>,
  body: (client: DfsClient, http: HttpClient) => Promise<void>,
): Promise<void> {
  // Short retries: a person is waiting, and a dead peer should be reported, not hidden.
  const http = new HttpClient({ timeoutMs: 30_000, maxRetries: 2, connectionsPerOrigin: 16 });
  let metaUrl: string | undefined;
  try {
    metaUrl = await resolveMetaUrl(options, http);
    await body(new DfsClient({ metaUrl, http }), http);
  } catch (error) {
    const full: FailureContext = {
      ...context,
      registryUrl: options.registry,
      ...(metaUrl ? { metaUrl } : {}),
    };
    process.stderr.write(`tessera fs ${context.command}: ${describeFailure(error, full)}\n`);
    if (process.env['TESSERA_DEBUG'] === '1' && error instanceof Error && error.stack)
      process.stderr.write(`${error.stack}\n`);
    process.exitCode = error instanceof FsCliError ? error.exitCode : 1;
  } finally {
    await http.close();
  }
}

/** The master's URL: `--meta`, or the registry's active `dfs-meta` server. */
async function resolveMetaUrl(options: FsOptions, http: HttpClient): Promise<string> {
  if (options.meta) return options.meta;
  const discovery = new DiscoveryClient({ registryUrl: options.registry, http });
  let servers;
  try {
    servers = await discovery.servers('dfs-meta');
  } catch (error) {
    if (error instanceof HttpStatusError)
      throw new FsCliError(`the registry at ${options.registry} ${refusal(error)}`);
    throw new FsCliError(
      `cannot reach the registry at ${options.registry}; start the cluster with \`npm start\` (or \`tessera up\`), or point to it with --registry URL`,
    );
  }
  const [first] = servers;
  if (!first)
    throw new FsCliError(
      `the registry at ${options.registry} lists no active DFS metadata master; start one with \`tessera meta\` (\`tessera up\` starts a whole cluster), or pass --meta URL`,
    );
  return first.url;
}

/** One line saying what went wrong and what to do next. */
export function describeFailure(error: unknown, context: FailureContext): string {
  if (error instanceof FsCliError) return error.message;
  const fromMaster = context.metaUrl !== undefined && isPeer(error, context.metaUrl);
  if (error instanceof HttpStatusError && fromMaster) return describeMasterAnswer(error, context);
  if (error instanceof PeerUnavailableError && fromMaster)
    return `cannot reach the DFS metadata master at ${context.metaUrl}; check it with \`tessera nodes --role dfs-meta\`, or pass --meta URL`;
  if (error instanceof PeerUnavailableError)
    return `cannot reach ${error.peer} (${error.message}); check the datanodes with \`tessera nodes --role datanode\``;
  const local = describeLocalError(error, context);
  if (local) return local;
  const message = error instanceof Error ? error.message : String(error);
  // A read that no replica could serve: say where the replicas are.
  if (context.command === 'get' && context.path)
    return `${message}; see its replicas with \`tessera fs stat ${context.path}\``;
  return message;
}

function describeMasterAnswer(error: HttpStatusError, context: FailureContext): string {
  const detail = error.problem?.detail ?? error.problem?.title ?? `HTTP ${error.status}`;
  const code = typeof error.problem?.['code'] === 'string' ? error.problem['code'] : '';
  const path = context.path ?? '';
  if (error.status === 404)
    return `no such file ${path} in the DFS; list files with \`tessera fs ls\``;
  if (code === 'LEASE_HELD')
    return `${path} is being written by another client (${detail}); try again when that upload ends or its lease expires`;
  if (error.status === 409 && (context.command === 'put' || context.command === 'mv'))
    return `${context.command === 'mv' ? context.to : path} already exists; pass --overwrite to replace it`;
  if (error.status === 401 || error.status === 403) return `the metadata master ${refusal(error)}`;
  if (error.status === 503)
    return `the metadata master cannot serve this now: ${detail}; check the datanodes with \`tessera nodes --role datanode\``;
  if (error.status >= 400 && error.status < 500)
    return `the metadata master refused the request: ${detail}`;
  return `the metadata master failed (HTTP ${error.status}): ${detail}; its log says more`;
}

/** A 401 or 403 answer, with what to do about it (docs/security.md). */
function refusal(error: HttpStatusError): string {
  const detail = error.problem?.detail ?? error.problem?.title ?? `HTTP ${error.status}`;
  return error.status === 401
    ? `needs a valid token (${detail}); pass --token JWT or set TESSERA_TOKEN (an admin creates one with \`tessera token create\`)`
    : `refused the request for this token's role (${detail}); ask an admin for a token with the needed role`;
}

/** Local file-system errors (errno codes), or undefined for other errors. */
function describeLocalError(error: unknown, context: FailureContext): string | undefined {
  if (!(error instanceof Error) || !('code' in error) || typeof error.code !== 'string')
    return undefined;
  const named = 'path' in error && typeof error.path === 'string' ? error.path : 'the local file';
  // `get` writes to NAME.tessera-part first; the user knows the file as NAME.
  const path = named.replace(/\.tessera-part$/, '');
  const writing = context.command === 'get';
  switch (error.code) {
    case 'ENOENT':
      return writing
        ? `cannot write ${path}: its directory does not exist`
        : `no such local file ${path}`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied: ${path}`;
    case 'EISDIR':
      return `${path} is a directory; give a file`;
    case 'ENOSPC':
      return `the local disk is full (writing ${path})`;
    default:
      return undefined;
  }
}

function isPeer(error: unknown, url: string): boolean {
  if (!(error instanceof HttpStatusError || error instanceof PeerUnavailableError)) return false;
  try {
    return new URL(error.peer).origin === new URL(url).origin;
  } catch {
    return false;
  }
}

/** Runs a transfer, stopping the progress bar whether it succeeds or fails. */
async function tracked<T>(progress: TransferProgress, transfer: () => Promise<T>): Promise<T> {
  try {
    const result = await transfer();
    progress.finish();
    return result;
  } catch (error) {
    progress.abort();
    throw error;
  }
}

/** The size of a local regular file; a clear error for a missing path or a directory. */
async function localFileSize(path: string): Promise<number> {
  const info = await statLocal(path);
  if (!info.isFile()) throw new FsCliError(`${path} is not a regular file; put uploads one file`);
  return info.size;
}

/** Where `get` writes: LOCAL, or LOCAL/NAME when LOCAL is an existing directory. */
async function localTargetFor(local: string, name: string): Promise<string> {
  const info = await statLocal(local).catch(() => undefined);
  return info?.isDirectory() ? join(local, name) : local;
}

/** A DFS path from an argument: absolute, and `dir/` completed with `name`. */
export function remotePathFor(argument: string, name: string): string {
  const path = absolute(argument);
  return path.endsWith('/') ? `${path}${name}` : path;
}

function absolute(path: string): string {
  return path.startsWith('/') ? path : `/${path}`;
}

/** `live/factor` over a file's chunks: the fewest active replicas any chunk has. */
export function replicationOf(metadata: FileMetadata): string {
  const live = metadata.chunks.map(
    (chunk) => chunk.replicas.filter((replica) => replica.state === 'active').length,
  );
  const fewest = live.length === 0 ? metadata.replication_factor : Math.min(...live);
  return `${fewest}/${metadata.replication_factor}`;
}

/** `2026-11-23T19:50:02.150Z` -> `2026-11-23 19:50:02` (UTC). */
function shortTime(iso: string): string {
  return iso
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '')
    .replace(/Z$/, '');
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function parseSize(raw: string): number {
  try {
    const bytes = parseBytes(raw);
    if (bytes < 1) throw new ConfigError('a chunk is at least 1 byte');
    return bytes;
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

/** Permission bits in octal, as chmod takes them (`640`, `0640`). */
function parseMode(raw: string): number {
  if (!/^0?[0-7]{3}$/.test(raw)) throw new InvalidArgumentError('expected octal bits such as 640');
  return Number.parseInt(raw, 8);
}

function parseCount(raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError('expected a whole number >= 1');
  return value;
}

function parseUrlArg(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.protocol === 'http:' || url.protocol === 'https:') return raw.replace(/\/+$/, '');
  } catch {
    // fall through to the error below
  }
  throw new InvalidArgumentError('expected an http(s) URL such as http://127.0.0.1:9100');
}
