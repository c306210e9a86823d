import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '@app/database';

export const SCOPES = ['contacts', 'contacts.readonly', 'roles', 'roles.readonly', 'audit', 'signin'] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

export interface Client {
  clientId: string;
  name: string;
  scopes: Scope[];
}

export interface IssuedClient {
  client_id: string;
  client_secret: string;
  scopes: Scope[];
}

/**
 * Client secrets are 256 random bits, so a fast hash is as safe as bcrypt for them (no dictionary
 * to try) and keeps the token endpoint cheap. Only the hash is stored.
 */
function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** OAuth2 clients (client credentials grant). */
export class ClientStore {
  constructor(private readonly db: Queryable) {}

  async create(name: string, scopes: Scope[]): Promise<IssuedClient> {
    const clientId = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    await this.db.query('INSERT INTO clients (client_id, name, secret_hash, scopes) VALUES ($1, $2, $3, $4)', [
      clientId,
      name,
      hashSecret(secret).toString('hex'),
      scopes,
    ]);
    return { client_id: clientId, client_secret: secret, scopes };
  }

  /** The client, when `secret` is its secret; null otherwise (unknown id or wrong secret alike). */
  async authenticate(clientId: string, secret: string): Promise<Client | null> {
    const { rows } = await this.db.query<{ client_id: string; name: string; secret_hash: string; scopes: Scope[] }>(
      'SELECT client_id, name, secret_hash, scopes FROM clients WHERE client_id::text = $1',
      [clientId],
    );
    const row = rows[0];
    const given = hashSecret(secret);
    const stored = row ? Buffer.from(row.secret_hash, 'hex') : Buffer.alloc(given.length);
    const matches = stored.length === given.length && timingSafeEqual(stored, given);
    return row && matches ? { clientId: row.client_id, name: row.name, scopes: row.scopes } : null;
  }
}

/** The secret access tokens are signed with: TOKEN_SECRET, or one generated once and kept in the database. */
export async function tokenSecret(db: Queryable, configured: string | undefined): Promise<string> {
  if (configured) return configured;
  await db.query(`INSERT INTO settings (key, value) VALUES ('token_secret', $1) ON CONFLICT (key) DO NOTHING`, [
    randomBytes(48).toString('base64url'),
  ]);
  const { rows } = await db.query<{ value: string }>(`SELECT value FROM settings WHERE key = 'token_secret'`);
  const value = rows[0]?.value;
  if (!value) throw new Error('token secret missing from settings');
  return value;
}
