import type { Queue } from 'bullmq';
import type { Clock } from '@app/config';
import type { Database } from '@app/database';
import type { SendInviteJob } from '@app/queues';
import { sendInviteJobId } from '../dispatcher/dispatch.routes.js';

/** An invite younger than this is left to the dispatcher, which adds its job as it commits. */
const GRACE_MS = 60_000;
const BATCH = 500;

interface UnsentInvite extends SendInviteJob {
  id: string;
}

/**
 * Adds the mail job again for every invite that is issued, unexpired and still unsent a minute
 * later: Postgres is the source of truth and the queue store may lose its jobs (a flushed Redis).
 * The job keeps the id the dispatcher gave it, so an invite whose job is still queued, retrying or
 * failed is not added twice, and the processor's own checks keep a mail from going out twice.
 * Runs every minute and when the worker starts.
 */
export class UnsentInviteSweep {
  constructor(
    private readonly db: Database,
    private readonly invites: () => Queue | undefined,
    private readonly clock: Clock,
  ) {}

  /** Returns how many unsent invites it found (each job added, or already there). */
  async run(): Promise<number> {
    const queue = this.invites();
    if (!queue) throw new Error('the invites queue is not open');
    const now = this.clock.now();
    let found = 0;
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const { rows } = await this.db.query<UnsentInvite>(
        `SELECT c.id, e.stream_id AS "contactId", e.stream_version AS version, e.data->>'tokenHash' AS "tokenHash",
                e.metadata->>'correlationId' AS "correlationId", e.position::text AS "eventPosition"
         FROM contacts c
         JOIN LATERAL (
           SELECT * FROM events e
           WHERE e.stream_id = c.id AND e.type = 'InviteIssued' AND e.data->>'tokenHash' = c.state->'invite'->>'tokenHash'
           ORDER BY e.stream_version DESC LIMIT 1
         ) e ON true
         WHERE (c.state->'invite'->>'status') = 'pending' AND c.id > $1
           AND (c.state->'invite'->>'expiresAt')::timestamptz > $2 AND e.recorded_at <= $3
         ORDER BY c.id LIMIT ${BATCH}`,
        [after, now, new Date(now.getTime() - GRACE_MS)],
      );
      if (rows.length === 0) return found;
      const jobs = rows.map(({ id: _id, ...data }) => ({
        name: 'send-invite',
        data,
        opts: { jobId: sendInviteJobId(data.eventPosition) },
      }));
      await queue.addBulk(jobs);
      found += rows.length;
      after = rows[rows.length - 1]?.id ?? after;
      if (rows.length < BATCH) return found;
    }
  }
}
