// Rules (issue 7, "Network partitions"; docs/search-overlay.md, "Guarantees and limits"): Bully
// has no terms and no quorum, so a 2|2 split of four search nodes elects a leader on each side
// (the highest id each side can reach); once the split heals, the highest live id wins again and
// every node follows it. Nothing acknowledged is lost: documents indexed on either side during
// the split (a 201 from a node on that side) are all found exactly once after healing.
//
// Where the registry lives: in its own namespace, cut together with the low side {0, 1}. So the
// high side {2, 3} loses discovery as a real split of two racks would (its registrations lapse;
// it keeps its last list of peers), while the low side keeps the registry and sees the high side
// expire from it. The test process observes every node through a forwarder in a namespace that
// no cut touches (it stands for clients on both sides).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NetLab, netnsUnavailableReason, type NetnsHttp } from '../helpers/netns.js';
import { tempDir, waitFor } from '../helpers/processes.js';
import { SearchCluster, type NodeStatus, type SearchAnswer } from '../helpers/search-cluster.js';

/** Namespaces need root (or CAP_NET_ADMIN) and nftables; elsewhere the suite says why it skips. */
const unavailable = await netnsUnavailableReason();

const MARKER = 'partmark';
const NODES = ['n0', 'n1', 'n2', 'n3'];
const LOW_SIDE = ['reg', 'n0', 'n1'];
const HIGH_SIDE = ['n2', 'n3'];
const WORDS = ['heat', 'wing', 'river', 'stone', 'cloud', 'engine', 'grain', 'signal'];

/** A small document that every query for MARKER finds. */
function documentOf(docId: string, seed: number): { doc_id: string; content: string } {
  const words = Array.from({ length: 12 }, (_, i) => WORDS[(seed * 7 + i * 3) % WORDS.length]);
  return { doc_id: docId, content: `${MARKER} ${docId.replace(/-/g, ' ')} ${words.join(' ')}` };
}

describe(
  'search: Bully election and indexing across a 2|2 partition',
  { timeout: 290_000, skip: unavailable ?? false },
  () => {
    const dir = tempDir('partition-search');
    let lab: NetLab;
    let http: NetnsHttp;
    // Only for its node flags (short election and repair timings); it starts no process.
    let template: SearchCluster;
    const urls = new Map<string, string>();
    const acknowledged: string[] = [];
    const writeTimes: string[] = [];

    const status = (node: string): Promise<NodeStatus> =>
      http.getJson<NodeStatus>(`${urls.get(node)}/status`, 3_000);

    /**
     * Indexes `count` documents through `node`; answers the ids it acknowledged (201). A node that
     * still lists unreachable peers waits for them (--query-timeout per placement round) first.
     */
    async function index(node: string, prefix: string, count: number): Promise<string[]> {
      const documents = Array.from({ length: count }, (_, i) => documentOf(`${prefix}-${i}`, i));
      const startedMs = Date.now();
      const answer = await http.send<{ indexed?: number }>(
        'POST',
        `${urls.get(node)}/docs`,
        { documents },
        150_000,
      );
      assert.equal(answer.status, 201, `indexing through ${node}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.indexed, count);
      writeTimes.push(`${prefix} through ${node}: ${Date.now() - startedMs} ms`);
      return documents.map((doc) => doc.doc_id);
    }

    async function allFollowNode3(): Promise<void> {
      await waitFor(
        'every node to follow node 3 and see four live nodes',
        async () => {
          const statuses = await Promise.all(NODES.map((node) => status(node)));
          return statuses.every((s) => s.leader_id === 3 && s.live_nodes.length === 4);
        },
        { timeoutMs: 40_000, intervalMs: 200 },
      );
    }

    /** The leader each node names, by node. */
    async function leaders(nodes: readonly string[]): Promise<Map<string, number | null>> {
      const statuses = await Promise.all(nodes.map((node) => status(node)));
      return new Map(nodes.map((node, i) => [node, statuses[i]?.leader_id ?? null]));
    }

    /** Every document id a query for MARKER finds through `node`, in answer order. */
    async function everything(
      node: string,
      timeoutMs = 10_000,
    ): Promise<{ ids: string[]; partial: boolean; tookMs: number }> {
      const query = new URLSearchParams({ q: MARKER, k: '1000', feedback: 'false' });
      const url = `${urls.get(node)}/search?${query.toString()}`;
      const answer = await http.getJson<SearchAnswer>(url, timeoutMs);
      const ids = answer.results.map((result) => result.doc_id);
      return { ids, partial: answer.partial, tookMs: answer.took_ms };
    }

    before(async () => {
      lab = await NetLab.create(['obs', 'reg', ...NODES]);
      http = await lab.http('obs', join(dir.path, 'proxy.sock'));
      const registry = await lab.startRegistry('reg', {
        heartbeatTimeoutS: 1.2,
        cleanupIntervalS: 0.2,
      });
      template = new SearchCluster({ nodes: NODES.length, registryUrl: registry.url });
      await Promise.all(
        NODES.map(async (node, id) => {
          const args = [...template.nodeArgs(id), '--host', lab.host(node).address];
          const started = await lab.startTessera(node, args);
          urls.set(node, started.url);
        }),
      );
    });

    after(async () => {
      await lab?.destroy();
      await template?.stop();
      dir.cleanup();
    });

    test('before the split the four nodes follow node 3', async () => {
      await allFollowNode3();
      acknowledged.push(...(await index('n0', 'before', 40)));
    });

    test('split both ways: each side elects its own leader (1 and 3) and acknowledges writes', async (t) => {
      await lab.partition(LOW_SIDE, HIGH_SIDE);
      const seen = await waitFor(
        'a leader on each side: node 1 for {0, 1}, node 3 for {2, 3}',
        async () => {
          const byNode = await leaders(NODES);
          const expected = { n0: 1, n1: 1, n2: 3, n3: 3 };
          return Object.entries(expected).every(([node, id]) => byNode.get(node) === id)
            ? byNode
            : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      assert.deepEqual([...seen.values()], [1, 1, 3, 3]);
      // Each side stores its documents on the nodes it can reach, durably, and acknowledges them.
      // A write waits for every owner it still lists as live, up to the nodes' 60 s write timeout
      // on a pooled connection into the cut: the low side is written once the registry's expiry
      // has reached node 0; the high side (no registry) may wait that long (docs/partitions.md).
      await waitFor(
        'node 0 to list only {0, 1} as live',
        async () => {
          return (await status('n0')).live_nodes.join() === '0,1';
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      acknowledged.push(...(await index('n0', 'low', 30)));
      acknowledged.push(...(await index('n3', 'high', 30)));
      // Each side finds its own writes. The high side has lost the registry and still lists the
      // low nodes, so a query may wait for them (--query-timeout) before it answers, partially.
      const low = await everything('n1', 30_000);
      const high = await everything('n2', 30_000);
      for (const line of writeTimes) t.diagnostic(`indexed ${line}`);
      t.diagnostic(`low side: ${low.ids.length} found in ${low.tookMs} ms, partial ${low.partial}`);
      t.diagnostic(
        `high side: ${high.ids.length} found in ${high.tookMs} ms, partial ${high.partial}`,
      );
      for (let i = 0; i < 30; i += 1) {
        assert.ok(low.ids.includes(`low-${i}`), `low-${i} found on the low side`);
        assert.ok(high.ids.includes(`high-${i}`), `high-${i} found on the high side`);
      }
      assert.ok(!low.ids.some((id) => id.startsWith('high-')), 'the low side cannot see high-*');
      // Nodes 2 and 3 left the low side's live set together (k = 2): documents whose two copies
      // are over there are missing, and the low side says so although every live node answered.
      assert.equal(low.partial, true, 'the low side answers partial: true');
      assert.equal(high.partial, true, 'the high side answers partial: true');
      assert.ok(!high.ids.some((id) => id.startsWith('low-')), 'the high side cannot see low-*');
    });

    test('heal: one leader (node 3) that all four follow, every acknowledged document once', async () => {
      await lab.heal();
      await allFollowNode3();
      const want = [...acknowledged].sort();
      let last = '';
      await waitFor(
        'every acknowledged document found exactly once through every node, k = 2 copies of each',
        async () => {
          for (const node of NODES) {
            const { ids, partial } = await everything(node);
            const sorted = [...ids].sort();
            last = `${node}: ${ids.length} results, ${new Set(ids).size} distinct, partial ${partial}`;
            if (partial || sorted.join() !== want.join()) return false;
          }
          const statuses = await Promise.all(NODES.map((node) => status(node)));
          const copies = statuses.map((s) => s.doc_count);
          // What each node holds, sees and has repaired: says why copies are left over, if any.
          last = statuses
            .map(
              (s) =>
                `node ${s.node_id}: ${s.doc_count} copies, live [${s.live_nodes.join()}], repair ${JSON.stringify(s.repair)}`,
            )
            .join('; ');
          return copies.reduce((sum, n) => sum + n, 0) === 2 * want.length;
        },
        { timeoutMs: 45_000, intervalMs: 500 },
      ).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}; last answer ${last}`);
      });
    });
  },
);
