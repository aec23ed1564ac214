/**
 * Signing in with one's own token when the dashboard runs with `--auth` (docs/web.md, "Signing
 * in"). The server keeps the token in an HttpOnly cookie, so the app never holds it after the
 * sign-in: every fetch, event stream, download link and upload carries it by itself. The app
 * asks `GET /api/session` who is signed in at start, shows the sign-in panel whenever a call
 * answers 401 (no session, or the token expired), and remounts the pages after a sign-in so
 * that streams closed by a 401 reconnect.
 */
import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react';
import type { SessionView } from '../../api-types.js';
import { ApiError, fetchJson, messageOf, onUnauthorized, sendJson } from './api.js';
import { ErrorNote, Panel } from './components.js';

type SignedInView = Extract<SessionView, { auth: true }>;

const FIRST_VISIT = 'Sign in to use it.';

export type SessionState =
  | { readonly kind: 'checking' }
  /** No sign-in applies: the server checks no tokens (or could not say; pages show why). */
  | { readonly kind: 'open' }
  | { readonly kind: 'signed-in'; readonly view: SignedInView }
  /** `reason`: a sentence on why the panel shows (first visit, a refused call, Sign out). */
  | { readonly kind: 'signed-out'; readonly reason: string };

export interface Session {
  readonly state: SessionState;
  /** Changes on every sign-in: the key that remounts the pages. */
  readonly epoch: number;
  /** Sends the token to `POST /api/session`; throws `ApiError` (401) when it is refused. */
  readonly signIn: (token: string) => Promise<void>;
  readonly signOut: () => Promise<void>;
}

/** The session of this browser with the dashboard server. */
export function useSession(): Session {
  const [state, setState] = useState<SessionState>({ kind: 'checking' });
  const [epoch, setEpoch] = useState(0);
  // The first refusal says why (e.g. the token expired); later ones while signed out add nothing.
  useEffect(
    () =>
      onUnauthorized((detail) =>
        setState((old) =>
          old.kind === 'signed-out'
            ? old
            : { kind: 'signed-out', reason: `The server refused a call: ${detail}.` },
        ),
      ),
    [],
  );
  useEffect(() => {
    const controller = new AbortController();
    fetchJson<SessionView>('/api/session', { signal: controller.signal })
      .then((view) => setState(view.auth ? { kind: 'signed-in', view } : { kind: 'open' }))
      .catch((error: unknown) => {
        // Anything but a 401 is left to the pages to show.
        if (controller.signal.aborted) return;
        const unauthorized = error instanceof ApiError && error.status === 401;
        setState(unauthorized ? { kind: 'signed-out', reason: FIRST_VISIT } : { kind: 'open' });
      });
    return () => controller.abort();
  }, []);
  const signIn = useCallback(async (token: string): Promise<void> => {
    const view = await sendJson<SessionView>('POST', '/api/session', { token });
    setState(view.auth ? { kind: 'signed-in', view } : { kind: 'open' });
    setEpoch((value) => value + 1);
  }, []);
  const signOut = useCallback(async (): Promise<void> => {
    await sendJson('DELETE', '/api/session');
    setState({ kind: 'signed-out', reason: 'You signed out.' });
  }, []);
  return { state, epoch, signIn, signOut };
}

/** The header's part: who is signed in, with which role, and a Sign out button. */
export function SessionControl(props: { session: Session }): ReactNode {
  const { state, signOut } = props.session;
  const [error, setError] = useState<string | undefined>();
  if (state.kind !== 'signed-in') return null;
  const until = new Date(state.view.expires_at_ms).toLocaleString();
  return (
    <div className="session" data-testid="session">
      <span className="session-user" title={`signed in until ${until}`}>
        <span data-testid="session-subject">{state.view.subject}</span>
        <span className="session-role" data-testid="session-role">
          {state.view.role}
        </span>
      </span>
      <button
        type="button"
        className="link session-out"
        data-testid="sign-out"
        title={error}
        onClick={() => void signOut().catch((failure: unknown) => setError(messageOf(failure)))}
      >
        Sign out
      </button>
    </div>
  );
}

/** What the app shows instead of a page while nobody is signed in. */
export function SignInPanel(props: { session: Session; reason: string }): ReactNode {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (token.trim() === '') return;
    setBusy(true);
    setError(undefined);
    try {
      await props.session.signIn(token.trim());
    } catch (failure) {
      setError(messageOf(failure));
      setBusy(false);
    }
  };
  return (
    <Panel title="Sign in" wide testId="sign-in">
      <p className="muted" data-testid="sign-in-reason">
        This dashboard runs with <code>--auth</code> and needs your API token. {props.reason}
      </p>
      <form className="sign-in-form" onSubmit={(event) => void submit(event)}>
        <label className="stacked">
          API token
          <input
            type="password"
            className="mono"
            autoComplete="off"
            spellCheck={false}
            placeholder="eyJhbGciOi…"
            value={token}
            onChange={(event) => setToken(event.target.value)}
            data-testid="token-input"
          />
        </label>
        <button type="submit" className="primary" disabled={busy} data-testid="sign-in-button">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {error ? <ErrorNote title="Sign-in refused" message={error} /> : null}
      <p className="muted">
        No token? Someone who holds the cluster’s secret creates one:{' '}
        <code>
          tessera token create --subject NAME --role reader|writer|admin --auth-secret-file SECRET
        </code>{' '}
        (reader looks; writer also uploads, deletes and submits jobs; admin may do everything). The
        token stays in an HttpOnly cookie of this site until it expires or you sign out.
      </p>
    </Panel>
  );
}
