import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedError } from 'bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '@app/config';
import { ContactService } from '@app/contact-service';
import type { JobOf } from '../jobs.js';

/** Up to this much early, a job waits in the worker for its instant rather than going back to the queue. */
const HOLD_MS = 2_500;

export type ExpireRoleOutcome = 'revoked' | 'nothing-to-do';

/**
 * Revokes a grant at its expiry. The grant must still exist with the expiry the job was
 * scheduled for: one extended, shortened, made permanent or revoked since is left alone (its new
 * terms brought a job of their own). Jobs come due shortly before the expiry and wait for it in
 * the worker, so the revocation is on time and never early.
 */
@Injectable()
export class ExpireRoleProcessor {
  constructor(
    @Inject(ContactService) private readonly contacts: ContactService,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  async process(job: JobOf<'roles', 'expire-role'>, token?: string): Promise<ExpireRoleOutcome> {
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
