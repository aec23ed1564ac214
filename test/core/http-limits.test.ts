// Rule checked (issue 7, "Bad input"; docs/fuzzing.md): every service's HTTP server times out
// slow clients. The operator's --http-* timeout wins over the service's own default, which
// wins over the global default; the headers timeout never exceeds the request timeout (Node
// refuses that); Node checks the timeouts often enough that they fire near their length.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveConfig } from '../../src/core/config.js';
import {
  applyHttpLimits,
  DEFAULT_HTTP_LIMITS,
  httpLimitOptions,
  processHttpLimits,
  resolveHttpLimits,
} from '../../src/core/http-limits.js';

describe('HTTP limits', () => {
  test('defaults apply when nobody sets a value', () => {
    assert.deepEqual(resolveHttpLimits({}, {}), {
      ...DEFAULT_HTTP_LIMITS,
      connectionsCheckingIntervalMs: 7_500,
    });
  });

  test("the operator's value wins over the service's", () => {
    const limits = resolveHttpLimits(
      { requestTimeoutMs: 2_000 },
      { requestTimeoutMs: 15 * 60_000, idleTimeoutMs: 1_000 },
    );
    assert.equal(limits.requestTimeoutMs, 2_000);
    assert.equal(limits.idleTimeoutMs, 1_000);
    // The headers timeout is cut to the request timeout, and checks run every quarter of it.
    assert.equal(limits.headersTimeoutMs, 2_000);
    assert.equal(limits.connectionsCheckingIntervalMs, 500);
  });

  test('a request timeout of 0 (none) leaves the headers timeout alone', () => {
    const limits = resolveHttpLimits({ requestTimeoutMs: 0 }, {});
    assert.equal(limits.headersTimeoutMs, DEFAULT_HTTP_LIMITS.headersTimeoutMs);
    assert.equal(limits.connectionsCheckingIntervalMs, 7_500);
  });

  test('the checking interval stays between 100 ms and 30 s', () => {
    assert.equal(
      resolveHttpLimits({ headersTimeoutMs: 10 }, {}).connectionsCheckingIntervalMs,
      100,
    );
    assert.equal(
      resolveHttpLimits({ requestTimeoutMs: 3_600_000, headersTimeoutMs: 3_600_000 }, {})
        .connectionsCheckingIntervalMs,
      30_000,
    );
  });

  test('flags and environment variables parse to milliseconds; unset stays unset', () => {
    const schema = httpLimitOptions();
    const resolved = resolveConfig(
      schema,
      { httpRequestTimeoutMs: '1.5' },
      { TESSERA_HTTP_HEADERS_TIMEOUT: '500ms' },
    );
    assert.equal(resolved.values.httpRequestTimeoutMs, 1_500);
    assert.equal(resolved.values.httpHeadersTimeoutMs, 500);
    assert.equal(resolved.values.httpIdleTimeoutMs, undefined);
    assert.throws(() => resolveConfig(schema, { httpIdleTimeoutMs: 'soon' }, {}), /http-idle/);
  });

  test('applied limits are what new servers of the process read', () => {
    applyHttpLimits({ httpRequestTimeoutMs: 1_000 });
    assert.deepEqual(processHttpLimits(), {
      headersTimeoutMs: undefined,
      requestTimeoutMs: 1_000,
      idleTimeoutMs: undefined,
    });
    applyHttpLimits({});
  });
});
