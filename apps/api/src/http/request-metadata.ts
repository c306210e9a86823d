import type { EventMetadata } from '@app/event-store';
import type { AuthenticatedRequest } from '../auth/auth.guard.js';

const header = (request: AuthenticatedRequest, name: string): string | null => {
  const value = request.headers[name];
  return typeof value === 'string' && /^[\x21-\x7e]{1,128}$/.test(value) ? value : null;
};

/** Who asked and why, recorded on every event the request causes (DESIGN §7). */
export function metadataOf(request: AuthenticatedRequest): EventMetadata {
  const requestId = String(request.id);
  return {
    clientId: request.client?.clientId ?? null,
    requestId,
    correlationId: header(request, 'x-correlation-id') ?? requestId,
    causationId: requestId,
  };
}
