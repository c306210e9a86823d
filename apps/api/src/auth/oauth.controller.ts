import { Body, Controller, Header, Headers, HttpCode, Inject, Post } from '@nestjs/common';
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
  @ApiPropertyOptional({ type: String, description: "space-separated; narrows the client's scopes", example: 'contacts.readonly' })
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

/**
 * Client credentials sent as HTTP Basic (RFC 6749 §2.3.1: each part form-urlencoded first), as
 * OAuth client libraries and Swagger UI's "Authorize" do by default. undefined: no Basic header;
 * null: a Basic header that does not decode to `id:secret`.
 */
function basicCredentials(header: string | undefined): { id: string; secret: string } | null | undefined {
  const match = typeof header === 'string' ? /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header) : null;
  if (!match?.[1]) return typeof header === 'string' && /^Basic\b/i.test(header) ? null : undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return null;
  try {
    const decode = (part: string): string => decodeURIComponent(part.replace(/\+/g, ' '));
    return { id: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) };
  } catch {
    return null;
  }
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
    operationId: 'issueToken',
    security: [],
    description:
      'No token needed. Form-encoded or JSON (RFC 6749 §4.4); the client authenticates with `client_id` and `client_secret` in the body or with HTTP Basic (§2.3.1), not both. Refusals carry RFC 6749 `error` and `error_description` too.',
  })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: TokenRequest })
  @ApiOkResponse({ type: TokenResponse })
  @ApiProblems(400, 401, 429)
  @Header('cache-control', 'no-store')
  async token(
    @Body() body: TokenRequest | undefined,
    @Headers('authorization') authorization: string | undefined,
  ): Promise<Record<string, unknown>> {
    const request = body ?? {};
    if (request.grant_type !== 'client_credentials') {
      throw oauthError(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
    }
    const basic = basicCredentials(authorization);
    if (basic === null) throw oauthError(401, 'invalid_client', 'the Basic credentials are malformed');
    // One way to authenticate per request (RFC 6749 §2.3); a client_id in the body may accompany Basic.
    if (basic && request.client_secret !== undefined) {
      throw oauthError(400, 'invalid_request', 'send the client credentials either in the body or as HTTP Basic, not both');
    }
    const id = basic ? basic.id : request.client_id;
    const secret = basic ? basic.secret : request.client_secret;
    if (typeof id !== 'string' || typeof secret !== 'string') {
      throw oauthError(400, 'invalid_request', 'client_id and client_secret are required');
    }
    if (basic && request.client_id !== undefined && request.client_id !== basic.id) {
      throw oauthError(400, 'invalid_request', 'client_id differs from the Basic credentials');
    }
    const client = await this.clients.authenticate(id, secret);
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
