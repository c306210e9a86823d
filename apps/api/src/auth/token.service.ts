import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { FastifyRequest } from 'fastify';
import { isScope, type Scope } from '@app/auth';
import { RevokedClients } from './revoked-clients.js';

export const TOKEN_TTL_SECONDS = 3600;
const TRUSTED_TOKENS_MAX = 10_000;

export interface AccessToken {
  clientId: string;
  scopes: Scope[];
}

/** Signed, self-contained access tokens: checking one needs no database round trip. */
@Injectable()
export class TokenService {
  /** Each request's bearer token, verified once: the rate limit and the guard both need it. */
  private readonly verified = new WeakMap<FastifyRequest, AccessToken | null | undefined>();

  /**
   * Tokens already verified, until they expire: a client sends the same token for an hour, and
   * checking its signature again on every request was a visible share of a request's CPU. Only
   * tokens that verified are kept, so a forged one never enters.
   */
  private readonly trusted = new Map<string, { token: AccessToken; expiresAtMs: number }>();

  constructor(
    private readonly jwt: JwtService,
    private readonly revoked: RevokedClients,
  ) {}

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

  /** The token's holder and scopes, or null when it is forged, malformed, expired or its client revoked. */
  verify(raw: string): AccessToken | null {
    const token = this.verifySignature(raw);
    return token && !this.revoked.has(token.clientId) ? token : null;
  }

  private verifySignature(raw: string): AccessToken | null {
    const known = this.trusted.get(raw);
    if (known) {
      if (known.expiresAtMs > Date.now()) return known.token;
      this.trusted.delete(raw);
    }
    try {
      const claims = this.jwt.verify<{ sub?: unknown; scope?: unknown; exp?: unknown }>(raw, { algorithms: ['HS256'] });
      if (typeof claims.sub !== 'string' || typeof claims.scope !== 'string' || typeof claims.exp !== 'number') return null;
      const token = { clientId: claims.sub, scopes: claims.scope.split(' ').filter(isScope) };
      if (this.trusted.size >= TRUSTED_TOKENS_MAX) this.trusted.delete(this.trusted.keys().next().value as string);
      this.trusted.set(raw, { token, expiresAtMs: claims.exp * 1000 });
      return token;
    } catch {
      return null;
    }
  }
}
