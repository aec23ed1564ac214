/**
 * Upload from the browser: each chosen file is sent as raw bytes to the dashboard server,
 * which streams it into the DFS; XMLHttpRequest reports the bytes sent for the progress bar
 * (fetch cannot report upload progress).
 */
import { useRef, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, CSRF_HEADER, messageOf, reportUnauthorized } from '../api.js';
import { ErrorNote, Panel } from '../components.js';
import { formatBytes } from '../format.js';

interface UploadState {
  readonly id: number;
  readonly name: string;
  readonly path: string;
  readonly size: number;
  readonly sent: number;
  readonly startedAtMs: number;
  readonly status: 'waiting' | 'uploading' | 'done' | 'failed';
  readonly error?: string;
}

/** Sends one file; resolves when the DFS committed it. */
function sendFile(
  file: File,
  path: string,
  overwrite: boolean,
  onSent: (bytes: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    const query = new URLSearchParams({ path, overwrite: String(overwrite) });
    request.open('PUT', `/api/files/content?${query.toString()}`);
    request.setRequestHeader('content-type', 'application/octet-stream');
    request.setRequestHeader(CSRF_HEADER, '1');
    request.upload.onprogress = (event) => onSent(event.loaded);
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) return resolve();
      let detail = `${request.status} ${request.statusText}`;
      try {
        const problem = JSON.parse(request.responseText) as { detail?: string };
        if (problem.detail) detail = problem.detail;
      } catch {
        // Not JSON: the status line says enough.
      }
      if (request.status === 401) reportUnauthorized(detail);
      reject(new ApiError(detail, request.status));
    };
    request.onerror = () =>
      reject(new ApiError('the connection to the dashboard server failed', 0));
    request.send(file);
  });
}

function joinPath(dir: string, name: string): string {
  const base = dir.trim().replace(/\/+$/, '');
  return `${base.startsWith('/') ? base : `/${base}`}/${name}`;
}

export function UploadPanel(props: { dir: string; onUploaded: () => void }): ReactNode {
  const input = useRef<HTMLInputElement>(null);
  const [target, setTarget] = useState<string | null>(null);
  const [overwrite, setOverwrite] = useState(false);
  const [uploads, setUploads] = useState<UploadState[]>([]);
  const [busy, setBusy] = useState(false);
  const nextId = useRef(1);
  const targetDir = target ?? props.dir;

  const update = (id: number, change: Partial<UploadState>): void =>
    setUploads((list) => list.map((item) => (item.id === id ? { ...item, ...change } : item)));

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const files = [...(input.current?.files ?? [])];
    if (files.length === 0) return;
    const queued = files.map((file) => ({
      file,
      state: {
        id: nextId.current++,
        name: file.name,
        path: joinPath(targetDir, file.name),
        size: file.size,
        sent: 0,
        startedAtMs: 0,
        status: 'waiting' as const,
      },
    }));
    setUploads((list) => [...queued.map((item) => item.state), ...list].slice(0, 20));
    setBusy(true);
    for (const { file, state } of queued) {
      update(state.id, { status: 'uploading', startedAtMs: Date.now() });
      try {
        await sendFile(file, state.path, overwrite, (sent) => update(state.id, { sent }));
        update(state.id, { status: 'done', sent: state.size });
        props.onUploaded();
      } catch (error) {
        update(state.id, { status: 'failed', error: messageOf(error) });
      }
    }
    setBusy(false);
    if (input.current) input.current.value = '';
  };

  return (
    <Panel title="Upload" wide testId="upload">
      <form className="upload-form" onSubmit={(event) => void submit(event)}>
        <input
          ref={input}
          type="file"
          multiple
          aria-label="Files to upload"
          data-testid="upload-input"
        />
        <label>
          to directory{' '}
          <input
            className="mono"
            value={targetDir}
            onChange={(event) => setTarget(event.target.value)}
            aria-label="Target directory"
          />
        </label>
        <label>
          <input
            type="checkbox"
            checked={overwrite}
            onChange={(event) => setOverwrite(event.target.checked)}
          />{' '}
          overwrite
        </label>
        <button type="submit" className="primary" disabled={busy} data-testid="upload-button">
          {busy ? 'Uploading…' : 'Upload'}
        </button>
      </form>
      <ul className="uploads plain">
        {uploads.map((item) => (
          <UploadRow key={item.id} item={item} />
        ))}
      </ul>
    </Panel>
  );
}

function UploadRow(props: { item: UploadState }): ReactNode {
  const { item } = props;
  const share = item.size > 0 ? item.sent / item.size : item.status === 'done' ? 1 : 0;
  const seconds = (Date.now() - item.startedAtMs) / 1000;
  const speed =
    item.status === 'uploading' && seconds > 0.5 ? ` · ${formatBytes(item.sent / seconds)}/s` : '';
  return (
    <li
      className={`upload upload-${item.status}`}
      data-testid="upload-row"
      data-status={item.status}
    >
      <div className="upload-line">
        <span className="mono ellipsis">{item.path}</span>
        <span>
          {item.status === 'done'
            ? `stored (${formatBytes(item.size)})`
            : item.status === 'failed'
              ? 'failed'
              : item.status === 'uploading' && item.sent >= item.size
                ? 'committing…'
                : `${formatBytes(item.sent)} of ${formatBytes(item.size)}${speed}`}
        </span>
      </div>
      <progress max={1} value={share} aria-label={`upload of ${item.name}`} />
      {item.error ? <ErrorNote title="Upload failed" message={item.error} /> : null}
    </li>
  );
}
