import { SetMetadata } from '@nestjs/common';
import type { Scope } from '@app/auth';

export const SCOPES_KEY = 'contacts:scopes';

/** The route needs a bearer token holding any one of `scopes`. */
export const RequireScopes = (...scopes: Scope[]): MethodDecorator & ClassDecorator => SetMetadata(SCOPES_KEY, scopes);

/** A scope grants its read-only twin too. */
export function expandScopes(scopes: readonly Scope[]): Set<Scope> {
  const granted = new Set<Scope>(scopes);
  if (granted.has('contacts')) granted.add('contacts.readonly');
  if (granted.has('roles')) granted.add('roles.readonly');
  return granted;
}
