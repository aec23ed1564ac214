/**
 * The dashboard's session cookie (docs/web.md, "Signing in"). Pure.
 *
 * `HttpOnly`: the app's scripts never read the token, so an injected script cannot steal it.
 * `SameSite=Strict`: the browser sends it only on requests this site starts. `Path=/`: every
 * route (the API, the event stream, downloads). `Secure` when the web server serves HTTPS.
 * `Max-Age`: the token's remaining life, so the cookie ends with the token.
 */

/** Name of the cookie that carries the signed-in user's API token. */
export const SESSION_COOKIE = 'tessera_session';

/** A token is base64url segments joined by dots: nothing a cookie value must escape. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*)*$/;

/** The `Set-Cookie` value that keeps `token` for `maxAgeS` seconds. */
export function sessionCookie(token: string, maxAgeS: number, secure: boolean): string {
  if (!TOKEN_PATTERN.test(token)) throw new RangeError('a token must be base64url and dots');
  if (!Number.isSafeInteger(maxAgeS) || maxAgeS <= 0) throw new RangeError('Max-Age must be > 0');
  return cookieLine(token, maxAgeS, secure);
}

/** The `Set-Cookie` value that removes the session cookie. */
export function clearedSessionCookie(secure: boolean): string {
  return cookieLine('', 0, secure);
}

function cookieLine(value: string, maxAgeS: number, secure: boolean): string {
  const attributes = ['Path=/', `Max-Age=${maxAgeS}`, 'HttpOnly', 'SameSite=Strict'];
  if (secure) attributes.push('Secure');
  return [`${SESSION_COOKIE}=${value}`, ...attributes].join('; ');
}
