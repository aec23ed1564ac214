/**
 * The file ACLs of the metadata master (docs/security.md): kept in memory by file id and
 * durably in the `file_acls` table of the master's SQLite, written in the store's group commit.
 * An ACL follows its file id, so a rename keeps it; rows exist only for files written with
 * `--auth`.
 */
import type { Statement } from 'better-sqlite3';
import type { FileAcl } from '../../security/acl.js';
import type { MetaStore } from './store.js';
import type { FileId } from './types.js';

interface AclRow {
  file_id: string;
  owner: string;
  grp: string | null;
  mode: number;
}

/** File id → ACL, loaded at start and kept in step with SQLite. */
export class FileAcls {
  private readonly byFile = new Map<string, FileAcl>();
  private readonly upsert: Statement<[string, string, string | null, number]>;

  constructor(private readonly store: MetaStore) {
    const rows = store.db.prepare('SELECT * FROM file_acls').all() as AclRow[];
    for (const row of rows) {
      this.byFile.set(row.file_id, { owner: row.owner, group: row.grp, mode: row.mode });
    }
    this.upsert = store.db.prepare(
      `INSERT INTO file_acls VALUES (?, ?, ?, ?)
       ON CONFLICT(file_id) DO UPDATE SET owner = excluded.owner, grp = excluded.grp,
         mode = excluded.mode`,
    );
  }

  get(fileId: FileId | string): FileAcl | undefined {
    return this.byFile.get(fileId);
  }

  /** Sets a file's ACL; resolves once it is durable. */
  async set(fileId: FileId | string, acl: FileAcl): Promise<void> {
    await this.store.write(() => {
      this.upsert.run(fileId, acl.owner, acl.group, acl.mode);
    });
    this.byFile.set(fileId, acl);
  }

  get size(): number {
    return this.byFile.size;
  }
}
