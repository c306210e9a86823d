import { Body, Controller, Get, Header, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Clock } from '@app/config';
import { ContactService, type ErasureView } from '@app/contact-service';
import { exportedContact, type ContactView } from '@app/contacts';
import { EventStore, toRecorded } from '@app/event-store';
import { AuditEventResponse, shown, type AuditEvent } from '../audit/audit.controller.js';
import { RequireScopes } from '../auth/scopes.decorator.js';
import { ContactResponse } from '../contacts/contact.response.js';
import { ApiProblems } from '../docs/problem.schema.js';
import { Idempotency, type Outcome } from '../http/idempotency.js';
import { ProblemException } from '../http/problem.js';
import { contactErased } from '../http/problem.filter.js';
import { metadataOf } from '../http/request-metadata.js';
import { validateBody } from '../http/validation.js';
import type { AuthenticatedRequest } from '../auth/auth.guard.js';
import { EraseContactRequest } from './erase-contact.dto.js';

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

class ErasureResponse {
  @ApiProperty({ type: String, format: 'uuid' })
  contactId!: string;
  @ApiProperty({ type: String, format: 'date-time', description: 'when the first erasure was recorded' })
  erasedAt!: string;
  @ApiProperty({ type: String, description: 'the reason the first erasure gave' })
  reason!: string;
}

class ErasureEnvelope {
  @ApiProperty({ type: ErasureResponse })
  erasure!: ErasureResponse;
}

type ErasureReply = { erasure: ErasureView };

const erased = (erasure: ErasureView): Outcome<ErasureReply> => ({ status: 200, headers: {}, body: { erasure } });

/** A person's data (DESIGN §10): the copy of everything held about them (GDPR Art. 15). */
@ApiTags('privacy')
@Controller('api')
export class PrivacyController {
  constructor(
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(ContactService) private readonly contacts: ContactService,
    @Inject(Idempotency) private readonly idempotency: Idempotency,
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
  @ApiProblems(404, 410)
  async export(@Param('id') id: string): Promise<ContactExport> {
    if (!UUID.test(id)) throw ProblemException.of(404, 'not_found', 'no contact has this id');
    // One read of the stream gives both parts, so the contact and its history always agree.
    const { events } = await this.store.readStream(id.toLowerCase());
    const erasure = events.find((e) => e.type === 'ContactErased');
    if (erasure) throw new ProblemException(contactErased(erasure.recordedAt));
    const contact = exportedContact(events.map(toRecorded), this.clock.now());
    if (!contact) throw ProblemException.of(404, 'not_found', 'no contact has this id');
    return { contact, events: events.map(shown) };
  }

  /**
   * Erases the person's data (DESIGN §10, GDPR Art. 17): `ContactErased {reason}`, every personal
   * value in its history masked as `"[erased]"`. A repeat answers with the first erasure.
   */
  @Post('contacts/:id/erase.json')
  @RequireScopes('privacy')
  @Header('cache-control', 'no-store')
  @ApiOperation({
    summary: "Erase a person's data",
    operationId: 'eraseContact',
    description:
      'Scope: `privacy`. Records `ContactErased {reason}` (who: `metadata.clientId`) and masks every personal value of the contact\'s events (names, emails, company, address lines, tags, password and invite token hashes) as `"[erased]"`, keeping each event\'s place, type, time and client. Works on deleted contacts too; a repeat answers 200 with the first erasure. Afterwards reading, updating, inviting, deleting or exporting the contact answers 410 `contact_erased`.',
  })
  @ApiParam({ name: 'id', description: 'the contact id (a UUID)', schema: { type: 'string', format: 'uuid' } })
  @ApiBody({ type: EraseContactRequest })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'within 24 hours a repeat with the same key and request returns the first response (`Idempotent-Replayed: true`)',
  })
  @ApiOkResponse({ type: ErasureEnvelope, description: 'the erasure (the first one, on a repeat)' })
  @ApiProblems(400, 404, 413, 415, 422)
  async erase(
    @Param('id') id: string,
    @Body() body: unknown,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ErasureReply> {
    if (!UUID.test(id)) throw ProblemException.of(404, 'not_found', 'no contact has this id');
    const { reason } = validateBody(EraseContactRequest, body);
    return this.idempotency.run(request, reply, erased, (record) =>
      this.contacts.erase(id.toLowerCase(), reason, metadataOf(request), record),
    );
  }
}
