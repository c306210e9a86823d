/** Who caused an event and why (DESIGN §7): on every event. */
export interface EventMetadata {
  clientId: string | null;
  requestId: string | null;
  correlationId: string | null;
  causationId: string | null;
}

export interface NewEvent {
  type: string;
  data: object;
}

export interface StoredEvent {
  /** global position, a bigint as a string */
  position: string;
  streamId: string;
  version: number;
  type: string;
  data: Record<string, unknown>;
  metadata: EventMetadata;
  recordedAt: string;
  /** the appending transaction's id (xid8) as a string */
  transactionId: string;
  hash: string;
  /** set once the event's personal values were masked by an erasure: see `check` in chain-verifier */
  seal?: string;
}

/** Where a stream stands: its last version (0 when empty) and that event's hash. */
export interface StreamHead {
  version: number;
  hash: string | null;
}

export const EMPTY_STREAM: StreamHead = { version: 0, hash: null };

/** A reader's place in the whole log: commit order is (transactionId, position). */
export interface LogCheckpoint {
  transactionId: string;
  position: string;
}

export class ConcurrencyError extends Error {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
  ) {
    super(`stream ${streamId} moved past version ${expectedVersion}`);
    this.name = 'ConcurrencyError';
  }
}

/** A stored event of a type this release does not know: a newer release wrote it. */
export class UnknownEventType extends Error {
  constructor(readonly type: string) {
    super(`unknown event type ${JSON.stringify(type)}: a newer release wrote it`);
    this.name = 'UnknownEventType';
  }
}
