/**
 * Talking to the dashboard server: JSON with problem+json errors turned into readable
 * messages, polling (never more often than every 2 s), server-sent events, and a ticking
 * clock for "seconds ago" labels. With `--auth` the browser's session cookie carries the
 * user's token on every call (session.tsx); any 401 tells the app to show its sign-in panel.
 */
import { useCallback, useEffect, useRef, useState } from 'react';

/** The fastest any page polls (issue 6: no more often than every 2 s). */
export const MIN_POLL_MS = 2_000;

/** A failed call: the server's words when it sent a problem+json, else what went wrong. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The header the server asks of signed-in requests that change something (CSRF). */
export const CSRF_HEADER = 'x-tessera-csrf';

const unauthorizedListeners = new Set<(detail: string) => void>();

/** Calls `listener` with the server's words whenever a call answers 401; returns the undo. */
export function onUnauthorized(listener: (detail: string) => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** Tells the app that the server wants a (new) token: a call answered 401. */
export function reportUnauthorized(detail: string): void {
  for (const listener of unauthorizedListeners) listener(detail);
}

/** Reads a failed response's problem+json `detail`, or its status line. */
export async function errorFrom(response: Response): Promise<ApiError> {
  let detail = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { detail?: unknown; title?: unknown };
    if (typeof body.detail === 'string') detail = body.detail;
    else if (typeof body.title === 'string') detail = body.title;
  } catch {
    // Not JSON: the status line says enough.
  }
  if (response.status === 401) reportUnauthorized(detail);
  return new ApiError(detail, response.status);
}

/** Fetches JSON; throws `ApiError` with a message fit to show. */
export async function fetchJson<T>(url: string, init?: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, withCsrfHeader(init));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ApiError(`Cannot reach the dashboard server (${reason}).`, 0);
  }
  if (!response.ok) throw await errorFrom(response);
  return (await response.json()) as T;
}

/** `init` with the CSRF header added when the method changes something. */
function withCsrfHeader(init: RequestInit | undefined): RequestInit | undefined {
  const method = (init?.method ?? 'GET').toUpperCase();
  if (method === 'GET' || method === 'HEAD') return init;
  const headers = new Headers(init?.headers);
  headers.set(CSRF_HEADER, '1');
  return { ...init, headers };
}

/** Sends JSON (POST, DELETE, ...) and reads the JSON answer; throws `ApiError`. */
export async function sendJson<T>(method: string, url: string, body?: unknown): Promise<T> {
  return fetchJson<T>(url, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
}

/** The message of any thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export interface Polled<T> {
  readonly data: T | undefined;
  readonly error: string | undefined;
  readonly loading: boolean;
  /** Wall-clock ms of the last good answer. */
  readonly updatedAtMs: number | undefined;
  readonly refresh: () => void;
}

/** GETs `url` now and every `intervalMs` (at least 2 s) while the page is visible. */
export function usePolling<T>(url: string | null, intervalMs: number): Polled<T> {
  const [state, setState] = useState<{
    data?: T;
    error?: string;
    updatedAtMs?: number;
    loading: boolean;
  }>({
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const refresh = useCallback(() => setTick((value) => value + 1), []);
  useEffect(() => {
    if (url === null) return undefined;
    let cancelled = false;
    let timer: number | undefined;
    const controller = new AbortController();
    const load = async (): Promise<void> => {
      if (document.visibilityState !== 'hidden') {
        try {
          const data = await fetchJson<T>(url, { signal: controller.signal });
          if (!cancelled) setState({ data, loading: false, updatedAtMs: Date.now() });
        } catch (error) {
          if (!cancelled) setState((old) => ({ ...old, error: messageOf(error), loading: false }));
        }
      }
      if (!cancelled)
        timer = window.setTimeout(() => void load(), Math.max(MIN_POLL_MS, intervalMs));
    };
    void load();
    return () => {
      cancelled = true;
      controller.abort();
      window.clearTimeout(timer);
    };
  }, [url, intervalMs, tick]);
  return {
    data: state.data,
    error: state.error,
    loading: state.loading,
    updatedAtMs: state.updatedAtMs,
    refresh,
  };
}

export interface Fetched<T> {
  readonly data: T | undefined;
  readonly error: string | undefined;
  readonly loading: boolean;
  /** The URL `data` or `error` came from (the current one, or the one before it). */
  readonly answeredUrl: string | undefined;
  /** Fetches the same URL again. */
  readonly refresh: () => void;
}

/** GETs `url` once, and again whenever it changes or `refresh` is called (no polling). */
export function useFetch<T>(url: string | null): Fetched<T> {
  const [state, setState] = useState<{
    data?: T;
    error?: string;
    answeredUrl?: string;
    loading: boolean;
  }>({ loading: false });
  const [tick, setTick] = useState(0);
  const refresh = useCallback(() => setTick((value) => value + 1), []);
  useEffect(() => {
    if (url === null) {
      setState({ loading: false });
      return undefined;
    }
    const controller = new AbortController();
    setState((old) => ({ ...old, loading: true }));
    fetchJson<T>(url, { signal: controller.signal })
      .then((data) => setState({ data, answeredUrl: url, loading: false }))
      .catch((error: unknown) => {
        if (!controller.signal.aborted) {
          setState({ error: messageOf(error), answeredUrl: url, loading: false });
        }
      });
    return () => controller.abort();
  }, [url, tick]);
  return {
    data: state.data,
    error: state.error,
    loading: state.loading,
    answeredUrl: state.answeredUrl,
    refresh,
  };
}

export interface Streamed<T> {
  readonly data: T | undefined;
  readonly connected: boolean;
  /** Wall-clock ms of the last event. */
  readonly receivedAtMs: number | undefined;
}

/** Follows a server-sent event stream; the browser reconnects by itself after a failure. */
export function useEventStream<T>(url: string, event: string): Streamed<T> {
  const [state, setState] = useState<Streamed<T>>({
    data: undefined,
    connected: false,
    receivedAtMs: undefined,
  });
  useEffect(() => {
    const source = new EventSource(url);
    const onData = (message: MessageEvent<string>): void => {
      const data = JSON.parse(message.data) as T;
      setState({ data, connected: true, receivedAtMs: Date.now() });
    };
    source.addEventListener(event, onData);
    source.onopen = () => setState((old) => ({ ...old, connected: true }));
    source.onerror = () => setState((old) => ({ ...old, connected: false }));
    return () => source.close();
  }, [url, event]);
  return state;
}

/** The current time, re-read every `periodMs`, for ages that grow on screen. */
export function useNow(periodMs = 1_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), periodMs);
    return () => window.clearInterval(timer);
  }, [periodMs]);
  return now;
}

/** Keeps the latest value of a callback without re-running effects that use it. */
export function useLatest<T>(value: T): { readonly current: T } {
  const ref = useRef(value);
  ref.current = value;
  return ref;
}

/** The URL of a file's download. */
export function downloadUrl(path: string): string {
  return `/api/files/content?path=${encodeURIComponent(path)}`;
}
