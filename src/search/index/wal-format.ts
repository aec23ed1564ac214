import { crc32 } from 'node:zlib';
import type { StoredDocument } from './inverted-index.js';

/**
 * The on-disk formats of the index store, as pure encode/decode functions (no I/O here).
 *
 * Log record: [u32 BE payload length][u32 BE CRC-32 of payload][payload: UTF-8 JSON of the
 * operation]. A record cut short (SIGKILL mid-write) or whose checksum fails ends the valid
 * part of the log; decoding reports where, so recovery can truncate the torn tail.
 */

/** One logged operation, numbered by its log sequence number (LSN, from 1). */
export type IndexOp =
  { lsn: number; op: 'add'; doc: StoredDocument } | { lsn: number; op: 'delete'; doc_id: string };

/** An operation before it is given an LSN. */
export type IndexOpInput = { op: 'add'; doc: StoredDocument } | { op: 'delete'; doc_id: string };

const HEADER_BYTES = 8;

/** Encode operations as consecutive log records (one allocation for the whole batch). */
export function encodeRecords(ops: readonly IndexOp[]): Buffer {
  const payloads = ops.map((op) => JSON.stringify(op));
  let total = 0;
  for (const payload of payloads) total += HEADER_BYTES + Buffer.byteLength(payload, 'utf8');
  const bytes = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const payload of payloads) {
    const start = offset + HEADER_BYTES;
    const length = bytes.write(payload, start, 'utf8');
    bytes.writeUInt32BE(length, offset);
    bytes.writeUInt32BE(crc32(bytes.subarray(start, start + length)), offset + 4);
    offset = start + length;
  }
  return bytes;
}

/** What decoding a log segment found. */
export interface DecodedLog {
  ops: IndexOp[];
  /** Bytes of whole, valid records from the start. */
  validBytes: number;
  /** Why decoding stopped before the end, if it did. */
  stopReason?: 'truncated-header' | 'truncated-payload' | 'checksum' | 'malformed';
}

function isIndexOp(value: unknown): value is IndexOp {
  if (typeof value !== 'object' || value === null) return false;
  const op = value as Record<string, unknown>;
  if (!Number.isSafeInteger(op['lsn'])) return false;
  if (op['op'] === 'delete') return typeof op['doc_id'] === 'string';
  if (op['op'] !== 'add' || typeof op['doc'] !== 'object' || op['doc'] === null) return false;
  const doc = op['doc'] as Record<string, unknown>;
  return (
    typeof doc['doc_id'] === 'string' &&
    typeof doc['content'] === 'string' &&
    typeof doc['metadata'] === 'object'
  );
}

function parsePayload(payload: Buffer): IndexOp | undefined {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return isIndexOp(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Decode the records of a segment, stopping at the first incomplete or damaged one. */
export function decodeRecords(bytes: Buffer): DecodedLog {
  const ops: IndexOp[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < HEADER_BYTES)
      return { ops, validBytes: offset, stopReason: 'truncated-header' };
    const length = bytes.readUInt32BE(offset);
    const checksum = bytes.readUInt32BE(offset + 4);
    const end = offset + HEADER_BYTES + length;
    if (end > bytes.length) return { ops, validBytes: offset, stopReason: 'truncated-payload' };
    const payload = bytes.subarray(offset + HEADER_BYTES, end);
    if (crc32(payload) !== checksum) return { ops, validBytes: offset, stopReason: 'checksum' };
    const op = parsePayload(payload);
    if (op === undefined) return { ops, validBytes: offset, stopReason: 'malformed' };
    ops.push(op);
    offset = end;
  }
  return { ops, validBytes: offset };
}

/** First line of a snapshot. */
export interface SnapshotHeader {
  format: 'tessera-index-snapshot';
  version: 1;
  /** The snapshot holds every operation up to and including this LSN. */
  lsn: number;
  docCount: number;
}

/** A snapshot as JSON lines (header, then one document per line), before compression. */
export function encodeSnapshot(lsn: number, docs: readonly StoredDocument[]): Buffer {
  const header: SnapshotHeader = {
    format: 'tessera-index-snapshot',
    version: 1,
    lsn,
    docCount: docs.length,
  };
  const lines = [JSON.stringify(header), ...docs.map((doc) => JSON.stringify(doc))];
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

/** Decode a snapshot; undefined if it is not a whole, well-formed one. */
export function decodeSnapshot(
  bytes: Buffer,
): { header: SnapshotHeader; docs: StoredDocument[] } | undefined {
  try {
    const lines = bytes.toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    const header = JSON.parse(lines[0] ?? '') as SnapshotHeader;
    if (
      header.format !== 'tessera-index-snapshot' ||
      header.version !== 1 ||
      !Number.isSafeInteger(header.lsn)
    )
      return undefined;
    const docs = lines.slice(1).map((line) => JSON.parse(line) as StoredDocument);
    return docs.length === header.docCount ? { header, docs } : undefined;
  } catch {
    return undefined;
  }
}

/** File names: fixed-width numbers so that names sort like their LSNs. */
export function segmentName(startLsn: number): string {
  return `wal-${String(startLsn).padStart(16, '0')}.log`;
}

export function snapshotName(lsn: number): string {
  return `snapshot-${String(lsn).padStart(16, '0')}.jsonl.gz`;
}

/** The LSN in a segment or snapshot file name, or undefined for other files. */
export function parseFileName(
  name: string,
): { kind: 'segment' | 'snapshot'; lsn: number } | undefined {
  const match = /^(wal|snapshot)-(\d{16})\.(log|jsonl\.gz)$/u.exec(name);
  if (match === null) return undefined;
  const kind = match[1] === 'wal' ? 'segment' : 'snapshot';
  if ((kind === 'segment') !== (match[3] === 'log')) return undefined;
  return { kind, lsn: Number(match[2]) };
}
