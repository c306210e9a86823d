import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '@app/database';

export const SCOPES = ['contacts', 'contacts.readonly', 'roles', 'roles.readonly', 'audit', 'privacy', 'signin'] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

export interface Client {
  clientId: string;
  name: string;
  scopes: Scope[];
}

/** A client as `clients:list` shows it: never its secret or the secret's hash. */
export interface ClientListing {
  client_id: string;
  name: string;
  scopes: Scope[];
  /** ATOM, UTC */
  created: string;
  /** ATOM, UTC; null while the client may get tokens */
  revoked: string | null;
}

export class ClientNotFound extends Error {
  constructor(readonly clientId: string) {
    super(`no client has the id ${clientId}`);
    this.name = 'ClientNotFound';
  }
}

const ATOM_UTC = `'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'`;
const LISTING = `client_id, name, scopes,
  to_char(created_at AT TIME ZONE 'UTC', ${ATOM_UTC}) AS created,
  to_char(revoked_at AT TIME ZONE 'UTC', ${ATOM_UTC}) AS revoked`;

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

  /**
   * The client, when `secret` is its secret and it is not revoked; null otherwise (unknown id,
   * wrong secret and revoked client alike).
   */
  async authenticate(clientId: string, secret: string): Promise<Client | null> {
    const { rows } = await this.db.query<{ client_id: string; name: string; secret_hash: string; scopes: Scope[] }>(
      'SELECT client_id, name, secret_hash, scopes FROM clients WHERE client_id::text = $1 AND revoked_at IS NULL',
      [clientId],
    );
    const row = rows[0];
    const given = hashSecret(secret);
    const stored = row ? Buffer.from(row.secret_hash, 'hex') : Buffer.alloc(given.length);
    const matches = stored.length === given.length && timingSafeEqual(stored, given);
    return row && matches ? { clientId: row.client_id, name: row.name, scopes: row.scopes } : null;
  }

  /** Every client, oldest first. */
  async list(): Promise<ClientListing[]> {
    const { rows } = await this.db.query<ClientListing>(`SELECT ${LISTING} FROM clients ORDER BY created_at, client_id`);
    return rows;
  }

  /** Cuts the client off; revoking it again keeps the first revocation's time. */
  async revoke(clientId: string): Promise<ClientListing> {
    const { rows } = await this.db.query<ClientListing>(
      `UPDATE clients SET revoked_at = coalesce(revoked_at, now()) WHERE client_id = $1 RETURNING ${LISTING}`,
      [clientId],
    );
    const row = rows[0];
    if (!row) throw new ClientNotFound(clientId);
    return row;
  }

  /** The ids of every revoked client: each API process holds them to refuse their tokens. */
  async revokedIds(): Promise<string[]> {
    const { rows } = await this.db.query<{ client_id: string }>({
      name: 'revoked_clients',
      text: 'SELECT client_id FROM clients WHERE revoked_at IS NOT NULL',
    });
    return rows.map((row) => row.client_id);
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
