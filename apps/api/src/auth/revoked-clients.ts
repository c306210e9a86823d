import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ClientStore } from '@app/auth';

/** How often each API process reads the revoked clients again: a revocation takes hold within this. */
export const REVOCATION_REFRESH_MS = 1000;

/**
 * The clients `cli clients:revoke` cut off, as this process last read them. Tokens are verified
 * locally (no database round trip a request), so each process keeps this set and refreshes it on
 * a timer; a failed refresh keeps the last set and is tried again at the next tick.
 */
@Injectable()
export class RevokedClients implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RevokedClients.name);
  private revoked = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  private reading = false;

  constructor(@Inject(ClientStore) private readonly clients: ClientStore) {}

  has(clientId: string): boolean {
    return this.revoked.has(clientId);
  }

  async onModuleInit(): Promise<void> {
    // The first read is awaited, so a process starts knowing every revocation; an unreachable
    // database does not stop it from starting (its /health says so), and the timer reads again.
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), REVOCATION_REFRESH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async refresh(): Promise<void> {
    // A slow read is not overtaken by the next tick's.
    if (this.reading) return;
    this.reading = true;
    try {
      this.revoked = new Set(await this.clients.revokedIds());
      if (this.failing) this.logger.log('revoked clients read again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn(`reading the revoked clients failed, keeping the last list: ${String(error)}`);
      this.failing = true;
    } finally {
      this.reading = false;
    }
  }
}
