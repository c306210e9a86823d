import { openEmbeddedPostgres, type EmbeddedPostgres, type EmbeddedUse } from './embedded-postgres.js';

/** The database a process of the service connects to: DATABASE_URL, or the embedded Postgres under DATA_DIR. */
export interface DatabaseLocation {
  url: string;
  /** for the line a process logs at start, never with credentials: `postgres://db:5432/contacts (DATABASE_URL)` or `embedded Postgres 18 on …` */
  description: string;
  /** the embedded instance, when DATABASE_URL is unset */
  embedded: EmbeddedPostgres | null;
  /** Stops the embedded Postgres if this process started it; nothing otherwise. Call it after every pool on it is closed. */
  release(): Promise<void>;
}

export interface DatabaseSettings {
  DATABASE_URL?: string;
  DATA_DIR: string;
}

/** DATABASE_URL when set; otherwise starts (or, for a command, joins) the embedded Postgres of DATA_DIR (DESIGN §4). */
export async function locateDatabase(
  settings: DatabaseSettings,
  use: EmbeddedUse,
  log?: (line: string) => void,
): Promise<DatabaseLocation> {
  if (settings.DATABASE_URL !== undefined) {
    return {
      url: settings.DATABASE_URL,
      description: `${withoutCredentials(settings.DATABASE_URL)} (DATABASE_URL)`,
      embedded: null,
      release: () => Promise.resolve(),
    };
  }
  const embedded = await openEmbeddedPostgres({ dataDir: settings.DATA_DIR, use, log });
  return { url: embedded.url, description: embedded.description, embedded, release: () => embedded.stop() };
}

/** `postgres://host:port/database`: no user, password or parameters. */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}
