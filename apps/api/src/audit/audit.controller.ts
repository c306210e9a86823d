import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CONTACT_EVENT_TYPES, formatAtom, redactSecrets } from '@app/contacts';
import { EventStore, type EventMetadata, type StoredEvent } from '@app/event-store';
import { RequireScopes } from '../auth/scopes.decorator.js';
import { ApiProblems } from '../docs/problem.schema.js';
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

class EventMetadataResponse {
  @ApiProperty({ type: String, nullable: true, description: 'the OAuth client that made the change' }) clientId!: string | null;
  @ApiProperty({ type: String, nullable: true }) requestId!: string | null;
  @ApiProperty({ type: String, nullable: true }) correlationId!: string | null;
  @ApiProperty({ type: String, nullable: true }) causationId!: string | null;
}

export class AuditEventResponse {
  @ApiProperty({ type: Number, description: 'the position in the log (pass it as `after` to page)' }) position!: number;
  @ApiProperty({ type: String, format: 'uuid', description: 'the contact id' }) streamId!: string;
  @ApiProperty({ type: Number }) version!: number;
  // Open, not an enum: during a rolling upgrade a newer release may have written a type this one does not know.
  @ApiProperty({
    type: String,
    example: 'ContactCreated',
    description: `the event's type: ${CONTACT_EVENT_TYPES.join(', ')}, or one a newer release added`,
  })
  type!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'the event; password hashes shown as "[redacted]"' })
  data!: Record<string, unknown>;
  @ApiProperty({ type: EventMetadataResponse }) metadata!: EventMetadataResponse;
  @ApiProperty({ type: String, format: 'date-time' }) recordedAt!: string;
}

class AuditEventsResponse {
  @ApiProperty({ type: [AuditEventResponse] }) events!: AuditEventResponse[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An event as the history routes show it (DESIGN §6): the same shape wherever history is handed out. */
export function shown(event: StoredEvent): AuditEvent {
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
@ApiTags('audit')
@Controller('api')
export class AuditController {
  constructor(@Inject(EventStore) private readonly store: EventStore) {}

  @Get('contacts/:id/events.json')
  @RequireScopes('audit')
  @ApiOperation({
    summary: "A contact's history",
    operationId: 'readContactHistory',
    description: 'Scope: `audit`. Every event of the contact, oldest first.',
  })
  @ApiParam({ name: 'id', description: 'the contact id (a UUID)', schema: { type: 'string', format: 'uuid' } })
  @ApiOkResponse({ type: AuditEventsResponse })
  @ApiProblems(404)
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
  @ApiOperation({
    summary: "Every contact's events in commit order",
    operationId: 'readEventFeed',
    description:
      'Scope: `audit`. A page at a time: pass the last position you have as `after`. Paging never passes over an event that commits late.',
  })
  @ApiQuery({ type: EventsFeedQuery })
  @ApiOkResponse({ type: AuditEventsResponse })
  @ApiProblems(422)
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
