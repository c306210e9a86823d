import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Clock } from '@app/config';
import type { Database } from '@app/database';
import { checkpointOf, LOG_START, LogCheckpoints, type EventStore, type LogCheckpoint, type StoredEvent } from '@app/event-store';
import type { QueueName } from '@app/queues';
import type { DispatchedJob } from './dispatch.routes.js';

export interface DispatcherOptions {
  /** the checkpoint's name; one dispatcher of this name advances at a time */
  consumer: string;
  databaseUrl: string;
  /** how often a standby tries to take over, and the fallback poll when no notification comes */
  pollMs: number;
  batchSize: number;
  log: { info(message: string): void; error(message: string, error: unknown): void };
}

/** Appends of events that need a side effect notify this channel (migration 1732700000000). */
const CHANNEL = 'contacts_dispatch';

/**
 * The log is the outbox (DESIGN §3.6): the dispatcher reads the event log in commit order, adds
 * a BullMQ job for every event that needs a side effect, and then moves its checkpoint in
 * Postgres. A crash between the two adds the same jobs again on restart, and their event-derived
 * ids make that a no-op; nothing is ever enqueued beside an append.
 *
 * Replicas run one each; a session advisory lock elects the one that advances, and the others
 * wait to take over. A checkpoint write that finds the row moved (a lock lost with its
 * connection) stops this one from advancing further.
 */
export class Dispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly checkpoints: LogCheckpoints;
  private client: pg.Client | null = null;
  private leader = false;
  private checkpoint: LogCheckpoint | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private notified = false;

  constructor(
    db: Database,
    private readonly store: EventStore,
    private readonly queues: ReadonlyMap<QueueName, Queue>,
    private readonly route: (event: StoredEvent, now: Date) => DispatchedJob[],
    private readonly clock: Clock,
    private readonly options: DispatcherOptions,
  ) {
    this.checkpoints = new LogCheckpoints(db);
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  /** Before the queues and job workers close: nothing is added to a closed queue. */
  beforeApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.disconnect();
  }

  /** Whether this replica holds the lock (tests and health read it). */
  get isLeader(): boolean {
    return this.leader;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!this.leader && !(await this.elect())) {
          this.notified = false;
          await this.idle(this.options.pollMs);
          continue;
        }
        const moved = await this.step();
        if (moved === this.options.batchSize) continue;
        // An event can be held back by an older transaction still running (DESIGN §3.3); after
        // a notification look again shortly, then fall back to the poll.
        await this.idle(moved > 0 || this.notified ? 50 : this.options.pollMs);
      } catch (error) {
        if (this.stopped) break;
        this.options.log.error('dispatcher step failed; retrying', error);
        await this.disconnect();
        await this.idle(this.options.pollMs);
      }
    }
  }

  /** One batch: read, enqueue, advance. Returns how many events it passed. */
  private async step(): Promise<number> {
    this.notified = false;
    const events = await this.store.readAll(this.checkpoint, this.options.batchSize);
    const last = events.at(-1);
    if (!last) return 0;
    const now = this.clock.now();
    await this.enqueue(events.flatMap((e) => this.route(e, now)));
    await this.advance(checkpointOf(last));
    return events.length;
  }

  private async enqueue(jobs: DispatchedJob[]): Promise<void> {
    const byQueue = new Map<QueueName, DispatchedJob[]>();
    for (const job of jobs) byQueue.set(job.queue, [...(byQueue.get(job.queue) ?? []), job]);
    for (const [name, batch] of byQueue) {
      const queue = this.queues.get(name);
      if (!queue) throw new Error(`no queue ${name} for job ${batch[0]?.name}`);
      await queue.addBulk(batch.map((job) => ({ name: job.name, data: job.data, opts: { jobId: job.jobId, delay: job.delay } })));
    }
  }

  private async advance(next: LogCheckpoint): Promise<void> {
    if (!(await this.checkpoints.advance(this.options.consumer, this.checkpoint ?? LOG_START, next))) {
      throw new Error(`the ${this.options.consumer} checkpoint moved under this dispatcher: another one holds it`);
    }
    this.checkpoint = next;
  }

  /** Takes the lock on a connection of its own (a session lock lives as long as the connection), and listens there. */
  private async elect(): Promise<boolean> {
    const client = await this.connect();
    const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked`, [
      `dispatcher/${this.options.consumer}`,
    ]);
    if (!rows[0]?.locked) return false;
    this.checkpoint = await this.checkpoints.read(this.options.consumer);
    this.leader = true;
    this.options.log.info(`dispatcher "${this.options.consumer}" leads, from log position ${this.checkpoint?.position ?? 0}`);
    return true;
  }

  private async connect(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({ connectionString: this.options.databaseUrl, application_name: 'contacts-dispatcher' });
    client.on('notification', () => {
      this.notified = true;
      this.wake?.();
    });
    // A lost connection ends leadership; the loop's next query fails and it reconnects.
    client.on('error', () => {
      this.leader = false;
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.client = client;
    return client;
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.leader = false;
    this.checkpoint = null;
    await client?.end().catch(() => undefined);
  }

  private async idle(ms: number): Promise<void> {
    if (this.stopped || this.notified) return;
    const controller = new AbortController();
    this.wake = () => controller.abort();
    try {
      await sleep(ms, undefined, { signal: controller.signal });
    } catch {
      // woken early: a notification or stop
    } finally {
      this.wake = null;
    }
  }
}
