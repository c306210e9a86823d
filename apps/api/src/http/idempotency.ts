import { createHmac } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Clock } from '@app/config';
import { Database, isPgError, PgError, type Queryable, type Tx } from '@app/database';
import { canonicalJson } from '@app/event-store';
import type { AuthenticatedRequest } from '../auth/auth.guard.js';
import { ProblemException } from './problem.js';
import { ServerSecret } from './server-secret.js';

/** How long a key holds its first response (Stripe's 24 hours); after that the key is free again. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

const KEY = /^[\x20-\x7e]{1,255}$/;
const KEY_CONSTRAINT = 'idempotency_keys_pkey';
/** A twin's row can vanish between its commit and our re-read only if it expired meanwhile: retry that once or twice. */
const MAX_ATTEMPTS = 3;

/** A successful response as it is first sent and as every replay sends it again. */
export interface Outcome<B> {
  status: number;
  headers: Record<string, string>;
  body: B;
}

/**
 * The key's record, written inside the command's own transaction: `begin` first (claims the key;
 * a concurrent twin blocks on it), `complete` last with the command's result. ContactService's
 * CommitHooks has exactly this shape.
 */
export interface KeyRecord<R> {
  begin(tx: Tx): Promise<void>;
  complete(tx: Tx, result: R): Promise<void>;
}

interface StoredKey {
  fingerprint: string;
  status: number | null;
  headers: Record<string, string> | null;
  body: unknown;
  expired: boolean;
}

const invalidKey = (): ProblemException =>
  ProblemException.of(400, 'invalid_idempotency_key', 'the Idempotency-Key header must be 1 to 255 printable ASCII characters', [
    { pointer: '', code: 'invalid_idempotency_key', message: 'the Idempotency-Key header must be 1 to 255 printable ASCII characters' },
  ]);

const keyReused = (): ProblemException =>
  ProblemException.of(422, 'idempotency_key_reused', 'this Idempotency-Key was already used for a different request; send a new key', [
    {
      pointer: '',
      code: 'idempotency_key_reused',
      message: 'the Idempotency-Key header was first sent with another body, route or If-Match; a new request needs a new key',
    },
  ]);

/** The request's Idempotency-Key, undefined when it sent none. */
function keyOf(request: AuthenticatedRequest): string | undefined {
  const value = request.headers['idempotency-key'];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !KEY.test(value)) throw invalidKey();
  return value;
}

/**
 * What makes two requests "the same": method, path, precondition and body (keys sorted, so a
 * client that serialises its object in another order is still sending the same body).
 */
/**
 * What makes two requests the same. Keyed with the server's secret: the body may hold a
 * password, and a plain hash of it kept in a table could be checked against guesses.
 */
function fingerprintOf(request: AuthenticatedRequest, secret: ServerSecret): string {
  const path = request.url.split('?', 1)[0] ?? '';
  const ifMatch = request.headers['if-match'] ?? '';
  return createHmac('sha256', secret.value)
    .update(`${request.method}\n${path}\n${String(ifMatch)}\n${canonicalJson(request.body ?? null)}`)
    .digest('hex');
}

const isKeyTaken = (error: unknown): boolean => isPgError(error, PgError.uniqueViolation) && error.constraint === KEY_CONSTRAINT;

/**
 * Idempotency-Key on POST (DESIGN §6, Stripe's model). The key's record commits in the same
 * transaction as the command's effect, so there is no window in which one exists without the
 * other: a retry finds either the first response or no trace of the first attempt. Refusals are
 * not recorded (their transaction rolls back), so a retry of a refused request is judged again.
 */
@Injectable()
export class Idempotency {
  constructor(
    @Inject(Database) private readonly db: Database,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(ServerSecret) private readonly secret: ServerSecret,
  ) {}

  /**
   * Runs `command` once per (client, key) and sends `shape` of its result; a repeat of the request
   * gets the first response again, with `Idempotent-Replayed: true`. Without a key it just runs.
   */
  async run<R, B>(
    request: AuthenticatedRequest,
    reply: FastifyReply,
    shape: (result: R) => Outcome<B>,
    command: (record: KeyRecord<R> | undefined) => Promise<R>,
  ): Promise<B> {
    const key = keyOf(request);
    if (key === undefined) return send(reply, shape(await command(undefined)));
    const clientId = request.client?.clientId;
    if (clientId === undefined) throw new Error('an Idempotency-Key needs an authenticated client');
    const fingerprint = fingerprintOf(request, this.secret);

    for (let attempt = 1; ; attempt++) {
      const stored = await this.find(clientId, key);
      if (stored) return replay(reply, stored, fingerprint);

      let recorded: Outcome<B> | undefined;
      const record: KeyRecord<R> = {
        // A plain INSERT: a twin holding the same key uncommitted makes this wait, then fail with
        // a unique violation once the twin commits (or go ahead if the twin rolls back).
        begin: async (tx) => {
          await tx.query('INSERT INTO idempotency_keys (client_id, key, fingerprint, created_at) VALUES ($1, $2, $3, $4)', [
            clientId,
            key,
            fingerprint,
            this.clock.now(),
          ]);
        },
        complete: async (tx, result) => {
          recorded = shape(result);
          await tx.query('UPDATE idempotency_keys SET status = $3, headers = $4, body = $5::json WHERE client_id = $1 AND key = $2', [
            clientId,
            key,
            recorded.status,
            recorded.headers,
            JSON.stringify(recorded.body),
          ]);
        },
      };
      try {
        const result = await command(record);
        return send(reply, recorded ?? shape(result));
      } catch (error) {
        // A twin with this key committed first: its response is the answer (read on the next turn).
        if (!isKeyTaken(error) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  /** For a command that owns no transaction: runs `work` in one, with the key's record around it. */
  transaction<R>(record: KeyRecord<R> | undefined, work: (tx: Queryable) => Promise<R>): Promise<R> {
    if (!record) return work(this.db);
    return this.db.transaction(async (tx) => {
      await record.begin(tx);
      const result = await work(tx);
      await record.complete(tx, result);
      return result;
    });
  }

  /** The key's committed record; an expired one is deleted and the key counts as unused. */
  private async find(clientId: string, key: string): Promise<StoredKey | null> {
    const cutoff = new Date(this.clock.now().getTime() - IDEMPOTENCY_TTL_MS);
    const { rows } = await this.db.query<StoredKey>(
      'SELECT fingerprint, status, headers, body, created_at <= $3 AS expired FROM idempotency_keys WHERE client_id = $1 AND key = $2',
      [clientId, key, cutoff],
    );
    const stored = rows[0];
    if (!stored?.expired) return stored ?? null;
    await this.db.query('DELETE FROM idempotency_keys WHERE client_id = $1 AND key = $2 AND created_at <= $3', [clientId, key, cutoff]);
    return null;
  }
}

function send<B>(reply: FastifyReply, outcome: Outcome<B>): B {
  void reply.status(outcome.status).headers(outcome.headers);
  return outcome.body;
}

function replay<B>(reply: FastifyReply, stored: StoredKey, fingerprint: string): B {
  if (stored.fingerprint !== fingerprint) throw keyReused();
  // The row and the response commit together, so a committed row always holds one.
  if (stored.status === null) throw new Error('idempotency record committed without a response');
  void reply.header('idempotent-replayed', 'true');
  return send(reply, { status: stored.status, headers: stored.headers ?? {}, body: stored.body as B });
}
