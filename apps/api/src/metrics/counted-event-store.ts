import type { Queryable } from '@app/database';
import { EventStore, type NewEvent, type StoredEvent, type StreamHead, type AppendOptions } from '@app/event-store';

/**
 * The API's event store, telling /metrics what it appended (`contacts_events_appended_total`).
 * Counted when the append statement succeeds: a transaction that rolls back after it (rare: its
 * idempotency record meets a concurrent one) is counted all the same.
 */
export class CountedEventStore extends EventStore {
  constructor(
    db: Queryable,
    private readonly onAppended: (events: readonly StoredEvent[]) => void,
  ) {
    super(db);
  }

  override async append(tx: Queryable, streamId: string, head: StreamHead, events: NewEvent[], options: AppendOptions): Promise<StoredEvent[]> {
    const stored = await super.append(tx, streamId, head, events, options);
    this.onAppended(stored);
    return stored;
  }
}
