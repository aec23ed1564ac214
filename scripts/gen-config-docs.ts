/**
 * Generates the configuration reference of docs/operations.md from the services' config
 * schemas (DESIGN.md rule 9: one schema per service drives its flags, its environment
 * variables, its help and this reference), so the doc cannot drift from the code.
 *
 *   node --import tsx scripts/gen-config-docs.ts           rewrite the section
 *   node --import tsx scripts/gen-config-docs.ts --check   exit 1 if the doc is stale
 *
 * The section sits between `<!-- config-reference:start -->` and `<!-- config-reference:end -->`.
 * The whole document is formatted with the project's Prettier settings before it is compared
 * or written, so the generated text is exactly what `prettier --check` accepts.
 * A new service adds one entry to `documentedSchemas`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { configReferenceMarkdown, type ConfigSchema } from '../src/core/config.js';
import { httpLimitOptions } from '../src/core/http-limits.js';
import { registeredServiceOptions } from '../src/core/service.js';
import { securityServiceOptions } from '../src/security/service-security.js';
import { datanodeConfigSchema, metaConfigSchema } from '../src/dfs/index.js';
import { masterConfigSchema, workerConfigSchema } from '../src/mapreduce/index.js';
import { registryConfigSchema } from '../src/registry/index.js';
import { searchNodeConfigSchema } from '../src/search/index.js';
import { upConfigSchema } from '../src/cli/up/command.js';
import { webConfigSchema } from '../src/web/index.js';

/** One group of options the reference lists: a service's, or a set that services share. */
export interface DocumentedSchema {
  /** Markdown heading text, e.g. the command that runs the service: `` `tessera registry` ``. */
  readonly heading: string;
  /** One sentence on what the service is. */
  readonly summary: string;
  readonly schema: ConfigSchema;
}

/** Every documented schema, in the order of the reference. Add later services here. */
export const documentedSchemas: readonly DocumentedSchema[] = [
  {
    heading: '`tessera registry`',
    summary: 'The registry service: registration, heartbeats and the list of active servers.',
    schema: registryConfigSchema,
  },
  {
    heading: 'Every service that registers in the registry',
    summary:
      'A service that runs a registration agent (the DFS, search and MapReduce services) takes the common options of the table above (`--host`, ' +
      '`--port` with its own default, `--data-dir`, `--advertise-host`, `--log-level`) ' +
      'and these.',
    schema: registeredServiceOptions(),
  },
  {
    heading: 'Security options of every service',
    summary:
      'Every service takes these (docs/security.md); they are left out of the tables of the ' +
      'services below. All are off by default.',
    schema: securityServiceOptions(),
  },
  {
    heading: 'HTTP timeouts of every service',
    summary:
      'Every service takes these (docs/fuzzing.md); they are left out of the tables of the ' +
      'services below. Unset, each keeps the default shown.',
    schema: httpLimitOptions(),
  },
  {
    heading: '`tessera meta`',
    summary: 'The DFS metadata master: namespace, chunks, replicas, leases and re-replication.',
    schema: metaConfigSchema,
  },
  {
    heading: '`tessera datanode`',
    summary:
      'A DFS datanode: chunk storage, verified reads, scrubbing and heartbeats to the master.',
    schema: datanodeConfigSchema,
  },
  {
    heading: '`tessera search-node`',
    summary:
      'A DistriSearch node: hypercube routing, Bully election, its inverted index and, on the ' +
      'leader, the data balancer.',
    schema: searchNodeConfigSchema,
  },
  {
    heading: '`tessera mapreduce master`',
    summary:
      'The MapReduce master: durable job state, scheduling, fault tolerance, HTTP and gRPC APIs.',
    schema: masterConfigSchema,
  },
  {
    heading: '`tessera mapreduce worker`',
    summary: 'A MapReduce worker: runs map and reduce tasks and serves map output to the shuffle.',
    schema: workerConfigSchema,
  },
  {
    heading: '`tessera web`',
    summary: 'The dashboard: one web page for the whole cluster.',
    schema: webConfigSchema,
  },
  {
    heading: '`tessera up`',
    summary: 'Starts the whole local cluster as supervised child processes.',
    schema: upConfigSchema,
  },
];

export const START_MARKER = '<!-- config-reference:start -->';
export const END_MARKER = '<!-- config-reference:end -->';

/** The document the reference lives in. */
export const OPERATIONS_DOC_PATH = fileURLToPath(new URL('../docs/operations.md', import.meta.url));

const REGENERATE = 'node --import tsx scripts/gen-config-docs.ts';

/** An option's identity: its flag and its environment variables (`up --auth` is not shared). */
function optionKey(spec: { readonly flag: string; readonly env?: readonly string[] }): string {
  return `${spec.flag} ${(spec.env ?? []).join(',')}`;
}

/** Options shown once, in their own section, instead of in every service's table. */
const SHARED_OPTIONS: ReadonlySet<string> = new Set(
  [...Object.values(securityServiceOptions()), ...Object.values(httpLimitOptions())].map(optionKey),
);

/** A schema without the shared options (unless it is one of the shared sections itself). */
function withoutSharedFlags(schema: ConfigSchema): ConfigSchema {
  const entries = Object.entries(schema);
  if (entries.every(([, spec]) => SHARED_OPTIONS.has(optionKey(spec)))) return schema;
  return Object.fromEntries(entries.filter(([, spec]) => !SHARED_OPTIONS.has(optionKey(spec))));
}

/** The Markdown between the markers: a heading and a table per documented schema. */
export function renderConfigReference(
  schemas: readonly DocumentedSchema[] = documentedSchemas,
): string {
  const header = [
    `<!-- Generated by scripts/gen-config-docs.ts from the config schemas; do not edit by hand. -->`,
    `<!-- Regenerate with: ${REGENERATE} -->`,
  ];
  const sections = schemas.map(({ heading, summary, schema }) =>
    [
      `### ${heading}`,
      '',
      summary,
      '',
      configReferenceMarkdown(withoutSharedFlags(schema))
        .split('\n')
        .map(escapeCodePipes)
        .join('\n'),
    ].join('\n'),
  );
  return [...header, '', sections.join('\n\n')].join('\n');
}

/**
 * Escapes `|` inside code spans of a table row (`<fatal|error|...>`), which GitHub Markdown
 * would otherwise read as cell separators.
 */
export function escapeCodePipes(line: string): string {
  let inCode = false;
  let out = '';
  for (let i = 0; i < line.length; i += 1) {
    const char = line[i] ?? '';
    if (char === '`') inCode = !inCode;
    out += char === '|' && inCode && line[i - 1] !== '\\' ? '\\|' : char;
  }
  return out;
}

/** Replaces what lies between the markers with `section`; throws if the markers are missing. */
export function spliceSection(document: string, section: string): string {
  const start = document.indexOf(START_MARKER);
  const end = document.indexOf(END_MARKER);
  if (start < 0 || end < 0 || end < start) {
    throw new Error(
      `the document has no ${START_MARKER} ... ${END_MARKER} section (in that order)`,
    );
  }
  const before = document.slice(0, start + START_MARKER.length);
  return `${before}\n\n${section}\n\n${document.slice(end)}`;
}

/** The document as it should be: the section regenerated, the whole formatted by Prettier. */
export async function expectedDocument(
  current: string,
  schemas: readonly DocumentedSchema[] = documentedSchemas,
  path: string = OPERATIONS_DOC_PATH,
): Promise<string> {
  const options = (await prettier.resolveConfig(path)) ?? {};
  const spliced = spliceSection(current, renderConfigReference(schemas));
  return prettier.format(spliced, { ...options, filepath: path });
}

/** Whether `current` (the text of the doc) already holds the reference the schemas give. */
export async function isUpToDate(
  current: string,
  schemas: readonly DocumentedSchema[] = documentedSchemas,
  path: string = OPERATIONS_DOC_PATH,
): Promise<boolean> {
  return (await expectedDocument(current, schemas, path)) === current;
}

/** Rewrites the doc's section; answers whether the file changed. */
export async function writeConfigDocs(path: string = OPERATIONS_DOC_PATH): Promise<boolean> {
  const current = readFileSync(path, 'utf8');
  const expected = await expectedDocument(current, documentedSchemas, path);
  if (expected === current) return false;
  writeFileSync(path, expected);
  return true;
}

async function main(argv: readonly string[]): Promise<number> {
  const path = OPERATIONS_DOC_PATH;
  if (argv.includes('--check')) {
    if (await isUpToDate(readFileSync(path, 'utf8'))) return 0;
    process.stderr.write(
      `${path}: the configuration reference is stale; regenerate it with: ${REGENERATE}\n`,
    );
    return 1;
  }
  const changed = await writeConfigDocs(path);
  process.stdout.write(`${path}: ${changed ? 'configuration reference updated' : 'up to date'}\n`);
  return 0;
}

const invokedPath = process.argv[1];
if (invokedPath !== undefined && resolve(invokedPath) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
