import { Body, Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { SignInService } from '@app/contact-service';
import type { ContactView } from '@app/contacts';
import type { AuthenticatedRequest } from '../auth/auth.guard.js';
import { RequireScopes } from '../auth/scopes.decorator.js';
import { ContactEnvelope } from '../contacts/contact.response.js';
import { ApiProblems, ProblemSchema } from '../docs/problem.schema.js';
import { metadataOf } from '../http/request-metadata.js';
import { validateBody } from '../http/validation.js';
import { AuthenticateRequest } from './authenticate.dto.js';

const problemContent = { 'application/problem+json': { schema: { $ref: `#/components/schemas/${ProblemSchema.name}` } } };

/** Sign-in for the website whose users these are (DESIGN §11). */
@ApiTags('sign-in')
@Controller('api')
export class SignInController {
  constructor(@Inject(SignInService) private readonly signIn: SignInService) {}

  @Post('contacts/authenticate.json')
  @HttpCode(200)
  @RequireScopes('signin')
  @ApiOperation({
    summary: "Check a user's email and password",
    description:
      'Scope: `signin`. 200 with the user when a user (type `user`) with that email holds that password. Any other case, ' +
      'whatever the reason, is the same 401 `invalid_credentials` in about the same time. After 10 failed attempts for an ' +
      'email within 15 minutes, that email is refused with 429 `too_many_attempts` until the window ends, right password or ' +
      'not, on every API process. A success with a hash weaker than the current cost records `PasswordSet {reason:"rehash"}`.',
  })
  @ApiBody({ type: AuthenticateRequest })
  @ApiOkResponse({ type: ContactEnvelope, description: 'the user, as a read returns them' })
  @ApiResponse({
    status: 401,
    description: '`invalid_credentials`: no user with that email holds that password; or:',
    content: problemContent,
  })
  @ApiResponse({
    status: 429,
    description: '`too_many_attempts`: this email is locked for `Retry-After` seconds; or `rate_limited`:',
    headers: { 'Retry-After': { description: 'seconds until the lock lifts', schema: { type: 'integer' } } },
    content: problemContent,
  })
  @ApiProblems(400, 413, 415, 422)
  async authenticate(@Body() body: unknown, @Req() request: AuthenticatedRequest): Promise<{ contact: ContactView }> {
    const { email, password } = validateBody(AuthenticateRequest, body);
    return { contact: await this.signIn.authenticate(email, password, metadataOf(request)) };
  }
}
