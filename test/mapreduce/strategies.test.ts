// Rule checked (poneglyph-reduce.md, "Load Balancing"): five strategies — round_robin,
// least_connections, capacity_aware, health_based, smart_composite — choose among healthy workers
// with free capacity; smart_composite weighs availability 30 %, health 25 %, efficiency 25 %,
// reliability 20 %, minus a capacity penalty (seed bands: heartbeat < 10/30/60 s, efficiency
// baseline 5 s, penalty 5/10/15 above 50/75/90 % utilization). Ties rotate round-robin.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  asWorkerId,
  compositeScore,
  INITIAL_STRATEGY_STATE,
  isStrategyName,
  selectWorker,
  STRATEGY_NAMES,
  type StrategyName,
  type StrategyState,
  type TaskDemand,
  type WorkerFigures,
} from '../../src/mapreduce/master/strategies/index.js';

function worker(id: string, extra: Partial<WorkerFigures> = {}): WorkerFigures {
  return {
    workerId: asWorkerId(id),
    host: '127.0.0.1',
    slots: 4,
    runningTasks: 0,
    succeeded: 0,
    failed: 0,
    recentLatencyMs: null,
    heartbeatAgeMs: 1_000,
    breaker: 'CLOSED',
    ...extra,
  };
}

const TASK: TaskDemand = { taskId: 't' };

function pick(
  name: StrategyName,
  workers: WorkerFigures[],
  task: TaskDemand = TASK,
  state: StrategyState = INITIAL_STRATEGY_STATE,
): string | null {
  return selectWorker(name, workers, task, state).workerId;
}

/** Picks `count` times in a row, counting each pick as one more running task. */
function pickSequence(name: StrategyName, workers: WorkerFigures[], count: number): string[] {
  let state = INITIAL_STRATEGY_STATE;
  const current = workers.map((w) => ({ ...w }));
  const picks: string[] = [];
  for (let i = 0; i < count; i++) {
    const result = selectWorker(name, current, TASK, state);
    assert.ok(result.workerId);
    picks.push(result.workerId);
    state = result.state;
    const chosen = current.findIndex((w) => w.workerId === result.workerId);
    current[chosen] = { ...current[chosen]!, runningTasks: current[chosen]!.runningTasks + 1 };
  }
  return picks;
}

describe('eligibility (every strategy)', () => {
  const cases: {
    name: string;
    workers: WorkerFigures[];
    task?: TaskDemand;
    expected: string | null;
  }[] = [
    { name: 'no workers', workers: [], expected: null },
    {
      name: 'an OPEN circuit gets nothing',
      workers: [worker('a', { breaker: 'OPEN' })],
      expected: null,
    },
    {
      name: 'a full worker gets nothing',
      workers: [worker('a', { slots: 2, runningTasks: 2 })],
      expected: null,
    },
    { name: 'no slots at all', workers: [worker('a', { slots: 0 })], expected: null },
    {
      name: 'a heartbeat 60 s old is stale',
      workers: [worker('a', { heartbeatAgeMs: 60_000 })],
      expected: null,
    },
    {
      name: 'a HALF_OPEN circuit may take trials',
      workers: [worker('a', { breaker: 'HALF_OPEN' })],
      expected: 'a',
    },
    {
      name: 'an excluded worker is skipped',
      workers: [worker('a'), worker('b')],
      task: { taskId: 't', excluded: [asWorkerId('a')] },
      expected: 'b',
    },
    {
      name: 'only the eligible one is left',
      workers: [worker('a', { breaker: 'OPEN' }), worker('b', { runningTasks: 4 }), worker('c')],
      expected: 'c',
    },
  ];
  for (const name of STRATEGY_NAMES) {
    for (const c of cases) {
      test(`${name}: ${c.name}`, () => {
        assert.equal(pick(name, c.workers, c.task), c.expected);
      });
    }
  }
});

describe('round_robin', () => {
  test('equal workers are picked in turn', () => {
    assert.deepEqual(pickSequence('round_robin', [worker('a'), worker('b'), worker('c')], 6), [
      'a',
      'b',
      'c',
      'a',
      'b',
      'c',
    ]);
  });

  test('turns ignore load: a busy worker still gets its turn', () => {
    const picks = pickSequence('round_robin', [worker('a', { runningTasks: 3 }), worker('b')], 2);
    assert.deepEqual(picks, ['a', 'b']);
  });

  test('a worker that joins is served next; one that leaves drops out of the cursor', () => {
    const first = selectWorker(
      'round_robin',
      [worker('a'), worker('b')],
      TASK,
      INITIAL_STRATEGY_STATE,
    );
    const second = selectWorker('round_robin', [worker('a'), worker('b')], TASK, first.state);
    assert.deepEqual([first.workerId, second.workerId], ['a', 'b']);
    const joined = selectWorker(
      'round_robin',
      [worker('a'), worker('b'), worker('c')],
      TASK,
      second.state,
    );
    assert.equal(joined.workerId, 'c');
    const left = selectWorker('round_robin', [worker('a'), worker('c')], TASK, joined.state);
    assert.equal(left.workerId, 'a');
    assert.deepEqual(Object.keys(left.state.lastPickedAt).sort(), ['a', 'c']);
  });

  test('no pick leaves the tick unchanged', () => {
    const result = selectWorker('round_robin', [worker('a', { breaker: 'OPEN' })], TASK, {
      tick: 7,
      lastPickedAt: { a: 7, gone: 3 },
    });
    assert.equal(result.workerId, null);
    assert.deepEqual(result.state, { tick: 7, lastPickedAt: { a: 7 } });
  });
});

describe('least_connections', () => {
  const cases: { name: string; workers: WorkerFigures[]; expected: string }[] = [
    {
      name: 'fewest running tasks wins',
      workers: [
        worker('a', { runningTasks: 2 }),
        worker('b', { runningTasks: 1 }),
        worker('c', { runningTasks: 3 }),
      ],
      expected: 'b',
    },
    {
      name: 'slots do not matter, running tasks do',
      workers: [
        worker('a', { slots: 16, runningTasks: 2 }),
        worker('b', { slots: 2, runningTasks: 1 }),
      ],
      expected: 'b',
    },
    {
      name: 'ties go to the smallest id first',
      workers: [worker('b'), worker('a')],
      expected: 'a',
    },
  ];
  for (const c of cases)
    test(c.name, () => assert.equal(pick('least_connections', c.workers), c.expected));

  test('spreads a burst evenly', () => {
    const picks = pickSequence('least_connections', [worker('a'), worker('b'), worker('c')], 9);
    for (const id of ['a', 'b', 'c']) assert.equal(picks.filter((p) => p === id).length, 3);
  });
});

describe('capacity_aware', () => {
  const cases: { name: string; workers: WorkerFigures[]; expected: string }[] = [
    {
      name: 'most free slots wins',
      workers: [
        worker('a', { slots: 8, runningTasks: 4 }),
        worker('b', { slots: 2, runningTasks: 0 }),
      ],
      expected: 'a',
    },
    {
      name: 'equal free slots: the lower utilization',
      workers: [
        worker('a', { slots: 4, runningTasks: 2 }),
        worker('b', { slots: 8, runningTasks: 6 }),
      ],
      expected: 'a',
    },
  ];
  for (const c of cases)
    test(c.name, () => assert.equal(pick('capacity_aware', c.workers), c.expected));

  test('a big worker takes tasks in proportion to its free slots', () => {
    const picks = pickSequence(
      'capacity_aware',
      [worker('big', { slots: 6 }), worker('small', { slots: 2 })],
      8,
    );
    assert.equal(picks.filter((p) => p === 'big').length, 6);
  });
});

describe('health_based', () => {
  const cases: { name: string; workers: WorkerFigures[]; expected: string }[] = [
    {
      name: 'CLOSED beats HALF_OPEN',
      workers: [worker('a', { breaker: 'HALF_OPEN' }), worker('b')],
      expected: 'b',
    },
    {
      name: 'the better self-reported health wins',
      workers: [worker('a', { reportedHealth: 0.4 }), worker('b', { reportedHealth: 0.9 })],
      expected: 'b',
    },
    {
      name: 'equal health: the higher success rate',
      workers: [worker('a', { succeeded: 5, failed: 5 }), worker('b', { succeeded: 9, failed: 1 })],
      expected: 'b',
    },
  ];
  for (const c of cases)
    test(c.name, () => assert.equal(pick('health_based', c.workers), c.expected));
});

describe('smart_composite score (seed weights)', () => {
  const cases: {
    name: string;
    figures: Partial<WorkerFigures>;
    expected: Partial<ReturnType<typeof compositeScore>>;
  }[] = [
    {
      name: 'a perfect worker scores 100',
      figures: { heartbeatAgeMs: 0, recentLatencyMs: 2_500, succeeded: 10 },
      expected: {
        availability: 30,
        health: 25,
        efficiency: 25,
        reliability: 20,
        capacityPenalty: 0,
        score: 100,
      },
    },
    {
      name: 'heartbeat 9.9 s: availability 30',
      figures: { heartbeatAgeMs: 9_999 },
      expected: { availability: 30 },
    },
    {
      name: 'heartbeat 10 s: availability 20',
      figures: { heartbeatAgeMs: 10_000 },
      expected: { availability: 20 },
    },
    {
      name: 'heartbeat 30 s: availability 10',
      figures: { heartbeatAgeMs: 30_000 },
      expected: { availability: 10 },
    },
    {
      name: 'heartbeat 60 s: availability 0',
      figures: { heartbeatAgeMs: 60_000 },
      expected: { availability: 0 },
    },
    {
      name: 'HALF_OPEN: health 12.5',
      figures: { breaker: 'HALF_OPEN' },
      expected: { health: 12.5 },
    },
    {
      name: 'reported health 0.4: health 10',
      figures: { reportedHealth: 0.4 },
      expected: { health: 10 },
    },
    {
      name: 'no finished task yet: efficiency 15',
      figures: { recentLatencyMs: null },
      expected: { efficiency: 15 },
    },
    {
      name: 'twice the 5 s baseline: efficiency 12.5',
      figures: { recentLatencyMs: 10_000 },
      expected: { efficiency: 12.5 },
    },
    {
      name: 'faster than the baseline is capped at 25',
      figures: { recentLatencyMs: 100 },
      expected: { efficiency: 25 },
    },
    {
      name: '3 of 4 succeeded: reliability 15',
      figures: { succeeded: 3, failed: 1 },
      expected: { reliability: 15 },
    },
    { name: 'no history: reliability 20', figures: {}, expected: { reliability: 20 } },
    {
      name: '50 % busy: no penalty',
      figures: { slots: 4, runningTasks: 2 },
      expected: { capacityPenalty: 0 },
    },
    {
      name: '75 % busy: penalty 5',
      figures: { slots: 4, runningTasks: 3 },
      expected: { capacityPenalty: 5 },
    },
    {
      name: '80 % busy: penalty 10',
      figures: { slots: 10, runningTasks: 8 },
      expected: { capacityPenalty: 10 },
    },
    {
      name: '95 % busy: penalty 15',
      figures: { slots: 20, runningTasks: 19 },
      expected: { capacityPenalty: 15 },
    },
    {
      name: 'the penalty is subtracted and the sum clamped at 0',
      figures: {
        heartbeatAgeMs: 90_000,
        breaker: 'OPEN',
        recentLatencyMs: 1e9,
        succeeded: 0,
        failed: 9,
        slots: 1,
        runningTasks: 1,
      },
      expected: { capacityPenalty: 15, score: 0 },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const breakdown = compositeScore(worker('w', c.figures));
      for (const [key, value] of Object.entries(c.expected)) {
        assert.ok(
          Math.abs(breakdown[key as keyof typeof breakdown] - value) < 1e-9,
          `${key}: ${breakdown[key as keyof typeof breakdown]} != ${value}`,
        );
      }
    });
  }

  test('the weights are 30/25/25/20', () => {
    const full = compositeScore(
      worker('w', { heartbeatAgeMs: 0, recentLatencyMs: 1, succeeded: 1 }),
    );
    assert.deepEqual(
      [full.availability, full.health, full.efficiency, full.reliability],
      [30, 25, 25, 20],
    );
  });
});

describe('smart_composite choice', () => {
  const cases: { name: string; workers: WorkerFigures[]; expected: string }[] = [
    {
      name: 'the fresher heartbeat wins (30 vs 20 points)',
      workers: [worker('a', { heartbeatAgeMs: 15_000 }), worker('b', { heartbeatAgeMs: 2_000 })],
      expected: 'b',
    },
    {
      name: 'the faster worker wins',
      workers: [worker('a', { recentLatencyMs: 20_000 }), worker('b', { recentLatencyMs: 4_000 })],
      expected: 'b',
    },
    {
      name: 'the more reliable worker wins',
      workers: [worker('a', { succeeded: 1, failed: 3 }), worker('b', { succeeded: 4 })],
      expected: 'b',
    },
    {
      name: 'a saturated worker loses to an idle one (penalty and capacity bonus)',
      workers: [
        worker('a', { slots: 10, runningTasks: 9 }),
        worker('b', { slots: 10, runningTasks: 0 }),
      ],
      expected: 'b',
    },
    {
      name: 'a slow idle worker can lose to a fast busy one',
      workers: [
        worker('slow', { recentLatencyMs: 50_000 }),
        worker('fast', { recentLatencyMs: 1_000, slots: 4, runningTasks: 2 }),
      ],
      expected: 'fast',
    },
  ];
  for (const c of cases)
    test(c.name, () => assert.equal(pick('smart_composite', c.workers), c.expected));

  test('equal workers share a burst', () => {
    const picks = pickSequence('smart_composite', [worker('a'), worker('b')], 6);
    assert.equal(picks.filter((p) => p === 'a').length, 3);
  });
});

test('strategy names are the seed’s', () => {
  assert.deepEqual(
    [...STRATEGY_NAMES],
    ['round_robin', 'least_connections', 'capacity_aware', 'health_based', 'smart_composite'],
  );
  assert.ok(isStrategyName('smart_composite'));
  assert.ok(!isStrategyName('weighted_round_robin'));
});
