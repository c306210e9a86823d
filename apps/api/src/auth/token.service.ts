import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { FastifyRequest } from 'fastify';
import { isScope, type Scope } from '@app/auth';

export const TOKEN_TTL_SECONDS = 3600;

export interface AccessToken {
  clientId: string;
  scopes: Scope[];
}

/** Signed, self-contained access tokens: checking one needs no database round trip. */
@Injectable()
export class TokenService {
  /** Each request's bearer token, verified once: the rate limit and the guard both need it. */
  private readonly verified = new WeakMap<FastifyRequest, AccessToken | null | undefined>();

  constructor(private readonly jwt: JwtService) {}

  issue(token: AccessToken): string {
    return this.jwt.sign({ scope: token.scopes.join(' ') }, { subject: token.clientId, expiresIn: TOKEN_TTL_SECONDS });
  }

  /** The request's `Authorization: Bearer` token: undefined when it sent none, null when it does not verify. */
  fromRequest(request: FastifyRequest): AccessToken | null | undefined {
    if (this.verified.has(request)) return this.verified.get(request);
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    const token = match?.[1] ? this.verify(match[1]) : undefined;
    this.verified.set(request, token);
    return token;
  }

  /** The token's holder and scopes, or null when it is forged, malformed or expired. */
  verify(raw: string): AccessToken | null {
    try {
      const claims = this.jwt.verify<{ sub?: unknown; scope?: unknown }>(raw, { algorithms: ['HS256'] });
      if (typeof claims.sub !== 'string' || typeof claims.scope !== 'string') return null;
      return { clientId: claims.sub, scopes: claims.scope.split(' ').filter(isScope) };
    } catch {
      return null;
    }
  }
}
