import { InviteTokens, tokenSecret } from '@app/auth';
import type { Queryable } from '@app/database';

/**
 * The token of a contact's latest invite, derived as the mail worker derives it for the link:
 * from the server secret (tests set no TOKEN_SECRET, so the one in `settings`) and the version
 * of the contact's newest `InviteIssued` event.
 */
export async function inviteTokenOf(db: Queryable, contactId: string): Promise<string> {
  const secret = await tokenSecret(db, undefined);
  const { rows } = await db.query<{ stream_version: number }>(
    `SELECT stream_version FROM events WHERE stream_id = $1 AND type = 'InviteIssued' ORDER BY stream_version DESC LIMIT 1`,
    [contactId],
  );
  const version = rows[0]?.stream_version;
  if (version === undefined) throw new Error(`contact ${contactId} has no invite`);
  return new InviteTokens(secret).token(contactId, version);
}
