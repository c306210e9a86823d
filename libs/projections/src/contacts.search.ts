import { atMoment, type ContactView } from '@app/contacts';
import type { Queryable } from '@app/database';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `%` and `_` in what a person typed are literal characters, not patterns. */
const likeEscaped = (term: string): string => term.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Finds contacts for people looking one up (the auditors' console): by id, or by a part of the
 * email, first name, last name, full name or company, case-insensitively. A scan of the read
 * table: this serves a person typing, not the API's hot path.
 */
export class ContactSearch {
  constructor(private readonly db: Queryable) {}

  async find(term: string, limit: number, now: Date): Promise<ContactView[]> {
    const text = term.trim();
    if (text === '') return [];
    if (UUID.test(text)) {
      const { rows } = await this.db.query<{ view: ContactView }>('SELECT view FROM contacts WHERE id = $1', [text.toLowerCase()]);
      return rows.map((r) => atMoment(r.view, now));
    }
    const { rows } = await this.db.query<{ view: ContactView }>(
      `SELECT view FROM contacts
       WHERE email ILIKE $1
          OR view->>'firstname' ILIKE $1
          OR view->>'lastname' ILIKE $1
          OR concat_ws(' ', view->>'firstname', view->>'lastname') ILIKE $1
          OR view->>'company' ILIKE $1
       ORDER BY created DESC, id
       LIMIT $2`,
      [`%${likeEscaped(text)}%`, limit],
    );
    return rows.map((r) => atMoment(r.view, now));
  }
}
