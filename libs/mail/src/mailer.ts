import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** the same for every attempt at one mail, so a receiving server can drop a repeat */
  messageId: string;
}

export interface Delivery {
  messageId: string;
  /** where it went: the SMTP server's reply, or the outbox file */
  receipt: string;
}

/** Hands mail to an SMTP server, or writes it to the outbox folder when no server is configured (DESIGN §4). */
export interface Mailer {
  readonly kind: 'smtp' | 'outbox';
  send(message: MailMessage): Promise<Delivery>;
  close(): void;
}

export interface MailerOptions {
  smtpUrl?: string;
  outboxDir: string;
  from: string;
}

export function createMailer(options: MailerOptions): Mailer {
  return options.smtpUrl ? new SmtpMailer(options.smtpUrl, options.from) : new OutboxMailer(options.outboxDir, options.from);
}

class SmtpMailer implements Mailer {
  readonly kind = 'smtp';
  // A pool of a few connections: a burst of invites reuses them instead of a handshake a mail.
  private readonly transport;

  constructor(url: string, from: string) {
    const pooled = new URL(url);
    pooled.searchParams.set('pool', 'true');
    this.transport = nodemailer.createTransport(pooled.toString(), { from });
  }

  async send(message: MailMessage): Promise<Delivery> {
    const info = await this.transport.sendMail(message);
    return { messageId: info.messageId, receipt: info.response };
  }

  close(): void {
    this.transport.close();
  }
}

class OutboxMailer implements Mailer {
  readonly kind = 'outbox';
  private readonly transport;

  constructor(
    private readonly dir: string,
    from: string,
  ) {
    this.transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' }, { from });
  }

  async send(message: MailMessage): Promise<Delivery> {
    const info = await this.transport.sendMail(message);
    await mkdir(this.dir, { recursive: true });
    // One file a mail: sending the same mail again writes the same file.
    const file = join(this.dir, `${message.messageId.replace(/[^A-Za-z0-9.-]/g, '_')}.eml`);
    await writeFile(file, info.message as Buffer);
    return { messageId: info.messageId, receipt: file };
  }

  close(): void {
    this.transport.close();
  }
}
