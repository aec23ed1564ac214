import { GroupCommitter, openDatabase, type SqliteDatabase } from '../core/sqlite.js';
import type { Member } from '../core/membership.js';
import type { ServerPayload } from './types.js';

const MIGRATIONS = [
  `CREATE TABLE servers (
     server_id TEXT PRIMARY KEY,
     role TEXT NOT NULL,
     host TEXT NOT NULL,
     port INTEGER NOT NULL,
     url TEXT NOT NULL,
     metadata TEXT NOT NULL,
     status TEXT NOT NULL,
     registered_at_ms REAL NOT NULL,
     last_heartbeat_ms REAL NOT NULL,
     recoveries INTEGER NOT NULL,
     inactive_since_ms REAL
   );
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
];

interface ServerRow {
  server_id: string;
  role: string;
  host: string;
  port: number;
  url: string;
  metadata: string;
  status: string;
  registered_at_ms: number;
  last_heartbeat_ms: number;
  recoveries: number;
  inactive_since_ms: number | null;
}

/**
 * The registry's durable table. Registrations, removals and status changes go through a group
 * commit (one WAL sync off the event loop per group) and are durable before the caller
 * answers; heartbeat times alone are flushed in batches without a sync, because
 * losing them in a crash only means the restarted registry waits one timeout before judging
 * liveness again (see docs/registry.md, "Durability").
 */
export class RegistryStore {
  private readonly db: SqliteDatabase;
  private readonly group: GroupCommitter;
  private readonly upsertStatement;
  private readonly deleteStatement;
  private readonly heartbeatStatement;
  private readonly indexStatement;

  constructor(path: string) {
    this.db = openDatabase(path, MIGRATIONS);
    this.group = new GroupCommitter(this.db);
    this.upsertStatement = this.db.prepare(
      `INSERT INTO servers VALUES (@server_id, @role, @host, @port, @url, @metadata, @status,
         @registered_at_ms, @last_heartbeat_ms, @recoveries, @inactive_since_ms)
       ON CONFLICT(server_id) DO UPDATE SET role=excluded.role, host=excluded.host,
         port=excluded.port, url=excluded.url, metadata=excluded.metadata, status=excluded.status,
         last_heartbeat_ms=excluded.last_heartbeat_ms, recoveries=excluded.recoveries,
         inactive_since_ms=excluded.inactive_since_ms`,
    );
    this.deleteStatement = this.db.prepare('DELETE FROM servers WHERE server_id = ?');
    this.heartbeatStatement = this.db.prepare(
      'UPDATE servers SET last_heartbeat_ms = ? WHERE server_id = ?',
    );
    this.indexStatement = this.db.prepare(
      `INSERT INTO meta(key, value) VALUES ('index', ?)
       ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
    );
  }

  /** Every stored member, and the change index last written. */
  load(): { members: Member<ServerPayload>[]; index: number } {
    const rows = this.db.prepare('SELECT * FROM servers ORDER BY rowid').all() as ServerRow[];
    const indexRow = this.db.prepare("SELECT value FROM meta WHERE key = 'index'").get() as
      { value: string } | undefined;
    return { members: rows.map(rowToMember), index: Number(indexRow?.value ?? 0) };
  }

  /**
   * Writes members and removals, with the new change index; resolves once durable. The rows
   * are taken now, so later changes to the members do not leak into this write.
   */
  write(changes: {
    upsert?: readonly Member<ServerPayload>[];
    remove?: readonly string[];
    index: number;
  }): Promise<void> {
    const rows = (changes.upsert ?? []).map(memberToRow);
    const removed = [...(changes.remove ?? [])];
    return this.group.commit(() => {
      for (const row of rows) this.upsertStatement.run(row);
      for (const id of removed) this.deleteStatement.run(id);
      this.indexStatement.run(String(changes.index));
    });
  }

  /** Flushes a batch of heartbeat times (not synced: see the class comment). */
  writeHeartbeats(beats: Iterable<[string, number]>): void {
    this.db.transaction(() => {
      for (const [id, atMs] of beats) this.heartbeatStatement.run(atMs, id);
    })();
  }

  close(): void {
    this.group.close();
    this.db.close();
  }
}

function rowToMember(row: ServerRow): Member<ServerPayload> {
  return {
    id: row.server_id,
    payload: {
      role: row.role,
      host: row.host,
      port: row.port,
      url: row.url,
      metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    },
    status: row.status === 'inactive' ? 'inactive' : 'active',
    registeredAtMs: row.registered_at_ms,
    lastHeartbeatMs: row.last_heartbeat_ms,
    recoveries: row.recoveries,
    inactiveSinceMs: row.inactive_since_ms ?? undefined,
  };
}

function memberToRow(member: Member<ServerPayload>): ServerRow {
  return {
    server_id: member.id,
    role: member.payload.role,
    host: member.payload.host,
    port: member.payload.port,
    url: member.payload.url,
    metadata: JSON.stringify(member.payload.metadata),
    status: member.status,
    registered_at_ms: member.registeredAtMs,
    last_heartbeat_ms: member.lastHeartbeatMs,
    recoveries: member.recoveries,
    inactive_since_ms: member.inactiveSinceMs ?? null,
  };
}
