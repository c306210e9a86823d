import { conflictingKinds, ContactRejected, fieldError, type EmailReservation } from '@app/contacts';
import type { Queryable } from '@app/database';

/**
 * Writes a contact's email reservation in the append transaction (DESIGN §3.4). The primary key
 * (kind, email) is the uniqueness rule; a recipient must also not take a user's email, so both
 * take a transaction lock on the address first and the check after it sees every committed user.
 */
export async function reserveEmail(tx: Queryable, contactId: string, reservation: EmailReservation): Promise<void> {
  const conflicts = conflictingKinds(reservation.kind);
  if (reservation.kind === 'user' || conflicts.length > 0) {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [reservation.email]);
  }
  const { rowCount } = await tx.query(
    `INSERT INTO email_reservations (kind, email, contact_id)
     SELECT $1, $2, $3
     WHERE NOT EXISTS (SELECT 1 FROM email_reservations WHERE email = $2 AND kind = ANY($4::text[]))
     ON CONFLICT (kind, email) DO NOTHING`,
    [reservation.kind, reservation.email, contactId, conflicts],
  );
  if (rowCount === 0) {
    throw new ContactRejected(
      [
        fieldError(
          '/contact/email',
          'email_taken',
          `a ${reservation.kind === 'recipient' ? 'user or recipient' : reservation.kind} already has this email`,
        ),
      ],
      'conflict',
    );
  }
}

/** Gives up a contact's email (its email changed): only the reservation this contact holds. */
export async function releaseEmail(tx: Queryable, contactId: string, reservation: EmailReservation): Promise<void> {
  await tx.query('DELETE FROM email_reservations WHERE kind = $1 AND email = $2 AND contact_id = $3', [
    reservation.kind,
    reservation.email,
    contactId,
  ]);
}

/** The user holding this normalised email, if any. */
export async function userWithEmail(on: Queryable, email: string): Promise<string | undefined> {
  const { rows } = await on.query<{ contact_id: string }>({
    name: 'user_by_email',
    text: `SELECT contact_id FROM email_reservations WHERE kind = 'user' AND email = $1`,
    values: [email],
  });
  return rows[0]?.contact_id;
}
