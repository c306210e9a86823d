import { Body, Controller, Get, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Clock } from '@app/config';
import { ContactService } from '@app/contact-service';
import type { ContactView } from '@app/contacts';
import { ContactQueries, type ContactPage } from '@app/projections';
import type { AuthenticatedRequest } from '../auth/auth.guard.js';
import { RequireScopes } from '../auth/scopes.decorator.js';
import { problem, ProblemException } from '../http/problem.js';
import { metadataOf } from '../http/request-metadata.js';
import { validateBody, validateQuery } from '../http/validation.js';
import { CreateContactRequest } from './create-contact.dto.js';
import { ListContactsQuery } from './list-contacts.query.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const notFound = (): ProblemException => new ProblemException(problem(404, 'not_found', 'no contact has this id'));

@Controller('api')
export class ContactsController {
  constructor(
    @Inject(ContactService) private readonly contacts: ContactService,
    @Inject(ContactQueries) private readonly queries: ContactQueries,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  @Post('contacts.json')
  @RequireScopes('contacts')
  async create(
    @Body() body: unknown,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ contact: ContactView }> {
    const dto = await validateBody(CreateContactRequest, body);
    const contact = await this.contacts.create({ contact: dto.contact.toInput(), invite: dto.invite === true }, metadataOf(request));
    void reply.status(201).header('location', `/api/contacts/${contact.id}.json`).header('etag', `"${contact.version}"`);
    return { contact };
  }

  @Get('contacts.json')
  @RequireScopes('contacts.readonly')
  async list(@Query() query: Record<string, unknown>): Promise<ContactPage> {
    const filter = await validateQuery(ListContactsQuery, query);
    return this.queries.list(
      { email: filter.email, type: filter.type, tag: filter.tag, page: filter.page ?? 1, limit: filter.limit ?? 20 },
      this.clock.now(),
    );
  }

  @Get('contacts/:file')
  @RequireScopes('contacts.readonly')
  async read(@Param('file') file: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<{ contact: ContactView }> {
    const id = file.endsWith('.json') ? file.slice(0, -'.json'.length) : null;
    if (!id || !UUID.test(id)) throw notFound();
    const contact = await this.queries.byId(id.toLowerCase(), this.clock.now());
    if (!contact) throw notFound();
    void reply.header('etag', `"${contact.version}"`);
    return { contact };
  }
}
