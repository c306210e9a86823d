import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedError, type Job } from 'bullmq';
import type { Clock } from '@app/config';
import type { ContactService } from '@app/contact-service';
import type { Database } from '@app/database';
import type { EventMetadata } from '@app/event-store';
import type { ExpireRoleJob } from '@app/queues';

/** Up to this much early, a job waits in the worker for its instant rather than going back to the queue. */
const HOLD_MS = 2_500;

export type ExpireRoleOutcome = 'revoked' | 'nothing-to-do';

/**
 * Revokes a grant at its expiry (issue 4). The grant must still exist with the expiry the job was
 * scheduled for: one extended, shortened, made permanent or revoked since is left alone (its new
 * terms brought a job of their own). Jobs come due shortly before the expiry and wait for it in
 * the worker, so the revocation is on time and never early.
 */
export class ExpireRoleProcessor {
  constructor(
    private readonly contacts: ContactService,
    private readonly clock: Clock,
  ) {}

  async process(job: Job<ExpireRoleJob>, token?: string): Promise<ExpireRoleOutcome> {
    const { contactId, reference, expires } = job.data;
    const early = new Date(expires).getTime() - this.clock.now().getTime();
    if (early > HOLD_MS && token) {
      // Far too early (clocks that disagree, a job added by hand): back to the delayed set.
      await job.moveToDelayed(Date.now() + early, token);
      throw new DelayedError();
    }
    // Jobs come due a little ahead (EXPIRY_LEAD_MS): wait for the instant here, on time to the ms.
    // A timer may fire a millisecond before the wall clock gets there: look again until it has.
    for (let wait = early; wait > 0; wait = new Date(expires).getTime() - this.clock.now().getTime()) await sleep(wait + 1);
    const revoked = await this.contacts.expireGrant(contactId, reference, expires, {
      clientId: null,
      requestId: `job-${job.id ?? job.name}`,
      correlationId: job.data.correlationId,
      causationId: job.data.eventPosition,
    });
    return revoked ? 'revoked' : 'nothing-to-do';
  }
}

interface DueGrant {
  id: string;
  reference: string;
  expires: string;
}

/**
 * Revokes every grant past its expiry that the queue missed: Postgres is the source of truth and
 * Redis may lose its data (issue 4). Runs every minute and when the worker starts. Contacts come
 * by the indexed earliest expiry on their read row.
 */
export class ExpirySweep {
  constructor(
    private readonly db: Database,
    private readonly contacts: ContactService,
    private readonly clock: Clock,
  ) {}

  async run(metadata: EventMetadata): Promise<number> {
    let revoked = 0;
    for (;;) {
      const now = this.clock.now();
      const { rows } = await this.db.query<DueGrant>(
        `SELECT c.id, g->>'reference' AS reference, g->>'expires' AS expires
         FROM (SELECT id, state FROM contacts WHERE next_expiry <= $1 ORDER BY next_expiry LIMIT 500) c,
              jsonb_array_elements(c.state->'grants') g
         WHERE (g->>'expires')::timestamptz <= $1`,
        [now],
      );
      if (rows.length === 0) return revoked;
      let progressed = false;
      for (const due of rows) {
        if (await this.contacts.expireGrant(due.id, due.reference, due.expires, metadata)) {
          revoked += 1;
          progressed = true;
        }
      }
      // Rows that name nothing to revoke (a read row behind its stream) must not loop forever.
      if (!progressed) return revoked;
    }
  }
}
