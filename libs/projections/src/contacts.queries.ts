import { atMoment, fold, normalizeEmail, toContactView, type ContactType, type ContactView } from '@app/contacts';
import type { Queryable } from '@app/database';
import { EventStore, toRecorded } from '@app/event-store';

export interface ContactFilter {
  email?: string;
  type?: ContactType;
  tag?: string;
  page: number;
  limit: number;
}

export interface ContactPage {
  contacts: ContactView[];
  pagination: { page: number; limit: number; total: number; totalPages: number };
}

/**
 * Reads of the `contacts` table, shown as of `now` (an expired grant is never shown active). A
 * deleted contact is in no list or lookup (DESIGN §10); `deletedAt` tells it from one that never was.
 */
export class ContactQueries {
  private readonly events: EventStore;

  constructor(private readonly db: Queryable) {
    this.events = new EventStore(db);
  }

  async byId(id: string, now: Date): Promise<ContactView | null> {
    const { rows } = await this.db.query<{ view: ContactView }>({
      name: 'contacts_by_id',
      text: 'SELECT view FROM contacts WHERE id = $1 AND NOT deleted',
      values: [id],
    });
    const row = rows[0];
    return row ? atMoment(row.view, now) : null;
  }

  /** When the contact was deleted; null for a contact that lives or never was. */
  async deletedAt(id: string): Promise<Date | null> {
    const { rows } = await this.db.query<{ deleted: string }>({
      name: 'contacts_deleted_at',
      text: `SELECT state->>'deleted' AS deleted FROM contacts WHERE id = $1 AND deleted`,
      values: [id],
    });
    const deleted = rows[0]?.deleted;
    return deleted === undefined ? null : new Date(deleted);
  }

  /** When the person's data was erased; null for a contact that was not (or never was). */
  async erasedAt(id: string): Promise<Date | null> {
    const { rows } = await this.db.query<{ erased: string }>({
      name: 'contacts_erased_at',
      text: `SELECT state #>> '{erased,erasedAt}' AS erased FROM contacts WHERE id = $1 AND deleted AND state ? 'erased'`,
      values: [id],
    });
    const erased = rows[0]?.erased;
    return erased === undefined ? null : new Date(erased);
  }

  /**
   * The contact as it was at `at` (DESIGN §6 `asOf`): its events recorded up to then, folded with
   * the same `evolve` the read table is built with, and shown as of that moment (a grant whose
   * expiry had passed by then is not shown). Null when it did not exist yet.
   */
  async asOf(id: string, at: Date): Promise<ContactView | null> {
    const { events } = await this.events.readStream(id);
    // The stream up to its first event recorded after `at`: a later version never counts before an earlier one.
    const cut = events.findIndex((e) => new Date(e.recordedAt).getTime() > at.getTime());
    const state = fold((cut === -1 ? events : events.slice(0, cut)).map(toRecorded));
    return state && atMoment(toContactView(state), at);
  }

  async list(filter: ContactFilter, now: Date): Promise<ContactPage> {
    const where: string[] = ['NOT deleted'];
    const values: unknown[] = [];
    if (filter.email !== undefined) {
      values.push(normalizeEmail(filter.email));
      where.push(`email = $${values.length}`);
    }
    if (filter.type !== undefined) {
      values.push(filter.type);
      where.push(`type = $${values.length}`);
    }
    if (filter.tag !== undefined) {
      values.push([filter.tag]);
      where.push(`tags @> $${values.length}::text[]`);
    }
    const clause = `WHERE ${where.join(' AND ')}`;
    values.push(filter.limit, (filter.page - 1) * filter.limit);
    const [page, count] = await Promise.all([
      this.db.query<{ view: ContactView }>(
        `SELECT view FROM contacts ${clause} ORDER BY created DESC, id DESC LIMIT $${values.length - 1} OFFSET $${values.length}`,
        values,
      ),
      this.db.query<{ total: string }>(`SELECT count(*) AS total FROM contacts ${clause}`, values.slice(0, -2)),
    ]);
    const total = Number(count.rows[0]?.total ?? 0);
    return {
      contacts: page.rows.map((r) => atMoment(r.view, now)),
      pagination: { page: filter.page, limit: filter.limit, total, totalPages: Math.ceil(total / filter.limit) },
    };
  }
}

/**
 * The contact whose invite has this token hash, if any: the invite page finds its person through
 * the index on this expression, so the text must stay as the index has it.
 */
export async function contactIdByInviteToken(on: Queryable, tokenHash: string): Promise<string | undefined> {
  const { rows } = await on.query<{ id: string }>({
    name: 'contact_by_invite',
    text: `SELECT id FROM contacts WHERE state #>> '{invite,tokenHash}' = $1`,
    values: [tokenHash],
  });
  return rows[0]?.id;
}

/** The contact whose retired invite (its email or password changed since) had this token hash. */
export async function contactIdByRetiredInviteToken(on: Queryable, tokenHash: string): Promise<string | undefined> {
  const { rows } = await on.query<{ id: string }>({
    name: 'contact_by_retired_invite',
    text: `SELECT id FROM contacts WHERE state ? 'retiredInvite' AND state #>> '{retiredInvite,tokenHash}' = $1`,
    values: [tokenHash],
  });
  return rows[0]?.id;
}
