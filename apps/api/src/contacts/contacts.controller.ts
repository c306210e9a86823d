import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Clock } from '@app/config';
import { ContactService } from '@app/contact-service';
import { parseAtom, type ContactView } from '@app/contacts';
import { ContactQueries, type ContactPage } from '@app/projections';
import type { AuthenticatedRequest } from '../auth/auth.guard.js';
import { expandScopes, RequireScopes } from '../auth/scopes.decorator.js';
import { Idempotency, type Outcome } from '../http/idempotency.js';
import { problem, ProblemException } from '../http/problem.js';
import { contactDeleted, contactErased } from '../http/problem.filter.js';
import { metadataOf } from '../http/request-metadata.js';
import { validateBody, validateQuery } from '../http/validation.js';
import { ApiProblems } from '../docs/problem.schema.js';
import { ContactEnvelope, ContactPageResponse } from './contact.response.js';
import { AccessRoleDto, CreateContactRequest, UpdateContactRequest } from './create-contact.dto.js';
import { ListContactsQuery } from './list-contacts.query.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const notFound = (): ProblemException => new ProblemException(problem(404, 'not_found', 'no contact has this id'));

/** The `{id}` of a route: anything that is not a UUID names no contact. */
function contactIdOf(id: string): string {
  if (!UUID.test(id)) throw notFound();
  return id.toLowerCase();
}

const contactId = ApiParam({ name: 'id', description: 'the contact id (a UUID)', schema: { type: 'string', format: 'uuid' } });
const idempotencyKey = ApiHeader({
  name: 'Idempotency-Key',
  required: false,
  description:
    'within 24 hours a repeat with the same key and request returns the first response (`Idempotent-Replayed: true`); the same key on another request is refused (422 `idempotency_key_reused`)',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
});
const grantReference = ApiParam({ name: 'reference', description: 'the access role of the grant', schema: { type: 'string' } });
const etag = { ETag: { description: 'the contact\'s version, `"<version>"`: send it back as `If-Match`', schema: { type: 'string' } } };

/** `If-Match: "7"` (or `W/"7"`) -> 7; `*` or no header -> no precondition. */
function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,9})"\s*$/.exec(header);
  if (!match?.[1]) {
    throw new ProblemException(
      problem(400, 'invalid_if_match', 'If-Match must be the contact\'s ETag, e.g. "3"', [
        { pointer: '', code: 'invalid_if_match', message: 'send the ETag of the contact you read, e.g. If-Match: "3"' },
      ]),
    );
  }
  return Number(match[1]);
}

type ContactReply = { contact: ContactView };

/** `status:"active"` on a role that needs approval skips it: the client's decision only if it holds `roles`. */
const mayBypassApproval = (request: AuthenticatedRequest): boolean => expandScopes(request.client?.scopes ?? []).has('roles');

const created = (contact: ContactView): Outcome<ContactReply> => ({
  status: 201,
  headers: { location: `/api/contacts/${contact.id}.json`, etag: `"${contact.version}"` },
  body: { contact },
});

const updated = (contact: ContactView): Outcome<ContactReply> => ({
  status: 200,
  headers: { etag: `"${contact.version}"` },
  body: { contact },
});

/** 202: the invite is recorded; the worker mails it shortly after. */
const invited = (contact: ContactView): Outcome<ContactReply> => ({
  status: 202,
  headers: { etag: `"${contact.version}"` },
  body: { contact },
});

@ApiTags('contacts')
@ApiExtraModels(AccessRoleDto)
@Controller('api')
export class ContactsController {
  constructor(
    @Inject(ContactService) private readonly contacts: ContactService,
    @Inject(Idempotency) private readonly idempotency: Idempotency,
    @Inject(ContactQueries) private readonly queries: ContactQueries,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  @Post('contacts.json')
  @RequireScopes('contacts')
  @ApiOperation({
    summary: 'Create a contact',
    operationId: 'createContact',
    description: 'Scope: `contacts`. Types `user`, `guest`, `branch`, `recipient`, each with its rules (DESIGN §6).',
  })
  @ApiBody({ type: CreateContactRequest })
  @idempotencyKey
  @ApiCreatedResponse({
    type: ContactEnvelope,
    description: 'the contact as created',
    headers: { Location: { description: '/api/contacts/{id}.json', schema: { type: 'string' } }, ...etag },
  })
  @ApiProblems(400, 409, 413, 415, 422)
  async create(
    @Body() body: unknown,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ContactReply> {
    const dto = validateBody(CreateContactRequest, body);
    return this.idempotency.run(request, reply, created, (record) =>
      this.contacts.create(
        { contact: dto.contact.toInput(), invite: dto.invite === true, mayBypassApproval: mayBypassApproval(request) },
        metadataOf(request),
        record,
      ),
    );
  }

  @Get('contacts.json')
  @RequireScopes('contacts.readonly')
  @ApiOperation({
    summary: 'List contacts',
    operationId: 'listContacts',
    description: 'Scope: `contacts.readonly` (`contacts` includes it). Newest first, a page at a time.',
  })
  @ApiQuery({ type: ListContactsQuery })
  @ApiOkResponse({ type: ContactPageResponse })
  @ApiProblems(422)
  async list(@Query() query: Record<string, unknown>): Promise<ContactPage> {
    const filter = validateQuery(ListContactsQuery, query);
    return this.queries.list(
      { email: filter.email, type: filter.type, tag: filter.tag, page: filter.page ?? 1, limit: filter.limit ?? 20 },
      this.clock.now(),
    );
  }

  @Get('contacts/:id.json')
  @RequireScopes('contacts.readonly')
  @ApiOperation({
    summary: 'Read a contact',
    operationId: 'readContact',
    description:
      'Scope: `contacts.readonly` (`contacts` includes it); with `asOf`, also `audit`. A grant past its `expires` is never shown active.',
  })
  @contactId
  @ApiQuery({
    name: 'asOf',
    required: false,
    description: 'an ATOM date: the contact as it was at that moment, folded from its events (needs the scope `audit`)',
    schema: { type: 'string', format: 'date-time' },
  })
  @ApiOkResponse({ type: ContactEnvelope, headers: etag })
  @ApiProblems(404, 410, 422)
  async read(
    @Param('id') given: string,
    @Query('asOf') asOf: unknown,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ contact: ContactView }> {
    const id = contactIdOf(given);
    if (asOf !== undefined) return { contact: await this.readAsOf(id, asOf, request) };
    const contact = await this.queries.byId(id, this.clock.now());
    if (!contact) throw await this.goneOrNotFound(id);
    void reply.header('etag', `"${contact.version}"`);
    return { contact };
  }

  /** The contact as it was at a past moment: for auditors (DESIGN §6), folded from its events. */
  private async readAsOf(id: string, asOf: unknown, request: AuthenticatedRequest): Promise<ContactView> {
    if (!expandScopes(request.client?.scopes ?? []).has('audit')) {
      throw new ProblemException(problem(403, 'insufficient_scope', 'reading a contact as of a past moment needs the scope audit'), {
        'www-authenticate': 'Bearer realm="contacts", error="insufficient_scope"',
      });
    }
    const at = typeof asOf === 'string' ? parseAtom(asOf) : null;
    if (!at) {
      throw ProblemException.of(422, 'invalid_date', 'asOf must be an ATOM date', [
        { pointer: '/query/asOf', code: 'invalid_date', message: 'must be an ATOM date, e.g. 2026-01-31T12:00:00+00:00' },
      ]);
    }
    // An erased contact holds nothing to show at any moment: its history is masked.
    const erasedAt = await this.queries.erasedAt(id);
    if (erasedAt !== null) throw new ProblemException(contactErased(erasedAt));
    // Before its deletion a deleted contact reads as it was; from that moment on it is gone.
    const deletedAt = await this.queries.deletedAt(id);
    if (deletedAt !== null && at.getTime() >= deletedAt.getTime()) throw new ProblemException(contactDeleted(deletedAt));
    const contact = await this.queries.asOf(id, at);
    if (!contact) throw ProblemException.of(404, 'not_found', 'no contact had this id at that moment');
    return contact;
  }

  /** A contact no read finds: 410 when it was erased or deleted, 404 when it never was. */
  private async goneOrNotFound(id: string): Promise<ProblemException> {
    const erasedAt = await this.queries.erasedAt(id);
    if (erasedAt !== null) return new ProblemException(contactErased(erasedAt));
    const deletedAt = await this.queries.deletedAt(id);
    return deletedAt === null ? notFound() : new ProblemException(contactDeleted(deletedAt));
  }

  /**
   * Deletes a contact (DESIGN §10). A second DELETE answers 410 like every other request on it: the
   * client learns it was already gone (perhaps deleted by another client), and no second event is
   * written. It takes no body; one sent is refused rather than ignored, as it may mean something
   * to its sender that this route would not do.
   */
  @Delete('contacts/:id.json')
  @HttpCode(204)
  @RequireScopes('contacts')
  @ApiOperation({
    summary: 'Delete a contact',
    description:
      'Scope: `contacts`. Records `ContactDeleted`. The contact leaves lists and lookups, its email is free for new contacts at once, its pending invite link stops working (410) and its grants end. Reading, updating, inviting or deleting it again then answers 410 `contact_deleted`; its history stays for auditors. No body.',
  })
  @contactId
  @ApiNoContentResponse({ description: 'the contact is deleted' })
  @ApiProblems(400, 404, 410, 413, 415)
  async remove(@Param('id') given: string, @Body() body: unknown, @Req() request: AuthenticatedRequest): Promise<void> {
    const id = contactIdOf(given);
    if (body !== undefined) {
      throw ProblemException.of(400, 'body_not_allowed', 'DELETE takes no body', [
        { pointer: '', code: 'body_not_allowed', message: 'send the request without a body' },
      ]);
    }
    await this.contacts.delete(id, metadataOf(request));
  }

  @Post('contacts/:id.json')
  @HttpCode(200)
  @RequireScopes('contacts')
  @ApiOperation({
    summary: 'Update a contact',
    operationId: 'updateContact',
    description: 'Scope: `contacts`. Changes the fields sent; `accessRoles` and `tags` replace the set. The type cannot change.',
  })
  @contactId
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'the ETag you read, `"<version>"`: refused with 412 when the contact has moved on since',
    schema: { type: 'string', example: '"3"' },
  })
  @idempotencyKey
  @ApiBody({ type: UpdateContactRequest })
  @ApiOkResponse({ type: ContactEnvelope, headers: etag })
  @ApiProblems(400, 404, 409, 410, 412, 413, 415, 422)
  async update(
    @Param('id') given: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ContactReply> {
    const id = contactIdOf(given);
    const expectedVersion = parseIfMatch(ifMatch);
    const dto = validateBody(UpdateContactRequest, body);
    return this.idempotency.run(request, reply, updated, (record) =>
      this.contacts.update(
        id,
        { contact: dto.contact.toPatch(), invite: dto.invite === true, expectedVersion, mayBypassApproval: mayBypassApproval(request) },
        metadataOf(request),
        record,
      ),
    );
  }

  /** Sends a new invite (DESIGN §6): a new token, the earlier link retired at once. The body is ignored. */
  @Post('contacts/:id/invite.json')
  @HttpCode(202)
  @RequireScopes('contacts')
  @ApiOperation({
    summary: 'Send a new invite',
    operationId: 'sendInvite',
    description:
      'Scope: `contacts`. Users only: a new token, the earlier link stops working at once; the worker mails it shortly after. No body.',
  })
  @contactId
  @idempotencyKey
  @ApiAcceptedResponse({ type: ContactEnvelope, headers: etag })
  @ApiProblems(404, 410, 422)
  async invite(
    @Param('id') id: string,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ContactReply> {
    const contact = contactIdOf(id);
    return this.idempotency.run(request, reply, invited, (record) => this.contacts.reinvite(contact, metadataOf(request), record));
  }

  /** An administrator approves a grant waiting for approval (DESIGN §6). The body is ignored. */
  @Post('contacts/:id/access-roles/:reference/approve.json')
  @HttpCode(200)
  @RequireScopes('roles')
  @ApiOperation({
    summary: 'Approve a pending grant',
    operationId: 'approveGrant',
    description: 'Scope: `roles`. Records `RoleActivated {by:"admin"}`. No body.',
  })
  @contactId
  @grantReference
  @idempotencyKey
  @ApiOkResponse({ type: ContactEnvelope, headers: etag })
  @ApiProblems(404, 409, 410)
  async approve(
    @Param('id') id: string,
    @Param('reference') reference: string,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ContactReply> {
    return this.decide(id, reference, 'approve', request, reply);
  }

  /** An administrator rejects a grant waiting for approval (DESIGN §6). The body is ignored. */
  @Post('contacts/:id/access-roles/:reference/reject.json')
  @HttpCode(200)
  @RequireScopes('roles')
  @ApiOperation({
    summary: 'Reject a pending grant',
    operationId: 'rejectGrant',
    description: 'Scope: `roles`. Records `RoleRevoked {reason:"rejected"}`. No body.',
  })
  @contactId
  @grantReference
  @idempotencyKey
  @ApiOkResponse({ type: ContactEnvelope, headers: etag })
  @ApiProblems(404, 409, 410)
  async reject(
    @Param('id') id: string,
    @Param('reference') reference: string,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ContactReply> {
    return this.decide(id, reference, 'reject', request, reply);
  }

  private decide(
    id: string,
    reference: string,
    verdict: 'approve' | 'reject',
    request: AuthenticatedRequest,
    reply: FastifyReply,
  ): Promise<ContactReply> {
    const contact = contactIdOf(id);
    return this.idempotency.run(request, reply, updated, (record) =>
      this.contacts.decideGrant(contact, reference, verdict, metadataOf(request), record),
    );
  }
}
