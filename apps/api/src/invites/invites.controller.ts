import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiBody, ApiConsumes, ApiOperation, ApiParam, ApiProduces, ApiProperty, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ContactService, type InviteeView } from '@app/contact-service';
import { ContactRejected, InviteUnusable } from '@app/contacts';
import { inviteAttempts } from '../http/rate-limit.js';
import { metadataOf } from '../http/request-metadata.js';
import { acceptedPage, confirmedPage, confirmPage, errorPage, invitePage, unusablePage, type FormErrors } from './invite.pages.js';
import { csrfBinding } from './invite-page.plugin.js';

/** Invite tokens are 43 base64url characters; anything else names no invite and costs no query. */
const TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

/** C0 controls and DEL: no browser sends them from a password field. */
const CONTROL = /[\u0000-\u001f\u007f]/;

interface PasswordForm {
  password: string;
  confirmation: string;
}

/** The form the invite page posts; documents it only. */
class PasswordFormSchema {
  @ApiProperty({ type: String, format: 'password' }) password!: string;
  @ApiProperty({ type: String, format: 'password' }) confirmation!: string;
  @ApiProperty({ type: String, description: 'the CSRF token the page carries' }) _csrf!: string;
}

const html = (status: number, description: string): MethodDecorator & ClassDecorator =>
  ApiResponse({ status, description, content: { 'text/html': { schema: { type: 'string' } } } });
const inviteToken = ApiParam({ name: 'token', description: 'the token of the invite link', schema: { type: 'string' } });

/**
 * The two fields, each sent once as text; `confirm` for a form without either (the confirmation
 * page of a person who holds a password); null for anything else (a repeated field, a missing one).
 */
function readForm(body: unknown): PasswordForm | 'confirm' | null {
  if (body === null || typeof body !== 'object') return null;
  const { password, confirmation } = body as Record<string, unknown>;
  if (password === undefined && confirmation === undefined) return 'confirm';
  if (typeof password !== 'string' || typeof confirmation !== 'string') return null;
  if (CONTROL.test(password) || CONTROL.test(confirmation)) return null;
  return { password, confirmation };
}

/**
 * The invite page (DESIGN §6): "a page where they can review their basic information and supply a
 * password". Server-rendered HTML without script. Everything a person can get wrong is answered
 * here with a page; the refusals that happen before the handler (CSRF, rate limit, unreadable
 * body) become pages in `registerInvitePage`, which also sets the headers of every response.
 */
@ApiTags('invites')
@ApiProduces('text/html')
@Controller('invites')
export class InvitesController {
  constructor(@Inject(ContactService) private readonly contacts: ContactService) {}

  @Get(':token')
  @ApiOperation({
    summary: 'The invite page',
    operationId: 'showInvitePage',
    security: [],
    description: 'No token needed: a person opens the link from the invite mail. Server-rendered HTML.',
  })
  @inviteToken
  @html(200, "the person's name and email, and a form to set a password")
  @html(404, 'an unknown or superseded link')
  @html(410, 'an expired, used or retired link, or the link of a deleted contact')
  @html(429, 'more than INVITE_RATE_LIMIT_PER_MINUTE requests a minute from this address (Retry-After)')
  async show(@Param('token') token: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    try {
      const invitee = await this.invitee(token);
      // A person who holds a password already only confirms the email: the invite was a verification mail.
      if (invitee.hasPassword) return confirmPage(invitee, this.csrfToken(reply, token));
      return invitePage(invitee, this.csrfToken(reply, token));
    } catch (error) {
      return this.unusable(error, reply);
    }
  }

  @Post(':token')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Set a password from the invite page',
    operationId: 'acceptInvite',
    security: [],
    description: 'No token needed. A form with the CSRF token the page carries (and its cookie).',
  })
  @inviteToken
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiBody({ type: PasswordFormSchema })
  @html(200, 'the password is set (or, for a person who holds one, the email confirmed), the invite accepted')
  @html(400, 'a malformed form')
  @html(403, 'a missing or wrong CSRF token')
  @html(404, 'an unknown or superseded link')
  @html(410, 'an expired, used or retired link, or the link of a deleted contact')
  @html(413, 'a body over 1 MiB')
  @html(415, 'not a form')
  @html(422, 'the form again, with the error')
  @html(429, '10 attempts per invite in 15 minutes, or INVITE_RATE_LIMIT_PER_MINUTE requests a minute from this address (Retry-After)')
  @html(503, 'more passwords to hash than the service can in a few seconds (Retry-After)')
  @RouteConfig({ csrf: true, rateLimit: inviteAttempts })
  async accept(
    @Param('token') token: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const form = readForm(body);
    if (form === null) return status(reply, 400, errorPage(400));
    try {
      const invitee = await this.invitee(token);
      const refused = (errors: FormErrors): string => status(reply, 422, invitePage(invitee, this.csrfToken(reply, token), errors));
      if (form === 'confirm') {
        // Without a password to keep, a form without one is malformed, as before.
        if (!invitee.hasPassword) return status(reply, 400, errorPage(400));
        await this.contacts.acceptInvite(token, null, metadataOf(request));
        return confirmedPage(invitee);
      }
      if (form.password !== form.confirmation)
        return refused({ confirmation: 'The two passwords do not match. Type the same password in both fields.' });
      try {
        await this.contacts.acceptInvite(token, form.password, metadataOf(request));
      } catch (error) {
        if (!(error instanceof ContactRejected)) throw error;
        return refused({ password: `Your password ${error.errors[0]?.message ?? 'is not accepted'}.` });
      }
      return acceptedPage(invitee);
    } catch (error) {
      return this.unusable(error, reply);
    }
  }

  private async invitee(token: string): Promise<InviteeView> {
    if (!TOKEN.test(token)) throw new InviteUnusable('unknown');
    return this.contacts.invitee(token);
  }

  /** A token for the form, bound to this invite; the first one also sets the CSRF cookie. */
  private csrfToken(reply: FastifyReply, token: string): string {
    return reply.generateCsrf({ userInfo: csrfBinding(token) });
  }

  /** A link that no longer leads to the form gets a page saying why; anything else is not ours to answer. */
  private unusable(error: unknown, reply: FastifyReply): string {
    if (!(error instanceof InviteUnusable)) throw error;
    const { status: code, body } = unusablePage(error.reason);
    return status(reply, code, body);
  }
}

function status(reply: FastifyReply, code: number, body: string): string {
  void reply.code(code);
  return body;
}
