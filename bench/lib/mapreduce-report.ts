/**
 * Figures, targets and tables of the MapReduce benchmark. The engine's figure is end to end
 * (submit -> output committed) over the corpus in the DFS; the baselines read the local file.
 * Ratios are throughput ratios measured in the same run (engine MB/s over baseline MB/s).
 */
import { round, type BenchReport } from './harness.js';
import { totalWords, type WordCountRun } from './mapreduce-baselines.js';
import { CORPUS_SOURCES, type Corpus } from './mapreduce-corpus.js';
import type { EngineRun } from './mapreduce-engine.js';

/** What the benchmark measured. */
export interface MapReduceMeasurements {
  readonly corpus: Corpus;
  /** The faster of the Node rounds (one before the cluster starts, one after the engine run). */
  readonly node: WordCountRun;
  readonly nodeRoundsS: readonly number[];
  /** Every clean engine run; `engine` is the fastest. */
  readonly engineRoundsS: readonly number[];
  readonly shell: WordCountRun;
  /** Whether tr | sort | uniq -c found exactly the Node baseline's counts. */
  readonly shellMatches: boolean;
  readonly uploadS: number;
  readonly engine: EngineRun;
  readonly killed: (EngineRun & { readonly restartS: number | undefined }) | undefined;
  readonly restartKilled: boolean;
}

/** The target: the engine end to end at least 0.8 x the single-threaded Node baseline. */
export const MAPREDUCE_TARGETS = { engineVsNode: 0.8 } as const;

export function buildMapReduceReport(m: MapReduceMeasurements): BenchReport {
  const mb = m.corpus.sizeBytes / 1e6;
  const rate = (seconds: number): number => round(mb / seconds, 1);
  const engineVsNode = m.node.seconds / m.engine.seconds;
  const engineVsShell = m.shell.seconds / m.engine.seconds;
  const killAddedS = m.killed ? m.killed.seconds - m.engine.seconds : undefined;
  const figures = {
    corpus: {
      bytes: m.corpus.sizeBytes,
      seed: m.corpus.seed,
      sources: CORPUS_SOURCES,
      sentences: m.corpus.sentences,
      sourcesHash: m.corpus.sourcesHash,
      words: totalWords(m.node.counts),
      distinctWords: m.node.counts.size,
    },
    nodeSingleThread: {
      seconds: round(m.node.seconds, 2),
      mbPerS: rate(m.node.seconds),
      roundsS: m.nodeRoundsS.map((seconds) => round(seconds, 2)),
    },
    trSortUniq: {
      seconds: round(m.shell.seconds, 2),
      mbPerS: rate(m.shell.seconds),
      countsEqualNode: m.shellMatches,
    },
    dfsUpload: { seconds: round(m.uploadS, 2), mbPerS: rate(m.uploadS), replication: 3 },
    engine: {
      seconds: round(m.engine.seconds, 2),
      mbPerS: rate(m.engine.seconds),
      roundsS: m.engineRoundsS.map((seconds) => round(seconds, 2)),
      masterDurationS: round(m.engine.jobDurationS, 2),
      mapTasks: m.engine.mapTasks,
      workers: 2,
      countsEqualNode: true,
      counters: m.engine.counters,
    },
    engineVsNode: round(engineVsNode, 2),
    engineVsTrSortUniq: round(engineVsShell, 2),
    ...(m.killed && killAddedS !== undefined
      ? {
          workerKill: {
            seconds: round(m.killed.seconds, 2),
            addedSeconds: round(killAddedS, 2),
            restarted: m.restartKilled,
            workerRestartS: m.killed.restartS === undefined ? null : round(m.killed.restartS, 2),
            countsEqualNode: true,
            stats: m.killed.stats,
          },
        }
      : {}),
  };
  const rows: (string | number)[][] = [
    [
      `Node, single thread (local file; best of ${m.nodeRoundsS.length})`,
      round(m.node.seconds, 1),
      rate(m.node.seconds),
      '1.00',
    ],
    [
      'tr | tr | sort | uniq -c (local file)',
      round(m.shell.seconds, 1),
      rate(m.shell.seconds),
      (m.node.seconds / m.shell.seconds).toFixed(2),
    ],
    [
      'Tessera, 2 workers (DFS, submit -> committed; best round)',
      round(m.engine.seconds, 1),
      rate(m.engine.seconds),
      engineVsNode.toFixed(2),
    ],
  ];
  if (m.killed) {
    rows.push([
      `Tessera, a worker SIGKILLed mid-map (${m.restartKilled ? 'restarted at once' : 'not restarted'})`,
      round(m.killed.seconds, 1),
      rate(m.killed.seconds),
      (m.node.seconds / m.killed.seconds).toFixed(2),
    ]);
  }
  return {
    figures,
    targets: { engineVsNode: `>= ${MAPREDUCE_TARGETS.engineVsNode} x single-threaded Node` },
    passed: { engineVsNode: engineVsNode >= MAPREDUCE_TARGETS.engineVsNode },
    tables: [
      {
        title: `word count of ${round(mb, 1)} MB (${figures.corpus.words} words, ${m.node.counts.size} distinct; counts equal in every run)`,
        columns: ['run', 'seconds', 'MB/s', 'x Node'],
        rows,
      },
      {
        title: 'around the engine run',
        columns: ['measure', 'value'],
        rows: [
          ['DFS upload of the corpus (replication 3), s', round(m.uploadS, 1)],
          ['map tasks (one per DFS chunk)', m.engine.mapTasks],
          ['master job duration (started -> committed), s', round(m.engine.jobDurationS, 1)],
          [
            'rounds, s: Node | Tessera',
            `${m.nodeRoundsS.map((s) => s.toFixed(1)).join(', ')} | ${m.engineRoundsS.map((s) => s.toFixed(1)).join(', ')}`,
          ],
          [
            'added by the worker SIGKILL (vs the best round), s',
            killAddedS === undefined ? '-' : round(killAddedS, 1),
          ],
          [
            '... of which the killed worker took to start again, s',
            m.killed?.restartS === undefined ? '-' : round(m.killed.restartS, 1),
          ],
          ['tr | sort | uniq -c counts equal Node', m.shellMatches ? 'yes' : 'NO'],
        ],
      },
    ],
  };
}
