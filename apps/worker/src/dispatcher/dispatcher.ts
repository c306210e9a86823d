import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Clock } from '@app/config';
import type { Database } from '@app/database';
import {
  checkpointOf,
  Leases,
  LOG_START,
  LogCheckpoints,
  type EventStore,
  type LeaseHold,
  type LeaseTaken,
  type LogCheckpoint,
  type StoredEvent,
} from '@app/event-store';
import type { QueueName } from '@app/queues';
import type { DispatchedJob } from './dispatch.routes.js';

/** A frozen leader (its renewals stop) is replaced within LEASE_MS plus a standby's poll. */
export const DEFAULT_LEASE_MS = 15_000;
export const DEFAULT_RENEW_MS = 5_000;

/** The points of a leader's step a test can hold it at, as a frozen process would stop there. */
export type DispatcherPause = 'enqueue' | 'advance';

export interface DispatcherOptions {
  /** the checkpoint's name; one dispatcher of this name advances at a time */
  consumer: string;
  databaseUrl: string;
  /** how often a standby tries to take over, and the fallback poll when no notification comes */
  pollMs: number;
  batchSize: number;
  log: { info(message: string): void; error(message: string, error: unknown): void };
  /** how long the lease lasts unless renewed (DEFAULT_LEASE_MS) */
  leaseMs?: number;
  /** how often the leader renews it (DEFAULT_RENEW_MS); well under leaseMs */
  renewMs?: number;
  /** tests only: awaited at that point of every step that has jobs to add */
  pause?: (at: DispatcherPause) => Promise<void>;
}

/** Appends of events that need a side effect notify this channel (migration 1732700000000). */
const CHANNEL = 'contacts_dispatch';

/**
 * The log is the outbox (DESIGN §3.6): the dispatcher reads the event log in commit order, adds
 * a BullMQ job for every event that needs a side effect, and then moves its checkpoint in
 * Postgres. A crash between the two adds the same jobs again on restart, and their event-derived
 * ids make that a no-op; nothing is ever enqueued beside an append.
 *
 * Replicas run one each; the one holding the consumer's lease advances, and the others poll to
 * take it once it expires, or at once when the leader's database session has ended. The leader renews it between steps, so a leader that is frozen or
 * stuck stops renewing and is replaced. Its checkpoint writes are fenced by the lease's holder
 * and epoch, and it checks the lease again right before adding jobs: a leader that wakes after
 * losing it finds out and stands by, having moved nothing.
 */
export class Dispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly checkpoints: LogCheckpoints;
  private readonly leases: Leases;
  /** this instance, as the lease names it: where it runs, then a random part */
  private readonly holder = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  private readonly leaseMs: number;
  private readonly renewMs: number;
  private lease: LeaseHold | null = null;
  /** when (this process's monotonic clock) the last renewal was asked for: only for when to renew next */
  private renewedAt = 0;
  private client: pg.Client | null = null;
  /** the listening connection's backend pid: while it lives, the lease is not taken before it expires */
  private sessionPid = 0;
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
    this.leases = new Leases(db);
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.renewMs = options.renewMs ?? DEFAULT_RENEW_MS;
    if (!(this.renewMs > 0 && this.renewMs < this.leaseMs)) throw new Error(`dispatcher: renewMs must be above 0 and under leaseMs`);
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
    await this.resign();
    await this.disconnect();
  }

  /** Whether this replica holds the lease, as far as it last knew (tests and health read it). */
  get isLeader(): boolean {
    return this.lease !== null;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.listen();
        if (!this.lease && !(await this.elect())) {
          this.notified = false;
          await this.idle(this.options.pollMs);
          continue;
        }
        if (this.untilRenewal() === 0 && !(await this.renew())) continue;
        const moved = await this.step();
        if (moved === this.options.batchSize) continue;
        // An event can be held back by an older transaction still running (DESIGN §3.3); after
        // a notification look again shortly, then fall back to the poll.
        await this.idle(Math.min(moved > 0 || this.notified ? 50 : this.options.pollMs, this.untilRenewal()));
      } catch (error) {
        if (this.stopped) break;
        this.options.log.error('dispatcher step failed; retrying', error);
        await this.resign();
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
    const jobs = events.flatMap((e) => this.route(e, now));
    if (jobs.length > 0) {
      await this.options.pause?.('enqueue');
      // However long since the read (a pause, a stopped process), add nothing unless still leading.
      if (!(await this.renew())) return 0;
      await this.enqueue(jobs);
      await this.options.pause?.('advance');
    }
    return (await this.advance(checkpointOf(last))) ? events.length : 0;
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

  /** False when the write was refused because the lease is gone (this one stops leading). */
  private async advance(next: LogCheckpoint): Promise<boolean> {
    const lease = this.lease;
    if (!lease) return false;
    if (await this.checkpoints.advance(this.options.consumer, this.checkpoint ?? LOG_START, next, lease)) {
      this.checkpoint = next;
      return true;
    }
    if (!(await this.renew())) return false;
    throw new Error(`the ${this.options.consumer} checkpoint moved under this dispatcher though it holds the lease`);
  }

  /** Takes the lease if it is free or has expired, and reads the checkpoint under it. */
  private async elect(): Promise<boolean> {
    const asked = performance.now();
    const taken = await this.leases.take(this.options.consumer, this.holder, this.leaseMs, this.sessionPid);
    if (!taken) return false;
    this.lease = taken;
    this.renewedAt = asked;
    // Read after the taking: a fenced write of the leader before has committed by now, or never will.
    this.checkpoint = await this.checkpoints.read(this.options.consumer);
    this.options.log.info(
      `dispatcher "${this.options.consumer}" leads as ${this.holder} (lease epoch ${taken.epoch}${takenFrom(taken)}), ` +
        `from log position ${this.checkpoint.position}`,
    );
    return true;
  }

  /** Extends the lease; false, and this one stands by, when it was lost (taken over or expired). */
  private async renew(): Promise<boolean> {
    const lease = this.lease;
    if (!lease) return false;
    const asked = performance.now();
    if (await this.leases.renew(lease, this.leaseMs, this.sessionPid)) {
      if (this.lease === lease) this.renewedAt = asked;
      return true;
    }
    this.options.log.info(
      `dispatcher "${this.options.consumer}" lost its lease (epoch ${lease.epoch}): it expired unrenewed or another took it over; standing by`,
    );
    this.lease = null;
    this.checkpoint = null;
    return false;
  }

  /** ms until the next renewal is due; 0 when it is. */
  private untilRenewal(): number {
    return Math.max(0, this.renewedAt + this.renewMs - performance.now());
  }

  /** Hands the lease on at once, if it still holds it; a standby would take it at expiry anyway. */
  private async resign(): Promise<void> {
    const lease = this.lease;
    this.lease = null;
    this.checkpoint = null;
    if (lease) await this.leases.release(lease).catch(() => undefined);
  }

  /**
   * A connection of its own that listens for appends. Leadership does not depend on it, but its
   * end (this process killed) lets a standby take over without waiting for the lease to expire.
   */
  private async listen(): Promise<void> {
    if (this.client) return;
    const client = new pg.Client({ connectionString: this.options.databaseUrl, application_name: 'contacts-dispatcher' });
    client.on('notification', () => {
      this.notified = true;
      this.wake?.();
    });
    // A lost connection only loses wake-ups (the poll goes on); the loop listens again.
    client.on('error', () => {
      if (this.client === client) this.client = null;
      client.end().catch(() => undefined);
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    const { rows } = await client.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`);
    this.sessionPid = rows[0]?.pid ?? 0;
    this.client = client;
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = null;
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

/** For the log line of a taking: whose lease ran out, which is what an operator looks for after a freeze. */
function takenFrom(taken: LeaseTaken): string {
  if (!taken.previousHolder || taken.previousHolder === taken.holder) return '';
  if (taken.previousSessionEnded) return `, taken over from ${taken.previousHolder} whose database session ended`;
  return `, taken over from ${taken.previousHolder} whose lease expired unrenewed at ${taken.previousExpiry?.toISOString() ?? '?'}`;
}
