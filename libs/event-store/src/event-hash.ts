import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { EventMetadata } from './event.types.js';

export interface HashedContent {
  streamId: string;
  version: number;
  type: string;
  data: object;
  metadata: EventMetadata;
  recordedAt: string;
}

/**
 * Tamper evidence (DESIGN §3.9): each event's hash covers the previous event's hash in its
 * stream and its own canonical content, so editing any event breaks every link after it.
 */
export function eventHash(previousHash: string | null, content: HashedContent): string {
  return createHash('sha256')
    .update(previousHash ?? '')
    .update('\n')
    .update(canonicalJson(content))
    .digest('hex');
}
