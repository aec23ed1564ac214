/**
 * Access control of the master's file API with `--auth` (dfs-architecture.md, "Autorización":
 * "validación en cada operación"; docs/security.md): file ACLs checked on read, write, delete,
 * rename and list, and the chunk tokens that let a client reach the datanodes for the chunks it
 * was allowed (one per chunk and operation, in the upload-init and file answers).
 *
 * Every check takes the request's principal; null means auth is off (or the route needs none)
 * and the check passes at the cost of one comparison.
 */
import { TesseraError } from '../../core/errors.js';
import type { Principal } from '../../core/security-context.js';
import {
  aclAllows,
  aclForUpload,
  DEFAULT_FILE_MODE,
  formatMode,
  mayChangeAcl,
  type FileAccess,
  type FileAcl,
} from '../../security/acl.js';
import type { ChunkTokenIssuer } from '../../security/service-security.js';
import type { FileAcls } from './file-acls.js';
import type { MetaMaster } from './master.js';
import type { FileAclView, FileId, FileMetadata } from './types.js';

/** A valid token without the file permission the operation needs (403). */
export class FileForbiddenError extends TesseraError {
  constructor(principal: Principal, path: string, what: string) {
    super('FORBIDDEN', `${principal.subject} may not ${what} ${path}`, { extensions: { path } });
  }
}

/** What an upload asks for its ACL. */
export interface AclRequest {
  readonly mode?: number;
  readonly group?: string;
}

/** The ACL of a file as the API shows it. */
export function aclView(acl: FileAcl): FileAclView {
  return { owner: acl.owner, group: acl.group, mode: acl.mode, permissions: formatMode(acl.mode) };
}

/** ACL checks and chunk tokens for the master's routes; see the module comment. */
export class MetaAccess {
  constructor(
    private readonly master: MetaMaster,
    readonly acls: FileAcls,
    private readonly issuer: ChunkTokenIssuer | undefined,
  ) {}

  /** Throws 403 unless `principal` may `access` the committed file at `path` (if any). */
  check(principal: Principal | null, path: string, access: FileAccess): void {
    if (principal === null) return;
    const file = this.master.files.get(path);
    if (file === undefined) return;
    if (!aclAllows(this.acls.get(file.row.file_id), principal, access)) {
      throw new FileForbiddenError(principal, path, access === 'read' ? 'read' : 'write');
    }
  }

  /** Throws 403 unless `principal` started the upload `fileId` (or is an admin). */
  checkUploader(principal: Principal | null, fileId: string): void {
    if (principal === null || principal.role === 'admin') return;
    const acl = this.acls.get(fileId);
    if (acl?.owner === principal.subject) return;
    const upload = this.master.uploads.get(fileId as FileId);
    if (upload === undefined && acl === undefined) return; // unknown upload: the master answers
    throw new FileForbiddenError(principal, upload?.row.path ?? fileId, 'continue the upload of');
  }

  /** Checks an upload-init before it runs: overwriting needs write, changing an ACL ownership. */
  checkUpload(principal: Principal | null, path: string, request: AclRequest): void {
    if (principal === null) return;
    this.check(principal, path, 'write');
    const replaced = this.master.files.get(path);
    const changesAcl = request.mode !== undefined || request.group !== undefined;
    if (replaced && changesAcl && !mayChangeAcl(this.acls.get(replaced.row.file_id), principal)) {
      throw new FileForbiddenError(principal, path, 'change the permissions of');
    }
  }

  /** Records the ACL of a new upload (durable before the answer). */
  async recordUpload(
    principal: Principal | null,
    path: string,
    fileId: string,
    request: AclRequest,
  ): Promise<void> {
    if (principal === null) return;
    const replaced = this.master.files.get(path);
    const previous = replaced === undefined ? undefined : this.acls.get(replaced.row.file_id);
    await this.acls.set(fileId, aclForUpload(principal, request, previous));
  }

  /** Changes a committed file's mode, group or owner (owner: admin only). */
  async changeAcl(
    principal: Principal,
    path: string,
    change: { mode?: number; group?: string | null; owner?: string },
  ): Promise<FileAcl> {
    const file = this.master.files.get(path);
    if (file === undefined) throw new TesseraError('NOT_FOUND', `no file at ${path}`);
    const current = this.acls.get(file.row.file_id);
    if (!mayChangeAcl(current, principal)) {
      throw new FileForbiddenError(principal, path, 'change the permissions of');
    }
    if (change.owner !== undefined && principal.role !== 'admin') {
      throw new FileForbiddenError(principal, path, 'give away');
    }
    const next: FileAcl = {
      owner: change.owner ?? current?.owner ?? principal.subject,
      group: change.group === undefined ? (current?.group ?? null) : change.group,
      mode: change.mode ?? current?.mode ?? DEFAULT_FILE_MODE,
    };
    await this.acls.set(file.row.file_id, next);
    return next;
  }

  /** Whether `principal` may read the file with this id (list filtering). */
  mayRead(principal: Principal | null, fileId: string): boolean {
    return principal === null || aclAllows(this.acls.get(fileId), principal, 'read');
  }

  /** The file's ACL for its metadata answer, when it has one. */
  aclOf(fileId: string): FileAcl | undefined {
    return this.acls.get(fileId);
  }

  /** Adds a chunk token per chunk (when the master runs with --auth). */
  async withChunkTokens<C extends { chunk_id: string }>(
    chunks: C[],
    op: 'read' | 'write',
    principal: Principal | null,
  ): Promise<(C & { token?: string })[]> {
    const issuer = this.issuer;
    if (issuer === undefined) return chunks;
    const subject = principal?.subject ?? 'anonymous';
    return Promise.all(
      chunks.map(async (chunk) => ({
        ...chunk,
        token: await issuer.issue(chunk.chunk_id, op, subject),
      })),
    );
  }

  /** A file's metadata answer with its ACL and read tokens. */
  async fileAnswer(metadata: FileMetadata, principal: Principal | null) {
    const acl = this.acls.get(metadata.file_id);
    const chunks = await this.withChunkTokens(metadata.chunks, 'read', principal);
    return { ...metadata, chunks, ...(acl === undefined ? {} : { acl: aclView(acl) }) };
  }
}
