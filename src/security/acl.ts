/**
 * Per-file access control (dfs-architecture.md, "Autorización": "ACLs por archivo: permisos de
 * lectura/escritura, ownership y grupos, validación en cada operación"). Pure.
 *
 * A file has an owner (the token subject that created it), an optional group and a Unix-style
 * mode with read and write bits for owner, group and others (`0o640` = owner rw, group r,
 * others nothing). The execute bits are kept but mean nothing: DFS files are data. An admin
 * token passes every check; a file without an ACL (written while auth was off) is open to every
 * role that may reach the route.
 */
import type { Principal } from './roles.js';

/** The ACL of one file. */
export interface FileAcl {
  readonly owner: string;
  readonly group: string | null;
  /** Permission bits, 0 to 0o777. */
  readonly mode: number;
}

/** What an operation needs of a file: reading (stat, get, list) or writing (put, delete, rename). */
export type FileAccess = 'read' | 'write';

/** Mode of new files when the upload names none: owner rw, group and others r. */
export const DEFAULT_FILE_MODE = 0o644;

/** Whether `principal` may `access` a file with `acl`; see the module comment. */
export function aclAllows(
  acl: FileAcl | undefined,
  principal: Principal,
  access: FileAccess,
): boolean {
  if (acl === undefined || principal.role === 'admin') return true;
  const bit = access === 'read' ? 0o4 : 0o2;
  if (principal.subject === acl.owner) return ((acl.mode >> 6) & bit) !== 0;
  if (acl.group !== null && principal.groups.includes(acl.group)) {
    return ((acl.mode >> 3) & bit) !== 0;
  }
  return (acl.mode & bit) !== 0;
}

/** Whether `principal` may change a file's mode and group: its owner, or an admin. */
export function mayChangeAcl(acl: FileAcl | undefined, principal: Principal): boolean {
  return principal.role === 'admin' || acl === undefined || acl.owner === principal.subject;
}

/**
 * The ACL of a file `principal` uploads: the replaced file's ACL when it overwrites one (as a
 * Unix overwrite keeps the inode's owner), otherwise owned by the uploader, with the requested
 * group (default: the uploader's first group) and mode (default `DEFAULT_FILE_MODE`).
 */
export function aclForUpload(
  principal: Principal,
  request: { readonly mode?: number; readonly group?: string },
  replaced: FileAcl | undefined,
): FileAcl {
  if (replaced !== undefined && request.mode === undefined && request.group === undefined) {
    return replaced;
  }
  return {
    owner: replaced?.owner ?? principal.subject,
    group: request.group ?? replaced?.group ?? principal.groups[0] ?? null,
    mode: request.mode ?? replaced?.mode ?? DEFAULT_FILE_MODE,
  };
}

/** Parses an octal mode: `640`, `0640` or `0o640`; undefined if not one. */
export function parseMode(raw: string): number | undefined {
  const match = /^(?:0o?)?([0-7]{3})$/.exec(raw.trim());
  return match === null ? undefined : parseInt(match[1] ?? '', 8);
}

/** `rw-r-----` for `0o640`. */
export function formatMode(mode: number): string {
  let text = '';
  for (const shift of [6, 3, 0]) {
    const bits = (mode >> shift) & 0o7;
    text += `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${bits & 1 ? 'x' : '-'}`;
  }
  return text;
}
