import { Counter, Gauge, type Registry } from 'prom-client';
import type { DatanodeState } from './node-state.js';

/** The datanode's own metrics, next to the core HTTP ones. */
export interface DatanodeMetrics {
  readonly bytesWritten: Counter;
  readonly bytesRead: Counter;
  readonly heartbeats: Counter<'outcome'>;
  readonly corruptFound: Counter<'source'>;
}

/** Creates the datanode metrics in `registry`; the gauges read `state` when scraped. */
export function createDatanodeMetrics(registry: Registry, state: DatanodeState): DatanodeMetrics {
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  gauge('tessera_datanode_chunks', 'Chunks stored.', () => state.space().chunkCount);
  gauge('tessera_datanode_used_bytes', 'Bytes of stored chunks.', () => state.space().usedBytes);
  gauge('tessera_datanode_free_bytes', 'Free bytes advertised.', () => state.space().freeBytes);
  gauge(
    'tessera_datanode_corrupt_chunks',
    'Chunks found corrupt, not yet removed.',
    () => state.corruptChunkIds().length,
  );
  gauge('tessera_datanode_transfers', 'Transfers in flight.', () => state.load());
  const counter = <L extends string>(
    name: string,
    help: string,
    labelNames: L[] = [],
  ): Counter<L> => new Counter({ name, help, labelNames, registers: [registry] });
  return {
    bytesWritten: counter('tessera_datanode_written_bytes_total', 'Chunk bytes stored.'),
    bytesRead: counter('tessera_datanode_read_bytes_total', 'Chunk bytes served.'),
    heartbeats: counter('tessera_datanode_heartbeats_total', 'Heartbeats to the master.', [
      'outcome',
    ]),
    corruptFound: counter('tessera_datanode_corrupt_found_total', 'Corruption found.', ['source']),
  };
}
