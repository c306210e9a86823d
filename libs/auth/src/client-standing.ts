import type { Queryable } from '@app/database';
import { isScope, type Client, type Scope } from './client-store.js';

/**
 * The client as it stands now, for a session that outlives the request it began with (the
 * auditors' console): null when no such client exists or it has been revoked. Every column is
 * read so a revocation mark (`revoked_at`) is honoured wherever the schema has one.
 */
export async function clientStanding(db: Queryable, clientId: string): Promise<Client | null> {
  const { rows } = await db.query<{ client_id: string; name: string; scopes: string[]; revoked_at?: Date | null }>(
    'SELECT * FROM clients WHERE client_id::text = $1',
    [clientId],
  );
  const row = rows[0];
  if (!row || (row.revoked_at !== undefined && row.revoked_at !== null)) return null;
  return { clientId: row.client_id, name: row.name, scopes: row.scopes.filter((s): s is Scope => isScope(s)) };
}
