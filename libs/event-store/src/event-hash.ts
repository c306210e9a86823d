import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { EventMetadata } from './event.types.js';

/** What of an event its hash covers. */
export interface HashedContent {
  streamId: string;
  version: number;
  type: string;
  data: object;
  metadata: EventMetadata;
  recordedAt: string;
}

/** An event to hash, its moment as the store's timestamp or its ISO text. */
export type HashableEvent = Omit<HashedContent, 'recordedAt'> & { recordedAt: string | Date };

/**
 * The content an event's hash covers, from an event about to be appended or read back: exactly
 * these fields, and the moment as the ISO text of the millisecond the store keeps, so the appender
 * and the verifier hash the same text.
 */
export function hashedContent(event: HashableEvent): HashedContent {
  const { streamId, version, type, data, metadata, recordedAt } = event;
  return { streamId, version, type, data, metadata, recordedAt: new Date(recordedAt).toISOString() };
}

/**
 * Tamper evidence (DESIGN §3.9): each event's hash covers the previous event's hash in its
 * stream and its own canonical content, so editing any event breaks every link after it.
 */
export function eventHash(previousHash: string | null, event: HashableEvent): string {
  return createHash('sha256')
    .update(previousHash ?? '')
    .update('\n')
    .update(canonicalJson(hashedContent(event)))
    .digest('hex');
}
