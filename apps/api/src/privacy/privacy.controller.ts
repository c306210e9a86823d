import { Controller, Get, Header, Inject, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Clock } from '@app/config';
import { exportedContact, type ContactView } from '@app/contacts';
import { EventStore, toRecorded } from '@app/event-store';
import { AuditEventResponse, shown, type AuditEvent } from '../audit/audit.controller.js';
import { RequireScopes } from '../auth/scopes.decorator.js';
import { ContactResponse } from '../contacts/contact.response.js';
import { ApiProblems } from '../docs/problem.schema.js';
import { ProblemException } from '../http/problem.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ContactExport {
  contact: ContactView;
  events: AuditEvent[];
}

class ContactExportResponse {
  @ApiProperty({ type: ContactResponse, description: 'the contact as a read returns it; for a deleted contact, as it was just before' })
  contact!: ContactResponse;
  @ApiProperty({ type: [AuditEventResponse], description: "the contact's whole history, oldest first, as `/events.json` shows it" })
  events!: AuditEventResponse[];
}

/** A person's data (DESIGN §10): the copy of everything held about them (GDPR Art. 15). */
@ApiTags('privacy')
@Controller('api')
export class PrivacyController {
  constructor(
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  @Get('contacts/:id/export.json')
  @RequireScopes('privacy')
  // Everything held about a person: no cache along the way keeps a copy.
  @Header('cache-control', 'no-store')
  @ApiOperation({
    summary: "Export a person's data",
    description:
      'Scope: `privacy`. The contact as a read returns it (for a deleted contact, its last state before the deletion) and every event of its history as `/api/contacts/{id}/events.json` shows them, secrets as `"[redacted]"`.',
  })
  @ApiParam({ name: 'id', description: 'the contact id (a UUID)', schema: { type: 'string', format: 'uuid' } })
  @ApiOkResponse({ type: ContactExportResponse })
  @ApiProblems(404)
  async export(@Param('id') id: string): Promise<ContactExport> {
    if (!UUID.test(id)) throw ProblemException.of(404, 'not_found', 'no contact has this id');
    // One read of the stream gives both parts, so the contact and its history always agree.
    const { events } = await this.store.readStream(id.toLowerCase());
    const contact = exportedContact(events.map(toRecorded), this.clock.now());
    if (!contact) throw ProblemException.of(404, 'not_found', 'no contact has this id');
    return { contact, events: events.map(shown) };
  }
}
