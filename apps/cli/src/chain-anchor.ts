import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Database } from '@app/database';

/**
 * A chain anchor: every stream's head (its last version, that event's position and hash) and the
 * log's last position, at one moment, signed with HMAC-SHA256 under CHAIN_ANCHOR_KEY, a key the
 * operator keeps outside the database. Each head's hash covers its stream's whole history up to
 * it, so a log that still holds every anchored head with its anchored hash still holds the history
 * that was anchored: someone able to write to the database can re-hash a stream so `verify`
 * passes, but cannot make its head match an anchor signed before without the key.
 */
export const ANCHOR_FORMAT = 'contacts-chain-anchor/v1';

/** [stream id, version, position, hash] */
export type AnchoredHead = [string, number, string, string];

export interface ChainAnchor {
  format: typeof ANCHOR_FORMAT;
  createdAt: string;
  lastPosition: string;
  events: number;
  heads: AnchoredHead[];
  /** HMAC-SHA256, hex, over the fields above as `signedText` writes them */
  signature: string;
}

export class AnchorRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnchorRefused';
  }
}

/** Where the log no longer extends the anchor. */
export interface AnchorDeparture {
  streamId: string;
  version: number;
  reason: string;
}

/** The fields in one fixed order, so the signer and the checker sign the very same text. */
function signedText(anchor: Omit<ChainAnchor, 'signature'>): string {
  return JSON.stringify([anchor.format, anchor.createdAt, anchor.lastPosition, anchor.events, anchor.heads]);
}

function sign(key: string, anchor: Omit<ChainAnchor, 'signature'>): string {
  return createHmac('sha256', key).update(signedText(anchor)).digest('hex');
}

/** Every stream's head and the last position, from one snapshot of the log, signed. */
export async function anchorChains(db: Database, key: string, now: Date): Promise<ChainAnchor> {
  const client = await db.pool.connect();
  try {
    await client.query('SET statement_timeout = 0');
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows: heads } = await client.query<{ stream_id: string; stream_version: number; position: string; hash: string }>(
      `SELECT DISTINCT ON (stream_id) stream_id, stream_version, position, hash FROM events ORDER BY stream_id, stream_version DESC`,
    );
    const { rows: totals } = await client.query<{ last: string | null; events: string }>(
      'SELECT max(position) AS last, count(*) AS events FROM events',
    );
    await client.query('COMMIT');
    const unsigned: Omit<ChainAnchor, 'signature'> = {
      format: ANCHOR_FORMAT,
      createdAt: now.toISOString().replace(/\.\d{3}Z$/, '+00:00'),
      lastPosition: totals[0]?.last ?? '0',
      events: Number(totals[0]?.events ?? 0),
      heads: heads.map((h): AnchoredHead => [h.stream_id, h.stream_version, h.position, h.hash]),
    };
    return { ...unsigned, signature: sign(key, unsigned) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

const isHead = (value: unknown): value is AnchoredHead =>
  Array.isArray(value) &&
  value.length === 4 &&
  typeof value[0] === 'string' &&
  Number.isInteger(value[1]) &&
  typeof value[2] === 'string' &&
  typeof value[3] === 'string';

/** The anchor in `text`, its signature checked with `key`; AnchorRefused when it is not one or not signed with this key. */
export function readAnchor(text: string, key: string): ChainAnchor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AnchorRefused('the anchor file is not JSON');
  }
  const a = parsed as Partial<Record<keyof ChainAnchor, unknown>> | null;
  if (
    a === null ||
    typeof a !== 'object' ||
    a.format !== ANCHOR_FORMAT ||
    typeof a.createdAt !== 'string' ||
    typeof a.lastPosition !== 'string' ||
    typeof a.events !== 'number' ||
    !Array.isArray(a.heads) ||
    !a.heads.every(isHead) ||
    typeof a.signature !== 'string'
  ) {
    throw new AnchorRefused(`the anchor file is not a ${ANCHOR_FORMAT} document`);
  }
  const anchor: ChainAnchor = {
    format: ANCHOR_FORMAT,
    createdAt: a.createdAt,
    lastPosition: a.lastPosition,
    events: a.events,
    heads: a.heads,
    signature: a.signature,
  };
  const expected = Buffer.from(sign(key, anchor), 'hex');
  const given = Buffer.from(anchor.signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AnchorRefused(
      'the anchor signature does not match CHAIN_ANCHOR_KEY: the file was changed, or the key is not the one it was signed with',
    );
  }
  return anchor;
}

const BATCH = 5000;

/**
 * Where the log no longer extends `anchor`, in the anchor's stream order: an anchored head event
 * that is gone, or that holds another hash or position now. Empty when every anchored head is
 * still there as anchored (later events may follow it).
 */
export async function departuresFrom(db: Database, anchor: ChainAnchor): Promise<AnchorDeparture[]> {
  const departures: AnchorDeparture[] = [];
  for (let i = 0; i < anchor.heads.length; i += BATCH) {
    const batch = anchor.heads.slice(i, i + BATCH);
    const { rows } = await db.query<{ i: number; position: string | null; hash: string | null }>(
      `SELECT a.i, e.position, e.hash
       FROM unnest($1::uuid[], $2::int[]) WITH ORDINALITY AS a(stream_id, version, i)
       LEFT JOIN events e ON e.stream_id = a.stream_id AND e.stream_version = a.version
       ORDER BY a.i`,
      [batch.map((h) => h[0]), batch.map((h) => h[1])],
    );
    for (const row of rows) {
      const [streamId, version, position, hash] = batch[Number(row.i) - 1]!;
      const reason =
        row.hash === null
          ? `its anchored head, version ${version} at position ${position}, is gone`
          : row.hash !== hash
            ? `version ${version} holds another hash than the anchored one: its history up to there was rewritten`
            : row.position !== position
              ? `version ${version} moved from position ${position} to ${row.position}`
              : null;
      if (reason !== null) departures.push({ streamId, version, reason });
    }
  }
  return departures;
}
