import { eventHash } from './event-hash.js';
import type { StoredEvent } from './event.types.js';
import { verifyStream } from './stream-verifier.js';

const streamId = '3f1c2a9e-5b7d-4e8f-9a01-23456789abcd';
const metadata = { clientId: 'client-1', requestId: null, correlationId: null, causationId: null };

/** A chained stream of `data`, one event each, as the store appends them. */
function aStream(...data: Record<string, unknown>[]): StoredEvent[] {
  const events: StoredEvent[] = [];
  for (const [i, d] of data.entries()) {
    const event = { streamId, version: i + 1, type: 'Thing', data: d, metadata, recordedAt: '2026-01-10T09:00:00.000Z' };
    events.push({ ...event, position: String(i + 1), transactionId: '1', hash: eventHash(events.at(-1)?.hash ?? null, event) });
  }
  return events;
}

/** The event masked as an erasure masks it: new data, its hash kept, its seal over both. */
function masked(event: StoredEvent, data: Record<string, unknown>): StoredEvent {
  return { ...event, data, seal: eventHash(event.hash, { ...event, data }) };
}

describe(verifyStream.name, () => {
  const original = aStream({ name: 'Ann' }, { name: 'Bob' }, { step: 3 });

  it('holds for a chain as appended', () => {
    expect(verifyStream(original)).toBeNull();
  });

  it('holds after an erasure masked events, each checked by its seal', () => {
    const [first, second, third] = original as [StoredEvent, StoredEvent, StoredEvent];
    expect(verifyStream([masked(first, { name: '[erased]' }), masked(second, { name: '[erased]' }), third])).toBeNull();
  });

  it('names a masked event whose content changed afterwards', () => {
    const [first, second, third] = original as [StoredEvent, StoredEvent, StoredEvent];
    const erased = masked(second, { name: '[erased]' });

    const sut = verifyStream([first, { ...erased, data: { name: 'Bob' } }, third]);

    expect(sut).toMatchObject({ version: 2, reason: expect.stringContaining('erasure seal') });
  });

  it('names a masked event whose hash changed afterwards, and a changed unmasked event as before', () => {
    const [first, second, third] = original as [StoredEvent, StoredEvent, StoredEvent];
    const erased = masked(second, { name: '[erased]' });

    expect(verifyStream([first, { ...erased, hash: 'f'.repeat(64) }, third])).toMatchObject({ version: 2 });
    expect(verifyStream([first, erased, { ...third, data: { step: 4 } }])).toMatchObject({ version: 3 });
  });

  it('names an unmasked event that changed, though its stream has masked events', () => {
    const [first, second, third] = original as [StoredEvent, StoredEvent, StoredEvent];

    expect(verifyStream([{ ...first, data: { name: 'Eve' } }, masked(second, { name: '[erased]' }), third])).toMatchObject({ version: 1 });
  });
});
