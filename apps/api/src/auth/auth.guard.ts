import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { Scope } from '@app/auth';
import { problem, ProblemException } from '../http/problem.js';
import { expandScopes, SCOPES_KEY } from './scopes.decorator.js';
import { TokenService, type AccessToken } from './token.service.js';

export type AuthenticatedRequest = FastifyRequest & { client?: AccessToken };

const challenge = (error?: string): Record<string, string> => ({
  'www-authenticate': error ? `Bearer realm="contacts", error="${error}"` : 'Bearer realm="contacts"',
});

/** Every route under /api needs a bearer token; routes name the scopes they need (DESIGN §6). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const needed = this.reflector.getAllAndOverride<Scope[] | undefined>(SCOPES_KEY, [context.getHandler(), context.getClass()]);
    if (needed === undefined && !request.url.startsWith('/api/')) return true;

    const token = this.tokens.fromRequest(request);
    if (token === undefined) {
      throw new ProblemException(
        problem(401, 'unauthorized', 'send Authorization: Bearer <token> (POST /oauth/token issues one)'),
        challenge(),
      );
    }
    if (token === null) {
      throw new ProblemException(problem(401, 'invalid_token', 'the bearer token is invalid or has expired'), challenge('invalid_token'));
    }
    request.client = token;
    const granted = expandScopes(token.scopes);
    if (needed && needed.length > 0 && !needed.some((s) => granted.has(s))) {
      throw new ProblemException(
        problem(403, 'insufficient_scope', `this needs the scope ${needed.join(' or ')}`),
        challenge('insufficient_scope'),
      );
    }
    return true;
  }
}
