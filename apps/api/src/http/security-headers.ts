import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

/**
 * Helmet's headers for a JSON API, worked out once. Helmet's defaults do not depend on the
 * request, so running its middleware per request would only redo the same work (it showed as
 * several percent of a request's CPU); an HTML page sets its own, stricter policy on its route.
 */
export function securityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  } as unknown as ServerResponse;
  helmet()({} as IncomingMessage, response, () => undefined);
  return headers;
}
