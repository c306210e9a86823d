import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { openQueue, QUEUE_NAMES, type QueueBackend, type QueueName } from '@app/queues';

/**
 * The worker's queues as the API looks at them: for /metrics (job counts) and the dashboard at
 * /admin/queues. Opened on first use, so an API that is never scraped opens no queue connection;
 * closed when the application shuts down (after the HTTP server has drained).
 */
export class ObservedQueues implements OnApplicationShutdown {
  private readonly logger = new Logger('Queues');
  private opened: Map<QueueName, Queue> | null = null;
  private failing = false;

  constructor(readonly backend: QueueBackend) {}

  all(): Queue[] {
    this.opened ??= new Map(QUEUE_NAMES.map((name) => [name, this.open(name)]));
    return [...this.opened.values()];
  }

  private open(name: QueueName): Queue {
    const queue = openQueue(this.backend, name);
    // Without a listener an 'error' event would throw; an unreachable store is reported by
    // /health and the queue gauges, and logged once until it recovers.
    queue.on('error', (error: Error) => {
      if (this.failing) return;
      this.failing = true;
      this.logger.warn(`queue ${name}: ${error.message}`);
    });
    return queue;
  }

  /** A store that answered again: the next failure is logged. */
  recovered(): void {
    this.failing = false;
  }

  async onApplicationShutdown(): Promise<void> {
    const queues = this.opened ? [...this.opened.values()] : [];
    this.opened = null;
    await Promise.all(queues.map((queue) => queue.close()));
  }
}
