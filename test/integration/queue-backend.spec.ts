import { Redis } from 'ioredis';
import { openQueue, type QueueBackend } from '@app/queues';

/** The Redis server of the tests, without a database index. */
const SERVER = (process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').replace(/\/\d+$/, '');

describe('the Redis queue store', () => {
  it('keeps its jobs in the database REDIS_URL names with /N (DESIGN §4)', async () => {
    const prefix = `test-dbindex-${process.pid}`;
    const backend: QueueBackend = { kind: 'redis', url: `${SERVER}/5`, prefix };
    const queue = openQueue(backend, 'invites');
    const [db5, db0] = [new Redis(`${SERVER}/5`), new Redis(`${SERVER}/0`)];
    try {
      await queue.add('send-invite', {}, { jobId: 'in-db-5' });

      expect(await db5.exists(`${prefix}:invites:in-db-5`)).toBe(1);
      expect(await db0.keys(`${prefix}:*`)).toEqual([]);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
      await Promise.all([db5.quit(), db0.quit()]);
    }
  });
});
