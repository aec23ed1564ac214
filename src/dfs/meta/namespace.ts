/**
 * The DFS namespace: absolute, normalized paths (pure). A path is `/` followed by segments
 * separated by single slashes; no segment is empty, `.` or `..`; no control characters; at
 * most 4096 bytes, each segment at most 255. Directories are implicit: they exist while a file
 * lives under them, as in object stores (and unlike HDFS, there is no mkdir).
 */

export const MAX_PATH_BYTES = 4096;
const MAX_SEGMENT_BYTES = 255;

/** Why a path is refused, or null when it is valid. */
export function pathProblem(path: string): string | null {
  if (!path.startsWith('/')) return 'a DFS path is absolute: it starts with /';
  if (path === '/') return 'the root is a directory, not a file';
  if (Buffer.byteLength(path) > MAX_PATH_BYTES)
    return `a DFS path is at most ${MAX_PATH_BYTES} bytes`;
  if (path.endsWith('/')) return 'a file path does not end with /';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we refuse
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'a DFS path has no control characters';
  for (const segment of path.slice(1).split('/')) {
    if (segment === '') return 'a DFS path has no empty segments (//)';
    if (segment === '.' || segment === '..') return 'a DFS path has no . or .. segments';
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES)
      return `a path segment is at most ${MAX_SEGMENT_BYTES} bytes`;
  }
  return null;
}

/** Normalizes a directory argument: `/`, or an absolute path without a trailing slash. */
export function normalizeDirectory(dir: string): string | null {
  if (dir === '/' || dir === '') return '/';
  const trimmed = dir.endsWith('/') ? dir.slice(0, -1) : dir;
  return pathProblem(trimmed) === null ? trimmed : null;
}

/** The directory holding `path`: `/a/b/c.txt` -> `/a/b`, `/c.txt` -> `/`. */
export function parentOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

/**
 * The immediate children of `dir` among `paths`: files directly in it, and the names of the
 * subdirectories that hold files deeper down.
 */
export function listDirectory(
  dir: string,
  paths: Iterable<string>,
): { files: string[]; directories: string[] } {
  const prefix = dir === '/' ? '/' : `${dir}/`;
  const files: string[] = [];
  const directories = new Set<string>();
  for (const path of paths) {
    if (!path.startsWith(prefix)) continue;
    const rest = path.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash === -1) files.push(path);
    else directories.add(`${prefix}${rest.slice(0, slash)}`);
  }
  return { files: files.sort(), directories: [...directories].sort() };
}
