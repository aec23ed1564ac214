// Rule (docs/search.md, "Partial answers after nodes leave"): the departures record survives a
// restart; saves happen only on change, one at a time; a missing or damaged file is an empty
// record, never a failed start.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { silentLogger } from '../../../src/core/logger.js';
import { DeparturesFile, loadDepartures } from '../../../src/search/node/departures-file.js';
import { tempDir } from '../../helpers/processes.js';

describe('the departures record on disk', () => {
  const dir = tempDir('departures');
  after(() => dir.cleanup());
  const logger = silentLogger();

  test('saves and loads; the last of several saves wins', async () => {
    assert.deepEqual(await loadDepartures(dir.path, logger), []);
    const file = new DeparturesFile(dir.path, logger, []);
    void file.save([1]);
    void file.save([1, 2]);
    await file.save([2, 3]);
    assert.deepEqual(await loadDepartures(dir.path, logger), [2, 3]);
    assert.deepEqual(JSON.parse(readFileSync(join(dir.path, 'departures.json'), 'utf8')), {
      uncovered: [2, 3],
    });
  });

  test('a damaged file or odd values load as nothing', async () => {
    writeFileSync(join(dir.path, 'departures.json'), '{"uncovered": [1, -2, "x", 3.5, 4]');
    assert.deepEqual(await loadDepartures(dir.path, logger), []);
    writeFileSync(join(dir.path, 'departures.json'), '{"uncovered": [1, -2, "x", 3.5, 4]}');
    assert.deepEqual(await loadDepartures(dir.path, logger), [1, 4]);
  });
});
