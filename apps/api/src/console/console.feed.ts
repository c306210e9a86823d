import type { EventStore, StoredEvent } from '@app/event-store';

/** What the feed page narrows the log to. */
export interface FeedFilter {
  type?: string;
  clientId?: string;
  from?: Date;
  to?: Date;
  /** the position of the last event already seen */
  after?: string;
}

export interface FeedPage {
  events: StoredEvent[];
  /** where the next page goes on from (the last event read), or null at the end of the log */
  next: string | null;
  /** events read from the log to fill this page */
  scanned: number;
}

const BATCH = 500;
/** A page stops after reading this much of the log, so a rare client or time costs a bounded read. */
const SCAN_LIMIT = 20_000;

const matches = (event: StoredEvent, filter: FeedFilter): boolean => {
  if (filter.clientId !== undefined && event.metadata.clientId !== filter.clientId) return false;
  const at = Date.parse(event.recordedAt);
  if (filter.from !== undefined && at < filter.from.getTime()) return false;
  if (filter.to !== undefined && at > filter.to.getTime()) return false;
  return true;
};

/**
 * A page of the log in commit order, through the audit feed's own read (`EventStore.readFeed`: the
 * type filter in the query, and never an event that commits late passed over); the client and
 * time filters apply to what it returns. Undefined when `after` is no event's position.
 */
export async function readFeedPage(store: EventStore, filter: FeedFilter, size: number): Promise<FeedPage | undefined> {
  const events: StoredEvent[] = [];
  let after = filter.after;
  let scanned = 0;
  for (;;) {
    const batch = await store.readFeed({ after, limit: BATCH, type: filter.type });
    if (batch === undefined) return undefined;
    for (const event of batch) {
      scanned += 1;
      after = event.position;
      if (!matches(event, filter)) continue;
      events.push(event);
      if (events.length === size) return { events, next: event.position, scanned };
    }
    if (batch.length < BATCH) return { events, next: null, scanned };
    if (scanned >= SCAN_LIMIT) return { events, next: after ?? null, scanned };
  }
}
