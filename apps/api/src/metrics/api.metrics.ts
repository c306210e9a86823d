import { Logger } from '@nestjs/common';
import type { JobType } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '@app/database';
import { DISPATCHER_CONSUMER, LogCheckpoints, unreachableEvents } from '@app/event-store';
import type { ObservedQueues } from '../queues/observed-queues.js';

/** Job states shown per queue: depths (waiting, active, delayed, …) and outcomes (completed, failed). */
const JOB_STATES: JobType[] = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'];

/** A scrape waits at most this for a queue store or the database, so Prometheus gets an answer. */
const SCRAPE_TIMEOUT_MS = 2_000;

/** Counting the events behind the dispatcher stops here: the number is a gauge, not an audit. */
const LAG_COUNT_MAX = 100_000;

function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${SCRAPE_TIMEOUT_MS} ms`)), SCRAPE_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** One run of `work` shared by every caller until it settles. */
function once(work: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  return () =>
    (running ??= work().finally(() => {
      running = null;
    }));
}

/**
 * The API process's Prometheus metrics, in a registry of its own (tests run several APIs in one
 * process): request latency by route pattern, events this process appended, the worker's queues
 * and the dispatcher's lag (read from the stores at scrape time), and Node's process metrics.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly logger = new Logger('Metrics');
  private readonly requestDuration: Histogram<'method' | 'route' | 'status_code'>;
  private readonly eventsAppended: Counter<'type'>;
  private readonly checkpoints: LogCheckpoints;

  constructor(
    private readonly database: Database,
    private readonly queues: ObservedQueues,
  ) {
    this.checkpoints = new LogCheckpoints(database);
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.requestDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern and status: time from request to response',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.eventsAppended = new Counter({
      name: 'contacts_events_appended_total',
      help: 'Events this API process appended to the log (counted once committed), by event type',
      labelNames: ['type'],
      registers,
    });

    // Gauges read at scrape time. prom-client collects every metric of a scrape at once, so the
    // gauges of one source share one read of it.
    const queuesOnce = once(() => this.collectQueues(jobs, queueUp));
    const jobs = new Gauge({
      name: 'contacts_queue_jobs',
      help: 'Jobs per queue and state: waiting, active, delayed, … (depths) and completed, failed (outcomes, kept a day and a week)',
      labelNames: ['queue', 'state'],
      registers,
      collect: queuesOnce,
    });
    const queueUp = new Gauge({
      name: 'contacts_queue_up',
      help: 'Whether the queue store answered this scrape for the queue (1) or not (0)',
      labelNames: ['queue'],
      registers,
      collect: queuesOnce,
    });

    const lagOnce = once(() => this.collectLag(lag));
    const lag = {
      events: new Gauge({
        name: 'contacts_dispatcher_lag_events',
        help: `Committed events the worker's dispatcher has not passed yet (counted up to ${LAG_COUNT_MAX})`,
        registers,
        collect: lagOnce,
      }),
      seconds: new Gauge({
        name: 'contacts_dispatcher_lag_seconds',
        help: 'Age of the oldest event the dispatcher has not passed yet (0 when it has caught up)',
        registers,
        collect: lagOnce,
      }),
      checkpointAge: new Gauge({
        name: 'contacts_dispatcher_checkpoint_age_seconds',
        help: 'Seconds since the dispatcher last moved its checkpoint (grows while the log is idle too: read it with the lag)',
        registers,
        collect: lagOnce,
      }),
    };
    const unreachable: Gauge = new Gauge({
      name: 'contacts_log_unreachable_events',
      help: 'Events no reader of the log can reach (a restore into a new server that was not followed by a migrate); at most 1000 counted',
      registers,
      collect: () => this.collectUnreachable(unreachable),
    });
  }

  private async collectQueues(jobs: Gauge<'queue' | 'state'>, queueUp: Gauge<'queue'>): Promise<void> {
    jobs.reset();
    await Promise.all(
      this.queues.all().map(async (queue) => {
        try {
          const counts = await withTimeout(queue.getJobCounts(...JOB_STATES), `queue ${queue.name}`);
          for (const state of JOB_STATES) jobs.set({ queue: queue.name, state }, counts[state] ?? 0);
          queueUp.set({ queue: queue.name }, 1);
          this.queues.recovered();
        } catch (error) {
          queueUp.set({ queue: queue.name }, 0);
          this.logger.warn(`queue ${queue.name}: ${(error as Error).message}`);
        }
      }),
    );
  }

  private async collectUnreachable(gauge: Gauge): Promise<void> {
    try {
      gauge.set(await withTimeout(unreachableEvents(this.database), 'unreachable events'));
    } catch (error) {
      gauge.set(Number.NaN);
      this.logger.warn(`unreachable events: ${(error as Error).message}`);
    }
  }

  private async collectLag(lag: { events: Gauge; seconds: Gauge; checkpointAge: Gauge }): Promise<void> {
    try {
      const behind = await withTimeout(this.checkpoints.lag(DISPATCHER_CONSUMER, LAG_COUNT_MAX), 'dispatcher lag');
      lag.events.set(behind.events);
      lag.seconds.set(behind.oldestSeconds);
      // No checkpoint row: the worker never ran on this database. NaN is Prometheus's "unknown".
      lag.checkpointAge.set(behind.checkpointSeconds ?? Number.NaN);
    } catch (error) {
      // Unknown, not zero: a database that does not answer must not read as "caught up".
      for (const gauge of Object.values(lag)) gauge.set(Number.NaN);
      this.logger.warn(`dispatcher lag: ${(error as Error).message}`);
    }
  }

  /** Called once a response is sent; `route` is the route's pattern, never the URL. */
  observeRequest(method: string, route: string, statusCode: number, seconds: number): void {
    this.requestDuration.observe({ method, route, status_code: String(statusCode) }, seconds);
  }

  appended(events: readonly { type: string }[]): void {
    for (const event of events) this.eventsAppended.inc({ type: event.type });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}
