import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Clock } from '@app/config';
import { ContactService } from '@app/contact-service';
import { parseAtom, type ContactView } from '@app/contacts';
import { ContactQueries, type ContactPage } from '@app/projections';
import type { AuthenticatedRequest } from '../auth/auth.guard.js';
import { expandScopes, RequireScopes } from '../auth/scopes.decorator.js';
import { Idempotency, type Outcome } from '../http/idempotency.js';
import { problem, ProblemException } from '../http/problem.js';
import { metadataOf } from '../http/request-metadata.js';
import { validateBody, validateQuery } from '../http/validation.js';
import { CreateContactRequest, UpdateContactRequest } from './create-contact.dto.js';
import { ListContactsQuery } from './list-contacts.query.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const notFound = (): ProblemException => new ProblemException(problem(404, 'not_found', 'no contact has this id'));

/** `{id}.json` -> the contact id; anything that is not a UUID names no contact. */
function contactIdOf(file: string): string {
  const id = file.endsWith('.json') ? file.slice(0, -'.json'.length) : '';
  if (!UUID.test(id)) throw notFound();
  return id.toLowerCase();
}

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

const created = (contact: ContactView): Outcome<ContactReply> => ({
  status: 201,
  headers: { location: `/api/contacts/${contact.id}.json`, etag: `"${contact.version}"` },
  body: { contact },
});

const updated = (contact: ContactView): Outcome<ContactReply> => ({ status: 200, headers: { etag: `"${contact.version}"` }, body: { contact } });

/** 202: the invite is recorded; the worker mails it shortly after. */
const invited = (contact: ContactView): Outcome<ContactReply> => ({ status: 202, headers: { etag: `"${contact.version}"` }, body: { contact } });

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
  async create(
    @Body() body: unknown,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ContactReply> {
    const dto = validateBody(CreateContactRequest, body);
    return this.idempotency.run(request, reply, created, (record) =>
      this.contacts.create({ contact: dto.contact.toInput(), invite: dto.invite === true }, metadataOf(request), record),
    );
  }

  @Get('contacts.json')
  @RequireScopes('contacts.readonly')
  async list(@Query() query: Record<string, unknown>): Promise<ContactPage> {
    const filter = validateQuery(ListContactsQuery, query);
    return this.queries.list(
      { email: filter.email, type: filter.type, tag: filter.tag, page: filter.page ?? 1, limit: filter.limit ?? 20 },
      this.clock.now(),
    );
  }

  @Get('contacts/:file')
  @RequireScopes('contacts.readonly')
  async read(
    @Param('file') file: string,
    @Query('asOf') asOf: unknown,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ contact: ContactView }> {
    const id = contactIdOf(file);
    if (asOf !== undefined) return { contact: await this.readAsOf(id, asOf, request) };
    const contact = await this.queries.byId(id, this.clock.now());
    if (!contact) throw notFound();
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
    const contact = await this.queries.asOf(id, at);
    if (!contact) throw ProblemException.of(404, 'not_found', 'no contact had this id at that moment');
    return contact;
  }

  @Post('contacts/:file')
  @HttpCode(200)
  @RequireScopes('contacts')
  async update(
    @Param('file') file: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ContactReply> {
    const id = contactIdOf(file);
    const expectedVersion = parseIfMatch(ifMatch);
    const dto = validateBody(UpdateContactRequest, body);
    return this.idempotency.run(request, reply, updated, (record) =>
      this.contacts.update(id, { contact: dto.contact.toPatch(), invite: dto.invite === true, expectedVersion }, metadataOf(request), record),
    );
  }

  /** Sends a new invite (DESIGN §6): a new token, the earlier link retired at once. The body is ignored. */
  @Post('contacts/:id/invite.json')
  @HttpCode(202)
  @RequireScopes('contacts')
  async invite(
    @Param('id') id: string,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ContactReply> {
    const contactId = contactIdOf(`${id}.json`);
    return this.idempotency.run(request, reply, invited, (record) => this.contacts.reinvite(contactId, metadataOf(request), record));
  }

  /** An administrator decides a grant waiting for approval (DESIGN §6). The body is ignored. */
  @Post('contacts/:id/access-roles/:reference/:decision')
  @HttpCode(200)
  @RequireScopes('roles')
  async decideGrant(
    @Param('id') id: string,
    @Param('reference') reference: string,
    @Param('decision') decision: string,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ContactReply> {
    const verdict = decision === 'approve.json' ? 'approve' : decision === 'reject.json' ? 'reject' : null;
    if (verdict === null) throw new ProblemException(problem(404, 'not_found', 'no such route'));
    const contactId = contactIdOf(`${id}.json`);
    return this.idempotency.run(request, reply, updated, (record) =>
      this.contacts.decideGrant(contactId, reference, verdict, metadataOf(request), record),
    );
  }
}
