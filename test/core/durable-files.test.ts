// Rule (core/durable-files.ts): a replaced file holds the new content whole and leaves no
// temporary file behind; an exclusive write refuses to overwrite.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { replaceDurably, writeDurably } from '../../src/core/durable-files.js';
import { tempDir } from '../helpers/processes.js';

describe('durable files', () => {
  const dir = tempDir('durable');
  after(() => dir.cleanup());

  test('replaceDurably swaps the whole content and removes its temporary file', async () => {
    const path = join(dir.path, 'record.json');
    writeFileSync(path, 'old');
    await replaceDurably(path, '{"new": true}');
    assert.equal(readFileSync(path, 'utf8'), '{"new": true}');
    assert.equal(existsSync(`${path}.tmp`), false);
  });

  test('an exclusive write refuses an existing file; a plain one overwrites it', async () => {
    const path = join(dir.path, 'once');
    await writeDurably(path, Buffer.from('first'), { exclusive: true });
    await assert.rejects(writeDurably(path, 'second', { exclusive: true }), { code: 'EEXIST' });
    await writeDurably(path, 'third');
    assert.equal(readFileSync(path, 'utf8'), 'third');
  });
});
