import type { StoredEvent } from '@app/event-store';
import type { ExpireRoleJob, JobData, JobName, QueueName, SendInviteJob } from '@app/queues';

/** How far ahead of a grant's expiry its job becomes due (see ExpireRoleProcessor). */
export const EXPIRY_LEAD_MS = 500;

/** The id of the mail job for the `InviteIssued` at this position (BullMQ ids must not contain `:`). */
export const sendInviteJobId = (position: string): string => `send-invite-${position}`;

/** A job the dispatcher adds for an event, its data typed by its name. `jobId` comes from the event, so adding it twice adds it once. */
export type DispatchedJob = {
  [Q in QueueName]: {
    [J in JobName<Q>]: {
      queue: Q;
      name: J;
      jobId: string;
      data: JobData<Q, J>;
      /** ms to wait before the job runs */
      delay?: number;
    };
  }[JobName<Q>];
}[QueueName];

/**
 * The events that need a side effect, and the job each becomes. Every other event needs none.
 * BullMQ job ids must not contain `:`; the event's position is unique across the log.
 */
export function jobsFor(event: StoredEvent, now: Date): DispatchedJob[] {
  switch (event.type) {
    case 'InviteIssued': {
      const data: SendInviteJob = {
        contactId: event.streamId,
        version: event.version,
        tokenHash: String(event.data.tokenHash),
        correlationId: event.metadata.correlationId,
        eventPosition: event.position,
      };
      return [{ queue: 'invites', name: 'send-invite', jobId: sendInviteJobId(event.position), data }];
    }
    case 'RoleGranted': {
      // A grant with an expiry (or new terms for one) is revoked at that instant (DESIGN §3.7).
      const expires = event.data.expires;
      if (typeof expires !== 'string') return [];
      const data: ExpireRoleJob = {
        contactId: event.streamId,
        reference: String(event.data.reference),
        expires,
        correlationId: event.metadata.correlationId,
        eventPosition: event.position,
      };
      // Due a little ahead of the instant: the processor holds the job until `expires` itself, so
      // neither a queue's timer granularity (Redis wakes delayed jobs on its 100 ms tick) nor
      // the time to claim a burst of jobs (on the PostgreSQL backend a few ms each) makes the
      // revocation late, and it is never early.
      const delay = Math.max(0, new Date(expires).getTime() - now.getTime() - EXPIRY_LEAD_MS);
      return [{ queue: 'roles', name: 'expire-role', jobId: `expire-role-${event.position}`, data, delay }];
    }
    default:
      return [];
  }
}
