import type pg from 'pg';
import type { Database } from '@app/database';
import { eventHash } from './event-hash.js';
import type { EventMetadata } from './event.types.js';

/** The first link of a stream that does not hold: where it is and what is wrong with it. */
export interface ChainBreak {
  position: string;
  streamId: string;
  version: number;
  reason: string;
}

export interface ChainReport {
  events: number;
  streams: number;
  /** the first break of each broken stream, in log position order; empty when every chain holds */
  breaks: ChainBreak[];
}

export interface VerifyOptions {
  /** events read per query */
  batchSize?: number;
  /** called after each batch with the events checked so far and the events in the log */
  onProgress?: (done: number, total: number) => void;
}

interface Row {
  position: string;
  stream_id: string;
  stream_version: number;
  type: string;
  data: object;
  metadata: EventMetadata;
  recorded_at: Date;
  hash: string;
  erasure_seal: string | null;
}

/** Where the stream being checked stands; a broken stream is skipped to its end. */
interface Cursor {
  streamId: string;
  version: number;
  hash: string;
  broken: boolean;
}

const NO_STREAM = '00000000-0000-0000-0000-000000000000';

/**
 * Recomputes every stream's hash chain and version sequence from the stored events (DESIGN §3.9):
 * each stream must run 1, 2, 3… without a gap or a repeat, and each event's hash must be
 * `eventHash(previous event's hash, its content)`, exactly as `EventStore.append` computed it; an
 * event an erasure masked must match its seal, `eventHash(its own hash, its masked content)`.
 * Reads stream by stream in batches of one snapshot, so memory stays flat on any size of log and
 * events appended meanwhile neither break nor slip into the check.
 */
export async function verifyChains(db: Database, options: VerifyOptions = {}): Promise<ChainReport> {
  const batchSize = options.batchSize ?? 5000;
  const client = await db.pool.connect();
  try {
    await client.query('SET statement_timeout = 0');
    // One snapshot: the count and every batch see the same log. Read-only, it takes no
    // transaction id, so the dispatcher's commit-order readers are not held back by it.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const total = await countEvents(client);
    const report: ChainReport = { events: 0, streams: 0, breaks: [] };
    let cursor: Cursor = { streamId: NO_STREAM, version: 0, hash: '', broken: false };
    for (;;) {
      const { rows } = await client.query<Row>({
        name: 'verify_chains_batch',
        text: `SELECT position, stream_id, stream_version, type, data, metadata, recorded_at, hash, erasure_seal FROM events
               WHERE (stream_id, stream_version) > ($1::uuid, $2::int)
               ORDER BY stream_id, stream_version LIMIT $3`,
        values: [cursor.streamId, cursor.version, batchSize],
      });
      for (const row of rows) cursor = check(row, cursor, report);
      report.events += rows.length;
      options.onProgress?.(report.events, Math.max(total, report.events));
      if (rows.length < batchSize) break;
    }
    await client.query('COMMIT');
    report.breaks.sort((a, b) => (BigInt(a.position) < BigInt(b.position) ? -1 : 1));
    return report;
  } finally {
    client.release(true);
  }
}

/** Checks one event against the one before it in its stream; returns where the stream now stands. */
export function check(row: Row, cursor: Cursor, report: ChainReport): Cursor {
  const first = row.stream_id !== cursor.streamId;
  if (first) report.streams += 1;
  const next: Cursor = { streamId: row.stream_id, version: row.stream_version, hash: row.hash, broken: !first && cursor.broken };
  if (next.broken) return next;
  const expected = first ? 1 : cursor.version + 1;
  const previousHash = first ? null : cursor.hash;
  let reason: string | null = null;
  if (row.stream_version !== expected) {
    reason = first
      ? `the stream starts at version ${row.stream_version}, not 1`
      : row.stream_version === cursor.version
        ? `version ${row.stream_version} appears twice`
        : `version ${row.stream_version} follows version ${cursor.version}: ${missing(cursor.version, row.stream_version)} missing`;
  } else {
    const content = {
      streamId: row.stream_id,
      version: row.stream_version,
      type: row.type,
      data: row.data,
      metadata: row.metadata,
      recordedAt: row.recorded_at,
    };
    if (row.erasure_seal !== null) {
      // Masked by an erasure: its hash covers content that is gone, so its seal vouches for it,
      // binding its stored hash (which the next event's hash covers) to its masked content.
      if (eventHash(row.hash, content) !== row.erasure_seal) {
        reason = 'its erasure seal does not match its masked content and its hash';
      }
    } else if (eventHash(previousHash, content) !== row.hash) {
      reason = 'its hash does not match its content and the hash of the event before it';
    }
  }
  if (reason === null) return next;
  report.breaks.push({ position: row.position, streamId: row.stream_id, version: row.stream_version, reason });
  return { ...next, broken: true };
}

function missing(last: number, found: number): string {
  return found - last === 2 ? `version ${last + 1} is` : `versions ${last + 1} to ${found - 1} are`;
}

async function countEvents(client: pg.PoolClient): Promise<number> {
  const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM events');
  return Number(rows[0]?.n ?? 0);
}
