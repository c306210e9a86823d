import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { formatAtom, redactSecrets } from '@app/contacts';
import { EventStore, type EventMetadata, type StoredEvent } from '@app/event-store';
import { RequireScopes } from '../auth/scopes.decorator.js';
import { ProblemException } from '../http/problem.js';
import { validateQuery } from '../http/validation.js';
import { EventsFeedQuery } from './events-feed.query.js';

/** An event as auditors see it (DESIGN §6): secrets shown as `[redacted]`. */
export interface AuditEvent {
  position: number;
  streamId: string;
  version: number;
  type: string;
  data: Record<string, unknown>;
  metadata: EventMetadata;
  recordedAt: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function shown(event: StoredEvent): AuditEvent {
  return {
    position: Number(event.position),
    streamId: event.streamId,
    version: event.version,
    type: event.type,
    data: redactSecrets(event.type, event.data),
    metadata: event.metadata,
    recordedAt: formatAtom(event.recordedAt),
  };
}

/** History for auditors: one contact's events, and every contact's in commit order. */
@Controller('api')
export class AuditController {
  constructor(@Inject(EventStore) private readonly store: EventStore) {}

  @Get('contacts/:id/events.json')
  @RequireScopes('audit')
  async history(@Param('id') id: string): Promise<{ events: AuditEvent[] }> {
    if (!UUID.test(id)) throw ProblemException.of(404, 'not_found', 'no contact has this id');
    const { events } = await this.store.readStream(id.toLowerCase());
    if (events.length === 0) throw ProblemException.of(404, 'not_found', 'no contact has this id');
    return { events: events.map(shown) };
  }

  /**
   * Every event in commit order, a page at a time: pass the last position you have as `after`.
   * Only events of transactions older than every running one are handed out, so paging never
   * passes over an event that commits late (DESIGN §3.3).
   */
  @Get('events.json')
  @RequireScopes('audit')
  async feed(@Query() query: Record<string, unknown>): Promise<{ events: AuditEvent[] }> {
    const q = validateQuery(EventsFeedQuery, query);
    const events = await this.store.readFeed({ after: q.after, limit: q.limit ?? 100, type: q.type, streamId: q.streamId?.toLowerCase() });
    if (events === undefined) {
      throw ProblemException.of(422, 'unknown_position', 'after must be the position of an event this feed returned', [
        { pointer: '/query/after', code: 'unknown_position', message: 'no event has this position' },
      ]);
    }
    return { events: events.map(shown) };
  }
}
