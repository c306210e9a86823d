import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { Clock } from '@app/config';
import { ContactService } from '@app/contact-service';
import type { EventMetadata } from '@app/event-store';
import { DueWorkQueries } from '@app/projections';
import { RepeatingJob, ScheduleCheck } from '../repeating-job.js';

/** Contacts looked at per round. */
const BATCH = 500;

/**
 * Revokes every grant past its expiry that the queue missed: Postgres is the source of truth and
 * the queue store may lose its data. Runs every minute and when the worker starts.
 */
@Injectable()
export class ExpirySweep implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly schedule: RepeatingJob;

  constructor(
    @InjectQueue('roles') queue: Queue,
    @Inject(ContactService) private readonly contacts: ContactService,
    @Inject(DueWorkQueries) private readonly due: DueWorkQueries,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(ScheduleCheck) check: ScheduleCheck,
  ) {
    this.schedule = new RepeatingJob(queue, 'sweep-expired', { everyMs: 60_000, runAtStart: true, checkEveryMs: check.everyMs });
  }

  onApplicationBootstrap(): Promise<void> {
    return this.schedule.start();
  }

  beforeApplicationShutdown(): void {
    this.schedule.stop();
  }

  async run(metadata: EventMetadata): Promise<number> {
    let revoked = 0;
    for (;;) {
      const grants = await this.due.dueGrants(this.clock.now(), BATCH);
      if (grants.length === 0) return revoked;
      let progressed = false;
      for (const grant of grants) {
        if (await this.contacts.expireGrant(grant.contactId, grant.reference, grant.expires, metadata)) {
          revoked += 1;
          progressed = true;
        }
      }
      // Rows that name nothing to revoke (a read row behind its stream) must not loop forever.
      if (!progressed) return revoked;
    }
  }
}
