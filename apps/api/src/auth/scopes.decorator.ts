import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiOAuth2 } from '@nestjs/swagger';
import type { Scope } from '@app/auth';
import { ApiProblems } from '../docs/problem.schema.js';

export const SCOPES_KEY = 'contacts:scopes';

/**
 * The route needs a bearer token holding any one of `scopes`. The same decorator documents it
 * (OAuth2 security requirement naming the scopes, and the 401/403/429 refusals), so the OpenAPI
 * document cannot disagree with what the guard enforces.
 */
export const RequireScopes = (...scopes: Scope[]): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(SCOPES_KEY, scopes), ApiOAuth2(scopes, 'oauth2'), ApiBearerAuth('bearer'), ApiProblems(401, 403, 429));

/** A scope grants its read-only twin too. */
export function expandScopes(scopes: readonly Scope[]): Set<Scope> {
  const granted = new Set<Scope>(scopes);
  if (granted.has('contacts')) granted.add('contacts.readonly');
  if (granted.has('roles')) granted.add('roles.readonly');
  return granted;
}
