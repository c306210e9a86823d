import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { isScope, type Scope } from '@app/auth';

export const TOKEN_TTL_SECONDS = 3600;

export interface AccessToken {
  clientId: string;
  scopes: Scope[];
}

/** Signed, self-contained access tokens: checking one needs no database round trip. */
@Injectable()
export class TokenService {
  constructor(private readonly jwt: JwtService) {}

  issue(token: AccessToken): string {
    return this.jwt.sign({ scope: token.scopes.join(' ') }, { subject: token.clientId, expiresIn: TOKEN_TTL_SECONDS });
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
