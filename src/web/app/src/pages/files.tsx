/**
 * Files: browse the DFS namespace directory by directory, upload from the browser with a
 * progress bar, download, rename, delete after a confirmation, and find files by content
 * (through the search cluster).
 */
import { useState, type ReactNode } from 'react';
import type { DirectoryListing, WireFileSummary } from '../../../api-types.js';
import { downloadUrl, fetchJson, messageOf, usePolling } from '../api.js';
import { Async, ConfirmDialog, Panel } from '../components.js';
import { baseName, formatBytes, formatTime } from '../format.js';
import { href, type Route } from '../router.js';
import { ContentSearchPanel } from './content-search.js';
import { UploadPanel } from './upload.js';

/** `/data/` or `/data` -> `/data`; empty -> `/`. */
export function normalizeDir(dir: string | null): string {
  const trimmed = (dir ?? '/').replace(/\/+$/, '');
  return trimmed.startsWith('/') ? trimmed || '/' : `/${trimmed}`;
}

export function FilesPage(props: { route: Route }): ReactNode {
  const dir = normalizeDir(props.route.params.get('dir'));
  const listing = usePolling<DirectoryListing>(`/api/files?dir=${encodeURIComponent(dir)}`, 5_000);
  const [filter, setFilter] = useState('');
  return (
    <div className="grid">
      <Panel title="Browse" wide testId="files-browser" actions={<Breadcrumbs dir={dir} />}>
        <div className="filters">
          <input
            type="search"
            placeholder="Filter this directory by name"
            value={filter}
            onChange={(event) => setFilter(event.target.value)}
            aria-label="Filter by name"
          />
        </div>
        <Async data={listing.data} error={listing.error} what={`the directory ${dir}`}>
          {(data) => <Listing listing={data} filter={filter} onChanged={listing.refresh} />}
        </Async>
      </Panel>
      <ContentSearchPanel />
      <UploadPanel dir={dir} onUploaded={listing.refresh} />
    </div>
  );
}

function Breadcrumbs(props: { dir: string }): ReactNode {
  const parts = props.dir.split('/').filter(Boolean);
  return (
    <nav className="breadcrumbs" aria-label="Directory">
      <a href={href('/files', { dir: '/' })}>/</a>
      {parts.map((part, index) => {
        const path = `/${parts.slice(0, index + 1).join('/')}`;
        return (
          <span key={path}>
            <a href={href('/files', { dir: path })}>{part}</a>/
          </span>
        );
      })}
    </nav>
  );
}

type Pending =
  { kind: 'delete'; file: WireFileSummary } | { kind: 'rename'; file: WireFileSummary };

function Listing(props: {
  listing: DirectoryListing;
  filter: string;
  onChanged: () => void;
}): ReactNode {
  const [pending, setPending] = useState<Pending | null>(null);
  const needle = props.filter.trim().toLowerCase();
  const matches = (path: string): boolean =>
    !needle || baseName(path).toLowerCase().includes(needle);
  const directories = props.listing.directories.filter(matches);
  const files = props.listing.files.filter((file) => matches(file.path));
  const parent =
    props.listing.dir === '/' ? null : props.listing.dir.replace(/\/[^/]+$/, '') || '/';
  return (
    <>
      <div className="table-wrap">
        <table className="files">
          <thead>
            <tr>
              <th>Name</th>
              <th>Size</th>
              <th>Chunks</th>
              <th>Replicas</th>
              <th>Modified</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {parent !== null ? (
              <tr>
                <td colSpan={6}>
                  <a href={href('/files', { dir: parent })}>⬑ ..</a>
                </td>
              </tr>
            ) : null}
            {directories.map((directory) => (
              <tr key={directory} data-testid={`dir-${directory}`}>
                <td colSpan={6}>
                  <a href={href('/files', { dir: directory })}>
                    <FolderIcon /> {baseName(directory)}/
                  </a>
                </td>
              </tr>
            ))}
            {files.map((file) => (
              <FileRow key={file.path} file={file} onAction={setPending} />
            ))}
          </tbody>
        </table>
      </div>
      {directories.length + files.length === 0 ? (
        <p className="muted">
          {needle
            ? 'Nothing here matches the filter.'
            : 'This directory is empty. Upload a file below.'}
        </p>
      ) : null}
      {props.listing.next_after ? (
        <p className="muted">Only the first {props.listing.files.length} files are shown.</p>
      ) : null}
      {pending?.kind === 'delete' ? (
        <DeleteDialog
          file={pending.file}
          onDone={() => {
            setPending(null);
            props.onChanged();
          }}
          onCancel={() => setPending(null)}
        />
      ) : null}
      {pending?.kind === 'rename' ? (
        <RenameDialog
          file={pending.file}
          onDone={() => {
            setPending(null);
            props.onChanged();
          }}
          onCancel={() => setPending(null)}
        />
      ) : null}
    </>
  );
}

function FolderIcon(): ReactNode {
  return (
    <svg className="folder-icon" viewBox="0 0 16 16" aria-hidden="true">
      <path d="M1 3.5A1.5 1.5 0 0 1 2.5 2h3.6l1.5 1.5h5.9A1.5 1.5 0 0 1 15 5v7.5a1.5 1.5 0 0 1-1.5 1.5h-11A1.5 1.5 0 0 1 1 12.5z" />
    </svg>
  );
}

function FileRow(props: {
  file: WireFileSummary;
  onAction: (pending: Pending) => void;
}): ReactNode {
  const { file } = props;
  return (
    <tr data-testid={`file-${file.path}`}>
      <td>
        <a href={href('/files/detail', { path: file.path })} className="file-name">
          {baseName(file.path)}
        </a>
      </td>
      <td>{formatBytes(file.size)}</td>
      <td>{file.chunk_count}</td>
      <td>
        <span
          className={file.under_replicated ? 'warn' : 'ok'}
          title="fewest live replicas of a chunk / replication factor"
        >
          {file.min_live_replicas}/{file.replication_factor}
          {file.under_replicated ? ' under-replicated' : ''}
        </span>
      </td>
      <td>{formatTime(file.modified_at)}</td>
      <td className="actions">
        <a
          className="button"
          href={downloadUrl(file.path)}
          download={baseName(file.path)}
          data-testid="download"
        >
          Download
        </a>
        <button type="button" onClick={() => props.onAction({ kind: 'rename', file })}>
          Rename
        </button>
        <button
          type="button"
          className="danger"
          onClick={() => props.onAction({ kind: 'delete', file })}
          data-testid="delete"
        >
          Delete
        </button>
      </td>
    </tr>
  );
}

function DeleteDialog(props: {
  file: WireFileSummary;
  onDone: () => void;
  onCancel: () => void;
}): ReactNode {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const confirm = (): void => {
    setBusy(true);
    fetchJson(`/api/files?path=${encodeURIComponent(props.file.path)}`, { method: 'DELETE' })
      .then(props.onDone)
      .catch((failure: unknown) => {
        setError(messageOf(failure));
        setBusy(false);
      });
  };
  return (
    <ConfirmDialog
      title="Delete this file?"
      confirmLabel="Delete"
      danger
      busy={busy}
      error={error}
      onConfirm={confirm}
      onCancel={props.onCancel}
    >
      <p>
        <span className="mono">{props.file.path}</span> ({formatBytes(props.file.size)},{' '}
        {props.file.chunk_count} {props.file.chunk_count === 1 ? 'chunk' : 'chunks'}) will be
        deleted and its chunks removed from the datanodes. This cannot be undone.
      </p>
    </ConfirmDialog>
  );
}

function RenameDialog(props: {
  file: WireFileSummary;
  onDone: () => void;
  onCancel: () => void;
}): ReactNode {
  const [target, setTarget] = useState(props.file.path);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const confirm = (): void => {
    setBusy(true);
    const body = JSON.stringify({ from: props.file.path, to: target.trim() });
    fetchJson('/api/files/rename', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    })
      .then(props.onDone)
      .catch((failure: unknown) => {
        setError(messageOf(failure));
        setBusy(false);
      });
  };
  return (
    <ConfirmDialog
      title="Rename or move"
      confirmLabel="Rename"
      busy={busy}
      error={error}
      onConfirm={confirm}
      onCancel={props.onCancel}
    >
      <label className="stacked">
        New path
        <input
          value={target}
          onChange={(event) => setTarget(event.target.value)}
          className="mono"
        />
      </label>
    </ConfirmDialog>
  );
}
