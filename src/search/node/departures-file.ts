/**
 * The departures record on disk (`<data-dir>/departures.json`, `{"uncovered": [2, 3]}`), so a
 * search node restarted during an outage still answers `partial` for peers that left before it
 * stopped. Replaced durably (core/durable-files.ts): a crash leaves the old record or the new
 * one. Saves are serialized and skipped when nothing changed.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceDurably } from '../../core/durable-files.js';
import type { Logger } from '../../core/logger.js';

const FILE_NAME = 'departures.json';

/** The uncovered peer ids stored in `dataDir`, or none when there is no (readable) record. */
export async function loadDepartures(dataDir: string, logger: Logger): Promise<number[]> {
  let text: string;
  try {
    text = await readFile(join(dataDir, FILE_NAME), 'utf8');
  } catch {
    return [];
  }
  try {
    const parsed = JSON.parse(text) as { uncovered?: unknown };
    const ids = Array.isArray(parsed.uncovered) ? parsed.uncovered : [];
    return ids.filter((id): id is number => Number.isSafeInteger(id) && (id as number) >= 0);
  } catch (error) {
    logger.warn({ err: error, file: FILE_NAME }, 'unreadable departures record; starting empty');
    return [];
  }
}

/** Saves the uncovered ids when they changed since the last save; one write at a time. */
export class DeparturesFile {
  private saved: string;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly dataDir: string,
    private readonly logger: Logger,
    initial: readonly number[],
  ) {
    this.saved = JSON.stringify({ uncovered: initial });
  }

  /** Queues a save of `uncovered`; answers when it (or a later one) is on disk. */
  save(uncovered: readonly number[]): Promise<void> {
    const text = JSON.stringify({ uncovered });
    if (text === this.saved) return this.chain;
    this.saved = text;
    this.chain = this.chain.then(() => this.write(text));
    return this.chain;
  }

  private async write(text: string): Promise<void> {
    try {
      await replaceDurably(join(this.dataDir, FILE_NAME), text);
    } catch (error) {
      this.logger.warn({ err: error }, 'cannot save the departures record');
    }
  }
}
