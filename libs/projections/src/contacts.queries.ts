import { atMoment, normalizeEmail, type ContactType, type ContactView } from '@app/contacts';
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

/** Reads of the `contacts` table, shown as of `now` (an expired grant is never shown active). */
export class ContactQueries {
  constructor(private readonly db: Queryable) {}

  async byId(id: string, now: Date): Promise<ContactView | null> {
    const { rows } = await this.db.query<{ view: ContactView }>({ name: 'contacts_by_id', text: 'SELECT view FROM contacts WHERE id = $1', values: [id] });
    const row = rows[0];
    return row ? atMoment(row.view, now) : null;
  }

  async list(filter: ContactFilter, now: Date): Promise<ContactPage> {
    const where: string[] = [];
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
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
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
