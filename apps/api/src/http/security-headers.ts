import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * Helmet's headers worked out once. Helmet's defaults do not depend on the request, so running
 * its middleware per request would only redo the same work (it showed as several percent of a
 * request's CPU); an HTML page sets its own, stricter policy on its route.
 */
export function securityHeaders(options?: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  } as unknown as ServerResponse;
  helmet(options)({} as IncomingMessage, response, () => undefined);
  return headers;
}

/**
 * The browser consoles (the OpenAPI UI at /api/docs, the queue dashboard at /admin/queues) run
 * their own scripts and style their markup inline: scripts from this origin only, inline styles
 * allowed, images from this origin or data: URLs, requests back to this origin only. Helmet's
 * default `upgrade-insecure-requests` is left out: it would make a console served over plain
 * http (a local or in-cluster address) load its scripts over https, which fails.
 */
export function consoleSecurityHeaders(): Record<string, string> {
  return securityHeaders({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
      },
    },
  });
}
