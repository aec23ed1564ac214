// Rule (issue 4, "Commands"): `tessera search index PATH...` takes files, directories
// (recursively) and JSON lines of {doc_id, content, metadata}; a bad line is reported with its
// file and line number; a file's document id is its path. `tessera search query` shows the
// snippet's highlights in plain text or bold on a terminal.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  collectInputs,
  fileDocId,
  parseJsonLine,
  renderSnippet,
} from '../../../src/cli/search-commands.js';
import { tempDir } from '../../helpers/processes.js';

describe('search index inputs', () => {
  test('directories are walked in order, hidden entries skipped, .jsonl files read as JSON lines', async () => {
    const dir = tempDir('search-cli');
    try {
      mkdirSync(join(dir.path, 'a', '.git'), { recursive: true });
      writeFileSync(join(dir.path, 'a', 'z.txt'), 'z');
      writeFileSync(join(dir.path, 'a', 'b.md'), 'b');
      writeFileSync(join(dir.path, 'a', '.hidden'), 'h');
      writeFileSync(join(dir.path, 'a', '.git', 'config'), 'c');
      writeFileSync(join(dir.path, 'docs.ndjson'), '{}');
      writeFileSync(join(dir.path, 'docs.txt'), '{}');
      const inputs = await collectInputs([
        join(dir.path, 'a'),
        join(dir.path, 'docs.ndjson'),
        join(dir.path, 'docs.txt'),
      ]);
      assert.deepEqual(
        inputs.map((input) => [input.kind, input.path.slice(dir.path.length + 1)]),
        [
          ['file', 'a/b.md'],
          ['file', 'a/z.txt'],
          ['jsonl', 'docs.ndjson'],
          ['file', 'docs.txt'],
        ],
      );
      const forced = await collectInputs([join(dir.path, 'docs.txt')], true);
      assert.equal(forced[0]?.kind, 'jsonl');
      await assert.rejects(collectInputs([join(dir.path, 'missing')]), /ENOENT/);
    } finally {
      dir.cleanup();
    }
  });

  test('a JSON line is a document; anything else is an error naming the line', () => {
    assert.deepEqual(
      parseJsonLine('{"doc_id":"a","content":"x","metadata":{"lang":"es"}}', 'f:1'),
      {
        doc_id: 'a',
        content: 'x',
        metadata: { lang: 'es' },
      },
    );
    assert.deepEqual(parseJsonLine('{"doc_id":"a","content":""}', 'f:1').metadata, {});
    assert.throws(() => parseJsonLine('{"doc_id":', 'f:2'), /^Error: f:2: not JSON/);
    assert.throws(() => parseJsonLine('[1]', 'f:3'), /f:3: expected an object/);
    assert.throws(() => parseJsonLine('{"doc_id":"","content":"x"}', 'f:4'), /f:4: doc_id/);
    assert.throws(() => parseJsonLine('{"doc_id":"a","content":5}', 'f:5'), /f:5: content/);
    assert.throws(
      () => parseJsonLine('{"doc_id":"a","content":"x","metadata":[]}', 'f:6'),
      /f:6: metadata/,
    );
  });

  test('a file’s id is its path relative to the working directory, with /', () => {
    assert.equal(fileDocId('notes/a.txt', '/home/me'), 'notes/a.txt');
    assert.equal(fileDocId('/home/me/notes/a.txt', '/home/me'), 'notes/a.txt');
    assert.equal(fileDocId('/srv/data/a.txt', '/home/me'), '/srv/data/a.txt');
  });

  test('snippets: <mark> becomes **word** in plain text and bold on a terminal; entities are decoded', () => {
    const snippet = 'the <mark>heat</mark> &amp; &lt;wing&gt; &quot;x&quot; &#39;y&#39;';
    assert.equal(renderSnippet(snippet, false), 'the **heat** & <wing> "x" \'y\'');
    assert.equal(renderSnippet(snippet, true), 'the \u001b[1mheat\u001b[22m & <wing> "x" \'y\'');
  });
});
