import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto';

/**
 * Invite tokens. A token is the HMAC-SHA256 of the contact id and the stream version its
 * `InviteIssued` took, keyed from the server secret: 256 bits no one without the secret can
 * predict, that the mail worker derives again when it sends the mail, so the token itself is
 * never stored (only its SHA-256 is, in the event). A new invite takes a new version, and only the
 * newest invite's hash is accepted, so rotating an invite retires the old link at once.
 */
export class InviteTokens {
  private readonly key: KeyObject;

  constructor(serverSecret: string) {
    // A key of its own, so an invite token is never also a valid signature of something else.
    this.key = createSecretKey(createHmac('sha256', serverSecret).update('contacts/invite-token/v1').digest());
  }

  token(contactId: string, version: number): string {
    return createHmac('sha256', this.key).update(`${contactId}/${version}`).digest('base64url');
  }

  hashAt(contactId: string, version: number): string {
    return InviteTokens.hash(this.token(contactId, version));
  }

  static hash(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }
}
