import { toRecorded } from './recorded-event.js';
import { UnknownEventType } from './event.types.js';

describe(toRecorded.name, () => {
  it('reads a stored event of a known type as the domain event, its moment as ISO text', () => {
    const sut = toRecorded({
      type: 'TagsSet',
      data: { tags: ['vip'] },
      version: 3,
      recordedAt: new Date('2026-01-15T10:00:00.123Z'),
    });

    expect(sut).toEqual({ type: 'TagsSet', data: { tags: ['vip'] }, version: 3, recordedAt: '2026-01-15T10:00:00.123Z' });
  });

  it('refuses a type this release does not know', () => {
    const read = (): unknown => toRecorded({ type: 'ContactMerged', data: {}, version: 2, recordedAt: '2026-01-15T10:00:00.000Z' });

    expect(read).toThrow(UnknownEventType);
  });

  it('refuses an event without data', () => {
    const read = (): unknown => toRecorded({ type: 'TagsSet', data: null, version: 2, recordedAt: '2026-01-15T10:00:00.000Z' });

    expect(read).toThrow(UnknownEventType);
  });
});
