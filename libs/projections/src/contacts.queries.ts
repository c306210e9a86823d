import { atMoment, fold, normalizeEmail, toContactView, type ContactType, type ContactView, type Recorded } from '@app/contacts';
import type { Queryable } from '@app/database';

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
  constructor(private readonly db: Queryable) {}

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

  /**
   * The contact as it was at `at` (DESIGN §6 `asOf`): its events recorded up to then, folded with
   * the same `evolve` the read table is built with, and shown as of that moment (a grant whose
   * expiry had passed by then is not shown). Null when it did not exist yet.
   */
  async asOf(id: string, at: Date): Promise<ContactView | null> {
    const { rows } = await this.db.query<{ type: string; data: Record<string, unknown>; version: number; recorded_at: Date }>(
      `SELECT type, data, stream_version AS version, recorded_at FROM events WHERE stream_id = $1 ORDER BY stream_version`,
      [id],
    );
    // The stream up to its first event recorded after `at`: a later version never counts before an earlier one.
    const cut = rows.findIndex((r) => r.recorded_at.getTime() > at.getTime());
    const past = cut === -1 ? rows : rows.slice(0, cut);
    const state = fold(
      past.map((r) => ({ type: r.type, data: r.data, version: r.version, recordedAt: r.recorded_at.toISOString() }) as Recorded),
    );
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
        `SELECT view FROM contacts ${clause} ORDER BY created, id LIMIT $${values.length - 1} OFFSET $${values.length}`,
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
