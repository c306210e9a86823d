import { createHmac, timingSafeEqual } from 'node:crypto';

/** Who is signed in to the console. */
export interface ConsoleSession {
  clientId: string;
}

/** How long a console session lasts before its holder signs in again. */
export const SESSION_TTL_SECONDS = 8 * 60 * 60;

/**
 * Console sessions as self-contained cookies: the client id and an expiry, signed with a key
 * derived from the server secret. Any API process can check one without shared state; the
 * client's standing (it still exists, is not revoked, holds `audit`) is checked on every request.
 */
export class ConsoleSessions {
  private readonly key: Buffer;

  constructor(serverSecret: string) {
    this.key = createHmac('sha256', serverSecret).update('contacts/console/session/v1').digest();
  }

  issue(session: ConsoleSession, now: Date): string {
    const payload = Buffer.from(JSON.stringify({ c: session.clientId, e: Math.floor(now.getTime() / 1000) + SESSION_TTL_SECONDS }));
    return `${payload.toString('base64url')}.${this.sign(payload).toString('base64url')}`;
  }

  /** The session a cookie carries, or null when it is absent, forged, malformed or expired. */
  read(cookie: string | undefined, now: Date): ConsoleSession | null {
    const [encoded, signature, extra] = (cookie ?? '').split('.');
    if (!encoded || !signature || extra !== undefined) return null;
    const payload = Buffer.from(encoded, 'base64url');
    const given = Buffer.from(signature, 'base64url');
    const expected = this.sign(payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    try {
      const claims = JSON.parse(payload.toString('utf8')) as { c?: unknown; e?: unknown };
      if (typeof claims.c !== 'string' || typeof claims.e !== 'number') return null;
      return claims.e * 1000 > now.getTime() ? { clientId: claims.c } : null;
    } catch {
      return null;
    }
  }

  private sign(payload: Buffer): Buffer {
    return createHmac('sha256', this.key).update(payload).digest();
  }
}
