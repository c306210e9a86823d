import { createHash } from 'node:crypto';
import { html } from './html.js';
import type { MailMessage } from './mailer.js';

export interface InviteMailContent {
  firstname: string | null;
  lastname: string | null;
  email: string;
  link: string;
  /** ATOM; shown in UTC */
  expiresAt: string;
  /** the invite's token hash: names the mail, so every attempt at it carries one Message-ID */
  tokenHash: string;
  /** the host part of the Message-ID */
  domain: string;
}

/** The invite mail (Evance: "a link to a page where they can review their basic information and supply a password"). */
export function inviteMail(content: InviteMailContent): MailMessage {
  const name = [content.firstname, content.lastname].filter(Boolean).join(' ') || content.email;
  const expires = new Date(content.expiresAt).toUTCString();
  const text = [
    `Hello ${name},`,
    '',
    'An account has been created for you. Follow this link to review your details and choose a password:',
    '',
    content.link,
    '',
    `The link works once, until ${expires}.`,
    'If you did not expect this mail, you can ignore it.',
  ].join('\n');
  const body = html`<!doctype html>
<html lang="en">
  <body style="font-family: system-ui, sans-serif; line-height: 1.5; color: #1a1a1a">
    <p>Hello ${name},</p>
    <p>An account has been created for you. Follow this link to review your details and choose a password:</p>
    <p><a href="${content.link}" style="display: inline-block; padding: 0.6em 1.2em; background: #1d4ed8; color: #fff; text-decoration: none; border-radius: 4px">Set your password</a></p>
    <p style="word-break: break-all">${content.link}</p>
    <p>The link works once, until ${expires}.</p>
    <p>If you did not expect this mail, you can ignore it.</p>
  </body>
</html>`;
  return {
    to: content.email,
    subject: 'Set your password',
    text,
    html: body.value,
    // Named after the invite, not after its stored hash: the same for every attempt at one invite.
    messageId: `<invite.${createHash('sha256').update(`message-id/${content.tokenHash}`).digest('hex').slice(0, 32)}@${content.domain}>`,
  };
}
