import pg from 'pg';
import { DataSource } from 'typeorm';
import { createDatabaseIfMissing } from './create-database.js';
import { InitialSchema1732400000000 } from './migrations/1732400000000-initial-schema.js';
import { IdempotencyKeys1732500000000 } from './migrations/1732500000000-idempotency-keys.js';
import { ContactSnapshots1732600000000 } from './migrations/1732600000000-contact-snapshots.js';
import { Dispatcher1732700000000 } from './migrations/1732700000000-dispatcher.js';
import { GrantExpiry1732800000000 } from './migrations/1732800000000-grant-expiry.js';
import { UnsentInvites1732900000000 } from './migrations/1732900000000-unsent-invites.js';
import { grantRuntimeRole } from './runtime-role.js';
import { LogAfterRestore1733100000000 } from './migrations/1733100000000-log-after-restore.js';
import { ClientRevocation1733150000000 } from './migrations/1733150000000-client-revocation.js';
import { InviteTokenIndex1733200000000 } from './migrations/1733200000000-invite-token-index.js';
import { RuntimeRole1733300000000 } from './migrations/1733300000000-runtime-role.js';
import { ContactDeletion1733500000000 } from './migrations/1733500000000-contact-deletion.js';
import { SigninAttempts1733600000000 } from './migrations/1733600000000-signin-attempts.js';
import { Leases1733700000000 } from './migrations/1733700000000-leases.js';
import { Erasure1733800000000 } from './migrations/1733800000000-erasure.js';

export const MIGRATIONS = [
  InitialSchema1732400000000,
  IdempotencyKeys1732500000000,
  ContactSnapshots1732600000000,
  Dispatcher1732700000000,
  GrantExpiry1732800000000,
  UnsentInvites1732900000000,
  LogAfterRestore1733100000000,
  ClientRevocation1733150000000,
  InviteTokenIndex1733200000000,
  RuntimeRole1733300000000,
  ContactDeletion1733500000000,
  SigninAttempts1733600000000,
  Leases1733700000000,
  Erasure1733800000000,
];

/** Any fixed number: migrating processes queue on it so two never run migrations at once. */
const MIGRATION_LOCK = 7_104_221;

/** Creates the database if needed and applies pending migrations (DESIGN §3.10: schema only from migrations). */
export async function migrate(url: string): Promise<string[]> {
  await createDatabaseIfMissing(url);
  const lock = new pg.Client({ connectionString: url });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const source = new DataSource({
      type: 'postgres',
      url,
      migrations: MIGRATIONS,
      migrationsTableName: 'migrations',
      synchronize: false,
      logging: false,
    });
    await source.initialize();
    try {
      const applied = await source.runMigrations({ transaction: 'each' });
      // A database restored into a new server is taken onto the log's clock before anything appends.
      await lock.query('SELECT continue_log_after_restore()');
      await grantRuntimeRole(lock);
      return applied.map((m) => m.name);
    } finally {
      await source.destroy();
    }
  } finally {
    await lock.end();
  }
}
