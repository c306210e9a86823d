/** The embedded Postgres's errors, and how a failure is told in one line. */

/** The embedded Postgres cannot be used, for a reason its message tells an operator in one line. */
export class EmbeddedPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresError';
  }
}

/** A server already runs on this DATA_DIR: a second one would share, and then stop, its database. */
export class EmbeddedPostgresBusy extends EmbeddedPostgresError {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresBusy';
  }
}

export function lastLines(text: string, count = 3): string {
  return text.trim().split('\n').slice(-count).join(' | ');
}

export function errorCode(error: unknown): string | undefined {
  return (error as { code?: string } | null)?.code;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
