import { Inject } from '@nestjs/common';
import { Processor } from '@nestjs/bullmq';
import { QueueWorker } from '../jobs.js';
import { SendInviteProcessor } from './send-invite.processor.js';
import { UnsentInviteSweep } from './unsent-invite-sweep.js';

@Processor('invites')
export class InvitesWorker extends QueueWorker<'invites'> {
  constructor(@Inject(SendInviteProcessor) sendInvite: SendInviteProcessor, @Inject(UnsentInviteSweep) unsentInvites: UnsentInviteSweep) {
    super('invites', {
      'send-invite': (job) => sendInvite.process(job),
      'sweep-unsent-invites': () => unsentInvites.run(),
    });
  }
}
