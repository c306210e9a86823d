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

  constructor(@Inject(ClientStore) private readonly clients: ClientStore) {}

  has(clientId: string): boolean {
    return this.revoked.has(clientId);
  }

  async onModuleInit(): Promise<void> {
    // The first read is awaited: a process never serves a revoked client's token, even at start.
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), REVOCATION_REFRESH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async refresh(): Promise<void> {
    try {
      this.revoked = new Set(await this.clients.revokedIds());
      if (this.failing) this.logger.log('revoked clients read again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn(`reading the revoked clients failed, keeping the last list: ${String(error)}`);
      this.failing = true;
      if (this.timer === undefined) throw error;
    }
  }
}
