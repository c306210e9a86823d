import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { Database } from '@app/database';
import type { QueueBackend } from '@app/queues';

/**
 * Whether the queue store answers (readiness): Redis is pinged on a connection of its own that
 * gives up after one reconnection attempt, so a probe never waits on a dead server; the PostgreSQL
 * backend lives in the service's own database, so reaching that database is reaching the queues.
 */
export class QueueBackendProbe implements OnApplicationShutdown {
  private readonly logger = new Logger('Health');
  private redis: Redis | null = null;

  constructor(
    private readonly backend: QueueBackend,
    private readonly database: Database,
  ) {}

  get kind(): QueueBackend['kind'] {
    return this.backend.kind;
  }

  async ping(): Promise<void> {
    if (this.backend.kind === 'postgres') {
      await this.database.query('SELECT 1');
      return;
    }
    this.redis ??= this.connect(this.backend.url);
    await this.redis.ping();
  }

  private connect(url: string): Redis {
    const redis = new Redis(url, {
      connectTimeout: 2_000,
      // A ping sent while disconnected waits for one reconnection attempt, then fails (and the
      // probe's own timeout is shorter still).
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(attempt * 500, 5_000),
      // Named after the deployment's queues, so an operator (or a test) can tell whose it is.
      connectionName: `${this.backend.prefix}:api-health`,
      // A ping connection has nothing to flush: shutting down never waits ioredis's default 2 s.
      disconnectTimeout: 100,
    });
    let down = false;
    redis.on('error', (error: Error) => {
      if (!down) this.logger.warn(`redis: ${error.message}`);
      down = true;
    });
    redis.on('ready', () => {
      down = false;
    });
    return redis;
  }

  onApplicationShutdown(): void {
    this.redis?.disconnect();
    this.redis = null;
  }
}
