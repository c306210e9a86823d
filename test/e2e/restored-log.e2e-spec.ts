import { randomUUID } from 'node:crypto';
import { continueLogAfterRestore, eventHash, type EventMetadata } from '@app/event-store';
import { get, problemOf } from '../support/contact-requests.js';
import { createTestApi, type TestApi } from '../support/test-api.js';

describe('a log restored into a new server and not yet taken onto its clock', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi({ label: 'restored-log' });
  });
  afterAll(() => api.close());

  /**
   * An event as a restore leaves it: appended by a transaction whose id is far beyond any this
   * server has started (the old server's counter ran ahead of the new one's).
   */
  async function aRestoredEventFromAhead(): Promise<void> {
    const streamId = randomUUID();
    const metadata: EventMetadata = { clientId: 'old-server', requestId: null, correlationId: null, causationId: null };
    const event = { streamId, version: 1, type: 'TagsSet', data: { tags: ['restored'] }, metadata, recordedAt: new Date().toISOString() };
    await api.database.db.query(
      `INSERT INTO events (stream_id, stream_version, type, data, metadata, recorded_at, hash, transaction_id)
       VALUES ($1, 1, $2, $3, $4, $5, $6, (pg_current_xact_id()::text::numeric + 1000000000)::text::xid8)`,
      [streamId, event.type, event.data, metadata, event.recordedAt, eventHash(null, event)],
    );
  }

  async function unreachableGauge(): Promise<number> {
    const metrics = await get(api, null, '/metrics');
    const line = /^contacts_log_unreachable_events (\S+)$/m.exec(metrics.body);
    return Number(line?.[1]);
  }

  it('is ready, with nothing unreachable, on a log that was never restored', async () => {
    const health = await get(api, null, '/health');

    expect(health.statusCode).toBe(200);
    expect(await unreachableGauge()).toBe(0);
  });

  it('reports the events no reader can reach, in /health and /metrics, until the log is taken onto its clock', async () => {
    await aRestoredEventFromAhead();

    const health = await get(api, null, '/health');
    expect(health.statusCode).toBe(503);
    expect(problemOf(health).detail).toBe('unreachable: log');
    expect(health.json<{ checks: Record<string, unknown> }>().checks.log).toEqual({ status: 'down' });
    expect(await unreachableGauge()).toBe(1);

    await continueLogAfterRestore(api.database.db);

    expect((await get(api, null, '/health')).statusCode).toBe(200);
    expect(await unreachableGauge()).toBe(0);
  });
});
