/**
 * Submitting a MapReduce job from the browser: a built-in job (word count by default) or a
 * custom one — JavaScript modules for the mapper and reducer, or streaming command lines —
 * over an input chosen from the DFS namespace, into an output directory, with R reducers.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import type { DirectoryListing, WireJob } from '../../../api-types.js';
import { messageOf, sendJson, usePolling } from '../api.js';
import { Async, ErrorNote } from '../components.js';
import { baseName, formatBytes } from '../format.js';

type Kind = 'builtin' | 'js' | 'command';

const BUILTINS = ['wordcount', 'grep', 'sort', 'invertedindex'] as const;
const STRATEGIES = [
  'round_robin',
  'least_connections',
  'capacity_aware',
  'health_based',
  'smart_composite',
];

/** A word count written as a job module: the starting point of a custom job. */
export const EXAMPLE_MAPPER = `// map(key, value, emit): key is the input file's path, value one line.
export function map(path, line, emit) {
  for (const word of line.toLowerCase().split(/[^a-z]+/)) if (word) emit(word, 1);
}

// combine runs on each spill and merge (optional).
export function combine(word, counts, emit) {
  emit(word, counts.reduce((sum, n) => sum + Number(n), 0));
}
`;

export const EXAMPLE_REDUCER = `// reduce(key, values, emit): every value of one key, in map order.
export function reduce(word, counts, emit) {
  emit(word, counts.reduce((sum, n) => sum + Number(n), 0));
}
`;

/** `/out/job-20240102-130405`: a fresh output directory name. */
function freshOutput(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `/out/job-${stamp}`;
}

interface Form {
  kind: Kind;
  builtin: (typeof BUILTINS)[number];
  pattern: string;
  mapperSource: string;
  reducerSource: string;
  mapperCommand: string;
  reducerCommand: string;
  input: string;
  output: string;
  reducers: string;
  strategy: string;
  name: string;
}

/** The job spec of the form, as the master's `POST /jobs` takes it. */
export function specOf(form: Form): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    input: form.input.trim(),
    output: form.output.trim(),
    reducers: Number(form.reducers),
  };
  if (form.name.trim()) spec['name'] = form.name.trim();
  if (form.strategy) spec['strategy'] = form.strategy;
  if (form.kind === 'builtin') {
    spec['builtin'] = form.builtin;
    if (form.builtin === 'grep') spec['args'] = { pattern: form.pattern };
  } else if (form.kind === 'js') {
    spec['mapper'] = { kind: 'js', source: form.mapperSource };
    if (form.reducerSource.trim()) spec['reducer'] = { kind: 'js', source: form.reducerSource };
  } else {
    // As `tessera job submit --mapper 'LINE'`: the line runs under /bin/sh -c.
    spec['mapper'] = { kind: 'command', command: ['/bin/sh', '-c', form.mapperCommand] };
    if (form.reducerCommand.trim()) {
      spec['reducer'] = { kind: 'command', command: ['/bin/sh', '-c', form.reducerCommand] };
    }
  }
  return spec;
}

export function JobSubmitForm(props: { onSubmitted: (job: WireJob) => void }): ReactNode {
  const [form, setForm] = useState<Form>(() => ({
    kind: 'builtin',
    builtin: 'wordcount',
    pattern: '',
    mapperSource: EXAMPLE_MAPPER,
    reducerSource: EXAMPLE_REDUCER,
    mapperCommand: "tr -cs 'A-Za-z' '\\n' | tr 'A-Z' 'a-z' | grep -v '^$' | sed 's/$/\\t1/'",
    reducerCommand: `awk -F '\\t' '{ s[$1] += $2 } END { for (k in s) print k "\\t" s[k] }'`,
    input: '',
    output: freshOutput(),
    reducers: '1',
    strategy: '',
    name: '',
  }));
  const [browsing, setBrowsing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const set = <K extends keyof Form>(key: K, value: Form[K]): void =>
    setForm((old) => ({ ...old, [key]: value }));

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    sendJson<WireJob>('POST', '/api/jobs', specOf(form))
      .then((job) => {
        setForm((old) => ({ ...old, output: freshOutput() }));
        props.onSubmitted(job);
      })
      .catch((failure: unknown) => setError(messageOf(failure)))
      .finally(() => setBusy(false));
  };

  return (
    <form className="job-form" onSubmit={submit} data-testid="job-form">
      <fieldset className="kinds">
        <legend>Job</legend>
        {(
          [
            ['builtin', 'Built-in'],
            ['js', 'JavaScript modules'],
            ['command', 'Streaming commands'],
          ] as const
        ).map(([kind, label]) => (
          <label key={kind}>
            <input
              type="radio"
              name="kind"
              value={kind}
              checked={form.kind === kind}
              onChange={() => set('kind', kind)}
              data-testid={`kind-${kind}`}
            />{' '}
            {label}
          </label>
        ))}
      </fieldset>
      <CodeFields form={form} set={set} />
      <div className="form-row">
        <label className="stacked grow">
          Input (DFS file, directory or glob)
          <span className="input-with-button">
            <input
              className="mono"
              value={form.input}
              onChange={(event) => set('input', event.target.value)}
              placeholder="/data/books.txt"
              required
              pattern="/.*"
              data-testid="job-input"
            />
            <button type="button" onClick={() => setBrowsing(!browsing)} data-testid="job-browse">
              {browsing ? 'Close' : 'Browse…'}
            </button>
          </span>
        </label>
        <label className="stacked grow">
          Output directory
          <input
            className="mono"
            value={form.output}
            onChange={(event) => set('output', event.target.value)}
            required
            pattern="/.*[^/]"
            data-testid="job-output"
          />
        </label>
      </div>
      {browsing ? (
        <NamespacePicker
          onPick={(path) => {
            set('input', path);
            setBrowsing(false);
          }}
        />
      ) : null}
      <div className="form-row">
        <label className="stacked">
          Reducers
          <input
            type="number"
            min={1}
            max={1000}
            value={form.reducers}
            onChange={(event) => set('reducers', event.target.value)}
            data-testid="job-reducers"
          />
        </label>
        <label className="stacked">
          Strategy
          <select value={form.strategy} onChange={(event) => set('strategy', event.target.value)}>
            <option value="">the master's default</option>
            {STRATEGIES.map((strategy) => (
              <option key={strategy} value={strategy}>
                {strategy}
              </option>
            ))}
          </select>
        </label>
        <label className="stacked grow">
          Name (optional)
          <input value={form.name} onChange={(event) => set('name', event.target.value)} />
        </label>
      </div>
      {error ? <ErrorNote title="Not submitted" message={error} /> : null}
      <div>
        <button type="submit" className="primary" disabled={busy} data-testid="job-submit">
          {busy ? 'Submitting…' : 'Submit job'}
        </button>
      </div>
    </form>
  );
}

function CodeFields(props: {
  form: Form;
  set: <K extends keyof Form>(key: K, value: Form[K]) => void;
}): ReactNode {
  const { form, set } = props;
  if (form.kind === 'builtin') {
    return (
      <div className="form-row">
        <label className="stacked">
          Built-in job
          <select
            value={form.builtin}
            onChange={(event) => set('builtin', event.target.value as Form['builtin'])}
            data-testid="job-builtin"
          >
            {BUILTINS.map((name) => (
              <option key={name} value={name}>
                {name === 'wordcount' ? 'word count' : name}
              </option>
            ))}
          </select>
        </label>
        {form.builtin === 'grep' ? (
          <label className="stacked grow">
            Pattern (JavaScript regular expression)
            <input
              className="mono"
              value={form.pattern}
              onChange={(event) => set('pattern', event.target.value)}
              required
            />
          </label>
        ) : null}
      </div>
    );
  }
  const js = form.kind === 'js';
  return (
    <div className="form-row code-row">
      <label className="stacked grow">
        {js ? 'Mapper module (exports map, optionally combine)' : 'Mapper command (sh -c)'}
        <textarea
          className="mono"
          rows={js ? 9 : 2}
          spellCheck={false}
          value={js ? form.mapperSource : form.mapperCommand}
          onChange={(event) => set(js ? 'mapperSource' : 'mapperCommand', event.target.value)}
          required
          data-testid="job-mapper"
        />
      </label>
      <label className="stacked grow">
        {js
          ? 'Reducer module (exports reduce; empty: identity)'
          : 'Reducer command (empty: identity)'}
        <textarea
          className="mono"
          rows={js ? 9 : 2}
          spellCheck={false}
          value={js ? form.reducerSource : form.reducerCommand}
          onChange={(event) => set(js ? 'reducerSource' : 'reducerCommand', event.target.value)}
          data-testid="job-reducer"
        />
      </label>
      <p className="muted small grow">
        {js
          ? 'The modules run inside the workers with their rights: submit only code you trust.'
          : 'Each line of the split arrives on stdin; print key<TAB>value lines.'}
      </p>
    </div>
  );
}

/** Browses the DFS one directory at a time; a click on a file picks it as the input. */
function NamespacePicker(props: { onPick: (path: string) => void }): ReactNode {
  const [dir, setDir] = useState('/');
  const listing = usePolling<DirectoryListing>(`/api/files?dir=${encodeURIComponent(dir)}`, 10_000);
  const parent = dir === '/' ? null : dir.replace(/\/[^/]+$/, '') || '/';
  return (
    <div className="picker" data-testid="input-picker">
      <div className="picker-head">
        <span className="mono">{dir}</span>
        <button type="button" onClick={() => props.onPick(dir)} disabled={dir === '/'}>
          Use this directory
        </button>
      </div>
      <Async data={listing.data} error={listing.error} what={dir} errorTitle="DFS not available">
        {(data) => (
          <ul className="plain picker-list">
            {parent !== null ? (
              <li>
                <button type="button" className="link" onClick={() => setDir(parent)}>
                  ⬑ ..
                </button>
              </li>
            ) : null}
            {data.directories.map((directory) => (
              <li key={directory}>
                <button type="button" className="link" onClick={() => setDir(directory)}>
                  {baseName(directory)}/
                </button>
              </li>
            ))}
            {data.files.map((file) => (
              <li key={file.path}>
                <button
                  type="button"
                  className="link mono"
                  onClick={() => props.onPick(file.path)}
                  data-testid={`pick-${file.path}`}
                >
                  {baseName(file.path)}
                </button>{' '}
                <span className="muted small">{formatBytes(file.size)}</span>
              </li>
            ))}
            {data.directories.length + data.files.length === 0 ? (
              <li className="muted">Empty.</li>
            ) : null}
          </ul>
        )}
      </Async>
    </div>
  );
}
