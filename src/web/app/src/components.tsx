/** The small building blocks every page uses. */
import { useEffect, useRef, type ReactNode } from 'react';
import { formatBytes } from './format.js';

/** A titled box of a page. */
export function Panel(props: {
  title: string;
  children: ReactNode;
  actions?: ReactNode;
  testId?: string;
  wide?: boolean;
}): ReactNode {
  return (
    <section className={props.wide ? 'panel wide' : 'panel'} data-testid={props.testId}>
      <header className="panel-header">
        <h2>{props.title}</h2>
        {props.actions ? <div className="panel-actions">{props.actions}</div> : null}
      </header>
      <div className="panel-body">{props.children}</div>
    </section>
  );
}

/** What a failing service shows where its data would be. */
export function ErrorNote(props: { title?: string; message: string }): ReactNode {
  return (
    <div className="error-note" role="alert" data-testid="error-note">
      <strong>{props.title ?? 'Not available'}</strong>
      <span>{props.message}</span>
    </div>
  );
}

/** Shown until the first answer. */
export function Loading(props: { what: string }): ReactNode {
  return <p className="muted">Loading {props.what}…</p>;
}

/** Renders `data` once it came, else the error, else a loading line. */
export function Async<T>(props: {
  data: T | undefined;
  error: string | undefined;
  what: string;
  /** The title of the message shown when there is no data, e.g. "Search not available". */
  errorTitle?: string;
  children: (data: T) => ReactNode;
}): ReactNode {
  if (props.data !== undefined) {
    return (
      <>
        {props.error ? <p className="stale">Could not refresh: {props.error}</p> : null}
        {props.children(props.data)}
      </>
    );
  }
  if (props.error) {
    return <ErrorNote message={props.error} title={props.errorTitle ?? 'Not available'} />;
  }
  return <Loading what={props.what} />;
}

/** One big figure with a label. */
export function Stat(props: {
  label: string;
  value: ReactNode;
  hint?: string;
  warn?: boolean;
  testId?: string;
}): ReactNode {
  return (
    <div className={props.warn ? 'stat warn' : 'stat'} data-testid={props.testId}>
      <div className="stat-value">{props.value}</div>
      <div className="stat-label">{props.label}</div>
      {props.hint ? <div className="stat-hint">{props.hint}</div> : null}
    </div>
  );
}

/** A coloured status word: active, inactive, dead, corrupt. */
export function StatusBadge(props: { status: string }): ReactNode {
  return <span className={`badge badge-${props.status}`}>{props.status}</span>;
}

/** Used space over total, as a bar with figures. */
export function StorageBar(props: { usedBytes: number; totalBytes: number }): ReactNode {
  const share = props.totalBytes > 0 ? Math.min(1, props.usedBytes / props.totalBytes) : 0;
  const level = share > 0.9 ? 'bar-fill full' : share > 0.75 ? 'bar-fill high' : 'bar-fill';
  return (
    <div className="storage">
      <div
        className="bar"
        role="meter"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(share * 100)}
      >
        <div className={level} style={{ width: `${(share * 100).toFixed(1)}%` }} />
      </div>
      <div className="storage-figures">
        {formatBytes(props.usedBytes)} used of {formatBytes(props.totalBytes)} (
        {(share * 100).toFixed(1)}%)
      </div>
    </div>
  );
}

/** A modal question with a confirm and a cancel button. */
export function ConfirmDialog(props: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: string | undefined;
  onConfirm: () => void;
  onCancel: () => void;
}): ReactNode {
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => cancel.current?.focus(), []);
  return (
    <div className="dialog-backdrop" onClick={props.onCancel}>
      <div
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-label={props.title}
        onClick={(event) => event.stopPropagation()}
        onKeyDown={(event) => event.key === 'Escape' && props.onCancel()}
      >
        <h3>{props.title}</h3>
        <div className="dialog-body">{props.children}</div>
        {props.error ? <ErrorNote title="Failed" message={props.error} /> : null}
        <div className="dialog-buttons">
          <button ref={cancel} type="button" onClick={props.onCancel} disabled={props.busy}>
            Cancel
          </button>
          <button
            type="button"
            className={props.danger ? 'danger' : 'primary'}
            onClick={props.onConfirm}
            disabled={props.busy}
          >
            {props.confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}

/** A phase's or a task's progress as a bar with a label. */
export function ProgressBar(props: {
  fraction: number;
  label?: string;
  testId?: string;
  state?: string;
}): ReactNode {
  const share = Math.max(0, Math.min(1, Number.isFinite(props.fraction) ? props.fraction : 0));
  const tone =
    props.state === 'failed' || props.state === 'dead-lettered'
      ? 'bar-fill full'
      : props.state === 'succeeded'
        ? 'bar-fill done'
        : 'bar-fill';
  return (
    <div className="progress" data-testid={props.testId}>
      <div
        className="bar"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(share * 100)}
        aria-label={props.label}
      >
        <div className={tone} style={{ width: `${(share * 100).toFixed(1)}%` }} />
      </div>
      {props.label ? <div className="progress-label">{props.label}</div> : null}
    </div>
  );
}
