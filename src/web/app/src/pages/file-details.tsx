/** A file's details: its metadata, and each chunk with its replicas and their state (live). */
import type { ReactNode } from 'react';
import type { WireFileMetadata } from '../../../api-types.js';
import { downloadUrl, usePolling } from '../api.js';
import { Async, ErrorNote, Panel, Stat, StatusBadge } from '../components.js';
import { baseName, formatBytes, formatTime } from '../format.js';
import { href, type Route } from '../router.js';

export function FileDetailsPage(props: { route: Route }): ReactNode {
  const path = props.route.params.get('path');
  const parent = path ? path.replace(/\/[^/]+$/, '') || '/' : '/';
  const metadata = usePolling<WireFileMetadata>(
    path ? `/api/files/stat?path=${encodeURIComponent(path)}` : null,
    3_000,
  );
  if (!path) return <ErrorNote title="No file chosen" message="Open a file from the Files page." />;
  return (
    <div className="grid">
      <Panel
        title={baseName(path)}
        wide
        testId="file-details"
        actions={
          <>
            <a href={href('/files', { dir: parent })}>← {parent}</a>{' '}
            <a className="button" href={downloadUrl(path)} download={baseName(path)}>
              Download
            </a>
          </>
        }
      >
        <Async data={metadata.data} error={metadata.error} what={path}>
          {(file) => <Details file={file} />}
        </Async>
      </Panel>
    </div>
  );
}

function Details(props: { file: WireFileMetadata }): ReactNode {
  const { file } = props;
  return (
    <>
      <div className="stats">
        <Stat
          label="size"
          value={formatBytes(file.size)}
          hint={`${file.size.toLocaleString('en-US')} bytes`}
        />
        <Stat
          label="chunks"
          value={file.chunks.length}
          hint={`of ${formatBytes(file.chunk_size)}`}
        />
        <Stat label="replication factor" value={file.replication_factor} />
        <Stat
          label="modified"
          value={formatTime(file.modified_at)}
          hint={`created ${formatTime(file.created_at)}`}
        />
      </div>
      <p className="mono muted small">file id {file.file_id}</p>
      <div className="table-wrap">
        <table data-testid="chunk-table">
          <thead>
            <tr>
              <th>#</th>
              <th>Chunk</th>
              <th>Size</th>
              <th>SHA-256</th>
              <th>Replicas</th>
            </tr>
          </thead>
          <tbody>
            {file.chunks.map((chunk) => {
              const live = chunk.replicas.filter((replica) => replica.state === 'active').length;
              return (
                <tr key={chunk.chunk_id} data-testid="chunk-row">
                  <td>{chunk.seq_index}</td>
                  <td className="mono" title={chunk.chunk_id}>
                    {chunk.chunk_id.slice(0, 8)}…
                  </td>
                  <td>{formatBytes(chunk.size)}</td>
                  <td className="mono" title={chunk.checksum}>
                    {chunk.checksum.slice(0, 12)}…
                  </td>
                  <td>
                    <span className={live < file.replication_factor ? 'warn' : 'ok'}>
                      {live}/{file.replication_factor} live
                    </span>
                    <ul className="replicas plain">
                      {chunk.replicas.map((replica) => (
                        <li key={replica.node_id} data-testid="replica">
                          <StatusBadge status={replica.state} />{' '}
                          <span className="mono">{replica.node_id}</span>
                          {replica.checksum_verified ? (
                            <span className="muted" title="checksum confirmed by the datanode">
                              {' '}
                              ✓ verified
                            </span>
                          ) : null}
                        </li>
                      ))}
                    </ul>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {file.chunks.length === 0 ? <p className="muted">An empty file has no chunks.</p> : null}
    </>
  );
}
