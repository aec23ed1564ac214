/** An in-process metadata master on a store, with the defaults the unit tests use. */
import type { Clock } from '../../src/core/clock.js';
import { SeededRandom } from '../../src/core/random.js';
import { MetaMaster } from '../../src/dfs/meta/master.js';
import type { MetaStore } from '../../src/dfs/meta/store.js';

/** Replication 3, 64 KiB chunks, 60 s leases, a datanode dead after 30 s of silence. */
export function testMetaMaster(store: MetaStore, clock: Clock, seed = 7): MetaMaster {
  return new MetaMaster(
    store,
    {
      defaultReplication: 3,
      defaultChunkSizeBytes: 65_536,
      minReplicas: 2,
      leaseTimeoutMs: 60_000,
    },
    clock,
    new SeededRandom(seed),
    30_000,
  );
}
