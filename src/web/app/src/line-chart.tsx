/**
 * A time-series line chart over Chart.js: x is seconds before now, one line per series.
 * The chart object lives as long as the component; new points update it in place.
 */
import {
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartDataset,
} from 'chart.js';
import { useEffect, useRef, type ReactNode } from 'react';

Chart.register(
  LineController,
  LineElement,
  PointElement,
  LinearScale,
  CategoryScale,
  Legend,
  Tooltip,
  Filler,
);

export interface Series {
  readonly label: string;
  readonly points: readonly { readonly tMs: number; readonly value: number | null }[];
}

/** Fixed colours for the known series, so a role keeps its colour from chart to chart. */
const KNOWN: Record<string, string> = {
  registry: '#2563eb',
  'dfs-meta': '#16a34a',
  datanode: '#d97706',
  web: '#9333ea',
  'search-node': '#0891b2',
  'mapreduce-master': '#dc2626',
  'mapreduce-worker': '#db2777',
  written: '#d97706',
  read: '#2563eb',
};
const PALETTE = ['#4b5563', '#65a30d', '#7c3aed', '#0f766e', '#b45309', '#be123c'];

/** Stable colour of a series name. */
export function colourOf(label: string): string {
  const known = KNOWN[label];
  if (known) return known;
  let hash = 0;
  for (const char of label) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return PALETTE[hash % PALETTE.length] ?? '#4b5563';
}

/** The span the x axis shows: the data's, at least a minute, at most the window. */
function spanMs(series: readonly Series[], nowMs: number, windowMs: number): number {
  let oldestMs = nowMs;
  for (const line of series)
    for (const point of line.points) oldestMs = Math.min(oldestMs, point.tMs);
  return Math.min(windowMs, Math.max(60_000, Math.ceil((nowMs - oldestMs) / 60_000) * 60_000));
}

export function LineChart(props: {
  series: readonly Series[];
  nowMs: number;
  windowMs: number;
  formatValue: (value: number) => string;
  label: string;
}): ReactNode {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'line', { x: number; y: number | null }[]> | null>(null);
  const format = useRef(props.formatValue);
  format.current = props.formatValue;

  useEffect(() => {
    if (!canvas.current) return undefined;
    chart.current = new Chart(canvas.current, {
      type: 'line',
      data: { datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        spanGaps: false,
        scales: {
          x: {
            type: 'linear',
            ticks: { callback: (value) => `${Math.round(Number(value))} s`, maxTicksLimit: 7 },
            title: { display: true, text: 'seconds ago' },
          },
          y: {
            beginAtZero: true,
            ticks: { callback: (value) => format.current(Number(value)), maxTicksLimit: 6 },
          },
        },
        plugins: {
          legend: { position: 'bottom', labels: { boxWidth: 12 } },
          tooltip: {
            callbacks: {
              label: (item) =>
                `${item.dataset.label ?? ''}: ${format.current(Number(item.parsed.y))}`,
            },
          },
        },
      },
    });
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    const current = chart.current;
    if (!current) return;
    const datasets: ChartDataset<'line', { x: number; y: number | null }[]>[] = props.series.map(
      (series) => ({
        label: series.label,
        data: series.points.map((point) => ({
          x: (point.tMs - props.nowMs) / 1000,
          y: point.value,
        })),
        borderColor: colourOf(series.label),
        backgroundColor: colourOf(series.label),
        borderWidth: 2,
        pointRadius: 0,
        tension: 0.25,
      }),
    );
    current.data.datasets = datasets;
    const xScale = current.options.scales?.['x'];
    if (xScale) {
      xScale.min = -spanMs(props.series, props.nowMs, props.windowMs) / 1000;
      xScale.max = 0;
    }
    current.update('none');
  }, [props.series, props.nowMs, props.windowMs]);

  return (
    <div className="chart" role="img" aria-label={props.label}>
      <canvas ref={canvas} />
    </div>
  );
}
