// Rule checked (STYLE.md, "Errors"; fastify's test/internals/errors.test.js): every error a
// Tessera service answers has one stable code and one HTTP status in `errorCatalog`, and
// docs/errors.md lists exactly those codes with the same status and title; a code missing on
// either side, or a status that differs, fails this test. Errors become problem+json (RFC 9457).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  BadRequestError,
  ConflictError,
  errorCatalog,
  NotFoundError,
  problemFor,
  TesseraError,
  UnavailableError,
  type ErrorCode,
} from '../../src/core/errors.js';

interface DocRow {
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly when: string;
}

/** Reads the rows of the table under `## Codes` in docs/errors.md. */
function documentedCodes(): DocRow[] {
  const markdown = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const section = markdown.split(/^## Codes$/m)[1];
  assert.ok(section !== undefined, 'docs/errors.md has no "## Codes" section');
  const rows: DocRow[] = [];
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    // `| code | status | title | when |` splits into 6 cells, the outer two empty.
    const match = /^`([A-Z0-9_]+)`$/.exec(cells[1] ?? '');
    if (!match?.[1]) continue;
    assert.equal(cells.length, 6, `malformed row: ${line}`);
    rows.push({
      code: match[1],
      status: Number(cells[2]),
      title: cells[3] ?? '',
      when: cells[4] ?? '',
    });
  }
  return rows;
}

describe('docs/errors.md and errorCatalog agree', () => {
  const rows = documentedCodes();
  const documented = new Map(rows.map((row) => [row.code, row]));
  const catalog = Object.values(errorCatalog);

  test('the table was found and lists each code once', () => {
    assert.ok(rows.length > 0);
    assert.equal(documented.size, rows.length, 'a code is listed twice');
  });

  for (const spec of catalog) {
    test(`${spec.code} is documented with status ${spec.status} and its title`, () => {
      const row = documented.get(spec.code);
      assert.ok(row, `${spec.code} is missing from docs/errors.md`);
      assert.equal(row.status, spec.status, `status of ${spec.code}`);
      assert.equal(row.title, spec.title, `title of ${spec.code}`);
      assert.ok(row.when.length > 0, `${spec.code} does not say when it happens`);
    });
  }

  test('every documented code exists in the catalog', () => {
    for (const row of rows) {
      const spec = (errorCatalog as Record<string, { status: number }>)[row.code];
      assert.ok(spec, `docs/errors.md lists ${row.code}, which errorCatalog does not have`);
      assert.equal(spec.status, row.status, `status of ${row.code}`);
    }
  });
});

describe('errorCatalog', () => {
  for (const [key, spec] of Object.entries(errorCatalog)) {
    test(`${key}: key equals code, status is an HTTP error status`, () => {
      assert.equal(spec.code, key);
      assert.ok(Number.isInteger(spec.status) && spec.status >= 400 && spec.status <= 599);
      assert.ok(spec.title.length > 0);
    });
  }
});

describe('problem+json bodies', () => {
  test('problemFor fills type, title, status, detail and code', () => {
    const problem = problemFor('PAYLOAD_TOO_LARGE', 'body of 2 MiB', { limit_bytes: 1024 });
    assert.deepEqual(problem, {
      type: 'https://tessera.dev/errors/payload-too-large',
      title: 'Payload too large',
      status: 413,
      detail: 'body of 2 MiB',
      code: 'PAYLOAD_TOO_LARGE',
      limit_bytes: 1024,
    });
  });

  test('extensions cannot overwrite the standard fields', () => {
    const problem = problemFor('NOT_FOUND', 'gone', { status: 200, code: 'OK', type: 'x' });
    assert.equal(problem.status, 404);
    assert.equal(problem.code, 'NOT_FOUND');
    assert.equal(problem.type, 'https://tessera.dev/errors/not-found');
  });

  const subclasses: [TesseraError, ErrorCode, string][] = [
    [new BadRequestError('bad'), 'BAD_REQUEST', 'BadRequestError'],
    [new NotFoundError('gone', { server_id: 'a' }), 'NOT_FOUND', 'NotFoundError'],
    [new ConflictError('taken'), 'CONFLICT', 'ConflictError'],
    [new UnavailableError('down'), 'UNAVAILABLE', 'UnavailableError'],
  ];
  for (const [error, code, name] of subclasses) {
    test(`${name} carries ${code} and its catalog status`, () => {
      assert.ok(error instanceof TesseraError);
      assert.equal(error.name, name);
      assert.equal(error.code, code);
      assert.equal(error.status, errorCatalog[code].status);
      assert.equal(error.toProblem().detail, error.message);
      assert.equal(error.toProblem().status, error.status);
    });
  }

  test('extensions and cause are kept', () => {
    const cause = new Error('socket hang up');
    const notFound = new NotFoundError('unknown', { server_id: 'dn-1' });
    assert.equal(notFound.toProblem()['server_id'], 'dn-1');
    const unavailable = new UnavailableError('registry down', cause);
    assert.equal(unavailable.cause, cause);
    const direct = new TesseraError('LEASE_HELD', 'held by c2', {
      cause,
      extensions: { holder: 'c2' },
    });
    assert.equal(direct.status, 409);
    assert.equal(direct.cause, cause);
    assert.equal(direct.toProblem()['holder'], 'c2');
  });
});
