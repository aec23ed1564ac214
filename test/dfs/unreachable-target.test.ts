// A datanode that heartbeats the master but that clients cannot write to (a one-way network
// cut, docs/partitions.md) stays active; once a client reports it by asking for a replacement
// target, placement avoids it for new chunks while other nodes can take them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DfsCluster } from '../helpers/dfs-cluster.js';

interface Plan {
  file_id: string;
  chunks: { chunk_id: string; targets: { node_id: string }[] }[];
}

describe('placement after a client reports a target it could not write to', () => {
  const cluster = new DfsCluster({ datanodes: 4 });
  before(() => cluster.start());
  after(() => cluster.stop());

  const init = (path: string): Promise<Plan> =>
    cluster.http.postJson<Plan>(`${cluster.meta.url}/api/v1/files/upload-init`, {
      path,
      size: 1024,
      replication: 3,
    });

  test('the reported node gets no new chunk while three others are active', async () => {
    const first = await init('/unreachable/first.bin');
    const chunk = first.chunks[0];
    const bad = chunk?.targets[0]?.node_id;
    assert.ok(chunk && bad, 'a planned chunk with targets');
    const replacement = await cluster.http.postJson<{ node_id: string }>(
      `${cluster.meta.url}/api/v1/files/allocate`,
      { file_id: first.file_id, chunk_id: chunk.chunk_id, exclude: [bad] },
    );
    assert.notEqual(replacement.node_id, bad);
    for (let index = 0; index < 8; index += 1) {
      const plan = await init(`/unreachable/next-${index}.bin`);
      const targets = plan.chunks[0]?.targets.map((target) => target.node_id) ?? [];
      assert.equal(targets.length, 3);
      assert.ok(!targets.includes(bad), `upload ${index} placed a chunk on ${bad}`);
    }
  });
});
