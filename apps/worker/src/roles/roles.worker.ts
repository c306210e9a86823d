import { Inject } from '@nestjs/common';
import { Processor } from '@nestjs/bullmq';
import { QueueWorker } from '../jobs.js';
import { ExpireRoleProcessor } from './expire-role.processor.js';
import { ExpirySweep } from './expiry-sweep.js';

@Processor('roles')
export class RolesWorker extends QueueWorker<'roles'> {
  constructor(@Inject(ExpireRoleProcessor) expireRole: ExpireRoleProcessor, @Inject(ExpirySweep) sweep: ExpirySweep) {
    super('roles', {
      'expire-role': (job, token) => expireRole.process(job, token),
      'sweep-expired': (job) =>
        sweep.run({ clientId: null, requestId: `job-${job.id ?? job.name}`, correlationId: null, causationId: null }),
    });
  }
}
