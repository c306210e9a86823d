import { Body, Controller, Header, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { ClientStore, isScope, type Scope } from '@app/auth';
import { ApiProblems } from '../docs/problem.schema.js';
import { problem, ProblemException } from '../http/problem.js';
import { expandScopes } from './scopes.decorator.js';
import { TOKEN_TTL_SECONDS, TokenService } from './token.service.js';

/** The grant's fields; read by hand (RFC 6749 errors), so this class documents them only. */
class TokenRequest {
  @ApiProperty({ enum: ['client_credentials'] }) grant_type?: unknown;
  @ApiProperty({ type: String }) client_id?: unknown;
  @ApiProperty({ type: String, format: 'password' }) client_secret?: unknown;
  @ApiPropertyOptional({ type: String, description: 'space-separated; narrows the client\'s scopes', example: 'contacts.readonly' })
  scope?: unknown;
}

class TokenResponse {
  @ApiProperty({ type: String }) access_token!: string;
  @ApiProperty({ enum: ['Bearer'] }) token_type!: string;
  @ApiProperty({ type: Number, example: 3600 }) expires_in!: number;
  @ApiProperty({ type: String, example: 'contacts roles' }) scope!: string;
}

/** RFC 6749 errors, carried in a problem document so every refusal has one shape. */
function oauthError(status: number, error: string, detail: string): ProblemException {
  const headers: Record<string, string> = status === 401 ? { 'www-authenticate': 'Basic realm="contacts"' } : {};
  return new ProblemException(problem(status, error, detail, [], { error, error_description: detail }), headers);
}

/** The OAuth2 client credentials grant (RFC 6749 §4.4), form-encoded or JSON. */
@ApiTags('auth')
@Controller('oauth')
export class OAuthController {
  constructor(
    @Inject(ClientStore) private readonly clients: ClientStore,
    private readonly tokens: TokenService,
  ) {}

  @Post('token')
  @HttpCode(200)
  @ApiOperation({
    summary: 'OAuth2 client credentials grant',
    description: 'No token needed. Form-encoded or JSON (RFC 6749 §4.4). Refusals carry RFC 6749 `error` and `error_description` too.',
  })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: TokenRequest })
  @ApiOkResponse({ type: TokenResponse })
  @ApiProblems(400, 401, 429)
  @Header('cache-control', 'no-store')
  async token(@Body() body: TokenRequest | undefined): Promise<Record<string, unknown>> {
    const request = body ?? {};
    if (request.grant_type !== 'client_credentials') {
      throw oauthError(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
    }
    if (typeof request.client_id !== 'string' || typeof request.client_secret !== 'string') {
      throw oauthError(400, 'invalid_request', 'client_id and client_secret are required');
    }
    const client = await this.clients.authenticate(request.client_id, request.client_secret);
    if (!client) throw oauthError(401, 'invalid_client', 'unknown client or wrong secret');

    let scopes: Scope[] = client.scopes;
    // An empty scope asks for nothing in particular: the client's own scopes (RFC 6749 §3.3).
    if (request.scope !== undefined && !(typeof request.scope === 'string' && request.scope.trim() === '')) {
      if (typeof request.scope !== 'string') throw oauthError(400, 'invalid_scope', 'scope must be a space-separated string');
      const asked = request.scope.split(/\s+/).filter(Boolean);
      // A client may narrow to a read-only twin of a scope it holds (contacts -> contacts.readonly).
      const allowed = expandScopes(client.scopes);
      const refused = asked.filter((s) => !isScope(s) || !allowed.has(s));
      if (refused.length > 0) throw oauthError(400, 'invalid_scope', `not granted to this client: ${refused.join(' ')}`);
      scopes = asked as Scope[];
    }
    return {
      access_token: this.tokens.issue({ clientId: client.clientId, scopes }),
      token_type: 'Bearer',
      expires_in: TOKEN_TTL_SECONDS,
      scope: scopes.join(' '),
    };
  }
}
