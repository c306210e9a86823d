import type { Queryable } from '@app/database';

/** A grant whose expiry has passed, as the contacts read table holds it. */
export interface DueGrant {
  contactId: string;
  reference: string;
  expires: string;
}

/** A pending invite whose mail may not have gone out: its `InviteIssued` event and that event's place in the log. */
export interface UnsentInvite {
  contactId: string;
  version: number;
  tokenHash: string;
  correlationId: string | null;
  eventPosition: string;
}

interface DueGrantRow {
  id: string;
  reference: string;
  expires: string;
}

interface UnsentInviteRow {
  id: string;
  version: number;
  token_hash: string;
  correlation_id: string | null;
  position: string;
}

/**
 * The worker's questions to the `contacts` read table: what is due that the queue store may have
 * lost. Postgres is the source of truth; the sweeps that ask these act on the answers.
 */
export class DueWorkQueries {
  constructor(private readonly db: Queryable) {}

  /** Grants past their expiry at `now`, from up to `contacts` contacts, found by their indexed earliest expiry. */
  async dueGrants(now: Date, contacts: number): Promise<DueGrant[]> {
    const { rows } = await this.db.query<DueGrantRow>(
      `SELECT c.id, g->>'reference' AS reference, g->>'expires' AS expires
       FROM (SELECT id, state FROM contacts WHERE next_expiry <= $1 ORDER BY next_expiry LIMIT $2) c,
            jsonb_array_elements(c.state->'grants') g
       WHERE (g->>'expires')::timestamptz <= $1`,
      [now, contacts],
    );
    return rows.map((row) => ({ contactId: row.id, reference: row.reference, expires: row.expires }));
  }

  /**
   * Pending invites, unexpired at `now` and issued at or before `issuedBy`, of contacts after
   * `afterContact` in id order: a page of at most `limit`.
   */
  async unsentInvites(now: Date, issuedBy: Date, afterContact: string, limit: number): Promise<UnsentInvite[]> {
    const { rows } = await this.db.query<UnsentInviteRow>(
      `SELECT c.id, e.stream_version AS version, e.data->>'tokenHash' AS token_hash,
              e.metadata->>'correlationId' AS correlation_id, e.position::text AS position
       FROM contacts c
       JOIN LATERAL (
         SELECT * FROM events e
         WHERE e.stream_id = c.id AND e.type = 'InviteIssued' AND e.data->>'tokenHash' = c.state->'invite'->>'tokenHash'
         ORDER BY e.stream_version DESC LIMIT 1
       ) e ON true
       WHERE (c.state->'invite'->>'status') = 'pending' AND c.id > $1
         AND (c.state->'invite'->>'expiresAt')::timestamptz > $2 AND e.recorded_at <= $3
       ORDER BY c.id LIMIT $4`,
      [afterContact, now, issuedBy, limit],
    );
    return rows.map((row) => ({
      contactId: row.id,
      version: row.version,
      tokenHash: row.token_hash,
      correlationId: row.correlation_id,
      eventPosition: row.position,
    }));
  }
}
