import type { StoredEvent } from '@app/event-store';
import type { JobName, QueueName, SendInviteJob } from '@app/queues';

/** A job the dispatcher adds for an event. `jobId` comes from the event, so adding it twice adds it once. */
export interface DispatchedJob {
  queue: QueueName;
  name: JobName;
  jobId: string;
  data: object;
}

/**
 * The events that need a side effect, and the job each becomes. Every other event needs none.
 * BullMQ job ids must not contain `:`; the event's position is unique across the log.
 */
export function jobsFor(event: StoredEvent): DispatchedJob[] {
  switch (event.type) {
    case 'InviteIssued': {
      const data: SendInviteJob = {
        contactId: event.streamId,
        version: event.version,
        tokenHash: String(event.data.tokenHash),
        correlationId: event.metadata.correlationId,
        eventPosition: event.position,
      };
      return [{ queue: 'invites', name: 'send-invite', jobId: `send-invite-${event.position}`, data }];
    }
    default:
      return [];
  }
}
