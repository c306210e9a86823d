import { createHash, timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BullBoardFastifyAdapter } from '@bull-board/fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { problem } from '../http/problem.js';
import { addressCounter, tooMany, type AddressLimit } from '../http/rate-limit.js';
import type { ObservedQueues } from '../queues/observed-queues.js';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/**
 * Wrong credentials each client address may send before it is refused with 429 (counted before
 * the password is checked, so a guesser learns nothing more once over). Held whatever
 * RATE_LIMIT_PER_MINUTE is.
 */
export const DASHBOARD_FAILURES: AddressLimit = { max: 30, windowMs: 60_000 };

export interface DashboardCredentials {
  user: string;
  password: string;
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Whether an `Authorization: Basic` header carries these credentials. Both sides are hashed to
 * one length first, so the comparison takes the same time whatever was sent (no length leak).
 */
export function basicCredentialsMatch(header: string | undefined, credentials: DashboardCredentials): boolean {
  const match = typeof header === 'string' ? /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header) : null;
  const given = match?.[1] ? Buffer.from(match[1], 'base64').toString('utf8') : '';
  const equal = timingSafeEqual(digest(given), digest(`${credentials.user}:${credentials.password}`));
  return equal && given !== '';
}

function refuse(reply: FastifyReply): FastifyReply {
  return reply
    .code(401)
    .header('www-authenticate', 'Basic realm="queues", charset="UTF-8"')
    .type('application/problem+json; charset=utf-8')
    .send(JSON.stringify(problem(401, 'unauthorized', 'the queue dashboard needs the ADMIN_USER and ADMIN_PASSWORD credentials')));
}

/**
 * bull-board at /admin/queues over the worker's queues, behind HTTP Basic (ADMIN_USER,
 * ADMIN_PASSWORD). It can retry, promote and remove jobs, so it is for operators only; the
 * credentials are checked on every request of its scope (page, assets and its JSON API).
 */
export async function registerQueueDashboard(
  app: NestFastifyApplication,
  queues: ObservedQueues,
  credentials: DashboardCredentials,
): Promise<void> {
  const board = new BullBoardFastifyAdapter();
  board.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: queues.all().map((queue) => new BullMQAdapter(queue)),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'Contacts queues' } },
  });
  const fastify = app.getHttpAdapter().getInstance();
  const failures = addressCounter(fastify, 'dashboard-failures', DASHBOARD_FAILURES);
  // Sent from the hook: the dashboard's scope has an error handler of its own, which knows no problem documents.
  const overLimit = (reply: FastifyReply, seconds: number): FastifyReply => {
    const { problem: body, headers } = tooMany(
      'rate_limited',
      `this address sent ${DASHBOARD_FAILURES.max} wrong dashboard credentials within a minute`,
      seconds,
    );
    return reply.code(429).headers(headers).type('application/problem+json; charset=utf-8').send(JSON.stringify(body));
  };
  await fastify.register(async (scope) => {
    scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      const spent = await failures.spent(request);
      if (spent !== null) return overLimit(reply, spent);
      if (basicCredentialsMatch(request.headers.authorization, credentials)) return;
      const seconds = await failures.count(request);
      if (seconds !== null) return overLimit(reply, seconds);
      return refuse(reply);
    });
    await scope.register(board.registerPlugin(), { prefix: QUEUE_DASHBOARD_PATH });
  });
}
