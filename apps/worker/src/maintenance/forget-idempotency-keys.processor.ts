import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { Clock } from '@app/config';
import { Database } from '@app/database';
import { RepeatingJob, ScheduleCheck } from '../repeating-job.js';

/** Stripe's window: a key answers with its first response for 24 hours (apps/api/src/http/idempotency.ts). */
const KEEP_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes idempotency records past their 24 hours, a batch at a time so no statement holds many
 * rows locked. The API ignores an expired record anyway; this only keeps the table small.
 */
export async function forgetIdempotencyKeys(db: Database, clock: Clock): Promise<number> {
  const cutoff = new Date(clock.now().getTime() - KEEP_MS);
  let forgotten = 0;
  for (;;) {
    const { rowCount } = await db.query(
      `DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE created_at < $1 LIMIT 5000)`,
      [cutoff],
    );
    forgotten += rowCount ?? 0;
    if ((rowCount ?? 0) < 5000) return forgotten;
  }
}

/** Forgets expired idempotency records every hour. */
@Injectable()
export class IdempotencyKeysCleanup implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly schedule: RepeatingJob;

  constructor(
    @InjectQueue('maintenance') queue: Queue,
    @Inject(Database) private readonly db: Database,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(ScheduleCheck) check: ScheduleCheck,
  ) {
    this.schedule = new RepeatingJob(queue, 'forget-idempotency-keys', {
      everyMs: 3_600_000,
      runAtStart: false,
      checkEveryMs: check.everyMs,
    });
  }

  onApplicationBootstrap(): Promise<void> {
    return this.schedule.start();
  }

  beforeApplicationShutdown(): void {
    this.schedule.stop();
  }

  run(): Promise<number> {
    return forgetIdempotencyKeys(this.db, this.clock);
  }
}
