import { Inject } from '@nestjs/common';
import { Processor } from '@nestjs/bullmq';
import { QueueWorker } from '../jobs.js';
import { IdempotencyKeysCleanup } from './forget-idempotency-keys.processor.js';

@Processor('maintenance')
export class MaintenanceWorker extends QueueWorker<'maintenance'> {
  constructor(@Inject(IdempotencyKeysCleanup) cleanup: IdempotencyKeysCleanup) {
    super('maintenance', { 'forget-idempotency-keys': () => cleanup.run() });
  }
}
