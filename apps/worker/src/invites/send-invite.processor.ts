import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { InviteTokens } from '@app/auth';
import { AppConfig, Clock } from '@app/config';
import { ContactService, loadContact } from '@app/contact-service';
import { inviteIsUsable } from '@app/contacts';
import { Database } from '@app/database';
import { createMailer, inviteMail, type Mailer } from '@app/mail';
import type { JobOf } from '../jobs.js';

export type SendInviteOutcome = 'sent' | 'superseded' | 'already-sent' | 'accepted' | 'expired' | 'gone';

/**
 * Mails an invite once: it checks the contact's current invite, sends, and records
 * `InviteSent`. A job for an invite that was superseded, sent or accepted meanwhile does nothing.
 *
 * Two attempts at one invite (a stalled job run again while the first still runs) queue on a
 * lock of the invite, so the second sees `InviteSent` and stops. What remains is a crash after the
 * SMTP server accepted the mail and before `InviteSent` commits, a window of one short
 * transaction: the retry then sends again, with the same Message-ID, so the receiving server or
 * client can recognise the repeat.
 */
@Injectable()
export class SendInviteProcessor implements OnApplicationShutdown {
  private readonly logger = new Logger('Worker');
  readonly mailer: Mailer;
  private readonly publicUrl: string;

  constructor(
    @Inject(Database) private readonly db: Database,
    @Inject(ContactService) private readonly contacts: ContactService,
    @Inject(InviteTokens) private readonly tokens: InviteTokens,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(AppConfig) config: AppConfig,
  ) {
    this.mailer = createMailer({ smtpUrl: config.SMTP_URL, outboxDir: config.mailOutboxDir, from: config.MAIL_FROM });
    this.publicUrl = config.publicUrl;
  }

  /** After the job workers: @nestjs/bullmq closes them, letting active jobs finish, before this module's hooks run. */
  onApplicationShutdown(): void {
    this.mailer.close();
  }

  async process(job: JobOf<'invites', 'send-invite'>): Promise<SendInviteOutcome> {
    const { tokenHash } = job.data;
    const client = await this.db.pool.connect();
    try {
      // A session lock: no transaction stays open while the mail server answers.
      await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`invite/${tokenHash}`]);
      try {
        return await this.sendOnce(job);
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`invite/${tokenHash}`]);
      }
    } finally {
      client.release();
    }
  }

  private async sendOnce(job: JobOf<'invites', 'send-invite'>): Promise<SendInviteOutcome> {
    const { contactId, version, tokenHash } = job.data;
    const { state } = await loadContact(this.db, contactId);
    const invite = state?.invite;
    if (!state || !invite) return 'gone';
    if (invite.tokenHash !== tokenHash) return 'superseded';
    if (invite.status === 'sent') return 'already-sent';
    if (invite.status === 'accepted') return 'accepted';
    if (!inviteIsUsable(invite, this.clock.now())) return 'expired';

    const token = this.tokens.token(contactId, version);
    if (InviteTokens.hash(token) !== tokenHash) {
      // The server secret changed since the invite was issued: no link can be rebuilt. Retrying will not help.
      throw new UnrecoverableError(`invite ${tokenHash.slice(0, 12)} was issued under another server secret; send a new invite`);
    }
    const link = `${this.publicUrl}/invites/${token}`;
    const mail = inviteMail({
      firstname: state.firstname,
      lastname: state.lastname,
      email: state.email,
      link,
      expiresAt: invite.expiresAt,
      tokenHash,
      domain: new URL(this.publicUrl).hostname,
    });
    const delivery = await this.mailer.send(mail);
    await this.contacts.recordInviteSent(contactId, tokenHash, {
      clientId: null,
      requestId: `job-${job.id ?? job.name}`,
      correlationId: job.data.correlationId,
      causationId: job.data.eventPosition,
    });
    if (this.mailer.kind === 'outbox') {
      // No SMTP server is configured (development): the outbox file and this line are the mailbox (DESIGN §4).
      this.logger.log({ contactId, file: delivery.receipt, link, msg: 'invite mail written to the outbox' });
    } else {
      this.logger.log({ contactId, msg: 'invite mail sent' });
    }
    return 'sent';
  }
}
