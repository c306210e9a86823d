import { check, type ChainBreak, type ChainReport } from './chain-verifier.js';
import type { StoredEvent } from './event.types.js';

/**
 * One stream's hash chain and version sequence, checked by the same rules as `verifyChains`,
 * over events already read (`EventStore.readStream`). The first link that does not hold, or
 * null when the chain is intact.
 */
export function verifyStream(events: readonly StoredEvent[]): ChainBreak | null {
  const report: ChainReport = { events: 0, streams: 0, breaks: [] };
  let cursor = { streamId: '', version: 0, hash: '', broken: false };
  for (const event of events) {
    cursor = check(
      {
        position: event.position,
        stream_id: event.streamId,
        stream_version: event.version,
        type: event.type,
        data: event.data,
        metadata: event.metadata,
        recorded_at: new Date(event.recordedAt),
        hash: event.hash,
        erasure_seal: event.seal ?? null,
      },
      cursor,
      report,
    );
    if (cursor.broken) break;
  }
  return report.breaks[0] ?? null;
}
