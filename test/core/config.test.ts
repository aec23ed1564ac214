// Rule checked (DESIGN.md rule 9; tbfs-registry.md, "Variables de entorno"): command-line flags
// win over environment variables, which win over defaults; the seed's variable names
// (HEARTBEAT_TIMEOUT, CLEANUP_INTERVAL, REGISTRY_URL, HEARTBEAT_INTERVAL, SERVER_ID) are honoured;
// times are seconds with fractions allowed; an invalid value is refused with a ConfigError that
// names the flag or variable it came from; the configuration reference lists every option.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigError,
  configReferenceMarkdown,
  option,
  parseBytes,
  parseDurationMs,
  resolveConfig,
  type ConfigSchema,
} from '../../src/core/config.js';
import { registeredServiceOptions } from '../../src/core/service.js';
import { registryConfigSchema } from '../../src/registry/index.js';

const agentSchema = registeredServiceOptions();

describe('resolveConfig precedence', () => {
  const schema = {
    timeoutMs: option.durationMs({
      flag: 'timeout',
      env: ['SEED_TIMEOUT', 'TESSERA_TIMEOUT'],
      defaultValue: 30_000,
      description: 'A timeout.',
    }),
  } satisfies ConfigSchema;

  const cases: {
    name: string;
    flag?: string;
    env: Record<string, string>;
    value: number;
    source: string;
  }[] = [
    { name: 'default when nothing is set', env: {}, value: 30_000, source: 'default' },
    {
      name: 'environment over default',
      env: { SEED_TIMEOUT: '5' },
      value: 5_000,
      source: 'env:SEED_TIMEOUT',
    },
    {
      name: 'first listed variable wins (seed name before TESSERA_*)',
      env: { SEED_TIMEOUT: '5', TESSERA_TIMEOUT: '7' },
      value: 5_000,
      source: 'env:SEED_TIMEOUT',
    },
    {
      name: 'a later variable is read when the first is absent',
      env: { TESSERA_TIMEOUT: '7' },
      value: 7_000,
      source: 'env:TESSERA_TIMEOUT',
    },
    {
      name: 'an empty variable counts as unset',
      env: { SEED_TIMEOUT: '', TESSERA_TIMEOUT: '7' },
      value: 7_000,
      source: 'env:TESSERA_TIMEOUT',
    },
    {
      name: 'flag over environment',
      flag: '2',
      env: { SEED_TIMEOUT: '5' },
      value: 2_000,
      source: 'flag',
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const flags = c.flag === undefined ? {} : { timeoutMs: c.flag };
      const resolved = resolveConfig(schema, flags, c.env);
      assert.equal(resolved.values.timeoutMs, c.value);
      assert.equal(resolved.sources.timeoutMs, c.source);
    });
  }
});

describe('seed environment variable names', () => {
  test('the registry reads HEARTBEAT_TIMEOUT and CLEANUP_INTERVAL in seconds', () => {
    const resolved = resolveConfig(
      registryConfigSchema,
      {},
      { HEARTBEAT_TIMEOUT: '12', CLEANUP_INTERVAL: '0.5' },
    );
    assert.equal(resolved.values.heartbeatTimeoutMs, 12_000);
    assert.equal(resolved.values.cleanupIntervalMs, 500);
    assert.equal(resolved.sources.heartbeatTimeoutMs, 'env:HEARTBEAT_TIMEOUT');
  });

  test('the registry defaults are the seed defaults (30 s timeout, 10 s cleanup, port 9000)', () => {
    const { values } = resolveConfig(registryConfigSchema, {}, {});
    assert.equal(values.heartbeatTimeoutMs, 30_000);
    assert.equal(values.cleanupIntervalMs, 10_000);
    assert.equal(values.port, 9000);
  });

  test('an agent reads REGISTRY_URL, HEARTBEAT_INTERVAL and SERVER_ID', () => {
    const resolved = resolveConfig(
      agentSchema,
      {},
      { REGISTRY_URL: 'http://10.0.0.1:9000/', HEARTBEAT_INTERVAL: '3', SERVER_ID: 'dn-1' },
    );
    assert.equal(resolved.values.registryUrl, 'http://10.0.0.1:9000', 'trailing slash dropped');
    assert.equal(resolved.values.heartbeatIntervalMs, 3_000);
    assert.equal(resolved.values.serverId, 'dn-1');
  });

  test('a flag beats the seed variable', () => {
    const resolved = resolveConfig(
      registryConfigSchema,
      { heartbeatTimeoutMs: '1' },
      { HEARTBEAT_TIMEOUT: '12' },
    );
    assert.equal(resolved.values.heartbeatTimeoutMs, 1_000);
    assert.equal(resolved.sources.heartbeatTimeoutMs, 'flag');
  });

  test('a boolean switch given as a flag (true) is read', () => {
    const resolved = resolveConfig(registryConfigSchema, { inMemory: true }, {});
    assert.equal(resolved.values.inMemory, true);
  });
});

describe('parseDurationMs', () => {
  const valid: [string, number][] = [
    ['30', 30_000],
    ['0.5', 500],
    ['.25', 250],
    ['0', 0],
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    [' 10 s ', 10_000],
  ];
  for (const [raw, ms] of valid) {
    test(`${JSON.stringify(raw)} is ${ms} ms`, () => assert.equal(parseDurationMs(raw), ms));
  }
  for (const raw of ['', 'abc', '-1', '5d', '1e3', '5 minutes', '1.2.3', 'ms']) {
    test(`${JSON.stringify(raw)} is refused`, () => {
      assert.throws(() => parseDurationMs(raw), ConfigError);
    });
  }
});

describe('parseBytes', () => {
  const valid: [string, number][] = [
    ['0', 0],
    ['1048576', 1_048_576],
    ['1K', 1024],
    ['1KiB', 1024],
    ['1kb', 1024],
    ['64MiB', 64 * 1024 * 1024],
    ['1.5M', 1.5 * 1024 * 1024],
    ['1GiB', 1024 ** 3],
    ['2T', 2 * 1024 ** 4],
    ['10B', 10],
  ];
  for (const [raw, bytes] of valid) {
    test(`${JSON.stringify(raw)} is ${bytes} bytes`, () => assert.equal(parseBytes(raw), bytes));
  }
  for (const raw of ['', 'big', '-5', '1PB', '1 2', 'MiB']) {
    test(`${JSON.stringify(raw)} is refused`, () => {
      assert.throws(() => parseBytes(raw), ConfigError);
    });
  }
});

describe('invalid values name their origin', () => {
  const schema = {
    ...registryConfigSchema,
    ...agentSchema,
    chunkSizeBytes: option.bytes({
      flag: 'chunk-size',
      env: ['TESSERA_CHUNK_SIZE'],
      defaultValue: 64 * 1024 * 1024,
      description: 'Chunk size.',
    }),
    replicas: option.int({ flag: 'replicas', defaultValue: 3, description: 'Replicas.' }),
    ratio: option.number({ flag: 'ratio', defaultValue: 0.5, description: 'A ratio.' }),
  } satisfies ConfigSchema;

  const cases: {
    name: string;
    flags?: Record<string, string>;
    env?: Record<string, string>;
    origin: string;
  }[] = [
    { name: 'duration from env', env: { HEARTBEAT_TIMEOUT: 'soon' }, origin: 'HEARTBEAT_TIMEOUT' },
    {
      name: 'duration from flag',
      flags: { cleanupIntervalMs: '-3' },
      origin: '--cleanup-interval',
    },
    { name: 'port out of range', flags: { port: '70000' }, origin: '--port' },
    {
      name: 'port not a number',
      env: { TESSERA_REGISTRY_PORT: 'http' },
      origin: 'TESSERA_REGISTRY_PORT',
    },
    { name: 'url without http', env: { REGISTRY_URL: 'ftp://x' }, origin: 'REGISTRY_URL' },
    { name: 'url unparsable', flags: { registryUrl: 'not a url' }, origin: '--registry' },
    {
      name: 'boolean',
      env: { TESSERA_REGISTRY_IN_MEMORY: 'maybe' },
      origin: 'TESSERA_REGISTRY_IN_MEMORY',
    },
    { name: 'choice', flags: { logLevel: 'loud' }, origin: '--log-level' },
    { name: 'bytes', env: { TESSERA_CHUNK_SIZE: 'huge' }, origin: 'TESSERA_CHUNK_SIZE' },
    { name: 'negative integer', flags: { replicas: '-1' }, origin: '--replicas' },
    { name: 'fractional integer', flags: { replicas: '1.5' }, origin: '--replicas' },
    { name: 'number', flags: { ratio: 'half' }, origin: '--ratio' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.throws(
        () => resolveConfig(schema, c.flags ?? {}, c.env ?? {}),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
          assert.equal(error.name, 'ConfigError');
          assert.ok(error.message.includes(c.origin), `${error.message} should name ${c.origin}`);
          const raw = Object.values({ ...c.flags, ...c.env })[0] ?? '';
          assert.ok(error.message.includes(JSON.stringify(raw)), 'the message quotes the value');
          return true;
        },
      );
    });
  }
});

describe('configReferenceMarkdown', () => {
  const schema = { ...registryConfigSchema, ...agentSchema } satisfies ConfigSchema;
  const markdown = configReferenceMarkdown(schema);
  const rows = markdown.split('\n');

  test('has a header and one row per option', () => {
    assert.equal(rows[0], '| flag | environment | default | meaning |');
    assert.equal(rows[1], '| --- | --- | --- | --- |');
    assert.equal(rows.length, 2 + Object.keys(schema).length);
  });

  for (const spec of Object.values(schema)) {
    test(`lists --${spec.flag} with its variables and description`, () => {
      const row = rows.find((line) => line.startsWith(`| \`--${spec.flag}`));
      assert.ok(row, `no row for --${spec.flag}`);
      for (const name of spec.env) assert.ok(row.includes(`\`${name}\``), `${name} missing`);
      assert.ok(row.includes(spec.description));
    });
  }

  test('durations are shown in seconds, absent defaults as (none)', () => {
    const timeout = rows.find((line) => line.startsWith('| `--heartbeat-timeout'));
    assert.ok(timeout?.includes('| 30s |'), timeout);
    const serverId = rows.find((line) => line.startsWith('| `--server-id'));
    assert.ok(serverId?.includes('| (none) |'), serverId);
    const port = rows.find((line) => line.startsWith('| `--port'));
    assert.ok(port?.includes('| `9000` |'), port);
  });
});
